#include "confab/api/query.hpp"

#include "confab/api/pagination.hpp"

#include "confab/model/base64url.hpp"
#include "confab/model/error.hpp"
#include "confab/http/router.hpp"

#include <charconv>

namespace confab::api {
namespace {

constexpr int max_limit = 200;

}  // namespace

Query Query::parse(std::string_view raw) {
    Query query;
    while (!raw.empty()) {
        const auto amp = raw.find('&');
        const auto pair = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        const auto raw_key = pair.substr(0, eq);
        auto key = http::percent_decode(raw_key, true);
        // A name that does not decode is named as it was sent: it is all there is to name.
        if (!key)
            throw model::bad_request("malformed query string: a parameter's name is not valid percent-encoding",
                                     std::string(raw_key));
        auto value =
            http::percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!value)
            throw model::bad_request("malformed query string: " + *key + " is not valid percent-encoding", *key);
        // As in any string of a body: no text the database stores or searches holds U+0000.
        if (value->find('\0') != std::string::npos) throw model::bad_request(*key + " must not contain U+0000", *key);
        query.values_.emplace(std::move(*key), std::move(*value));
    }
    return query;
}

std::optional<std::string> Query::get(const std::string& name) const {
    const auto found = values_.find(name);
    if (found == values_.end()) return std::nullopt;
    return found->second;
}

namespace {

// The whole text as a decimal integer, or nullopt.
std::optional<long long> integer_of(std::string_view text) {
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<long long> non_negative_integer(const Query& query, const std::string& name) {
    const auto text = query.get(name);
    if (!text) return std::nullopt;
    const auto value = integer_of(*text);
    if (!value || *value < 0) throw model::bad_request(name + " must be a non-negative integer", name);
    return value;
}

int page_limit(const Query& query, int when_absent) {
    const auto text = query.get("limit");
    if (!text) return when_absent;
    const auto limit = integer_of(*text);
    if (!limit || *limit < 1 || *limit > max_limit)
        throw model::bad_request("limit must be an integer from 1 to 200", "limit");
    return static_cast<int>(*limit);
}

std::string encode_cursor(std::string_view key) { return model::to_base64url(key); }

std::optional<std::string> decode_cursor(std::string_view cursor) {
    // Padding is not ours, and no key is empty.
    if (cursor.find('=') != std::string_view::npos) return std::nullopt;
    auto key = model::from_base64url(cursor);
    if (!key || key->empty()) return std::nullopt;
    return key;
}

}  // namespace confab::api

namespace confab::api {

std::optional<std::int64_t> integer_cursor(const Query& query, char kind) {
    const auto cursor = query.get("cursor");
    if (!cursor || cursor->empty()) return std::nullopt;
    const auto key = decode_cursor(*cursor);
    const auto invalid = [] { return model::bad_request("invalid cursor", "cursor"); };
    if (!key || key->size() < 3 || (*key)[0] != kind || (*key)[1] != ':') throw invalid();
    std::int64_t value = 0;
    const char* digits = key->data() + 2;
    const auto [end, error] = std::from_chars(digits, key->data() + key->size(), value);
    if (error != std::errc{} || end != key->data() + key->size() || value < 0) throw invalid();
    return value;
}

std::string encode_integer_cursor(char kind, std::int64_t key) {
    return encode_cursor(std::string{kind, ':'} + std::to_string(key));
}

std::optional<model::ListPlace> place_cursor(const Query& query, char kind) {
    const auto cursor = query.get("cursor");
    if (!cursor || cursor->empty()) return std::nullopt;
    const auto key = decode_cursor(*cursor);
    const auto invalid = [] { return model::bad_request("invalid cursor", "cursor"); };
    if (!key || key->size() < 2 || (*key)[0] != kind || (*key)[1] != ':') throw invalid();
    const auto split = key->find(':', 2);
    if (split == std::string::npos || split + 1 == key->size()) throw invalid();
    model::ListPlace place;
    const char* digits = key->data() + 2;
    const auto [end, error] = std::from_chars(digits, key->data() + split, place.time_us);
    if (error != std::errc{} || end != key->data() + split || place.time_us < 0) throw invalid();
    place.id = key->substr(split + 1);
    return place;
}

std::string encode_place_cursor(char kind, const model::ListPlace& place) {
    return encode_cursor(std::string{kind, ':'} + std::to_string(place.time_us) + ':' + place.id);
}

}  // namespace confab::api
