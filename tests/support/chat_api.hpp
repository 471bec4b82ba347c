#pragma once

// Helpers for the chat, member, message and realtime integration tests: a fixture with its
// own confab server (message rate limits raised so bulk tests are not throttled), request
// shortcuts that read like PROTOCOL.md, model shape checks and WebSocket event waits.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api.hpp"
#include "support/client.hpp"
#include "support/fixture.hpp"
#include "support/server.hpp"

namespace confab::test {

// The chat suites share the suite-wide server (fixture.hpp), whose message rate limits are
// raised so tests that send many messages measure ordering and fan-out, not throttling.
inline ServerProcess& chat_server() { return shared_server(); }
inline const std::string& chat_database_url() { return shared_database().url(); }

using ChatTest = ConfabTest;

// ---------------------------------------------------------------------------------------------
// Paths

std::string chats_url();                              // /api/v1/chats
std::string chat_url(const std::string& chat_id);     // /api/v1/chats/{id}
std::string members_url(const std::string& chat_id);  // .../members
std::string member_url(const std::string& chat_id, const std::string& user_id);
std::string chat_messages_url(const std::string& chat_id);                          // .../messages
std::string message_url(const std::string& message_id);                             // /api/v1/messages/{id}
std::string reaction_url(const std::string& message_id, const std::string& emoji);  // emoji URL-encoded here
std::string read_url(const std::string& chat_id);                                   // .../read
std::string channel_url(const std::string& handle);                                 // /api/v1/channels/{handle}

// ---------------------------------------------------------------------------------------------
// Throwing shortcuts (std::runtime_error quoting the response when the status is unexpected)

// Asserts the status and returns the JSON body (or null for an empty body).
json expect_json(const HttpResponse& r, int status, const std::string& what);

json create_group(std::uint16_t port, const TestUser& owner, const std::vector<std::string>& member_ids = {},
                  json extra = json::object());
json create_direct(std::uint16_t port, const TestUser& a, const TestUser& b);
// A channel of `owner`'s (title "News" unless `body` names one), and a user subscribing to one.
HttpResponse create_channel_raw(std::uint16_t port, const TestUser& owner, json body);
json create_channel(std::uint16_t port, const TestUser& owner, json body);
json join_channel(std::uint16_t port, const TestUser& user, const std::string& handle);
// Two new users (usernames starting with `prefix`) and the direct chat between them.
struct DirectPair {
    TestUser a;
    TestUser b;
    std::string chat;
};
DirectPair direct_pair(std::uint16_t port, const std::string& prefix);
json get_chat(std::uint16_t port, const TestUser& u, const std::string& chat_id);
std::vector<json> list_chats(std::uint16_t port, const TestUser& u);  // every page, limit 200
std::vector<json> list_members(std::uint16_t port, const TestUser& u, const std::string& chat_id);
std::vector<json> add_members(std::uint16_t port, const TestUser& u, const std::string& chat_id,
                              const std::vector<std::string>& user_ids);
void set_role(std::uint16_t port, const TestUser& actor, const std::string& chat_id, const std::string& user_id,
              const std::string& role);

HttpResponse send_message(std::uint16_t port, const TestUser& u, const std::string& chat_id, const json& body);
json send_text(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& content,
               json extra = json::object());
json get_message(std::uint16_t port, const TestUser& u, const std::string& message_id);
// The whole history, oldest first (after_seq pages).
std::vector<json> all_messages(std::uint16_t port, const TestUser& u, const std::string& chat_id);
// Everything a member can read about a chat (its model, members and messages), minus presence,
// which moves on its own: to prove a refused call changed nothing.
json chat_snapshot(std::uint16_t port, const TestUser& member, const std::string& chat_id);
// The messages of type "system", oldest first.
std::vector<json> system_messages(std::uint16_t port, const TestUser& u, const std::string& chat_id);

// Lists paged by `cursor` (docs/api.md, Conventions).
// Every item under `key` of the list at `url` (a path without a query), read in pages of
// `limit` until next_cursor is null. The test fails (and the items read so far come back) on a
// page that is not 200, lacks next_cursor, holds more than `limit` items, or is empty while
// promising more, or when the pages do not end.
std::vector<json> every_page(std::uint16_t port, const std::string& token, const std::string& url,
                             const std::string& key, int limit);
// The list at `url` read in pages of 1, 2 and 5 items, and in one page without a limit (the
// default, 200, the last page): each reading gives the ids (under `id_key`) of `expected`, in
// that order, each once.
::testing::AssertionResult PagesInOrder(std::uint16_t port, const std::string& token, const std::string& url,
                                        const std::string& key, const std::vector<std::string>& expected,
                                        const char* id_key = "id");
// The next_cursor of the first page of one item of the list at `url` (it has two or more).
std::string first_cursor(std::uint16_t port, const std::string& token, const std::string& url);
// The parked webhook deliveries at `url` (docs/api.md, Webhooks; two or more) read in pages of
// one, each page's delivery replayed (and so no longer listed) before the next page is asked
// for: the pages still give every delivery the list held, in its order. The receiver must
// take the replays.
::testing::AssertionResult PagesOnPastReplayedFailures(std::uint16_t port, const std::string& token,
                                                       const std::string& url);
// What a list paged by cursor refuses, each 400 bad_request naming its parameter: a cursor
// the server did not make, `foreign_cursor` (another list's), and limit 0 and 201.
::testing::AssertionResult RefusesBadPages(std::uint16_t port, const std::string& token, const std::string& url,
                                           const std::string& foreign_cursor);

std::vector<std::int64_t> seqs_of(const std::vector<json>& messages);
std::vector<std::string> ids_of(const std::vector<json>& items, const char* key = "id");
std::vector<std::string> member_user_ids(const std::vector<json>& members);
const json* find_member(const std::vector<json>& members, const std::string& user_id);
const json* find_reaction(const json& message, const std::string& emoji);

// ---------------------------------------------------------------------------------------------
// Shapes (for EXPECT_TRUE): every documented key present with its type, no undocumented key.

::testing::AssertionResult IsChatModel(const json& j);
::testing::AssertionResult IsMessageModel(const json& j);
::testing::AssertionResult IsMemberModel(const json& j);
::testing::AssertionResult IsCustomRoleModel(const json& j);
// {"type": "ack", "id": ..., "data": {...}}
::testing::AssertionResult IsAck(const json& frame);

// ---------------------------------------------------------------------------------------------
// WebSocket events

using FramePred = std::function<bool(const json& frame)>;

// The first frame of `type` satisfying `pred` (applied to the whole frame); other frames stay
// queued in order. nullopt on timeout or close.
std::optional<json> wait_for(WsClient& ws, const std::string& type, const FramePred& pred = nullptr,
                             std::chrono::milliseconds timeout = 5s);
// "Nothing arrived" without waiting for time to pass: after the action that must not send a
// frame, the test causes a later event that must reach the same socket after anything the
// action sent (the hub keeps one connection's frames in order). Succeeds when the first frame
// satisfying `marker` arrives within `timeout` and no frame satisfying `forbidden` came before
// it; fails on a forbidden frame or when the marker never comes. The marker is taken, the
// frames before it stay queued.
::testing::AssertionResult NoFrameBefore(WsClient& ws, const FramePred& forbidden, const FramePred& marker,
                                         std::chrono::milliseconds timeout = 5s);

// Takes the frames up to and including the first satisfying `marker` and returns those before
// it; nullopt when the marker does not come within `timeout` (or the connection closes).
std::optional<std::vector<json>> frames_until(WsClient& ws, const FramePred& marker,
                                              std::chrono::milliseconds timeout = 5s);
// A marker for NoFrameBefore on `to`'s connections, for tests whose own chats cannot provide
// one: `from` sends `to` a text in their direct chat (created if need be); returns a predicate
// matching that message's message.new.
FramePred direct_message_marker(std::uint16_t port, const TestUser& from, const TestUser& to);

// A WebSocket error frame's code and, when given, details.reason ("forbidden/blocked"); "no
// error: " and the frame when it is none.
std::string refusal(const json& reply);

// Predicates on frames.
FramePred frame_of(const std::string& type, FramePred pred = nullptr);  // "type" is `type`, and pred holds
FramePred mentioning(const std::string& chat_id);                       // mentions_chat(frame, chat_id)
FramePred about_chat(const std::string& chat_id);        // data.chat_id / data.message.chat_id / data.chat.id
FramePred about_message(const std::string& message_id);  // data.message.id / data.message_id
FramePred and_(const FramePred& a, const FramePred& b);
// Does the frame mention chat_id anywhere in its data (any event kind)?
bool mentions_chat(const json& frame, const std::string& chat_id);

// Sends a WebSocket request and returns the reply frame; on a throw (timeout) returns a
// {"type": "timeout", "what": ...} object so assertions report it instead of aborting.
json ws_request(WsClient& ws, const std::string& type, json data = json::object(),
                std::chrono::milliseconds timeout = 5s);

// Runs `f` (for worker threads, where an exception would abort the test binary): a thrown
// exception (connection reset, timeout) becomes status 0 with the exception text as body.
HttpResponse guarded(const std::function<HttpResponse()>& f);
// `count` requests made at once, request(i) on a thread of its own each (guarded), released
// together once every thread is ready; their answers in that order.
std::vector<HttpResponse> all_at_once(std::size_t count, const std::function<HttpResponse(std::size_t)>& request);

// A string of n copies of `unit` (e.g. a multi-byte code point).
std::string repeat(const std::string& unit, std::size_t n);

}  // namespace confab::test
