#include "support/chat_api.hpp"

#include <iostream>
#include <latch>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

namespace confab::test {

namespace {

std::string dump(const json& j) { return j.dump().substr(0, 2000); }

::testing::AssertionResult Fail(const std::string& what, const json& j) {
    return ::testing::AssertionFailure() << what << ": " << dump(j);
}

::testing::AssertionResult ExactKeys(const json& j, const std::set<std::string>& keys, const char* model,
                                     const std::set<std::string>& optional = {}) {
    if (!j.is_object()) return Fail(std::string(model) + " is not an object", j);
    for (const auto& k : keys)
        if (!j.contains(k)) return Fail(std::string(model) + " lacks \"" + k + "\"", j);
    for (auto it = j.begin(); it != j.end(); ++it)
        if (!keys.count(it.key()) && !optional.count(it.key()))
            return Fail(std::string(model) + " has undocumented key \"" + it.key() + "\"", j);
    return ::testing::AssertionSuccess();
}

bool is_int(const json& j) { return j.is_number_integer() || j.is_number_unsigned(); }
bool is_nonneg_int(const json& j) { return is_int(j) && j.get<std::int64_t>() >= 0; }

bool is_role(const json& j) {
    static const std::set<std::string> roles{"owner", "admin", "moderator", "member", "restricted"};
    return j.is_string() && roles.count(j.get<std::string>());
}

// The permissions of docs/api.md "Roles and permissions", each at most once.
bool is_permission_list(const json& j) {
    static const std::set<std::string> permissions{
        "post",      "post_media",          "react",         "mention_all",     "add_members",      "remove_members",
        "edit_info", "change_settings",     "pin",           "delete_messages", "manage_templates", "manage_roles",
        "ban",       "manage_invite_links", "handle_reports"};
    if (!j.is_array()) return false;
    std::set<std::string> seen;
    for (const auto& p : j)
        if (!p.is_string() || !permissions.count(p.get<std::string>()) || !seen.insert(p.get<std::string>()).second)
            return false;
    return true;
}

// PollModel (docs/api.md, Polls), as MessageModel.poll holds it.
::testing::AssertionResult IsPollModel(const json& j) {
    auto keys =
        ExactKeys(j, {"question", "options", "multiple_choice", "anonymous", "closes_at", "closed_at", "total_voters"},
                  "PollModel", {"my_votes"});
    if (!keys) return keys;
    if (!j["question"].is_string() || !j["multiple_choice"].is_boolean() || !j["anonymous"].is_boolean() ||
        !is_nonneg_int(j["total_voters"]))
        return Fail("PollModel types", j);
    for (const char* time : {"closes_at", "closed_at"})
        if (!j[time].is_null() && !is_timestamp(j[time])) return Fail(std::string("PollModel.") + time, j);
    if (!j["options"].is_array() || j["options"].size() < 2 || j["options"].size() > 12)
        return Fail("PollModel.options is not 2-12 options", j);
    for (const auto& option : j["options"]) {
        auto ok = ExactKeys(option, {"text", "voter_count", "voter_ids"}, "PollOption");
        if (!ok) return ok;
        if (!option["text"].is_string() || !is_nonneg_int(option["voter_count"]) || !option["voter_ids"].is_array())
            return Fail("PollOption types", j);
        // voter_ids names the first 10 voters plus the reader, and nobody in an anonymous poll.
        const auto named = option["voter_ids"].size();
        if ((j["anonymous"] == true && named != 0) || named > 11 || option["voter_count"].get<std::size_t>() < named)
            return Fail("PollOption.voter_ids does not fit", j);
        if (j["anonymous"] == false && option["voter_count"].get<std::size_t>() <= 10 &&
            option["voter_count"].get<std::size_t>() != named)
            return Fail("PollOption.voter_ids does not name every voter", j);
        for (const auto& u : option["voter_ids"])
            if (!is_uuid(u)) return Fail("PollOption.voter_ids holds a non-UUID", j);
    }
    if (j.contains("my_votes")) {
        if (!j["my_votes"].is_array()) return Fail("PollModel.my_votes is not an array", j);
        for (const auto& index : j["my_votes"])
            if (!is_nonneg_int(index) || index.get<std::size_t>() >= j["options"].size())
                return Fail("PollModel.my_votes holds a non-index", j);
    }
    return ::testing::AssertionSuccess();
}

// ChatMemberModel.custom_role and ChatModel.me.custom_role: null, or the role's id and name.
bool is_custom_role_brief(const json& j) {
    return j.is_null() || (j.is_object() && j.size() == 2 && is_uuid(j["id"]) && j["name"].is_string());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Paths

std::string chats_url() { return "/api/v1/chats"; }
std::string chat_url(const std::string& chat_id) { return "/api/v1/chats/" + chat_id; }
std::string members_url(const std::string& chat_id) { return chat_url(chat_id) + "/members"; }
std::string member_url(const std::string& chat_id, const std::string& user_id) {
    return members_url(chat_id) + "/" + user_id;
}
std::string chat_messages_url(const std::string& chat_id) { return chat_url(chat_id) + "/messages"; }
std::string message_url(const std::string& message_id) { return "/api/v1/messages/" + message_id; }
std::string reaction_url(const std::string& message_id, const std::string& emoji) {
    return message_url(message_id) + "/reactions/" + url_encode(emoji);
}
std::string read_url(const std::string& chat_id) { return chat_url(chat_id) + "/read"; }

// ---------------------------------------------------------------------------------------------
// Shortcuts

json expect_json(const HttpResponse& r, int status, const std::string& what) {
    if (r.status != status)
        throw std::runtime_error(what + ": expected HTTP " + std::to_string(status) + ", got " + r.describe());
    if (r.body.empty()) return json();
    return r.json();
}

std::string channel_url(const std::string& handle) { return "/api/v1/channels/" + handle; }

HttpResponse create_channel_raw(std::uint16_t port, const TestUser& owner, json body) {
    body["type"] = "channel";
    if (!body.contains("title")) body["title"] = "News";
    return post(port, owner.token, chats_url(), body);
}

json create_channel(std::uint16_t port, const TestUser& owner, json body) {
    return expect_json(create_channel_raw(port, owner, std::move(body)), 201, "create channel");
}

json join_channel(std::uint16_t port, const TestUser& user, const std::string& handle) {
    return expect_json(post(port, user.token, channel_url(handle) + "/join"), 200, "join channel");
}

json create_group(std::uint16_t port, const TestUser& owner, const std::vector<std::string>& member_ids, json extra) {
    json body = {{"type", "group"}, {"title", "group " + random_alnum(6)}, {"member_ids", member_ids}};
    for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
    return expect_json(post(port, owner.token, chats_url(), body), 201, "create group");
}

json create_direct(std::uint16_t port, const TestUser& a, const TestUser& b) {
    auto r = post(port, a.token, chats_url(), {{"type", "direct"}, {"member_ids", {b.id}}});
    if (r.status != 201 && r.status != 200) throw std::runtime_error("create direct chat: " + r.describe());
    return r.json();
}

DirectPair direct_pair(std::uint16_t port, const std::string& prefix) {
    auto a = register_user(port, prefix);
    auto b = register_user(port, prefix);
    std::string chat = create_direct(port, a, b)["id"];
    return {a, b, chat};
}

json get_chat(std::uint16_t port, const TestUser& u, const std::string& chat_id) {
    return expect_json(get(port, u.token, chat_url(chat_id)), 200, "GET chat as " + u.username);
}

std::vector<json> list_chats(std::uint16_t port, const TestUser& u) {
    std::vector<json> out;
    std::string target = chats_url() + "?limit=200";
    for (int page = 0; page < 100; ++page) {
        auto j = expect_json(get(port, u.token, target), 200, "GET /chats");
        for (const auto& c : j.at("chats")) out.push_back(c);
        if (j.at("next_cursor").is_null()) return out;
        target = chats_url() + "?limit=200&cursor=" + url_encode(j["next_cursor"].get<std::string>());
    }
    throw std::runtime_error("GET /chats pagination did not end");
}

std::vector<json> list_members(std::uint16_t port, const TestUser& u, const std::string& chat_id) {
    std::vector<json> out;
    std::string target = members_url(chat_id) + "?limit=200";
    for (int page = 0; page < 100; ++page) {
        auto j = expect_json(get(port, u.token, target), 200, "GET members");
        for (const auto& m : j.at("members")) out.push_back(m);
        if (j.at("next_cursor").is_null()) return out;
        target = members_url(chat_id) + "?limit=200&cursor=" + url_encode(j["next_cursor"].get<std::string>());
    }
    throw std::runtime_error("GET members pagination did not end");
}

std::vector<json> every_page(std::uint16_t port, const std::string& token, const std::string& url,
                             const std::string& key, int limit) {
    std::vector<json> items;
    const auto first = url + "?limit=" + std::to_string(limit);
    std::string target = first;
    for (int page = 0; page < 1000; ++page) {
        const auto r = get(port, token, target);
        if (!IsJson(r, 200)) {
            ADD_FAILURE() << "GET " << target << ": " << r.describe();
            return items;
        }
        const auto body = r.json();
        if (!body.contains(key) || !body[key].is_array() || !body.contains("next_cursor")) {
            ADD_FAILURE() << "GET " << target << " lacks " << key << " or next_cursor: " << body.dump();
            return items;
        }
        if (body[key].size() > static_cast<std::size_t>(limit))
            ADD_FAILURE() << "GET " << target << ": " << body[key].size() << " items, more than the limit";
        for (const auto& item : body[key]) items.push_back(item);
        if (body["next_cursor"].is_null()) return items;
        if (body[key].empty() || !body["next_cursor"].is_string()) {
            ADD_FAILURE() << "GET " << target << ": an empty page, or a cursor not a string: " << body.dump();
            return items;
        }
        target = first + "&cursor=" + url_encode(body["next_cursor"].get<std::string>());
    }
    ADD_FAILURE() << "GET " << url << ": the pages never end";
    return items;
}

::testing::AssertionResult PagesInOrder(std::uint16_t port, const std::string& token, const std::string& url,
                                        const std::string& key, const std::vector<std::string>& expected,
                                        const char* id_key) {
    const auto listed = [&expected](const std::vector<std::string>& ids, const std::string& how) {
        if (ids == expected) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << how << ": " << json(ids).dump() << ", not " << json(expected).dump();
    };
    for (const int limit : {1, 2, 5})
        if (auto read = listed(ids_of(every_page(port, token, url, key, limit), id_key),
                               "in pages of " + std::to_string(limit));
            !read)
            return read;
    const auto whole = get(port, token, url);
    if (!IsJson(whole, 200)) return ::testing::AssertionFailure() << "GET " << url << ": " << whole.describe();
    if (!whole.json()["next_cursor"].is_null())
        return ::testing::AssertionFailure() << "one page by default, the last: " << whole.body;
    return listed(ids_of(whole.json()[key].get<std::vector<json>>(), id_key), "without a limit");
}

std::string first_cursor(std::uint16_t port, const std::string& token, const std::string& url) {
    const auto body = expect_json(get(port, token, url + "?limit=1"), 200, "GET " + url);
    if (!body.at("next_cursor").is_string()) throw std::runtime_error("GET " + url + " has one page: " + body.dump());
    return body["next_cursor"].get<std::string>();
}

::testing::AssertionResult PagesOnPastReplayedFailures(std::uint16_t port, const std::string& token,
                                                       const std::string& url) {
    const auto whole = get(port, token, url);
    if (!IsJson(whole, 200)) return ::testing::AssertionFailure() << "GET " << url << ": " << whole.describe();
    const auto expected = ids_of(whole.json()["failures"].get<std::vector<json>>());
    if (expected.size() < 2) return ::testing::AssertionFailure() << "fewer than two to page through: " << whole.body;
    std::vector<std::string> paged;
    std::string target = url + "?limit=1";
    for (std::size_t page = 0; page <= expected.size(); ++page) {
        const auto r = get(port, token, target);
        if (!IsJson(r, 200)) return ::testing::AssertionFailure() << "GET " << target << ": " << r.describe();
        const auto body = r.json();
        for (const auto& failure : body["failures"]) {
            paged.push_back(failure["id"].get<std::string>());
            const auto replayed = post(port, token, url + "/" + paged.back() + "/replay");
            if (!IsJson(replayed, 200) || replayed.json()["delivered"] != true)
                return ::testing::AssertionFailure() << "replaying " << paged.back() << ": " << replayed.describe();
        }
        if (body["next_cursor"].is_null()) break;
        target = url + "?limit=1&cursor=" + url_encode(body["next_cursor"].get<std::string>());
    }
    if (paged != expected)
        return ::testing::AssertionFailure()
               << "the pages gave " << json(paged).dump() << ", not " << json(expected).dump();
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult RefusesBadPages(std::uint16_t port, const std::string& token, const std::string& url,
                                           const std::string& foreign_cursor) {
    const std::vector<std::pair<std::string, std::string>> refused{
        {"?cursor=" + url_encode(foreign_cursor), "cursor"},
        {"?cursor=bm9wZQ", "cursor"},  // "nope"
        {"?cursor=%21%21", "cursor"},  // not base64url
        {"?limit=0", "limit"},
        {"?limit=201", "limit"},
    };
    for (const auto& [query, field] : refused) {
        const auto answer = IsBadField(get(port, token, url + query), field);
        if (!answer) return ::testing::AssertionFailure() << url << query << ": " << answer.message();
    }
    return ::testing::AssertionSuccess();
}

std::vector<json> add_members(std::uint16_t port, const TestUser& u, const std::string& chat_id,
                              const std::vector<std::string>& user_ids) {
    auto j = expect_json(post(port, u.token, members_url(chat_id), {{"user_ids", user_ids}}), 200, "add members");
    return j.at("members").get<std::vector<json>>();
}

void set_role(std::uint16_t port, const TestUser& actor, const std::string& chat_id, const std::string& user_id,
              const std::string& role) {
    auto r = patch(port, actor.token, member_url(chat_id, user_id), {{"role", role}});
    if (r.status != 200 && r.status != 204) throw std::runtime_error("PATCH role " + role + ": " + r.describe());
}

HttpResponse send_message(std::uint16_t port, const TestUser& u, const std::string& chat_id, const json& body) {
    return post(port, u.token, chat_messages_url(chat_id), body);
}

json send_text(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& content,
               json extra) {
    json body = {{"type", "text"}, {"content", content}};
    for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
    return expect_json(send_message(port, u, chat_id, body), 201, "send text as " + u.username);
}

json get_message(std::uint16_t port, const TestUser& u, const std::string& message_id) {
    return expect_json(get(port, u.token, message_url(message_id)), 200, "GET message");
}

std::vector<json> all_messages(std::uint16_t port, const TestUser& u, const std::string& chat_id) {
    std::vector<json> out;
    std::int64_t after = 0;
    for (int page = 0; page < 1000; ++page) {
        auto j = expect_json(get(port, u.token,
                                 chat_messages_url(chat_id) + "?after_seq=" + std::to_string(after) + "&limit=200"),
                             200, "GET messages after_seq");
        for (const auto& m : j.at("messages")) out.push_back(m);
        if (j.at("next_cursor").is_null()) return out;
        after = j["next_cursor"].get<std::int64_t>();
    }
    throw std::runtime_error("GET messages pagination did not end");
}

std::vector<json> system_messages(std::uint16_t port, const TestUser& u, const std::string& chat_id) {
    std::vector<json> out;
    for (auto& m : all_messages(port, u, chat_id))
        if (m.value("type", "") == "system") out.push_back(m);
    return out;
}

std::vector<std::int64_t> seqs_of(const std::vector<json>& messages) {
    std::vector<std::int64_t> out;
    out.reserve(messages.size());
    for (const auto& m : messages) out.push_back(m.value("seq", std::int64_t{-1}));
    return out;
}

std::vector<std::string> ids_of(const std::vector<json>& items, const char* key) {
    std::vector<std::string> out;
    out.reserve(items.size());
    for (const auto& i : items) out.push_back(i.contains(key) && i[key].is_string() ? i[key].get<std::string>() : "?");
    return out;
}

std::vector<std::string> member_user_ids(const std::vector<json>& members) {
    std::vector<std::string> out;
    for (const auto& m : members) {
        if (m.contains("user") && m["user"].is_object() && m["user"].contains("id") && m["user"]["id"].is_string())
            out.push_back(m["user"]["id"].get<std::string>());
        else out.emplace_back("?");
    }
    return out;
}

const json* find_member(const std::vector<json>& members, const std::string& user_id) {
    for (const auto& m : members)
        if (m.contains("user") && m["user"].is_object() && m["user"].value("id", "") == user_id) return &m;
    return nullptr;
}

const json* find_reaction(const json& message, const std::string& emoji) {
    if (!message.contains("reactions") || !message["reactions"].is_array()) return nullptr;
    for (const auto& r : message["reactions"])
        if (r.is_object() && r.value("emoji", "") == emoji) return &r;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Shapes

::testing::AssertionResult IsMessageModel(const json& j) {
    auto keys = ExactKeys(j, {"id",       "chat_id",   "sender_id",   "seq",       "version",        "type",
                              "content",  "media",     "reply_to_id", "reactions", "is_edited",      "is_deleted",
                              "metadata", "client_id", "pinned_at",   "pinned_by", "forwarded_from", "thread_root_id",
                              "thread",   "entities",  "created_at",  "updated_at"},
                          "MessageModel", {"poll"});
    if (!keys) return keys;
    if (!is_uuid(j["id"])) return Fail("MessageModel.id is not a UUID", j);
    if (!is_uuid(j["chat_id"])) return Fail("MessageModel.chat_id is not a UUID", j);
    if (!is_uuid(j["sender_id"])) return Fail("MessageModel.sender_id is not a UUID", j);
    if (!is_int(j["seq"]) || j["seq"].get<std::int64_t>() < 1)
        return Fail("MessageModel.seq is not an integer >= 1", j);
    if (!is_int(j["version"]) || j["version"].get<std::int64_t>() < 1)
        return Fail("MessageModel.version is not an integer >= 1", j);
    static const std::set<std::string> types = {"text",     "image", "voice",  "video",
                                                "location", "file",  "system", "poll"};
    if (!j["type"].is_string() || !types.count(j["type"].get<std::string>())) return Fail("MessageModel.type", j);
    if (!j["content"].is_string()) return Fail("MessageModel.content is not a string", j);
    if (!j["media"].is_null() && !j["media"].is_object()) return Fail("MessageModel.media", j);
    if (!j["reply_to_id"].is_null() && !is_uuid(j["reply_to_id"])) return Fail("MessageModel.reply_to_id", j);
    if (!j["reactions"].is_array()) return Fail("MessageModel.reactions is not an array", j);
    for (const auto& r : j["reactions"]) {
        auto rk = ExactKeys(r, {"emoji", "count", "user_ids"}, "ReactionModel");
        if (!rk) return rk;
        if (!r["emoji"].is_string() || !is_int(r["count"]) || !r["user_ids"].is_array())
            return Fail("ReactionModel types", j);
        // user_ids names the first 10 reactors plus the reader (docs/api.md, Reactions).
        const auto named = r["user_ids"].size();
        if (named == 0 || named > 11 || r["count"].get<std::size_t>() < named ||
            (r["count"].get<std::size_t>() <= 10 && r["count"].get<std::size_t>() != named))
            return Fail("ReactionModel.user_ids does not fit count", j);
        for (const auto& u : r["user_ids"])
            if (!is_uuid(u)) return Fail("ReactionModel.user_ids holds a non-UUID", j);
    }
    if (!j["is_edited"].is_boolean()) return Fail("MessageModel.is_edited is not a bool", j);
    if (!j["is_deleted"].is_boolean()) return Fail("MessageModel.is_deleted is not a bool", j);
    if (!j["metadata"].is_object()) return Fail("MessageModel.metadata is not an object", j);
    if (!j["client_id"].is_null() && !j["client_id"].is_string()) return Fail("MessageModel.client_id", j);
    if (j["pinned_at"].is_null() != j["pinned_by"].is_null()) return Fail("MessageModel.pinned_at/pinned_by", j);
    if (!j["pinned_at"].is_null() && (!is_timestamp(j["pinned_at"]) || !is_uuid(j["pinned_by"])))
        return Fail("MessageModel.pinned_at/pinned_by types", j);
    if (const auto& origin = j["forwarded_from"]; !origin.is_null()) {
        auto fk = ExactKeys(origin, {"message_id", "chat_id", "sender_id", "sent_at"}, "ForwardOrigin");
        if (!fk) return fk;
        if (!is_uuid(origin["message_id"]) || !is_uuid(origin["chat_id"]) ||
            (!origin["sender_id"].is_null() && !is_uuid(origin["sender_id"])) || !is_timestamp(origin["sent_at"]))
            return Fail("MessageModel.forwarded_from types", j);
    }
    if (!j["thread_root_id"].is_null() && !is_uuid(j["thread_root_id"])) return Fail("MessageModel.thread_root_id", j);
    if (const auto& thread = j["thread"]; !thread.is_null()) {
        auto tk = ExactKeys(thread, {"reply_count", "last_reply_at", "participant_ids"}, "ThreadSummary");
        if (!tk) return tk;
        if (!is_int(thread["reply_count"]) || thread["reply_count"].get<std::int64_t>() < 1 ||
            !is_timestamp(thread["last_reply_at"]) || !thread["participant_ids"].is_array() ||
            thread["participant_ids"].empty() || thread["participant_ids"].size() > 5)
            return Fail("MessageModel.thread types", j);
        for (const auto& u : thread["participant_ids"])
            if (!is_uuid(u)) return Fail("ThreadSummary.participant_ids holds a non-UUID", j);
    }
    if (!j["entities"].is_array()) return Fail("MessageModel.entities is not an array", j);
    for (const auto& e : j["entities"]) {
        if (!e.is_object() || !e["type"].is_string() || !is_nonneg_int(e["offset"]) || !is_int(e["length"]) ||
            e["length"].get<std::int64_t>() < 1)
            return Fail("MessageModel.entities holds a malformed entity", j);
        for (auto it = e.begin(); it != e.end(); ++it)
            if (it.key() != "type" && it.key() != "offset" && it.key() != "length" && it.key() != "url" &&
                it.key() != "language" && it.key() != "user_id")
                return Fail("MessageModel.entities: undocumented key " + it.key(), j);
    }
    if (!is_timestamp(j["created_at"])) return Fail("MessageModel.created_at is not RFC 3339 ms UTC", j);
    if (!is_timestamp(j["updated_at"])) return Fail("MessageModel.updated_at is not RFC 3339 ms UTC", j);
    // A poll message that is not deleted carries its poll; no other message has one.
    if (j.contains("poll") != (j["type"] == "poll" && j["is_deleted"] == false))
        return Fail("MessageModel.poll is for poll messages that are not deleted", j);
    if (j.contains("poll")) {
        auto pm = IsPollModel(j["poll"]);
        if (!pm) return ::testing::AssertionFailure() << "MessageModel.poll: " << pm.message();
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsCustomRoleModel(const json& j) {
    auto keys = ExactKeys(j, {"id", "chat_id", "name", "rank", "permissions", "created_at"}, "CustomRoleModel");
    if (!keys) return keys;
    if (!is_uuid(j["id"]) || !is_uuid(j["chat_id"])) return Fail("CustomRoleModel ids", j);
    if (!j["name"].is_string() || j["name"].get<std::string>().empty()) return Fail("CustomRoleModel.name", j);
    if (!is_role(j["rank"]) || j["rank"] == "owner") return Fail("CustomRoleModel.rank", j);
    if (!is_permission_list(j["permissions"])) return Fail("CustomRoleModel.permissions", j);
    if (!is_timestamp(j["created_at"])) return Fail("CustomRoleModel.created_at", j);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsChatModel(const json& j) {
    auto keys = ExactKeys(j,
                          {"id", "type", "title", "avatar_url", "settings", "metadata", "member_count", "last_message",
                           "last_seq", "version", "me", "created_at", "updated_at", "handle", "is_public",
                           "subscriber_count", "large"},
                          "ChatModel");
    if (!keys) return keys;
    if (!is_uuid(j["id"])) return Fail("ChatModel.id is not a UUID", j);
    if (j["type"] != "direct" && j["type"] != "group" && j["type"] != "channel") return Fail("ChatModel.type", j);
    const bool channel = j["type"] == "channel";
    if (!j["handle"].is_null() && !(channel && j["handle"].is_string())) return Fail("ChatModel.handle", j);
    if (!j["is_public"].is_boolean() || (!channel && j["is_public"] != false)) return Fail("ChatModel.is_public", j);
    if (channel ? !is_nonneg_int(j["subscriber_count"]) : !j["subscriber_count"].is_null())
        return Fail("ChatModel.subscriber_count", j);
    if (!j["large"].is_boolean() || (j["type"] != "group" && j["large"] != false)) return Fail("ChatModel.large", j);
    if (!j["title"].is_null() && !j["title"].is_string()) return Fail("ChatModel.title", j);
    if (!j["avatar_url"].is_null() && !j["avatar_url"].is_string()) return Fail("ChatModel.avatar_url", j);
    auto sk = ExactKeys(j["settings"],
                        {"only_admins_can_post", "only_admins_can_edit_info", "only_admins_can_add_members",
                         "only_admins_can_pin", "only_admins_can_mention_all", "slow_mode_seconds"},
                        "ChatModel.settings");
    if (!sk) return sk;
    for (auto it = j["settings"].begin(); it != j["settings"].end(); ++it)
        if (it.key() != "slow_mode_seconds" && !it.value().is_boolean())
            return Fail("ChatModel.settings." + it.key() + " is not a bool", j);
    const auto& slow_mode = j["settings"]["slow_mode_seconds"];
    if (!is_nonneg_int(slow_mode) || slow_mode.get<std::int64_t>() > 3600)
        return Fail("ChatModel.settings.slow_mode_seconds is not an integer 0-3600", j);
    if (!j["metadata"].is_object()) return Fail("ChatModel.metadata is not an object", j);
    if (!is_int(j["member_count"]) || j["member_count"].get<std::int64_t>() < 1)
        return Fail("ChatModel.member_count", j);
    if (!j["last_message"].is_null()) {
        auto m = IsMessageModel(j["last_message"]);
        if (!m) return ::testing::AssertionFailure() << "ChatModel.last_message: " << m.message();
    }
    if (!is_nonneg_int(j["last_seq"])) return Fail("ChatModel.last_seq is not an integer >= 0", j);
    if (!is_nonneg_int(j["version"])) return Fail("ChatModel.version is not an integer >= 0", j);
    auto mk = ExactKeys(j["me"],
                        {"role", "custom_role", "last_read_seq", "unread_count", "unread_mention_count", "is_muted",
                         "permissions"},
                        "ChatModel.me");
    if (!mk) return mk;
    const auto& me = j["me"];
    if (!is_role(me["role"])) return Fail("ChatModel.me.role", j);
    if (!is_custom_role_brief(me["custom_role"])) return Fail("ChatModel.me.custom_role", j);
    if (!is_permission_list(me["permissions"])) return Fail("ChatModel.me.permissions", j);
    if (!is_nonneg_int(me["last_read_seq"])) return Fail("ChatModel.me.last_read_seq", j);
    if (!is_nonneg_int(me["unread_count"])) return Fail("ChatModel.me.unread_count", j);
    if (!is_nonneg_int(me["unread_mention_count"])) return Fail("ChatModel.me.unread_mention_count", j);
    if (!me["is_muted"].is_boolean()) return Fail("ChatModel.me.is_muted", j);
    if (!is_timestamp(j["created_at"])) return Fail("ChatModel.created_at", j);
    if (!is_timestamp(j["updated_at"])) return Fail("ChatModel.updated_at", j);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsMemberModel(const json& j) {
    auto keys = ExactKeys(j,
                          {"chat_id", "user", "role", "custom_role", "last_read_seq", "is_muted", "muted_until",
                           "permissions", "joined_at"},
                          "ChatMemberModel");
    if (!keys) return keys;
    if (!is_uuid(j["chat_id"])) return Fail("ChatMemberModel.chat_id", j);
    auto uk = ExactKeys(j["user"], {"id", "username", "display_name", "avatar_url", "bio", "is_bot", "created_at"},
                        "ChatMemberModel.user", {"online", "last_seen_at"});
    if (!uk) return uk;
    auto u = IsUserModel(j["user"]);
    if (!u) return u;
    if (j["user"].contains("online") && !j["user"]["online"].is_boolean()) return Fail("user.online", j);
    if (j["user"].contains("last_seen_at") && !j["user"]["last_seen_at"].is_null() &&
        !is_timestamp(j["user"]["last_seen_at"]))
        return Fail("user.last_seen_at", j);
    if (!is_role(j["role"])) return Fail("ChatMemberModel.role", j);
    if (!is_custom_role_brief(j["custom_role"])) return Fail("ChatMemberModel.custom_role", j);
    if (!is_permission_list(j["permissions"])) return Fail("ChatMemberModel.permissions", j);
    if (!j["muted_until"].is_null() && !is_timestamp(j["muted_until"])) return Fail("ChatMemberModel.muted_until", j);
    // null: the member sends no read receipts (docs/api.md, Privacy).
    if (!j["last_read_seq"].is_null() && !is_nonneg_int(j["last_read_seq"]))
        return Fail("ChatMemberModel.last_read_seq", j);
    if (!j["is_muted"].is_boolean()) return Fail("ChatMemberModel.is_muted", j);
    if (!is_timestamp(j["joined_at"])) return Fail("ChatMemberModel.joined_at", j);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsAck(const json& frame) {
    if (!frame.is_object() || frame.value("type", "") != "ack") return Fail("not an ack frame", frame);
    if (!frame.contains("id") || !frame["id"].is_string()) return Fail("ack without id", frame);
    if (!frame.contains("data") || !frame["data"].is_object()) return Fail("ack without a data object", frame);
    return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Events

std::optional<json> wait_for(WsClient& ws, const std::string& type, const FramePred& pred,
                             std::chrono::milliseconds timeout) {
    return ws.receive_matching(frame_of(type, pred), timeout);
}

::testing::AssertionResult NoFrameBefore(WsClient& ws, const FramePred& forbidden, const FramePred& marker,
                                         std::chrono::milliseconds timeout) {
    auto f = ws.receive_matching([&](const json& j) { return marker(j) || forbidden(j); }, timeout);
    if (!f) {
        return ::testing::AssertionFailure() << "the marker frame did not arrive within " << timeout.count()
                                             << " ms (closed: " << ws.close_code().value_or(0) << ")";
    }
    if (!marker(*f)) return ::testing::AssertionFailure() << "unexpected frame before the marker: " << dump(*f);
    return ::testing::AssertionSuccess();
}

std::optional<std::vector<json>> frames_until(WsClient& ws, const FramePred& marker,
                                              std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<json> before;
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::nullopt;
        auto f = ws.receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
        if (!f) return std::nullopt;
        if (marker(*f)) return before;
        before.push_back(std::move(*f));
    }
}

FramePred direct_message_marker(std::uint16_t port, const TestUser& from, const TestUser& to) {
    const std::string chat = create_direct(port, from, to)["id"];
    return frame_of("message.new", about_message(send_text(port, from, chat, "marker")["id"]));
}

FramePred frame_of(const std::string& type, FramePred pred) {
    return [type, pred = std::move(pred)](const json& j) {
        return j.is_object() && j.contains("type") && j["type"].is_string() && j["type"] == type && (!pred || pred(j));
    };
}

FramePred mentioning(const std::string& chat_id) {
    return [chat_id](const json& j) { return mentions_chat(j, chat_id); };
}

bool mentions_chat(const json& frame, const std::string& chat_id) {
    if (!frame.is_object() || !frame.contains("data")) return false;
    return frame["data"].dump().find(chat_id) != std::string::npos;
}

FramePred about_chat(const std::string& chat_id) {
    return [chat_id](const json& f) {
        if (!f.contains("data") || !f["data"].is_object()) return false;
        const auto& d = f["data"];
        if (d.contains("chat_id") && d["chat_id"] == chat_id) return true;
        if (d.contains("message") && d["message"].is_object() && d["message"].value("chat_id", "") == chat_id)
            return true;
        if (d.contains("chat") && d["chat"].is_object() && d["chat"].value("id", "") == chat_id) return true;
        return false;
    };
}

FramePred about_message(const std::string& message_id) {
    return [message_id](const json& f) {
        if (!f.contains("data") || !f["data"].is_object()) return false;
        const auto& d = f["data"];
        if (d.contains("message_id") && d["message_id"] == message_id) return true;
        if (d.contains("message") && d["message"].is_object() && d["message"].value("id", "") == message_id)
            return true;
        return false;
    };
}

FramePred and_(const FramePred& a, const FramePred& b) {
    return [a, b](const json& f) { return a(f) && b(f); };
}

json ws_request(WsClient& ws, const std::string& type, json data, std::chrono::milliseconds timeout) {
    try {
        return ws.request(type, std::move(data), timeout);
    } catch (const std::exception& e) {
        return json{{"type", "timeout"}, {"what", e.what()}};
    }
}

HttpResponse guarded(const std::function<HttpResponse()>& f) {
    try {
        return f();
    } catch (const std::exception& e) {
        HttpResponse r;
        r.status = 0;
        r.body = std::string("exception: ") + e.what();
        return r;
    }
}

std::vector<HttpResponse> all_at_once(std::size_t count, const std::function<HttpResponse(std::size_t)>& request) {
    std::vector<HttpResponse> answers(count);
    std::latch ready(static_cast<std::ptrdiff_t>(count));
    std::vector<std::thread> threads;
    threads.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        threads.emplace_back([&, i] {
            ready.arrive_and_wait();
            answers[i] = guarded([&] { return request(i); });
        });
    for (auto& thread : threads) thread.join();
    return answers;
}

std::string repeat(const std::string& unit, std::size_t n) {
    std::string out;
    out.reserve(unit.size() * n);
    for (std::size_t i = 0; i < n; ++i) out += unit;
    return out;
}

json chat_snapshot(std::uint16_t port, const TestUser& member, const std::string& chat_id) {
    auto chat = get_chat(port, member, chat_id);
    chat.erase("me");
    auto members = list_members(port, member, chat_id);
    for (auto& m : members) {
        m["user"].erase("online");
        m["user"].erase("last_seen_at");
    }
    return {{"chat", chat}, {"members", members}, {"messages", all_messages(port, member, chat_id)}};
}

std::string refusal(const json& reply) {
    if (reply.value("type", "") != "error") return "no error: " + reply.dump();
    const auto& error = reply["error"];
    std::string text = error["code"];
    if (error.contains("details") && error["details"].contains("reason"))
        text += "/" + error["details"]["reason"].get<std::string>();
    return text;
}

}  // namespace confab::test
