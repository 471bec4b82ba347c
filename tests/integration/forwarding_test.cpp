// Forwarding: POST /messages/{id}/forward and message.forward copy a message the caller can
// see into a chat they may post in, naming the original in `forwarded_from` and sharing its
// stored media instead of a new upload; idempotent with client_id like a send.

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/media_fixtures.hpp"

namespace confab::test {
namespace {

using ForwardingTest = ChatTest;

std::string forward_url(const std::string& message_id) { return message_url(message_id) + "/forward"; }

HttpResponse forward(std::uint16_t port, const TestUser& u, const std::string& message_id, const std::string& chat_id,
                     json extra = json::object()) {
    extra["chat_id"] = chat_id;
    return post(port, u.token, forward_url(message_id), extra);
}

json upload_image(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& bytes) {
    auto headers = auth_header(u.token);
    headers["Content-Type"] = "application/octet-stream";
    return expect_json(http(port, "POST", "/api/v1/messages/upload?chat_id=" + chat_id + "&kind=image", bytes, headers),
                       201, "upload");
}

TEST_F(ForwardingTest, AForwardIsTheCallersMessageNamingTheOriginal) {
    auto ana = register_user(port(), "fa");
    auto ben = register_user(port(), "fa");
    auto cid = register_user(port(), "fa");
    const std::string direct = create_direct(port(), ana, ben)["id"];
    const std::string group = create_group(port(), ana, {cid.id})["id"];
    const std::string other = create_direct(port(), cid, ben)["id"];
    const auto original = send_text(port(), ben, direct, "worth sharing");
    auto wa = ws_connect(port(), ana.token);
    auto wc = ws_connect(port(), cid.token);
    auto wb = ws_connect(port(), ben.token);

    auto r = forward(port(), ana, original["id"], group);
    ASSERT_TRUE(IsJson(r, 201));
    const auto forwarded = r.json();
    EXPECT_TRUE(IsMessageModel(forwarded));
    EXPECT_EQ(forwarded["chat_id"], group);
    EXPECT_EQ(forwarded["sender_id"], ana.id);
    EXPECT_EQ(forwarded["type"], "text");
    EXPECT_EQ(forwarded["content"], "worth sharing");
    EXPECT_NE(forwarded["id"], original["id"]);
    EXPECT_EQ(forwarded["forwarded_from"], json({{"message_id", original["id"]},
                                                 {"chat_id", direct},
                                                 {"sender_id", ben.id},
                                                 {"sent_at", original["created_at"]}}));
    EXPECT_EQ(get_chat(port(), ana, group)["last_message"], forwarded);

    for (auto* ws : {wa.get(), wc.get()}) {
        auto event = wait_for(*ws, "message.new", about_message(forwarded["id"]));
        ASSERT_TRUE(event.has_value()) << "a member of the target missed the forward";
        EXPECT_EQ((*event)["data"]["message"], forwarded);
    }
    EXPECT_TRUE(NoFrameBefore(*wb, mentioning(group), direct_message_marker(port(), ana, ben)))
        << "the original's author is not told, nor is anyone outside the target";

    // A forward of the forward names the same original.
    auto again = forward(port(), cid, forwarded["id"], other);
    ASSERT_TRUE(IsJson(again, 201));
    EXPECT_EQ(again.json()["forwarded_from"], forwarded["forwarded_from"]);
    EXPECT_EQ(again.json()["sender_id"], cid.id);

    // Whose words they stay: a forward is not edited, over REST or the WebSocket.
    EXPECT_TRUE(IsBadField(put(port(), ana.token, message_url(forwarded["id"]), {{"content", "words ben never wrote"}}),
                           "content"));
    EXPECT_EQ(refusal(ws_request(*wa, "message.edit", {{"message_id", forwarded["id"]}, {"content", "nor these"}})),
              "bad_request");
    EXPECT_EQ(get_message(port(), cid, forwarded["id"])["content"], "worth sharing");

    // Into the same chat, and over the WebSocket.
    const auto ack = ws_request(*wb, "message.forward", {{"message_id", original["id"]}, {"chat_id", direct}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_EQ(ack["data"]["message"]["chat_id"], direct);
    EXPECT_EQ(ack["data"]["message"]["forwarded_from"]["message_id"], original["id"]);

    // The origin stays as it was when the original goes.
    ASSERT_EQ(del(port(), ben.token, message_url(original["id"])).status, 204);
    EXPECT_EQ(get_message(port(), cid, forwarded["id"])["forwarded_from"], forwarded["forwarded_from"]);
    EXPECT_TRUE(IsError(get(port(), cid.token, message_url(original["id"])), 404, "not_found"))
        << "the origin reveals no access to the original";
}

// docs/api.md, Chats: the next message in a direct chat one member deleted, a forward as much
// as a send, shows it to them again with chat.created before its message.new (REST and WS).
TEST_F(ForwardingTest, AForwardIntoADeletedDirectChatShowsItAgainWithChatCreatedFirst) {
    auto ana = register_user(port(), "fa");
    auto ben = register_user(port(), "fa");
    const std::string direct = create_direct(port(), ana, ben)["id"];
    const std::string group = create_group(port(), ana, {ben.id})["id"];
    const auto original = send_text(port(), ana, group, "worth sharing");
    auto wb = ws_connect(port(), ben.token);
    auto wa = ws_connect(port(), ana.token);
    const auto hidden_then_forwarded = [&](const TestUser& hider, WsClient& hider_ws, const json& forwarded) {
        ASSERT_TRUE(forwarded.is_object() && forwarded.contains("id")) << forwarded.dump();
        auto before = frames_until(hider_ws, frame_of("message.new", about_message(forwarded["id"])));
        ASSERT_TRUE(before.has_value()) << "the forward reaches the one who deleted the chat";
        const auto created = std::find_if(before->begin(), before->end(), frame_of("chat.created", about_chat(direct)));
        ASSERT_NE(created, before->end()) << "chat.created comes before the message.new";
        EXPECT_EQ((*created)["data"]["chat"]["last_message"]["id"], forwarded["id"]);
        EXPECT_EQ(ids_of(list_chats(port(), hider)).size(), 2u);
    };

    // The recipient deleted it; the forward arrives over REST.
    ASSERT_EQ(del(port(), ben.token, chat_url(direct)).status, 204);
    ASSERT_TRUE(wait_for(*wb, "chat.deleted", about_chat(direct)).has_value());
    auto by_rest = forward(port(), ana, original["id"], direct);
    ASSERT_TRUE(IsJson(by_rest, 201)) << by_rest.body;
    hidden_then_forwarded(ben, *wb, by_rest.json());

    // The forwarder deleted it; the forward is sent over the WebSocket.
    ASSERT_EQ(del(port(), ana.token, chat_url(direct)).status, 204);
    ASSERT_TRUE(wait_for(*wa, "chat.deleted", about_chat(direct)).has_value());
    auto acked = ws_request(*wa, "message.forward", {{"message_id", original["id"]}, {"chat_id", direct}});
    ASSERT_TRUE(IsAck(acked)) << acked.dump();
    hidden_then_forwarded(ana, *wa, acked["data"]["message"]);
}

TEST_F(ForwardingTest, WhoMayForwardWhatAndWhere) {
    auto ana = register_user(port(), "fw");
    auto ben = register_user(port(), "fw");
    auto stranger = register_user(port(), "fw");
    const std::string direct = create_direct(port(), ana, ben)["id"];
    const std::string strangers = create_direct(port(), stranger, ben)["id"];
    const auto secret = send_text(port(), stranger, strangers, "not for ana");
    const auto message = send_text(port(), ben, direct, "hello");
    const auto count = all_messages(port(), ben, direct).size();

    // The source must be visible to the caller.
    EXPECT_TRUE(IsError(forward(port(), ana, secret["id"], direct), 404, "not_found"));
    EXPECT_TRUE(IsError(forward(port(), ana, random_uuid(), direct), 404, "not_found"));
    // The target must be a chat the caller may post in.
    EXPECT_TRUE(IsError(forward(port(), ana, message["id"], strangers), 404, "not_found"));
    EXPECT_TRUE(IsError(forward(port(), ana, message["id"], random_uuid()), 404, "not_found"));
    auto owner = register_user(port(), "fw");
    const std::string announcements =
        create_group(port(), owner, {ana.id}, {{"settings", {{"only_admins_can_post", true}}}})["id"];
    EXPECT_TRUE(IsError(forward(port(), ana, message["id"], announcements), 403, "forbidden"));
    for (const auto& posted : all_messages(port(), owner, announcements))
        EXPECT_TRUE(posted["forwarded_from"].is_null()) << "nothing was forwarded there";

    // Bad input.
    EXPECT_TRUE(IsError(post(port(), ana.token, forward_url(message["id"])), 400, "bad_request"));
    EXPECT_TRUE(IsError(forward(port(), ana, message["id"], "nope"), 400, "bad_request"));
    EXPECT_TRUE(IsError(forward(port(), ana, "nope", direct), 400, "bad_request"));
    EXPECT_TRUE(IsError(forward(port(), ana, message["id"], direct, {{"content", "changed"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(forward(port(), ana, message["id"], direct, {{"client_id", ""}}), 400, "bad_request"));

    // What cannot be forwarded.
    const std::string group_id = create_group(port(), ana, {ben.id})["id"];
    ASSERT_TRUE(IsJson(put(port(), ana.token, chat_url(group_id), {{"title", "Renamed"}}), 200));
    const auto note = system_messages(port(), ana, group_id);
    ASSERT_FALSE(note.empty());
    EXPECT_TRUE(IsError(forward(port(), ana, note.front()["id"], direct), 400, "bad_request"));
    const auto doomed = send_text(port(), ben, direct, "doomed");
    ASSERT_EQ(del(port(), ben.token, message_url(doomed["id"])).status, 204);
    EXPECT_TRUE(IsError(forward(port(), ana, doomed["id"], group_id), 409, "conflict"));
    EXPECT_EQ(all_messages(port(), ben, direct).size(), count + 1) << "no forward was stored in the source chat";

    // A chat the caller left: its messages are out of reach.
    const auto in_group = send_text(port(), ben, group_id, "said in the group");
    ASSERT_EQ(del(port(), ana.token, member_url(group_id, ana.id)).status, 204);
    EXPECT_TRUE(IsError(forward(port(), ana, in_group["id"], direct), 404, "not_found"));
    EXPECT_EQ(post(port(), "", forward_url(message["id"]), {{"chat_id", direct}}).status, 401);
}

TEST_F(ForwardingTest, ClientIdMakesAForwardIdempotent) {
    auto ana = register_user(port(), "fi");
    auto ben = register_user(port(), "fi");
    const std::string direct = create_direct(port(), ana, ben)["id"];
    const std::string group = create_group(port(), ana, {ben.id})["id"];
    const auto message = send_text(port(), ben, direct, "again and again");
    auto wb = ws_connect(port(), ben.token);

    auto first = forward(port(), ana, message["id"], group, {{"client_id", "fwd-1"}});
    ASSERT_TRUE(IsJson(first, 201));
    EXPECT_EQ(first.json()["client_id"], "fwd-1");
    ASSERT_TRUE(wait_for(*wb, "message.new", about_message(first.json()["id"])).has_value());
    const auto count = all_messages(port(), ana, group).size();

    auto repeat = forward(port(), ana, message["id"], group, {{"client_id", "fwd-1"}});
    ASSERT_TRUE(IsJson(repeat, 200));
    EXPECT_EQ(repeat.json(), first.json());
    EXPECT_EQ(all_messages(port(), ana, group).size(), count);
    const auto marker = send_text(port(), ana, group, "marker");
    EXPECT_TRUE(NoFrameBefore(*wb, frame_of("message.new", about_message(first.json()["id"])),
                              frame_of("message.new", about_message(marker["id"]))))
        << "a repeat emits nothing";

    // client_id is shared with sends: one key, one message.
    EXPECT_TRUE(IsError(forward(port(), ana, message["id"], direct, {{"client_id", "fwd-1"}}), 409, "conflict"));
    auto sent = send_message(port(), ana, group, {{"type", "text"}, {"content", "x"}, {"client_id", "fwd-1"}});
    ASSERT_TRUE(IsJson(sent, 200));
    EXPECT_EQ(sent.json()["id"], first.json()["id"]);
    const auto plain = send_text(port(), ana, direct, "plain", {{"client_id", "send-1"}});
    auto reused = forward(port(), ana, message["id"], direct, {{"client_id", "send-1"}});
    ASSERT_TRUE(IsJson(reused, 200));
    EXPECT_EQ(reused.json()["id"], plain["id"]);
}

TEST_F(ForwardingTest, MediaIsSharedNotUploadedAgain) {
    auto ana = register_user(port(), "fm");
    auto ben = register_user(port(), "fm");
    auto cid = register_user(port(), "fm");
    const std::string direct = create_direct(port(), ana, ben)["id"];
    const std::string group = create_group(port(), ben, {cid.id})["id"];
    const auto bytes = media::png(32, 24, 5);
    const auto upload = upload_image(port(), ana, direct, bytes);
    const auto original =
        expect_json(send_message(port(), ana, direct,
                                 {{"type", "image"}, {"media_id", upload["id"]}, {"content", "caption"}}),
                    201, "send image");

    auto r = forward(port(), ben, original["id"], group);
    ASSERT_TRUE(IsJson(r, 201));
    const auto forwarded = r.json();
    EXPECT_EQ(forwarded["type"], "image");
    EXPECT_EQ(forwarded["content"], "caption");
    ASSERT_TRUE(forwarded["media"].is_object());
    EXPECT_NE(forwarded["media"]["id"], original["media"]["id"]) << "a media row of the forward's own";
    EXPECT_EQ(forwarded["media"]["sha256"], media::sha256_hex(bytes));
    EXPECT_EQ(forwarded["media"]["size_bytes"], original["media"]["size_bytes"]);
    EXPECT_EQ(forwarded["media"]["mime_type"], original["media"]["mime_type"]);
    EXPECT_EQ(forwarded["media"]["url"], message_url(forwarded["id"]) + "/media");

    auto download = get(port(), cid.token, forwarded["media"]["url"]);
    ASSERT_EQ(download.status, 200);
    EXPECT_EQ(download.body, bytes);
    EXPECT_TRUE(IsError(get(port(), cid.token, original["media"]["url"]), 404, "not_found"))
        << "the forward gives no access to the original";

    // Each message's media lives on without the other.
    ASSERT_EQ(del(port(), ana.token, message_url(original["id"])).status, 204);
    download = get(port(), cid.token, forwarded["media"]["url"]);
    ASSERT_EQ(download.status, 200);
    EXPECT_EQ(download.body, bytes);
    EXPECT_TRUE(IsError(forward(port(), ben, original["id"], group), 409, "conflict"));

    // A media message whose media was removed has nothing to forward.
    ASSERT_EQ(del(port(), cid.token, message_url(forwarded["id"]) + "/media").status, 403) << "not cid's";
    ASSERT_EQ(del(port(), ben.token, message_url(forwarded["id"]) + "/media").status, 204);
    EXPECT_TRUE(IsError(forward(port(), cid, forwarded["id"], group), 409, "conflict"));
}

}  // namespace
}  // namespace confab::test
