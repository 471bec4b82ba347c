#include "confab/domain/templates.hpp"

#include "confab/domain/model.hpp"
#include "confab/domain/validation.hpp"

#include <algorithm>
#include <optional>

namespace confab::domain::templates {
namespace {

constexpr std::size_t max_name = 32;
constexpr std::string_view open = "{{";
constexpr std::string_view close = "}}";

bool is_name(std::string_view name) {
    if (name.empty() || name.size() > max_name || name.front() < 'a' || name.front() > 'z') return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

struct Placeholder {
    std::size_t at = 0;      // where its "{{" starts
    std::size_t length = 0;  // through its "}}"
    std::string_view name;
};

// The first placeholder at or after `from`.
std::optional<Placeholder> next_placeholder(std::string_view content, std::size_t from) {
    for (auto at = content.find(open, from); at != std::string_view::npos; at = content.find(open, at + 1)) {
        const auto end = content.find(close, at + open.size());
        if (end == std::string_view::npos) return std::nullopt;
        const auto name = content.substr(at + open.size(), end - at - open.size());
        if (is_name(name)) return Placeholder{at, end + close.size() - at, name};
    }
    return std::nullopt;
}

// bad_request (field `values`) unless each placeholder has a value and each value a placeholder.
void check_values(std::string_view content, const std::map<std::string, std::string>& values) {
    const auto names = placeholders(content);
    for (const auto& name : names)
        if (!values.contains(name)) throw bad_request("no value for the placeholder " + name, "values");
    for (const auto& [name, value] : values)
        if (std::find(names.begin(), names.end(), name) == names.end())
            throw bad_request("the template has no placeholder " + name, "values");
}

}  // namespace

std::vector<std::string> placeholders(std::string_view content) {
    std::vector<std::string> names;
    for (auto found = next_placeholder(content, 0); found; found = next_placeholder(content, found->at + found->length))
        if (std::find(names.begin(), names.end(), found->name) == names.end()) names.emplace_back(found->name);
    return names;
}

std::string fill(std::string_view content, const std::map<std::string, std::string>& values) {
    check_values(content, values);
    std::string filled;
    std::size_t copied = 0;
    for (auto found = next_placeholder(content, 0); found;
         found = next_placeholder(content, found->at + found->length)) {
        filled.append(content.substr(copied, found->at - copied));
        filled.append(values.at(std::string(found->name)));
        copied = found->at + found->length;
    }
    filled.append(content.substr(copied));
    return filled;
}

std::size_t filled_chars(std::string_view content, const std::map<std::string, std::string>& values) {
    check_values(content, values);
    // Each value measured once, however often its placeholder appears.
    std::map<std::string_view, std::size_t> value_chars;
    for (const auto& [name, value] : values) value_chars.emplace(name, code_points(value));
    std::size_t chars = 0;
    std::size_t counted = 0;
    for (auto found = next_placeholder(content, 0); found;
         found = next_placeholder(content, found->at + found->length)) {
        chars += code_points(content.substr(counted, found->at - counted)) + value_chars.at(found->name);
        counted = found->at + found->length;
    }
    return chars + code_points(content.substr(counted));
}

}  // namespace confab::domain::templates
