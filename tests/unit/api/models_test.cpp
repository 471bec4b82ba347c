#include "confab/api/json.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace confab::api {
namespace {

model::Timestamp at(long long ms) { return model::Timestamp(std::chrono::milliseconds(ms)); }

TEST(Timestamp, Rfc3339WithMilliseconds) {
    EXPECT_EQ(format_timestamp(at(0)), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_timestamp(at(1795861530123)), "2026-11-28T10:25:30.123Z");
    EXPECT_EQ(format_timestamp(at(-1)), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(format_timestamp(at(951868799999)), "2000-02-29T23:59:59.999Z");
    EXPECT_EQ(format_timestamp(at(253402300799999)), "9999-12-31T23:59:59.999Z");
    EXPECT_EQ(format_timestamp(at(-62135596800000)), "0001-01-01T00:00:00.000Z");
}

// What the C library prints, for comparing the hand-written formatting with.
std::string formatted_by_libc(long long ms) {
    const auto seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms - static_cast<long long>(seconds) * 1000));
    return std::string(text, length) + millis;
}

TEST(Timestamp, FormatsAsTheCLibraryDoesAcrossCenturies) {
    // 1900 to 2100 in uneven steps, so days, months, leap years and milliseconds all vary.
    for (long long ms = -2208988800000; ms < 4102444800000; ms += 86'400'000LL * 3 + 3'600'000 * 7 + 61'007)
        ASSERT_EQ(format_timestamp(at(ms)), formatted_by_libc(ms)) << ms;
}

TEST(Timestamp, ParsesRfc3339DateTimes) {
    EXPECT_EQ(parse_timestamp("2026-11-28T10:25:30.123Z"), at(1795861530123));
    EXPECT_EQ(parse_timestamp("2026-11-28T10:25:30Z"), at(1795861530000));
    EXPECT_EQ(parse_timestamp("2026-11-28t10:25:30.1z"), at(1795861530100));
    EXPECT_EQ(parse_timestamp("2026-11-28T10:25:30.123999Z"), at(1795861530123)) << "past milliseconds dropped";
    EXPECT_EQ(parse_timestamp("2026-11-28T12:25:30.123+02:00"), at(1795861530123));
    EXPECT_EQ(parse_timestamp("2026-11-28T05:10:30.123-05:15"), at(1795861530123));
    for (const char* bad :
         {"", "2026-11-28", "2026-11-28T10:25:30", "2026-11-28 10:25:30Z", "2026-02-30T10:00:00Z",
          "2026-11-28T24:00:00Z", "2026-11-28T10:60:00Z", "2026-11-28T10:25:30.Z", "2026-11-28T10:25:30+0200",
          "2026-11-28T10:25:30+24:00", "2026-11-28T10:25:30ZZ", "20x6-11-28T10:25:30Z", "2026-11-28T10:25:30.123Z ",
          "9999-12-31T23:59:60Z", "9999-12-31T23:59:59-10:00", "0000-12-31T23:59:59Z", "0001-01-01T00:00:00+00:01"})
        EXPECT_EQ(parse_timestamp(bad), std::nullopt) << bad;
    EXPECT_TRUE(parse_timestamp("9999-12-31T23:59:59.999Z"));
    EXPECT_TRUE(parse_timestamp("0001-01-01T00:00:00Z"));
}

model::Message sample_message() {
    model::Message m;
    m.id = "m1";
    m.chat_id = "c1";
    m.sender_id = "u1";
    m.seq = 3;
    m.version = 7;
    m.content = "hi";
    m.reactions = {{"👍", 5, {"u2", "u1"}}};  // five reacted; the first two are named
    m.metadata.text = R"({"a":1})";
    return m;
}

TEST(MessageModel, HasEveryContractField) {
    const auto json = to_json(sample_message());
    for (const auto* key : {"id",       "chat_id",   "sender_id",   "seq",       "version",        "type",
                            "content",  "media",     "reply_to_id", "reactions", "is_edited",      "is_deleted",
                            "metadata", "client_id", "pinned_at",   "pinned_by", "forwarded_from", "thread_root_id",
                            "thread",   "entities",  "created_at",  "updated_at"})
        EXPECT_TRUE(json.contains(key)) << key;
    EXPECT_EQ(json.size(), 22u);
    EXPECT_TRUE(json["thread_root_id"].is_null());
    EXPECT_TRUE(json["thread"].is_null()) << "no replies, no summary";
    EXPECT_TRUE(json["pinned_at"].is_null());
    EXPECT_TRUE(json["pinned_by"].is_null());
    EXPECT_TRUE(json["forwarded_from"].is_null());
    EXPECT_EQ(json["type"], "text");
    EXPECT_TRUE(json["media"].is_null());
    EXPECT_EQ(json["reactions"][0]["count"], 5) << "the count is the total, not the names listed";
    EXPECT_EQ(json["reactions"][0]["user_ids"], Json::array({"u2", "u1"}));
    EXPECT_EQ(json["metadata"]["a"], 1);
}

TEST(MediaModel, ALivePhotoCarriesItsMotionPartWithAUrlOnceSent) {
    model::Media media;
    media.id = "md1";
    media.kind = model::MediaKind::image;
    media.mime_type = "image/heic";
    media.size_bytes = 100;
    media.sha256 = std::string(64, 'a');
    media.live_video =
        model::LiveVideo{"video/quicktime", 2000, std::string(64, 'b'), std::string(64, 'b'), 2500, 640, 480};
    const auto unsent = to_json(media, std::nullopt);
    EXPECT_EQ(unsent["kind"], "image");
    EXPECT_EQ(unsent["mime_type"], "image/heic") << "the still is the media old clients show";
    EXPECT_EQ(unsent["live_video"], (Json{{"mime_type", "video/quicktime"},
                                          {"size_bytes", 2000},
                                          {"sha256", std::string(64, 'b')},
                                          {"duration_ms", 2500},
                                          {"width", 640},
                                          {"height", 480}}));
    const auto sent = to_json(media, std::string("m1"));
    EXPECT_EQ(sent["url"], "/api/v1/messages/m1/media");
    EXPECT_EQ(sent["live_video"]["url"], "/api/v1/messages/m1/media?part=video");

    media.live_video.reset();
    EXPECT_FALSE(to_json(media, std::string("m1")).contains("live_video")) << "absent on other media";
}

TEST(MessageModel, PinAndForwardOrigin) {
    auto m = sample_message();
    m.pinned_at = at(2000);
    m.pinned_by = "u2";
    m.forwarded_from = model::ForwardOrigin{"m0", "c0", std::nullopt, at(1000)};
    const auto json = to_json(m);
    EXPECT_EQ(json["pinned_at"], "1970-01-01T00:00:02.000Z");
    EXPECT_EQ(json["pinned_by"], "u2");
    EXPECT_EQ(json["forwarded_from"], (Json{{"message_id", "m0"},
                                            {"chat_id", "c0"},
                                            {"sender_id", nullptr},
                                            {"sent_at", "1970-01-01T00:00:01.000Z"}}));
}

TEST(MessageModel, ThreadReplyAndSummary) {
    auto reply = sample_message();
    reply.thread_root_id = "m0";
    EXPECT_EQ(to_json(reply)["thread_root_id"], "m0");
    auto root = sample_message();
    root.thread = model::ThreadSummary{2, at(3000), {"u2", "u1"}};
    EXPECT_EQ(to_json(root)["thread"], (Json{{"reply_count", 2},
                                             {"last_reply_at", "1970-01-01T00:00:03.000Z"},
                                             {"participant_ids", Json::array({"u2", "u1"})}}));
}

TEST(MessageModel, EntitiesAlwaysPresentWithOnlyTheirOwnFields) {
    auto m = sample_message();
    EXPECT_EQ(to_json(m)["entities"], Json::array());
    m.entities = {{model::EntityType::bold, 0, 2, std::nullopt, std::nullopt, std::nullopt},
                  {model::EntityType::link, 3, 4, "https://example.com", std::nullopt, std::nullopt},
                  {model::EntityType::code_block, 8, 1, std::nullopt, "c++", std::nullopt},
                  {model::EntityType::mention, 10, 2, std::nullopt, std::nullopt, "u1"}};
    EXPECT_EQ(to_json(m)["entities"],
              (Json{{{"type", "bold"}, {"offset", 0}, {"length", 2}},
                    {{"type", "link"}, {"offset", 3}, {"length", 4}, {"url", "https://example.com"}},
                    {{"type", "code_block"}, {"offset", 8}, {"length", 1}, {"language", "c++"}},
                    {{"type", "mention"}, {"offset", 10}, {"length", 2}, {"user_id", "u1"}}}));
}

// A history page writes each message straight into its body: it must print what the tree
// prints, byte for byte, whatever the message carries.
TEST(MessageModel, WrittenStraightItIsWhatTheTreePrints) {
    std::vector<model::Message> messages;
    messages.push_back(sample_message());
    auto bare = sample_message();
    bare.sender_id.reset();
    bare.reactions.clear();
    bare.metadata.text = "{}";
    bare.client_id = "c-1";
    bare.type = model::MessageType::system;
    messages.push_back(bare);
    auto escaped = sample_message();
    escaped.content = "quote \" backslash \\ tab \t newline \n bell \x07 del \x7f";
    escaped.client_id = "k\"1";
    messages.push_back(escaped);
    auto unicode = sample_message();
    unicode.content = "caf\xC3\xA9 \xF0\x9F\x98\x80 and broken \xC3";  // invalid UTF-8 is replaced, as elsewhere
    messages.push_back(unicode);
    auto rich = sample_message();
    rich.is_edited = true;
    rich.is_deleted = true;
    rich.reply_to_id = "m0";
    rich.pinned_at = at(2000);
    rich.pinned_by = "u2";
    rich.forwarded_from = model::ForwardOrigin{"m0", "c0", "u3", at(1000)};
    rich.thread_root_id = "m9";
    rich.thread = model::ThreadSummary{2, at(3000), {"u2", "u1"}};
    rich.entities = {{model::EntityType::bold, 0, 2, std::nullopt, std::nullopt, std::nullopt}};
    rich.metadata.text = R"({"z":[1,2],"a":{"b":null}})";
    rich.created_at = at(1795861530123);
    rich.updated_at = at(1795861530999);
    messages.push_back(rich);
    auto media = sample_message();
    media.type = model::MessageType::image;
    media.media = model::Media{.id = "f1",
                               .kind = model::MediaKind::image,
                               .mime_type = "image/png",
                               .size_bytes = 9,
                               .sha256 = "ab",
                               .file_name = "a.png",
                               .width = 4,
                               .height = 3};
    media.media->live_video = model::LiveVideo{"video/mp4", 10, "cd", "k", 1500, 4, 3};
    messages.push_back(media);
    auto poll = sample_message();
    poll.type = model::MessageType::poll;
    poll.poll = model::Poll{"q?",     {{"yes", 1, {"u1"}}, {"no", 0, {}}},
                            true,     false,
                            at(5000), std::nullopt,
                            1,        std::vector<int>{0}};
    messages.push_back(poll);
    for (const auto& message : messages) {
        std::string written = "prefix";
        write_json(written, message);
        EXPECT_EQ(written, "prefix" + dump(to_json(message)));
    }
}

TEST(ChatModel, UnreadCountNeverNegative) {
    model::ChatView view;
    view.chat.last_seq = 5;
    view.me.last_read_seq = 2;
    EXPECT_EQ(to_json(view)["me"]["unread_count"], 3);
    view.me.last_read_seq = 9;
    EXPECT_EQ(to_json(view)["me"]["unread_count"], 0);
}

TEST(ChatModel, HasEveryContractField) {
    model::ChatView view;
    view.chat.type = model::ChatType::direct;
    const auto json = to_json(view);
    for (const auto* key : {"id", "type", "title", "avatar_url", "settings", "metadata", "member_count", "last_message",
                            "last_seq", "version", "me", "created_at", "updated_at"})
        EXPECT_TRUE(json.contains(key)) << key;
    EXPECT_EQ(json["type"], "direct");
    EXPECT_TRUE(json["title"].is_null());
    EXPECT_TRUE(json["last_message"].is_null());
    EXPECT_EQ(json["settings"]["only_admins_can_edit_info"], true);
    EXPECT_EQ(json["settings"]["only_admins_can_pin"], true);
    EXPECT_EQ(json["settings"]["only_admins_can_mention_all"], false);
    EXPECT_EQ(json["settings"]["slow_mode_seconds"], 0);
    EXPECT_EQ(json["me"]["role"], "member");
    EXPECT_EQ(json["me"]["unread_mention_count"], 0);
}

TEST(EventFrames, NamesAndPayloadsFollowTheContract) {
    EXPECT_EQ(event_frame(domain::MessageCreated{sample_message()})["type"], "message.new");
    const auto deleted = event_frame(domain::MessageDeleted{"m1", "c1", 9});
    EXPECT_EQ(deleted["type"], "message.deleted");
    EXPECT_EQ(deleted["data"], (Json{{"message_id", "m1"}, {"chat_id", "c1"}, {"version", 9}}));
    const auto hidden = event_frame(domain::MessageHidden{"m1", "c1", 10});
    EXPECT_EQ(hidden["type"], "message.hidden");
    EXPECT_EQ(hidden["data"], (Json{{"message_id", "m1"}, {"chat_id", "c1"}, {"version", 10}}));
    const auto typing = event_frame(domain::TypingUpdated{"c1", "u1", true});
    EXPECT_EQ(typing["type"], "typing.update");
    EXPECT_EQ(typing["data"]["is_typing"], true);
    EXPECT_EQ(event_frame(domain::ReadUpdated{"c1", "u1", 4})["data"]["last_read_seq"], 4);
    EXPECT_EQ(event_frame(domain::MemberRemoved{"c1", "u1"})["type"], "member.removed");
    const auto presence = event_frame(domain::PresenceUpdated{"u1", {false, at(1000)}});
    EXPECT_EQ(presence["type"], "presence.update");
    EXPECT_EQ(presence["data"]["last_seen_at"], "1970-01-01T00:00:01.000Z");
    EXPECT_EQ(event_frame(domain::ChatDeleted{"c1"})["data"], (Json{{"chat_id", "c1"}}));
    const auto mention = event_frame(domain::MentionCreated{"c1", "m1", "u1", 7});
    EXPECT_EQ(mention["type"], "mention.new");
    EXPECT_EQ(mention["data"], (Json{{"chat_id", "c1"}, {"message_id", "m1"}, {"sender_id", "u1"}, {"seq", 7}}));
}

// The text every member is sent: a message event's message is written straight, the rest is
// the frame's tree printed, and either way the same bytes as before.
TEST(EventFrames, TheirTextIsTheFramePrinted) {
    auto edited = sample_message();
    edited.is_edited = true;
    edited.content = "caf\xC3\xA9 \"quoted\"";
    for (const domain::Event& event :
         std::vector<domain::Event>{domain::MessageCreated{sample_message()}, domain::MessageUpdated{edited},
                                    domain::MessageDeleted{"m1", "c1", 9}, domain::TypingUpdated{"c1", "u1", true}})
        EXPECT_EQ(event_text(event), dump(event_frame(event)));
}

}  // namespace
}  // namespace confab::api
