#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace confab::domain {

// Unicode code points in valid UTF-8 text (the contract counts lengths in code points).
std::size_t code_points(std::string_view utf8);

// Well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool is_valid_utf8(std::string_view text);

// Valid UTF-8 free of what lets a name misrepresent the text around it where it is shown:
// control characters (C0, DEL, C1: line breaks, escapes) and the bidirectional formatting
// characters (U+061C, U+200E/F, U+202A-E, U+2066-9), which can make a name read backwards
// or reorder what follows it. For names and titles, which are shown to other users.
bool is_plain_text(std::string_view text);

// A user's id in the host application (the server API's external_id, a token's user id
// claim): 1-255 bytes of plain text.
bool is_external_id(std::string_view id);

// Whether the text has a character that prints: not only spaces, zero-width characters and
// fillers. For what is shown to others as a name or a reaction.
bool shows_something(std::string_view text);

constexpr std::size_t max_name_chars = 64;
// Throws bad_request naming the field unless `name` is 1-64 code points of plain text that
// shows something: display names, device names.
void require_name(std::string_view name, const std::string& field);

// The client_ids of what the server posts on a sender's behalf: a scheduled message's post
// (this and its id) and a broadcast's copies (this and a hash). The server's alone, so that
// no send can stand in for such a post.
constexpr std::string_view scheduled_client_id_prefix = "scheduled:";
constexpr std::string_view broadcast_client_id_prefix = "broadcast:";

// Throws bad_request naming `client_id` unless it is absent or 1-64 code points (as the
// messages table's check counts them) not starting with one of the server's prefixes.
void require_client_id(const std::optional<std::string>& client_id);

// `url` starts with `scheme` (lowercase, e.g. "https://"), in any case, and has more after it.
bool has_scheme(std::string_view url, std::string_view scheme);

// Throws bad_request naming `avatar_url` unless it is absent or a picture's address: an http
// or https URL, or a path on this server ("/..."), of at most 2048 characters. Other schemes
// (javascript:, data:) would let a member put script or a tracker before every other member.
void require_avatar_url(const std::optional<std::string>& url);

// Canonical lowercase UUID text: 8-4-4-4-12 hex digits.
bool is_uuid(std::string_view text);

// Throws bad_request("invalid <field>") naming the field unless `id` is a canonical UUID.
void require_uuid(std::string_view id, const char* field);

// 3-32 of [a-z0-9_.]
bool is_valid_username(std::string_view username);

}  // namespace confab::domain
