#pragma once

#include "confab/domain/user.hpp"

#include <pqxx/field>
#include <pqxx/result>

#include <optional>
#include <string>

// Conversions shared by the repositories.
namespace confab::store {

inline std::optional<std::string> optional_text(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return field.as<std::string>();
}

// Columns selected as floor(extract(epoch FROM ts) * 1000)::bigint.
inline domain::Timestamp timestamp(const pqxx::field& field) {
    return domain::Timestamp(std::chrono::milliseconds(field.as<long long>()));
}

// A LIKE pattern matching strings that start with `prefix` literally.
inline std::string like_prefix(const std::string& prefix) {
    std::string pattern;
    pattern.reserve(prefix.size() + 1);
    for (char c : prefix) {
        if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
        pattern.push_back(c);
    }
    pattern.push_back('%');
    return pattern;
}

}  // namespace confab::store
