#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace confab::api {

// A decoded query string. Malformed percent-encoding is bad_request; a repeated key keeps
// its first value.
class Query {
public:
    static Query parse(std::string_view raw);
    std::optional<std::string> get(const std::string& name) const;

private:
    std::map<std::string, std::string> values_;
};

// `limit`: default 50, 1..200 (PROTOCOL.md Conventions). A list that answered up to 200 before
// it took a limit keeps that as its default (`when_absent`), so its existing clients see no less.
int page_limit(const Query& query, int when_absent = 50);

// A non-negative integer query parameter, e.g. before_seq.
std::optional<long long> non_negative_integer(const Query& query, const std::string& name);

// Opaque cursors: base64url of a text key, so clients treat them as tokens.
std::string encode_cursor(std::string_view key);
// nullopt when the cursor is not one this server made.
std::optional<std::string> decode_cursor(std::string_view cursor);

}  // namespace confab::api
