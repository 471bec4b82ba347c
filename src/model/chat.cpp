#include "confab/model/chat.hpp"
#include "confab/model/report.hpp"
#include "confab/model/scheduled.hpp"

#include <array>
#include <utility>

namespace confab::model {
namespace {

constexpr std::array<std::pair<MessageType, std::string_view>, 8> message_types{{
    {MessageType::text, "text"},
    {MessageType::image, "image"},
    {MessageType::voice, "voice"},
    {MessageType::video, "video"},
    {MessageType::location, "location"},
    {MessageType::file, "file"},
    {MessageType::system, "system"},
    {MessageType::poll, "poll"},
}};

constexpr std::array<std::pair<ChatType, std::string_view>, 3> chat_types{{
    {ChatType::direct, "direct"},
    {ChatType::group, "group"},
    {ChatType::channel, "channel"},
}};

constexpr std::array<std::pair<Role, std::string_view>, 5> roles{{
    {Role::restricted, "restricted"},
    {Role::member, "member"},
    {Role::moderator, "moderator"},
    {Role::admin, "admin"},
    {Role::owner, "owner"},
}};

constexpr std::array<std::pair<Permission, std::string_view>, 15> permissions{{
    {Permission::post, "post"},
    {Permission::post_media, "post_media"},
    {Permission::react, "react"},
    {Permission::mention_all, "mention_all"},
    {Permission::add_members, "add_members"},
    {Permission::remove_members, "remove_members"},
    {Permission::edit_info, "edit_info"},
    {Permission::change_settings, "change_settings"},
    {Permission::pin, "pin"},
    {Permission::delete_messages, "delete_messages"},
    {Permission::manage_templates, "manage_templates"},
    {Permission::manage_roles, "manage_roles"},
    {Permission::ban, "ban"},
    {Permission::manage_invite_links, "manage_invite_links"},
    {Permission::handle_reports, "handle_reports"},
}};

constexpr std::array<std::pair<MediaKind, std::string_view>, 4> media_kinds{{
    {MediaKind::image, "image"},
    {MediaKind::voice, "voice"},
    {MediaKind::video, "video"},
    {MediaKind::file, "file"},
}};

constexpr std::array<std::pair<Circle, std::string_view>, 3> circles{{
    {Circle::everyone, "everyone"},
    {Circle::contacts, "contacts"},
    {Circle::nobody, "nobody"},
}};

constexpr std::array<std::pair<ScheduledStatus, std::string_view>, 3> scheduled_statuses{{
    {ScheduledStatus::pending, "pending"},
    {ScheduledStatus::sent, "sent"},
    {ScheduledStatus::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<EntityType, std::string_view>, 10> entity_types{{
    {EntityType::bold, "bold"},
    {EntityType::italic, "italic"},
    {EntityType::underline, "underline"},
    {EntityType::strikethrough, "strikethrough"},
    {EntityType::spoiler, "spoiler"},
    {EntityType::code, "code"},
    {EntityType::code_block, "code_block"},
    {EntityType::link, "link"},
    {EntityType::mention, "mention"},
    {EntityType::mention_all, "mention_all"},
}};
constexpr std::array<std::pair<ReportReason, std::string_view>, 4> report_reasons{{
    {ReportReason::spam, "spam"},
    {ReportReason::abuse, "abuse"},
    {ReportReason::illegal, "illegal"},
    {ReportReason::other, "other"},
}};

constexpr std::array<std::pair<ReportAction, std::string_view>, 5> report_actions{{
    {ReportAction::none, "none"},
    {ReportAction::message_deleted, "message_deleted"},
    {ReportAction::member_muted, "member_muted"},
    {ReportAction::member_removed, "member_removed"},
    {ReportAction::member_banned, "member_banned"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
    for (const auto& [candidate, name] : table)
        if (candidate == value) return name;
    return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view text) {
    for (const auto& [candidate, name] : table)
        if (name == text) return candidate;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(ChatType type) { return name_of(chat_types, type); }
std::optional<ChatType> chat_type_from(std::string_view text) { return value_of(chat_types, text); }
std::string_view to_string(Role role) { return name_of(roles, role); }
std::string_view to_string(Circle circle) { return name_of(circles, circle); }
std::optional<Circle> circle_from(std::string_view text) { return value_of(circles, text); }
std::optional<Role> role_from(std::string_view text) { return value_of(roles, text); }
std::string_view to_string(Permission permission) { return name_of(permissions, permission); }
std::optional<Permission> permission_from(std::string_view text) { return value_of(permissions, text); }

const std::vector<Permission>& every_permission() {
    static const auto all = [] {
        std::vector<Permission> in_order;
        in_order.reserve(permissions.size());
        for (const auto& [permission, name] : permissions) in_order.push_back(permission);
        return in_order;
    }();
    return all;
}
std::string_view to_string(MediaKind kind) { return name_of(media_kinds, kind); }
std::optional<MediaKind> media_kind_from(std::string_view text) { return value_of(media_kinds, text); }
std::string_view to_string(MessageType type) { return name_of(message_types, type); }
std::optional<MessageType> message_type_from(std::string_view text) { return value_of(message_types, text); }
std::string_view to_string(EntityType type) { return name_of(entity_types, type); }
std::optional<EntityType> entity_type_from(std::string_view text) { return value_of(entity_types, text); }
std::string_view to_string(ScheduledStatus status) { return name_of(scheduled_statuses, status); }
std::optional<ScheduledStatus> scheduled_status_from(std::string_view text) {
    return value_of(scheduled_statuses, text);
}
std::string_view to_string(ReportReason reason) { return name_of(report_reasons, reason); }
std::optional<ReportReason> report_reason_from(std::string_view text) { return value_of(report_reasons, text); }
std::string_view to_string(ReportAction action) { return name_of(report_actions, action); }
std::optional<ReportAction> report_action_from(std::string_view text) { return value_of(report_actions, text); }

}  // namespace confab::model
