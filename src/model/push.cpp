#include "confab/model/push.hpp"

#include <array>
#include <utility>

namespace confab::model {
namespace {

constexpr std::array<std::pair<PushProvider, std::string_view>, 4> providers{{
    {PushProvider::fcm, "fcm"},
    {PushProvider::apns, "apns"},
    {PushProvider::webpush, "webpush"},
    {PushProvider::gateway, "gateway"},
}};

constexpr std::array<std::pair<NotifyLevel, std::string_view>, 3> levels{{
    {NotifyLevel::all, "all"},
    {NotifyLevel::mentions, "mentions"},
    {NotifyLevel::none, "none"},
}};

template <class Enum, std::size_t N>
std::optional<Enum> named(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view name) {
    for (const auto& [value, text] : table)
        if (text == name) return value;
    return std::nullopt;
}

template <class Enum, std::size_t N>
std::string_view name_in(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
    for (const auto& [entry, text] : table)
        if (entry == value) return text;
    return {};
}

}  // namespace

std::optional<PushProvider> push_provider_named(std::string_view name) { return named(providers, name); }
std::string_view name_of(PushProvider provider) { return name_in(providers, provider); }
std::optional<NotifyLevel> notify_level_named(std::string_view name) { return named(levels, name); }
std::string_view name_of(NotifyLevel level) { return name_in(levels, level); }

}  // namespace confab::model
