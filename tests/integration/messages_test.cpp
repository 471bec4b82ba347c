// Messages over REST: send (text, location, limits, replies, client_id), history pages,
// since_version sync, GET/PUT/DELETE /messages/{id}, reactions and read receipts.

#include <algorithm>
#include <map>
#include <atomic>
#include <thread>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using MessagesTest = ChatTest;

struct Page {
    HttpResponse response;
    std::vector<std::int64_t> seqs;
    json next_cursor;
};

Page history(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& query) {
    Page p;
    p.response = get(port, u.token, chat_messages_url(chat_id) + query);
    if (p.response.status != 200) return p;
    auto j = p.response.json();
    if (!j.contains("messages") || !j["messages"].is_array() || !j.contains("next_cursor"))
        throw std::runtime_error("history page lacks messages/next_cursor: " + p.response.body);
    p.seqs = seqs_of(j["messages"].get<std::vector<json>>());
    p.next_cursor = j["next_cursor"];
    return p;
}

json since(std::uint16_t port, const TestUser& u, const std::string& chat_id, std::int64_t version,
           std::optional<int> limit = std::nullopt) {
    std::string q = "?since_version=" + std::to_string(version);
    if (limit) q += "&limit=" + std::to_string(*limit);
    auto r = get(port, u.token, chat_messages_url(chat_id) + q);
    auto j = expect_json(r, 200, "since_version");
    if (!j.contains("messages") || !j["messages"].is_array() || !j.contains("version") || !j.contains("has_more") ||
        !j["has_more"].is_boolean())
        throw std::runtime_error("since_version response lacks messages/version/has_more: " + r.body);
    return j;
}

std::int64_t version_of(const json& m) { return m.at("version").get<std::int64_t>(); }

// ---------------------------------------------------------------------------------------------
// send

TEST_F(MessagesTest, SendTextReturnsTheMessageModelWithGaplessSeqAndVersion) {
    auto a = register_user(port(), "sa");
    auto b = register_user(port(), "sa");
    std::string id = create_direct(port(), a, b)["id"];

    std::vector<json> sent;
    for (int i = 1; i <= 3; ++i) {
        auto r =
            send_message(port(), i == 2 ? b : a, id, {{"type", "text"}, {"content", "hello " + std::to_string(i)}});
        ASSERT_TRUE(IsJson(r, 201));
        sent.push_back(r.json());
    }
    const auto& m = sent[0];
    EXPECT_TRUE(IsMessageModel(m));
    EXPECT_EQ(m["chat_id"], id);
    EXPECT_EQ(m["sender_id"], a.id);
    EXPECT_EQ(m["type"], "text");
    EXPECT_EQ(m["content"], "hello 1");
    EXPECT_TRUE(m["media"].is_null());
    EXPECT_TRUE(m["reply_to_id"].is_null());
    EXPECT_EQ(m["reactions"], json::array());
    EXPECT_EQ(m["is_edited"], false);
    EXPECT_EQ(m["is_deleted"], false);
    EXPECT_EQ(m["metadata"], json::object());
    EXPECT_TRUE(m["client_id"].is_null());
    EXPECT_EQ(sent[1]["sender_id"], b.id);

    EXPECT_EQ(seqs_of(sent), (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(version_of(sent[1]), version_of(sent[0]) + 1);
    EXPECT_EQ(version_of(sent[2]), version_of(sent[1]) + 1);

    auto chat = get_chat(port(), a, id);
    EXPECT_EQ(chat["last_seq"], 3);
    EXPECT_EQ(chat["version"], sent[2]["version"]);
    EXPECT_EQ(chat["last_message"], sent[2]);
    // Sending moves the sender's own last_read_seq: a sent seq 3.
    EXPECT_EQ(chat["me"]["last_read_seq"], 3);
    EXPECT_EQ(chat["me"]["unread_count"], 0);
    auto chat_b = get_chat(port(), b, id);
    EXPECT_EQ(chat_b["me"]["last_read_seq"], 2);
    EXPECT_EQ(chat_b["me"]["unread_count"], 1);

    EXPECT_EQ(all_messages(port(), b, id), sent);
}

TEST_F(MessagesTest, TextIsStoredExactlyAsSent) {
    auto a = register_user(port(), "se");
    auto b = register_user(port(), "se");
    std::string id = create_direct(port(), a, b)["id"];
    for (const std::string& content :
         {std::string("  padded  "), std::string("line1\nline2\r\n\ttab"), std::string("e\xCC\x81 vs \xC3\xA9"),
          std::string("\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"), std::string("<script>alert(1)</script> ' \" \\ %00")}) {
        auto m = send_text(port(), a, id, content);
        EXPECT_EQ(m["content"], content);
        EXPECT_EQ(get_message(port(), b, m["id"])["content"], content);
    }
}

TEST_F(MessagesTest, LocationMessagesValidateCoordinates) {
    auto a = register_user(port(), "lc");
    auto b = register_user(port(), "lc");
    std::string id = create_direct(port(), a, b)["id"];

    json loc = {{"latitude", 52.52}, {"longitude", 13.405}, {"name", "Berlin"}, {"address", "Pariser Platz"}};
    auto r = send_message(port(), a, id, {{"type", "location"}, {"metadata", {{"location", loc}}}});
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_TRUE(IsMessageModel(r.json()));
    EXPECT_EQ(r.json()["type"], "location");
    EXPECT_EQ(r.json()["metadata"]["location"], loc);
    EXPECT_EQ(r.json()["content"], "") << "content is optional for location messages";

    for (const json& edge : {json({{"latitude", -90}, {"longitude", -180}}),
                             json({{"latitude", 90}, {"longitude", 180}}), json({{"latitude", 0}, {"longitude", 0}})}) {
        auto ok = send_message(port(), a, id,
                               {{"type", "location"}, {"content", "here"}, {"metadata", {{"location", edge}}}});
        EXPECT_TRUE(IsJson(ok, 201)) << edge.dump();
    }
    auto count = all_messages(port(), a, id).size();

    const std::vector<json> bad = {
        {{"latitude", 90.0001}, {"longitude", 0}},
        {{"latitude", -91}, {"longitude", 0}},
        {{"latitude", 0}, {"longitude", 180.5}},
        {{"latitude", 0}, {"longitude", -181}},
        {{"latitude", "52.5"}, {"longitude", 13}},
        {{"latitude", 52.5}},
        {{"longitude", 13}},
        {{"latitude", nullptr}, {"longitude", 13}},
        {{"latitude", 1}, {"longitude", 2}, {"name", 5}},
        {{"latitude", 1}, {"longitude", 2}, {"address", json::array()}},
    };
    for (const auto& l : bad)
        EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "location"}, {"metadata", {{"location", l}}}}), 400,
                            "bad_request"))
            << l.dump();
    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "location"}}), 400, "bad_request")) << "no metadata";
    EXPECT_TRUE(
        IsError(send_message(port(), a, id, {{"type", "location"}, {"metadata", json::object()}}), 400, "bad_request"))
        << "no metadata.location";
    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "location"}, {"metadata", {{"location", "Berlin"}}}}),
                        400, "bad_request"));
    EXPECT_EQ(all_messages(port(), a, id).size(), count) << "rejected sends store nothing";
}

TEST_F(MessagesTest, ContentLimitsAreCountedInCodePoints) {
    auto a = register_user(port(), "cl");
    auto b = register_user(port(), "cl");
    std::string id = create_direct(port(), a, b)["id"];

    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "text"}, {"content", ""}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "text"}}), 400, "bad_request")) << "missing content";
    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "text"}, {"content", 42}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "text"}, {"content", nullptr}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "text"}, {"content", std::string(4001, 'x')}}), 413,
                        "payload_too_large"));
    EXPECT_TRUE(IsError(send_message(port(), a, id, {{"type", "text"}, {"content", repeat("\xC3\xA9", 4001)}}), 413,
                        "payload_too_large"));
    EXPECT_TRUE(all_messages(port(), a, id).empty()) << "nothing stored by rejected sends";

    for (const std::string& content : {std::string(4000, 'x'), repeat("\xC3\xA9", 4000), repeat("\xE2\x82\xAC", 4000),
                                       repeat("\xF0\x9F\x98\x80", 4000)}) {
        auto r = send_message(port(), a, id, {{"type", "text"}, {"content", content}});
        ASSERT_TRUE(IsJson(r, 201)) << content.size() << " bytes";
        EXPECT_EQ(r.json()["content"], content);
    }
    EXPECT_EQ(seqs_of(all_messages(port(), b, id)), (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST_F(MessagesTest, SendRejectsSystemUnknownTypesAndBadFields) {
    auto a = register_user(port(), "st");
    auto b = register_user(port(), "st");
    std::string id = create_direct(port(), a, b)["id"];
    const std::vector<std::pair<std::string, json>> cases = {
        {"system", {{"type", "system"}, {"content", "I am the server"}}},
        {"unknown type", {{"type", "sticker"}, {"content", "x"}}},
        {"missing type", {{"content", "x"}}},
        {"type not a string", {{"type", 1}, {"content", "x"}}},
        {"image without media_id", {{"type", "image"}, {"content", "caption"}}},
        {"metadata not an object", {{"type", "text"}, {"content", "x"}, {"metadata", "m"}}},
        {"a text's metadata.location not a place",
         {{"type", "text"},
          {"content", "x"},
          {"metadata", {{"location", {{"latitude", 999}, {"longitude", "east"}}}}}}},
        {"client_id not a string", {{"type", "text"}, {"content", "x"}, {"client_id", 7}}},
        {"empty client_id", {{"type", "text"}, {"content", "x"}, {"client_id", ""}}},
        {"65-character client_id", {{"type", "text"}, {"content", "x"}, {"client_id", std::string(65, 'c')}}},
        // The server's own: a send could stand in for a scheduled post or a broadcast's copy.
        {"a scheduled post's client_id",
         {{"type", "text"}, {"content", "x"}, {"client_id", "scheduled:" + random_uuid()}}},
        {"a broadcast copy's client_id", {{"type", "text"}, {"content", "x"}, {"client_id", "broadcast:0123abcd"}}},
        {"malformed reply_to_id", {{"type", "text"}, {"content", "x"}, {"reply_to_id", "abc"}}},
        {"reply_to_id not a string", {{"type", "text"}, {"content", "x"}, {"reply_to_id", 5}}},
        {"malformed media_id", {{"type", "image"}, {"media_id", "zzz"}}},
        {"body an array", json::array({"text"})},
    };
    for (const auto& [what, body] : cases)
        EXPECT_TRUE(IsError(send_message(port(), a, id, body), 400, "bad_request")) << what;
    auto bad_json = http(port(), "POST", chat_messages_url(id), std::string("{\"type\":\"text\",\"content\":"),
                         auth_header(a.token));
    EXPECT_TRUE(IsError(bad_json, 400, "bad_request")) << "malformed JSON";
    EXPECT_TRUE(all_messages(port(), a, id).empty());
    EXPECT_EQ(get_chat(port(), a, id)["version"], 0) << "nothing changed";

    // 16 KiB of metadata is the limit.
    json big = {{"blob", std::string(17 * 1024, 'm')}};
    auto r = send_message(port(), a, id, {{"type", "text"}, {"content", "x"}, {"metadata", big}});
    EXPECT_TRUE(r.status == 400 || r.status == 413) << r.describe();
    EXPECT_TRUE(all_messages(port(), a, id).empty());
}

TEST_F(MessagesTest, ReplyToMustBeAMessageOfTheSameChat) {
    auto a = register_user(port(), "rp");
    auto b = register_user(port(), "rp");
    std::string id = create_direct(port(), a, b)["id"];
    std::string other = create_group(port(), a)["id"];
    auto original = send_text(port(), a, id, "original");
    auto elsewhere = send_text(port(), a, other, "elsewhere");

    auto r1 = send_text(port(), b, id, "reply", {{"reply_to_id", original["id"]}});
    EXPECT_EQ(r1["reply_to_id"], original["id"]);
    auto r2 = send_text(port(), b, id, "synonym", {{"reply_to", original["id"]}});
    EXPECT_EQ(r2["reply_to_id"], original["id"]) << "reply_to is a synonym of reply_to_id";
    EXPECT_FALSE(r2.contains("reply_to")) << r2.dump();
    EXPECT_EQ(get_message(port(), a, r2["id"])["reply_to_id"], original["id"]);

    EXPECT_TRUE(
        IsError(send_message(port(), b, id, {{"type", "text"}, {"content", "x"}, {"reply_to_id", elsewhere["id"]}}),
                400, "bad_request"))
        << "a message of another chat";
    EXPECT_TRUE(
        IsError(send_message(port(), a, id, {{"type", "text"}, {"content", "x"}, {"reply_to", elsewhere["id"]}}), 400,
                "bad_request"));
    EXPECT_TRUE(
        IsError(send_message(port(), b, id, {{"type", "text"}, {"content", "x"}, {"reply_to_id", random_uuid()}}), 400,
                "bad_request"))
        << "an unknown message";
    EXPECT_EQ(all_messages(port(), a, id).size(), 3u);
}

TEST_F(MessagesTest, ClientIdMakesSendIdempotent) {
    auto a = register_user(port(), "ci");
    auto b = register_user(port(), "ci");
    std::string id = create_direct(port(), a, b)["id"];
    std::string other = create_group(port(), a, {b.id})["id"];
    auto ws_b = ws_connect(port(), b.token);
    std::string cid = "client-" + random_alnum(8);

    auto first = send_message(port(), a, id, {{"type", "text"}, {"content", "once"}, {"client_id", cid}});
    ASSERT_TRUE(IsJson(first, 201));
    EXPECT_EQ(first.json()["client_id"], cid);
    auto ev = wait_for(*ws_b, "message.new", about_chat(id));
    ASSERT_TRUE(ev.has_value());

    auto repeat_r = send_message(port(), a, id, {{"type", "text"}, {"content", "once"}, {"client_id", cid}});
    ASSERT_TRUE(IsJson(repeat_r, 200));
    EXPECT_EQ(repeat_r.json(), first.json()) << "the stored message comes back unchanged";
    // Even with a different body, the stored message wins.
    auto repeat2 = send_message(port(), a, id, {{"type", "text"}, {"content", "different"}, {"client_id", cid}});
    ASSERT_TRUE(IsJson(repeat2, 200));
    EXPECT_EQ(repeat2.json()["id"], first.json()["id"]);
    EXPECT_EQ(repeat2.json()["content"], "once");

    auto c = register_user(port(), "ci");
    EXPECT_TRUE(NoFrameBefore(*ws_b, frame_of("message.new", about_chat(id)), direct_message_marker(port(), c, b)))
        << "a repeat emits nothing";
    auto all = all_messages(port(), b, id);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(get_chat(port(), a, id)["version"], first.json()["version"]);

    EXPECT_TRUE(IsError(send_message(port(), a, other, {{"type", "text"}, {"content", "once"}, {"client_id", cid}}),
                        409, "conflict"))
        << "the same client_id naming another chat";
    EXPECT_TRUE(all_messages(port(), a, other).empty() ||
                std::none_of(all_messages(port(), a, other).begin(), all_messages(port(), a, other).end(),
                             [](const json& m) { return m["type"] == "text"; }));

    // client_id is per sender: b may use the same one.
    auto by_b = send_message(port(), b, id, {{"type", "text"}, {"content", "mine"}, {"client_id", cid}});
    ASSERT_TRUE(IsJson(by_b, 201));
    EXPECT_NE(by_b.json()["id"], first.json()["id"]);
    EXPECT_EQ(by_b.json()["seq"], 2);

    // 64 characters is fine, counted as characters, not bytes: 64 emoji are 256 bytes.
    auto max = send_message(port(), a, id, {{"type", "text"}, {"content", "x"}, {"client_id", std::string(64, 'k')}});
    EXPECT_TRUE(IsJson(max, 201));
    std::string emoji_key;
    for (int i = 0; i < 64; ++i) emoji_key += "\xF0\x9F\x94\x91";  // 🔑
    auto emoji = send_message(port(), a, id, {{"type", "text"}, {"content", "x"}, {"client_id", emoji_key}});
    ASSERT_TRUE(IsJson(emoji, 201));
    EXPECT_EQ(emoji.json()["client_id"], emoji_key);
    auto repeated = send_message(port(), a, id, {{"type", "text"}, {"content", "x"}, {"client_id", emoji_key}});
    ASSERT_TRUE(IsJson(repeated, 200));
    EXPECT_EQ(repeated.json()["id"], emoji.json()["id"]);
    EXPECT_TRUE(
        IsBadField(send_message(port(), a, id,
                                {{"type", "text"}, {"content", "x"}, {"client_id", emoji_key + "\xF0\x9F\x94\x91"}}),
                   "client_id"));
}

// Sends that arrive together are written together (one statement for a lane's queued
// sends): repeats of one client_id among them still store one message, and every other
// send keeps its own seq, contiguous, with one message.new each in seq order.
TEST_F(MessagesTest, ConcurrentSendsWithRepeatedClientIdsStoreEachMessageOnce) {
    auto a = register_user(port(), "cs");
    auto b = register_user(port(), "cs");
    std::string id = create_group(port(), a, {b.id})["id"];
    std::string other = create_group(port(), a, {b.id})["id"];
    auto ws_b = ws_connect(port(), b.token);
    const std::string repeated = "same-" + random_alnum(8);
    const std::string elsewhere = "twice-" + random_alnum(8);
    std::vector<HttpResponse> repeats(6), distinct(10), split(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < repeats.size(); ++i)
        threads.emplace_back([&, i] {
            repeats[i] = guarded([&] {
                return send_message(port(), a, id, {{"type", "text"}, {"content", "r"}, {"client_id", repeated}});
            });
        });
    for (std::size_t i = 0; i < distinct.size(); ++i)
        threads.emplace_back([&, i] {
            distinct[i] = guarded([&] {
                return send_message(port(), i % 2 ? a : b, id,
                                    {{"type", "text"},
                                     {"content", "d" + std::to_string(i)},
                                     {"client_id", "d" + std::to_string(i)}});
            });
        });
    // One client_id sent by b to two chats at once: one chat gets it, the other a conflict.
    for (std::size_t i = 0; i < split.size(); ++i)
        threads.emplace_back([&, i] {
            split[i] = guarded([&] {
                return send_message(port(), b, i % 2 ? id : other,
                                    {{"type", "text"}, {"content", "s"}, {"client_id", elsewhere}});
            });
        });
    for (auto& t : threads) t.join();

    int created = 0;
    std::set<std::string> repeat_ids;
    for (const auto& r : repeats) {
        ASSERT_TRUE(r.status == 200 || r.status == 201) << r.describe();
        if (r.status == 201) ++created;
        repeat_ids.insert(r.json()["id"].get<std::string>());
    }
    EXPECT_EQ(created, 1) << "one of the repeats stores the message";
    EXPECT_EQ(repeat_ids.size(), 1u) << "every repeat answers with that message";
    for (const auto& r : distinct) EXPECT_TRUE(IsJson(r, 201)) << r.describe();
    int split_stored = 0, split_conflicts = 0;
    std::set<std::string> split_chats;
    for (const auto& r : split) {
        if (r.status == 200 || r.status == 201) {
            ++split_stored;
            split_chats.insert(r.json()["chat_id"].get<std::string>());
        } else {
            EXPECT_TRUE(IsError(r, 409, "conflict")) << r.describe();
            ++split_conflicts;
        }
    }
    EXPECT_EQ(split_chats.size(), 1u) << "the client_id went to one chat only";
    EXPECT_EQ(split_stored + split_conflicts, 4);
    EXPECT_GE(split_conflicts, 1);

    const auto split_here = split_chats.count(id) ? 1 : 0;
    const auto expected = 1 + static_cast<int>(distinct.size()) + split_here;
    auto all = all_messages(port(), a, id);
    std::vector<std::int64_t> seqs;
    for (const auto& m : all)
        if (m["type"] == "text") seqs.push_back(m["seq"].get<std::int64_t>());
    std::sort(seqs.begin(), seqs.end());
    ASSERT_EQ(static_cast<int>(seqs.size()), expected);
    for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1) << "no gap, no duplicate";
    std::int64_t last = 0;
    for (int n = 0; n < expected; ++n) {
        auto ev = wait_for(*ws_b, "message.new", about_chat(id));
        ASSERT_TRUE(ev.has_value()) << "message.new " << n;
        const auto seq = (*ev)["data"]["message"]["seq"].get<std::int64_t>();
        EXPECT_GT(seq, last) << "in seq order";
        last = seq;
    }
    EXPECT_TRUE(NoFrameBefore(*ws_b, frame_of("message.new", about_chat(id)), direct_message_marker(port(), a, b)))
        << "each message once";
}

// ---------------------------------------------------------------------------------------------
// history

TEST_F(MessagesTest, HistoryPagesFollowTheCursorContract) {
    auto a = register_user(port(), "hp");
    auto b = register_user(port(), "hp");
    std::string id = create_direct(port(), a, b)["id"];
    for (int i = 1; i <= 10; ++i) send_text(port(), i % 2 ? a : b, id, "m" + std::to_string(i));

    auto newest = history(port(), b, id, "?limit=3");
    ASSERT_TRUE(IsJson(newest.response, 200));
    EXPECT_EQ(newest.seqs, (std::vector<std::int64_t>{10, 9, 8}));
    EXPECT_EQ(newest.next_cursor, 8);
    auto newest_json = newest.response.json();
    for (const auto& m : newest_json["messages"]) EXPECT_TRUE(IsMessageModel(m));

    auto all_default = history(port(), b, id, "");
    EXPECT_EQ(all_default.seqs, (std::vector<std::int64_t>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
    EXPECT_TRUE(all_default.next_cursor.is_null()) << all_default.response.body.substr(0, 300);

    // Walk backwards with before_seq.
    std::vector<std::int64_t> walked = newest.seqs;
    json cursor = newest.next_cursor;
    for (int i = 0; i < 10 && cursor.is_number(); ++i) {
        auto p = history(port(), b, id, "?limit=3&before_seq=" + std::to_string(cursor.get<std::int64_t>()));
        ASSERT_TRUE(IsJson(p.response, 200));
        walked.insert(walked.end(), p.seqs.begin(), p.seqs.end());
        cursor = p.next_cursor;
    }
    EXPECT_EQ(walked, (std::vector<std::int64_t>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
    EXPECT_TRUE(cursor.is_null());

    auto b4 = history(port(), b, id, "?before_seq=4&limit=3");
    EXPECT_EQ(b4.seqs, (std::vector<std::int64_t>{3, 2, 1}));
    EXPECT_TRUE(b4.next_cursor.is_null()) << "nothing older than seq 1: " << b4.response.body.substr(0, 200);
    auto b5 = history(port(), b, id, "?before_seq=5&limit=3");
    EXPECT_EQ(b5.seqs, (std::vector<std::int64_t>{4, 3, 2}));
    EXPECT_EQ(b5.next_cursor, 2);
    auto b1 = history(port(), b, id, "?before_seq=1");
    EXPECT_TRUE(b1.seqs.empty());
    EXPECT_TRUE(b1.next_cursor.is_null());

    auto a0 = history(port(), b, id, "?after_seq=0&limit=3");
    EXPECT_EQ(a0.seqs, (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(a0.next_cursor, 3);
    auto a6 = history(port(), b, id, "?after_seq=6&limit=3");
    EXPECT_EQ(a6.seqs, (std::vector<std::int64_t>{7, 8, 9}));
    EXPECT_EQ(a6.next_cursor, 9);
    auto a7 = history(port(), b, id, "?after_seq=7&limit=3");
    EXPECT_EQ(a7.seqs, (std::vector<std::int64_t>{8, 9, 10}));
    EXPECT_TRUE(a7.next_cursor.is_null()) << "nothing newer than seq 10: " << a7.response.body.substr(0, 200);
    auto a10 = history(port(), b, id, "?after_seq=10");
    EXPECT_TRUE(a10.seqs.empty());
    EXPECT_TRUE(a10.next_cursor.is_null());
}

TEST_F(MessagesTest, HistoryRejectsBadQueries) {
    auto a = register_user(port(), "hq");
    auto b = register_user(port(), "hq");
    std::string id = create_direct(port(), a, b)["id"];
    send_text(port(), a, id, "x");
    for (const std::string q :
         {"?before_seq=2&after_seq=0", "?before_seq=2&since_version=0", "?after_seq=0&since_version=0",
          "?before_seq=-1", "?after_seq=abc", "?since_version=-5", "?since_version=1.5", "?limit=0", "?limit=201",
          "?limit=ten", "?after_seq=99999999999999999999999"}) {
        const auto refused = get(port(), a.token, chat_messages_url(id) + q);
        EXPECT_TRUE(IsError(refused, 400, "bad_request")) << q;
        EXPECT_TRUE(refused.json()["error"]["details"]["field"].is_string()) << q << ": the field is named";
    }
}

// ---------------------------------------------------------------------------------------------
// since_version

TEST_F(MessagesTest, SinceVersionReturnsExactlyTheChangedMessagesInVersionOrder) {
    auto a = register_user(port(), "sv");
    auto b = register_user(port(), "sv");
    std::string id = create_direct(port(), a, b)["id"];
    auto m1 = send_text(port(), a, id, "one");
    auto m2 = send_text(port(), a, id, "two");
    auto m3 = send_text(port(), b, id, "three");
    auto m4 = send_text(port(), b, id, "four");
    std::int64_t v = version_of(m4);

    auto empty = since(port(), a, id, v);
    EXPECT_EQ(empty["messages"], json::array());
    EXPECT_EQ(empty["version"], v);
    EXPECT_EQ(empty["has_more"], false);

    ASSERT_TRUE(IsJson(put(port(), a.token, message_url(m2["id"]), {{"content", "two, edited"}}), 200));
    ASSERT_EQ(put(port(), b.token, reaction_url(m1["id"], "\xF0\x9F\x91\x8D"), json::object()).status, 204);
    ASSERT_EQ(del(port(), b.token, message_url(m3["id"])).status, 204);
    ASSERT_TRUE(IsJson(put(port(), a.token, message_url(m2["id"]), {{"content", "two, edited twice"}}), 200));

    auto s = since(port(), a, id, v);
    ASSERT_EQ(s["messages"].size(), 3u) << s.dump();
    EXPECT_EQ(s["messages"][0]["id"], m1["id"]);
    EXPECT_EQ(s["messages"][0]["version"], v + 2);
    EXPECT_EQ(s["messages"][0]["reactions"][0]["user_ids"], json::array({b.id}));
    EXPECT_EQ(s["messages"][1]["id"], m3["id"]);
    EXPECT_EQ(s["messages"][1]["version"], v + 3);
    EXPECT_EQ(s["messages"][1]["is_deleted"], true);
    EXPECT_EQ(s["messages"][2]["id"], m2["id"]);
    EXPECT_EQ(s["messages"][2]["version"], v + 4);
    EXPECT_EQ(s["messages"][2]["content"], "two, edited twice");
    EXPECT_EQ(s["version"], v + 4);
    EXPECT_EQ(s["has_more"], false);
    for (const auto& m : s["messages"]) EXPECT_TRUE(IsMessageModel(m));

    auto five = send_text(port(), b, id, "five");
    EXPECT_EQ(version_of(five), v + 5);
    EXPECT_EQ(five["seq"], 5) << "seq keeps counting; deletions do not free seqs";

    // Paged with limit and has_more.
    auto p1 = since(port(), b, id, v, 2);
    ASSERT_EQ(p1["messages"].size(), 2u);
    EXPECT_EQ(p1["has_more"], true);
    EXPECT_EQ(p1["messages"][0]["id"], m1["id"]);
    EXPECT_EQ(p1["messages"][1]["id"], m3["id"]);
    auto p2 = since(port(), b, id, p1["messages"][1]["version"].get<std::int64_t>(), 2);
    ASSERT_EQ(p2["messages"].size(), 2u);
    EXPECT_EQ(p2["messages"][0]["id"], m2["id"]);
    EXPECT_EQ(p2["messages"][1]["id"], five["id"]);
    EXPECT_EQ(p2["has_more"], false);
    EXPECT_EQ(p2["version"], v + 5);

    // From zero: everything, each message once.
    auto all = since(port(), b, id, 0);
    EXPECT_EQ(all["messages"].size(), 5u);
    std::int64_t prev = 0;
    for (const auto& m : all["messages"]) {
        EXPECT_GT(version_of(m), prev);
        prev = version_of(m);
    }
    EXPECT_EQ(get_chat(port(), a, id)["version"], v + 5);
}

TEST_F(MessagesTest, SinceVersionHasMoreWithDefaultLimit) {
    auto a = register_user(port(), "sd");
    auto b = register_user(port(), "sd");
    std::string id = create_direct(port(), a, b)["id"];
    for (int i = 0; i < 52; ++i) send_text(port(), a, id, "n" + std::to_string(i));
    auto s = since(port(), b, id, 0);
    EXPECT_EQ(s["messages"].size(), 50u);
    EXPECT_EQ(s["has_more"], true);
    auto rest = since(port(), b, id, s["messages"][49]["version"].get<std::int64_t>());
    EXPECT_EQ(rest["messages"].size(), 2u);
    EXPECT_EQ(rest["has_more"], false);
}

// ---------------------------------------------------------------------------------------------
// GET / PUT / DELETE /messages/{id}

TEST_F(MessagesTest, GetMessageById) {
    auto a = register_user(port(), "gi");
    auto b = register_user(port(), "gi");
    std::string id = create_direct(port(), a, b)["id"];
    auto m = send_text(port(), a, id, "find me");
    auto r = get(port(), b.token, message_url(m["id"]));
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), m);
    EXPECT_TRUE(IsError(get(port(), b.token, message_url(random_uuid())), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), b.token, message_url("not-a-uuid")), 400, "bad_request"));
}

TEST_F(MessagesTest, EditBySenderOnly) {
    auto a = register_user(port(), "ed");
    auto b = register_user(port(), "ed");
    std::string id = create_direct(port(), a, b)["id"];
    auto m = send_text(port(), a, id, "draft");
    auto ws_b = ws_connect(port(), b.token);

    EXPECT_TRUE(IsError(put(port(), b.token, message_url(m["id"]), {{"content", "hacked"}}), 403, "forbidden"));
    for (const json& body : {json::object(), json({{"content", ""}}), json({{"content", 3}}),
                             json({{"content", "x"}, {"type", "location"}}), json::array()})
        EXPECT_TRUE(IsError(put(port(), a.token, message_url(m["id"]), body), 400, "bad_request")) << body.dump();
    EXPECT_TRUE(IsError(put(port(), a.token, message_url(m["id"]), {{"content", std::string(4001, 'y')}}), 413,
                        "payload_too_large"));
    EXPECT_EQ(get_message(port(), a, m["id"]), m) << "rejected edits change nothing";

    auto r = put(port(), a.token, message_url(m["id"]), {{"content", "final"}});
    ASSERT_TRUE(IsJson(r, 200));
    auto e = r.json();
    EXPECT_TRUE(IsMessageModel(e));
    EXPECT_EQ(e["content"], "final");
    EXPECT_EQ(e["is_edited"], true);
    EXPECT_EQ(e["seq"], m["seq"]);
    EXPECT_EQ(e["id"], m["id"]);
    EXPECT_EQ(e["created_at"], m["created_at"]);
    EXPECT_EQ(version_of(e), version_of(m) + 1);
    EXPECT_GE(e["updated_at"].get<std::string>(), m["updated_at"].get<std::string>());

    auto ev = wait_for(*ws_b, "message.updated", about_message(m["id"]));
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ((*ev)["data"]["message"], e);

    auto loc = send_message(port(), a, id,
                            {{"type", "location"}, {"metadata", {{"location", {{"latitude", 1}, {"longitude", 2}}}}}});
    ASSERT_TRUE(IsJson(loc, 201));
    EXPECT_TRUE(
        IsError(put(port(), a.token, message_url(loc.json()["id"]), {{"content", "text now"}}), 400, "bad_request"))
        << "location messages cannot be edited";

    ASSERT_EQ(del(port(), a.token, message_url(m["id"])).status, 204);
    EXPECT_TRUE(IsError(put(port(), a.token, message_url(m["id"]), {{"content", "zombie"}}), 409, "conflict"));
    EXPECT_EQ(get_message(port(), b, m["id"])["content"], "");
}

TEST_F(MessagesTest, DeleteLeavesATombstone) {
    auto a = register_user(port(), "dt");
    auto b = register_user(port(), "dt");
    std::string id = create_direct(port(), a, b)["id"];
    const json place = {{"latitude", 48.85}, {"longitude", 2.35}, {"address", "1 Secret Street"}};
    auto m = send_text(port(), a, id, "secret", {{"metadata", {{"k", "v"}, {"location", place}}}});
    EXPECT_EQ(m["metadata"]["location"], place) << "any message may name a place";
    auto after = send_text(port(), b, id, "after");
    ASSERT_EQ(put(port(), b.token, reaction_url(m["id"], "\xE2\x9D\xA4"), json::object()).status, 204);
    auto reacted = get_message(port(), a, m["id"]);
    auto ws_b = ws_connect(port(), b.token);

    EXPECT_TRUE(IsError(del(port(), b.token, message_url(m["id"])), 403, "forbidden")) << "not the sender, direct chat";

    auto r = del(port(), a.token, message_url(m["id"]));
    ASSERT_EQ(r.status, 204) << r.describe();
    auto t = get_message(port(), b, m["id"]);
    EXPECT_TRUE(IsMessageModel(t));
    EXPECT_EQ(t["id"], m["id"]);
    EXPECT_EQ(t["seq"], m["seq"]);
    EXPECT_EQ(t["sender_id"], a.id);
    EXPECT_EQ(t["created_at"], m["created_at"]);
    EXPECT_EQ(t["content"], "");
    EXPECT_TRUE(t["media"].is_null());
    EXPECT_EQ(t["reactions"], json::array());
    EXPECT_EQ(t["metadata"], json::object()) << "a deleted message keeps no place or other metadata";
    EXPECT_EQ(t["is_deleted"], true);
    EXPECT_EQ(version_of(t), version_of(reacted) + 1);

    auto ev = wait_for(*ws_b, "message.deleted", about_message(m["id"]));
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ((*ev)["data"], json({{"message_id", m["id"]}, {"chat_id", id}, {"version", t["version"]}}));

    auto hist = all_messages(port(), a, id);
    ASSERT_EQ(hist.size(), 2u) << "the tombstone keeps its place";
    EXPECT_EQ(hist[0]["id"], m["id"]);
    EXPECT_EQ(hist[0]["is_deleted"], true);
    EXPECT_EQ(hist[1]["id"], after["id"]);
    EXPECT_EQ(hist[0].dump().find("secret"), std::string::npos);
    EXPECT_EQ(hist[0].dump().find("Secret Street"), std::string::npos);

    EXPECT_TRUE(IsError(del(port(), a.token, message_url(m["id"])), 409, "conflict")) << "already deleted";
    EXPECT_TRUE(
        IsError(put(port(), b.token, reaction_url(m["id"], "\xF0\x9F\x91\x8D"), json::object()), 409, "conflict"))
        << "reacting to a deleted message";
    EXPECT_EQ(del(port(), b.token, reaction_url(m["id"], "\xE2\x9D\xA4")).status, 204)
        << "removing a reaction a deleted message no longer has is idempotent";
    EXPECT_EQ(get_message(port(), a, m["id"]), t) << "nothing changed after the rejected calls";
}

TEST_F(MessagesTest, GroupAdminsDeleteOthersMessagesMembersCannot) {
    auto owner = register_user(port(), "gd");
    auto admin = register_user(port(), "gd");
    auto m1 = register_user(port(), "gd");
    auto m2 = register_user(port(), "gd");
    std::string id = create_group(port(), owner, {admin.id, m1.id, m2.id})["id"];
    set_role(port(), owner, id, admin.id, "admin");
    auto a = send_text(port(), m1, id, "one");
    auto b = send_text(port(), m1, id, "two");
    auto c = send_text(port(), admin, id, "three");

    EXPECT_TRUE(IsError(del(port(), m2.token, message_url(a["id"])), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), m1.token, message_url(c["id"])), 403, "forbidden"));
    EXPECT_EQ(del(port(), admin.token, message_url(a["id"])).status, 204);
    EXPECT_EQ(del(port(), owner.token, message_url(b["id"])).status, 204);
    EXPECT_EQ(del(port(), owner.token, message_url(c["id"])).status, 204);
    EXPECT_EQ(get_message(port(), m2, a["id"])["is_deleted"], true);
    EXPECT_EQ(get_message(port(), m2, c["id"])["is_deleted"], true);
}

// ---------------------------------------------------------------------------------------------
// reactions

TEST_F(MessagesTest, ReactionsAreIdempotentAndKeepUserOrder) {
    auto a = register_user(port(), "ra");
    auto b = register_user(port(), "ra");
    auto c = register_user(port(), "ra");
    std::string id = create_group(port(), a, {b.id, c.id})["id"];
    auto m = send_text(port(), a, id, "react to me");
    auto ws_a = ws_connect(port(), a.token);
    const std::string thumbs = "\xF0\x9F\x91\x8D";
    const std::string heart = "\xE2\x9D\xA4\xEF\xB8\x8F";
    std::int64_t v = version_of(m);

    // Explicit percent-encoding of U+1F44D.
    auto r = http(port(), "PUT", message_url(m["id"]) + "/reactions/%F0%9F%91%8D", std::nullopt, auth_header(b.token));
    ASSERT_EQ(r.status, 204) << r.describe();
    auto ev = wait_for(*ws_a, "message.updated", about_message(m["id"]));
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ((*ev)["data"]["message"]["reactions"],
              json::array({{{"emoji", thumbs}, {"count", 1}, {"user_ids", {b.id}}}}));
    EXPECT_EQ((*ev)["data"]["message"]["version"], v + 1);

    EXPECT_EQ(put(port(), b.token, reaction_url(m["id"], thumbs), json::object()).status, 204) << "idempotent";
    EXPECT_TRUE(NoFrameBefore(*ws_a, frame_of("message.updated"), direct_message_marker(port(), b, a)))
        << "a repeated reaction changes nothing";
    EXPECT_EQ(version_of(get_message(port(), a, m["id"])), v + 1);

    EXPECT_EQ(put(port(), c.token, reaction_url(m["id"], thumbs), json::object()).status, 204);
    EXPECT_EQ(put(port(), a.token, reaction_url(m["id"], thumbs), json::object()).status, 204);
    EXPECT_EQ(put(port(), a.token, reaction_url(m["id"], heart), json::object()).status, 204);
    auto got = get_message(port(), b, m["id"]);
    EXPECT_TRUE(IsMessageModel(got));
    EXPECT_EQ(version_of(got), v + 4);
    ASSERT_EQ(got["reactions"].size(), 2u) << got.dump();
    const json* t = find_reaction(got, thumbs);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ((*t)["count"], 3);
    EXPECT_EQ((*t)["user_ids"], json::array({b.id, c.id, a.id})) << "users in the order they reacted";
    const json* h = find_reaction(got, heart);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ((*h)["user_ids"], json::array({a.id}));

    EXPECT_EQ(del(port(), c.token, reaction_url(m["id"], thumbs)).status, 204);
    EXPECT_EQ(del(port(), c.token, reaction_url(m["id"], thumbs)).status, 204) << "removing twice is fine";
    EXPECT_EQ(del(port(), c.token, reaction_url(m["id"], heart)).status, 204) << "removing a missing one is fine";
    EXPECT_EQ(del(port(), a.token, reaction_url(m["id"], heart)).status, 204);
    got = get_message(port(), b, m["id"]);
    EXPECT_EQ(version_of(got), v + 6) << "only real changes take versions";
    EXPECT_EQ(got["reactions"], json::array({{{"emoji", thumbs}, {"count", 2}, {"user_ids", {b.id, a.id}}}}));
}

// A page reads reactions only for the messages that have any (messages.has_reactions, kept by
// triggers on reactions): the flag must follow every add and every removal, the last included.
TEST_F(MessagesTest, AHistoryPageShowsEachMessagesReactionsAsTheyComeAndGo) {
    auto a = register_user(port(), "hr");
    auto b = register_user(port(), "hr");
    std::string chat_id = create_group(port(), a, {b.id})["id"];
    const std::string plain = send_text(port(), a, chat_id, "no reactions")["id"];
    const std::string liked = send_text(port(), a, chat_id, "liked")["id"];
    const std::string unliked = send_text(port(), a, chat_id, "liked, then not")["id"];
    const std::string thumbs = "\xF0\x9F\x91\x8D";
    const std::string heart = "\xE2\x9D\xA4\xEF\xB8\x8F";
    ASSERT_EQ(put(port(), b.token, reaction_url(liked, thumbs), json::object()).status, 204);
    ASSERT_EQ(put(port(), a.token, reaction_url(unliked, heart), json::object()).status, 204);
    ASSERT_EQ(put(port(), b.token, reaction_url(unliked, heart), json::object()).status, 204);
    ASSERT_EQ(del(port(), a.token, reaction_url(unliked, heart)).status, 204);
    const auto reactions_in_page = [&] {
        std::map<std::string, json> by_id;
        for (const auto& message : all_messages(port(), a, chat_id)) by_id[message["id"]] = message["reactions"];
        return by_id;
    };
    auto page = reactions_in_page();
    EXPECT_EQ(page[plain], json::array());
    EXPECT_EQ(page[liked], json::array({{{"emoji", thumbs}, {"count", 1}, {"user_ids", {b.id}}}}));
    EXPECT_EQ(page[unliked], json::array({{{"emoji", heart}, {"count", 1}, {"user_ids", {b.id}}}}))
        << "one of two reactions removed leaves the other";

    ASSERT_EQ(del(port(), b.token, reaction_url(unliked, heart)).status, 204);
    EXPECT_EQ(reactions_in_page()[unliked], json::array()) << "the last reaction removed";
    ASSERT_EQ(put(port(), a.token, reaction_url(unliked, thumbs), json::object()).status, 204);
    EXPECT_EQ(reactions_in_page()[unliked], json::array({{{"emoji", thumbs}, {"count", 1}, {"user_ids", {a.id}}}}))
        << "a reaction after the last one went";
}

TEST_F(MessagesTest, ReactionLimits) {
    auto a = register_user(port(), "rl");
    auto b = register_user(port(), "rl");
    std::string id = create_direct(port(), a, b)["id"];
    auto m = send_text(port(), a, id, "many");
    for (int i = 0; i < 20; ++i) {
        // U+1F600 + i
        std::string e = "\xF0\x9F\x98";
        e += static_cast<char>(0x80 + i);
        auto r = put(port(), i % 2 ? a.token : b.token, reaction_url(m["id"], e), json::object());
        ASSERT_EQ(r.status, 204) << i << " " << r.describe();
    }
    std::string e21 = "\xF0\x9F\x98\x95";  // U+1F615
    EXPECT_TRUE(IsError(put(port(), a.token, reaction_url(m["id"], e21), json::object()), 409, "conflict"));
    // An existing emoji by another user is still fine.
    EXPECT_EQ(put(port(), a.token, reaction_url(m["id"], "\xF0\x9F\x98\x80"), json::object()).status, 204);
    auto got = get_message(port(), a, m["id"]);
    EXPECT_EQ(got["reactions"].size(), 20u);
    EXPECT_EQ(find_reaction(got, e21), nullptr);

    auto n = send_text(port(), a, id, "sizes");
    std::string e32 = repeat("\xF0\x9F\x98\x80", 8);  // 32 bytes
    EXPECT_EQ(put(port(), a.token, reaction_url(n["id"], e32), json::object()).status, 204);
    EXPECT_TRUE(IsError(put(port(), a.token, reaction_url(n["id"], e32 + "x"), json::object()), 400, "bad_request"))
        << "33 bytes";
    EXPECT_TRUE(
        IsError(put(port(), a.token, message_url(n["id"]) + "/reactions/%FF%FE", json::object()), 400, "bad_request"))
        << "not UTF-8";
    EXPECT_TRUE(
        IsError(put(port(), a.token, message_url("nope") + "/reactions/x", json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(put(port(), a.token, reaction_url(random_uuid(), "x"), json::object()), 404, "not_found"));
    EXPECT_EQ(get_message(port(), a, n["id"])["reactions"].size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// read receipts

TEST_F(MessagesTest, ReadReceiptsMoveForwardOnly) {
    auto a = register_user(port(), "rr");
    auto b = register_user(port(), "rr");
    std::string id = create_group(port(), a, {b.id})["id"];
    for (int i = 0; i < 5; ++i) send_text(port(), a, id, "r" + std::to_string(i));
    std::int64_t last = get_chat(port(), a, id)["last_seq"];
    auto ws_a = ws_connect(port(), a.token);
    auto ws_b = ws_connect(port(), b.token);
    auto cb = get_chat(port(), b, id);
    EXPECT_EQ(cb["me"]["last_read_seq"], 0);
    EXPECT_EQ(cb["me"]["unread_count"], last);

    auto r = post(port(), b.token, read_url(id), {{"seq", last - 2}});
    ASSERT_EQ(r.status, 204) << r.describe();
    auto ev = wait_for(*ws_a, "read.updated", about_chat(id));
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ((*ev)["data"], json({{"chat_id", id}, {"user_id", b.id}, {"last_read_seq", last - 2}}));
    cb = get_chat(port(), b, id);
    EXPECT_EQ(cb["me"]["last_read_seq"], last - 2);
    EXPECT_EQ(cb["me"]["unread_count"], 2);
    EXPECT_EQ((*find_member(list_members(port(), a, id), b.id))["last_read_seq"], last - 2);

    EXPECT_EQ(post(port(), b.token, read_url(id), {{"seq", 1}}).status, 204);
    EXPECT_EQ(post(port(), b.token, read_url(id), {{"seq", last - 2}}).status, 204);
    EXPECT_TRUE(NoFrameBefore(*ws_a, frame_of("read.updated"), direct_message_marker(port(), b, a)))
        << "no event when nothing moves";
    EXPECT_EQ(get_chat(port(), b, id)["me"]["last_read_seq"], last - 2) << "never moves back";

    EXPECT_EQ(post(port(), b.token, read_url(id), {{"seq", last + 100}}).status, 204);
    cb = get_chat(port(), b, id);
    EXPECT_EQ(cb["me"]["last_read_seq"], last) << "clamped to last_seq";
    EXPECT_EQ(cb["me"]["unread_count"], 0);
    auto ev2 = wait_for(*ws_a, "read.updated", about_chat(id));
    ASSERT_TRUE(ev2.has_value());
    EXPECT_EQ((*ev2)["data"]["last_read_seq"], last);

    for (const json& body : {json::object(), json({{"seq", "3"}}), json({{"seq", -1}}), json({{"seq", 1.5}}),
                             json({{"seq", nullptr}}), json::array()})
        EXPECT_TRUE(IsError(post(port(), b.token, read_url(id), body), 400, "bad_request")) << body.dump();
    EXPECT_EQ(get_chat(port(), b, id)["me"]["last_read_seq"], last);

    send_text(port(), a, id, "new");
    EXPECT_EQ(get_chat(port(), b, id)["me"]["unread_count"], 1);
}

// ---------------------------------------------------------------------------------------------
// races

TEST_F(MessagesTest, ConcurrentRepeatsOfOneClientIdStoreOneMessage) {
    auto a = register_user(port(), "rc");
    auto b = register_user(port(), "rc");
    std::string id = create_direct(port(), a, b)["id"];
    for (int round = 0; round < 3; ++round) {
        std::string cid = "race-" + std::to_string(round) + "-" + random_alnum(6);
        std::vector<HttpResponse> results(8);
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < results.size(); ++i)
            threads.emplace_back([&, i] {
                results[i] = guarded([&] {
                    return send_message(port(), a, id,
                                        {{"type", "text"}, {"content", "once " + cid}, {"client_id", cid}});
                });
            });
        for (auto& t : threads) t.join();
        int created = 0, repeated = 0;
        std::set<std::string> ids;
        for (const auto& r : results) {
            if (r.status == 201) ++created;
            else if (r.status == 200) ++repeated;
            else ADD_FAILURE() << "unexpected answer to a concurrent repeat: " << r.describe();
            if (r.status == 200 || r.status == 201) ids.insert(r.json().value("id", "?"));
        }
        EXPECT_EQ(created, 1) << "round " << round;
        EXPECT_EQ(repeated, 7) << "round " << round;
        EXPECT_EQ(ids.size(), 1u) << "round " << round << ": every answer names the same message";
    }
    auto all = all_messages(port(), b, id);
    EXPECT_EQ(seqs_of(all), (std::vector<std::int64_t>{1, 2, 3})) << "one message per client_id, no gaps";
}

TEST_F(MessagesTest, ConcurrentReadMarksNeverMoveBackwards) {
    auto a = register_user(port(), "rm");
    auto b = register_user(port(), "rm");
    std::string id = create_direct(port(), a, b)["id"];
    for (int i = 0; i < 12; ++i) send_text(port(), a, id, "r" + std::to_string(i));
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int seq = 1; seq <= 12; ++seq)
        threads.emplace_back([&, seq] {
            if (guarded([&] { return post(port(), b.token, read_url(id), {{"seq", seq}}); }).status != 204) ++bad;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
    auto c = get_chat(port(), b, id);
    EXPECT_EQ(c["me"]["last_read_seq"], 12);
    EXPECT_EQ(c["me"]["unread_count"], 0);
}

TEST_F(MessagesTest, ConcurrentReactionsEachTakeExactlyOneVersion) {
    constexpr int kUsers = 8;
    auto owner = register_user(port(), "rv");
    std::vector<TestUser> users;
    std::vector<std::string> ids;
    for (int i = 0; i < kUsers; ++i) {
        users.push_back(register_user(port(), "rv"));
        ids.push_back(users.back().id);
    }
    std::string id = create_group(port(), owner, ids)["id"];
    auto m = send_text(port(), owner, id, "pile on");
    std::int64_t v = m["version"];
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int i = 0; i < kUsers; ++i)
        threads.emplace_back([&, i] {
            for (const char* e : {"\xF0\x9F\x91\x8F", "\xF0\x9F\x99\x8C"})
                if (guarded([&] {
                        return put(port(), users[i].token, reaction_url(m["id"], e), json::object());
                    }).status != 204)
                    ++bad;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
    auto got = get_message(port(), owner, m["id"]);
    EXPECT_EQ(got["version"], v + 2 * kUsers) << "each reaction change takes exactly one version";
    EXPECT_EQ(get_chat(port(), owner, id)["version"], v + 2 * kUsers);
    for (const std::string e : {"\xF0\x9F\x91\x8F", "\xF0\x9F\x99\x8C"}) {
        const json* r = find_reaction(got, e);
        ASSERT_NE(r, nullptr) << got.dump();
        EXPECT_EQ((*r)["count"], kUsers);
        std::set<std::string> who;
        for (const auto& u : (*r)["user_ids"]) who.insert(u.get<std::string>());
        EXPECT_EQ(who, std::set<std::string>(ids.begin(), ids.end()));
    }
}

// ---------------------------------------------------------------------------------------------
// system messages and versions

TEST_F(MessagesTest, SystemMessagesTakeVersionsAndCannotBeEdited) {
    auto owner = register_user(port(), "sy");
    auto b = register_user(port(), "sy");
    std::string id = create_group(port(), owner)["id"];
    std::int64_t v0 = get_chat(port(), owner, id)["version"];
    std::int64_t s0 = get_chat(port(), owner, id)["last_seq"];

    add_members(port(), owner, id, {b.id});
    auto c1 = get_chat(port(), owner, id);
    EXPECT_EQ(c1["version"], v0 + 1) << "the member.added system message is one message change";
    EXPECT_EQ(c1["last_seq"], s0 + 1);
    ASSERT_TRUE(IsJson(put(port(), owner.token, chat_url(id), {{"title", "New title"}}), 200));
    auto c2 = get_chat(port(), owner, id);
    EXPECT_EQ(c2["version"], v0 + 2);
    EXPECT_EQ(c2["last_seq"], s0 + 2);
    auto text = send_text(port(), b, id, "hi");
    EXPECT_EQ(text["seq"], s0 + 3);
    EXPECT_EQ(text["version"], v0 + 3);

    auto sys = system_messages(port(), owner, id);
    ASSERT_GE(sys.size(), 2u);
    for (const auto& s : sys) {
        EXPECT_TRUE(IsMessageModel(s));
        EXPECT_EQ(s["type"], "system");
        EXPECT_TRUE(s["metadata"].contains("event")) << s.dump();
    }
    const auto& last = sys.back();
    EXPECT_EQ(last["metadata"]["event"], "chat.title_changed");
    EXPECT_TRUE(
        IsError(put(port(), owner.token, message_url(last["id"]), {{"content", "rewritten"}}), 400, "bad_request"))
        << "system messages cannot be edited";
    EXPECT_EQ(get_message(port(), owner, last["id"]), last);
}

TEST_F(MessagesTest, ConcurrentDeletesOfOneMessageSucceedOnce) {
    auto owner = register_user(port(), "rd");
    auto admin = register_user(port(), "rd");
    std::string id = create_group(port(), owner, {admin.id})["id"];
    set_role(port(), owner, id, admin.id, "admin");
    for (int round = 0; round < 3; ++round) {
        auto m = send_text(port(), owner, id, "doomed");
        std::vector<int> statuses(6);
        std::vector<std::thread> threads;
        for (int i = 0; i < 6; ++i)
            threads.emplace_back([&, i] {
                statuses[i] =
                    guarded([&] { return del(port(), (i % 2 ? owner : admin).token, message_url(m["id"])); }).status;
            });
        for (auto& t : threads) t.join();
        EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 204), 1) << "round " << round;
        EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 5) << "round " << round;
        auto t = get_message(port(), owner, m["id"]);
        EXPECT_EQ(t["version"], m["version"].get<std::int64_t>() + 1) << "one deletion, one version";
    }
}

TEST_F(MessagesTest, ConcurrentDistinctReactionsStopAtTwenty) {
    constexpr int kUsers = 6;
    auto owner = register_user(port(), "re");
    std::vector<TestUser> users;
    std::vector<std::string> ids;
    for (int i = 0; i < kUsers; ++i) {
        users.push_back(register_user(port(), "re"));
        ids.push_back(users.back().id);
    }
    std::string id = create_group(port(), owner, ids)["id"];
    auto m = send_text(port(), owner, id, "race to 20");
    std::atomic<int> ok{0}, conflicts{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kUsers; ++i)
        threads.emplace_back([&, i] {
            for (int k = 0; k < 5; ++k) {  // 30 distinct emoji in all: U+1F600..U+1F61D
                std::string e = "\xF0\x9F\x98";
                e += static_cast<char>(0x80 + i * 5 + k);
                auto st = guarded([&] {
                              return put(port(), users[i].token, reaction_url(m["id"], e), json::object());
                          }).status;
                if (st == 204) ++ok;
                else if (st == 409) ++conflicts;
                else ++other;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 20);
    EXPECT_EQ(conflicts.load(), 10);
    EXPECT_EQ(other.load(), 0);
    auto got = get_message(port(), owner, m["id"]);
    EXPECT_EQ(got["reactions"].size(), 20u) << "never more than 20 distinct emoji";
    EXPECT_EQ(got["version"], m["version"].get<std::int64_t>() + 20);
}

TEST_F(MessagesTest, ConcurrentEditsEachTakeOneVersion) {
    auto a = register_user(port(), "rg");
    auto b = register_user(port(), "rg");
    std::string id = create_direct(port(), a, b)["id"];
    auto m = send_text(port(), a, id, "v0");
    std::vector<std::thread> threads;
    std::vector<json> results(10);
    for (int i = 0; i < 10; ++i)
        threads.emplace_back([&, i] {
            auto r = guarded([&] {
                return put(port(), a.token, message_url(m["id"]), {{"content", "v" + std::to_string(i + 1)}});
            });
            results[i] = r.status == 200 ? r.json() : json{{"status", r.status}, {"body", r.body}};
        });
    for (auto& t : threads) t.join();
    std::set<std::int64_t> versions;
    for (const auto& r : results) {
        ASSERT_TRUE(r.contains("version")) << r.dump();
        versions.insert(r["version"].get<std::int64_t>());
    }
    std::int64_t v = m["version"];
    std::set<std::int64_t> expected;
    for (int i = 1; i <= 10; ++i) expected.insert(v + i);
    EXPECT_EQ(versions, expected) << "each edit takes its own next version";
    auto final_msg = get_message(port(), b, m["id"]);
    EXPECT_EQ(final_msg["version"], v + 10);
    // The stored content is the edit that took the last version.
    for (const auto& r : results)
        if (r["version"] == v + 10) EXPECT_EQ(final_msg["content"], r["content"]);
}

// PROTOCOL.md: the same sender and client_id return the stored message (200), before the rules
// of posting are asked: a member who may no longer post still learns the send was stored, over
// REST, the WebSocket and forwarding, and a thread reply too. A non-member gets 404.
TEST_F(MessagesTest, ARepeatedClientIdIsAnsweredAfterPostingWasClosedToTheSender) {
    auto owner = register_user(port(), "ri");
    auto m = register_user(port(), "ri");
    auto gone = register_user(port(), "ri");
    std::string id = create_group(port(), owner, {m.id, gone.id})["id"];
    auto source = send_text(port(), owner, id, "to forward");
    auto root = send_text(port(), owner, id, "root");
    auto ws = ws_connect(port(), m.token);
    const json text{{"type", "text"}, {"content", "stored"}, {"client_id", "rest-1"}};
    auto first = send_message(port(), m, id, text);
    ASSERT_TRUE(IsJson(first, 201)) << first.body;
    const json ws_send{{"chat_id", id}, {"type", "text"}, {"content", "over ws"}, {"client_id", "ws-1"}};
    auto ws_first = ws_request(*ws, "message.send", ws_send);
    ASSERT_TRUE(IsAck(ws_first)) << ws_first.dump();
    const json reply{{"type", "text"},
                     {"content", "in thread"},
                     {"client_id", "thread-1"},
                     {"thread_root_id", root["id"]}};
    auto reply_first = send_message(port(), m, id, reply);
    ASSERT_TRUE(IsJson(reply_first, 201)) << reply_first.body;
    const json forward{{"chat_id", id}, {"client_id", "fwd-1"}};
    auto forward_first = post(port(), m.token, message_url(source["id"]) + "/forward", forward);
    ASSERT_TRUE(IsJson(forward_first, 201)) << forward_first.body;
    auto gone_first = send_message(port(), gone, id, {{"type", "text"}, {"content", "bye"}, {"client_id", "g-1"}});
    ASSERT_TRUE(IsJson(gone_first, 201));

    ASSERT_TRUE(IsJson(put(port(), owner.token, chat_url(id),
                           {{"settings", {{"only_admins_can_post", true}, {"slow_mode_seconds", 60}}}}),
                       200));
    ASSERT_EQ(del(port(), gone.token, member_url(id, gone.id)).status, 204);

    auto again = send_message(port(), m, id, text);
    ASSERT_TRUE(IsJson(again, 200)) << again.body;
    EXPECT_EQ(again.json(), first.json());
    auto ws_again = ws_request(*ws, "message.send", ws_send);
    ASSERT_TRUE(IsAck(ws_again)) << ws_again.dump();
    EXPECT_EQ(ws_again["data"]["message"], ws_first["data"]["message"]);
    auto reply_again = send_message(port(), m, id, reply);
    ASSERT_TRUE(IsJson(reply_again, 200)) << reply_again.body;
    EXPECT_EQ(reply_again.json()["id"], reply_first.json()["id"]);
    auto forward_again = post(port(), m.token, message_url(source["id"]) + "/forward", forward);
    ASSERT_TRUE(IsJson(forward_again, 200)) << forward_again.body;
    EXPECT_EQ(forward_again.json()["id"], forward_first.json()["id"]);
    // A new send is still refused.
    EXPECT_TRUE(IsError(send_message(port(), m, id, {{"type", "text"}, {"content", "new"}, {"client_id", "rest-2"}}),
                        403, "forbidden"));
    EXPECT_TRUE(IsError(send_message(port(), gone, id, {{"type", "text"}, {"content", "bye"}, {"client_id", "g-1"}}),
                        404, "not_found"))
        << "for one who left the chat does not exist";
}

// docs/api.md: the WebSocket twins of REST bodies that refuse unknown fields refuse them too.
TEST_F(MessagesTest, WebSocketEditForwardAndVoteRefuseUnknownFieldsAsTheirRestTwins) {
    auto a = register_user(port(), "wf");
    auto b = register_user(port(), "wf");
    std::string id = create_group(port(), a, {b.id})["id"];
    auto message = send_text(port(), a, id, "hello");
    auto ws = ws_connect(port(), a.token);
    EXPECT_TRUE(IsError(put(port(), a.token, message_url(message["id"]), {{"content", "x"}, {"colour", "red"}}), 400,
                        "bad_request"));
    auto edit = ws_request(*ws, "message.edit", {{"message_id", message["id"]}, {"content", "x"}, {"colour", "red"}});
    EXPECT_EQ(refusal(edit), "bad_request") << edit.dump();
    EXPECT_EQ(edit["error"]["details"]["field"], "colour");
    EXPECT_EQ(get_message(port(), a, message["id"])["content"], "hello") << "nothing was edited";
    auto forward =
        ws_request(*ws, "message.forward", {{"message_id", message["id"]}, {"chat_id", id}, {"colour", "red"}});
    EXPECT_EQ(refusal(forward), "bad_request") << forward.dump();
    auto vote = ws_request(*ws, "poll.vote", {{"message_id", message["id"]}, {"options", {0}}, {"colour", "red"}});
    EXPECT_EQ(refusal(vote), "bad_request") << vote.dump();
    auto fine = ws_request(*ws, "message.edit",
                           {{"message_id", message["id"]}, {"content", "edited"}, {"entities", json::array()}});
    EXPECT_TRUE(IsAck(fine)) << fine.dump();
}

}  // namespace
}  // namespace confab::test
