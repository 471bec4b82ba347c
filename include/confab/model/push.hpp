#pragma once

#include "confab/model/user.hpp"

#include <optional>
#include <string>
#include <string_view>

// Push notifications (docs/api.md, Push notifications).
namespace confab::model {

enum class PushProvider { fcm, apns, webpush, gateway };

std::optional<PushProvider> push_provider_named(std::string_view name);
std::string_view name_of(PushProvider provider);

// A device a signed-in session registered to be told of messages while it is not connected.
struct PushDevice {
    std::string id;
    PushProvider provider = PushProvider::gateway;
    std::string token;                  // fcm/apns: the device token; webpush: the endpoint; gateway: its pushkey
    std::optional<std::string> p256dh;  // webpush only
    std::optional<std::string> auth;    // webpush only
    std::string session_id;
    Timestamp created_at;
};

// What a member wants pushed from one chat.
enum class NotifyLevel { all, mentions, none };

std::optional<NotifyLevel> notify_level_named(std::string_view name);
std::string_view name_of(NotifyLevel level);

struct NotificationSettings {
    NotifyLevel level = NotifyLevel::all;
    std::optional<Timestamp> muted_until;  // nothing is pushed before then
    bool is_muted = false;                 // the member's is_muted, which silences the chat too
};

}  // namespace confab::model
