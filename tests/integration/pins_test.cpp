// Pinned messages: PUT/DELETE /messages/{id}/pin and their WebSocket twins, who may pin (the
// group setting only_admins_can_pin), the pin list, and how pins travel (message.updated,
// since_version sync, deletion unpinning).

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using PinsTest = ChatTest;

std::string pin_url(const std::string& message_id) { return message_url(message_id) + "/pin"; }
std::string pins_url(const std::string& chat_id) { return chat_url(chat_id) + "/pins"; }

json pins_page(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& query = "") {
    return expect_json(get(port, u.token, pins_url(chat_id) + query), 200, "pins");
}

std::vector<std::string> pinned_ids(std::uint16_t port, const TestUser& u, const std::string& chat_id) {
    return ids_of(pins_page(port, u, chat_id)["messages"].get<std::vector<json>>());
}

TEST_F(PinsTest, BothMembersOfADirectChatPinAndTheListIsNewestPinFirst) {
    auto a = register_user(port(), "pd");
    auto b = register_user(port(), "pd");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto first = send_text(port(), a, chat, "first");
    const auto second = send_text(port(), b, chat, "second");
    const auto third = send_text(port(), a, chat, "third");
    EXPECT_TRUE(first["pinned_at"].is_null());
    EXPECT_TRUE(first["pinned_by"].is_null());

    EXPECT_EQ(put(port(), b.token, pin_url(first["id"])).status, 204);
    EXPECT_EQ(put(port(), a.token, pin_url(third["id"])).status, 204);
    EXPECT_EQ(put(port(), a.token, pin_url(second["id"])).status, 204);

    const auto pinned = get_message(port(), a, first["id"]);
    EXPECT_TRUE(IsMessageModel(pinned));
    EXPECT_TRUE(is_timestamp(pinned["pinned_at"]));
    EXPECT_EQ(pinned["pinned_by"], b.id);
    EXPECT_GT(pinned["version"], third["version"]) << "a pin takes a new version";

    auto page = pins_page(port(), b, chat);
    EXPECT_EQ(ids_of(page["messages"].get<std::vector<json>>()),
              (std::vector<std::string>{second["id"], third["id"], first["id"]}));
    EXPECT_TRUE(page["next_cursor"].is_null());
    for (const auto& m : page["messages"]) EXPECT_TRUE(IsMessageModel(m));

    // Pages of one, following next_cursor.
    std::vector<std::string> paged;
    std::string query = "?limit=1";
    for (int i = 0; i < 5; ++i) {
        auto one = pins_page(port(), a, chat, query);
        for (const auto& m : one["messages"]) paged.push_back(m["id"]);
        if (one["next_cursor"].is_null()) break;
        query = "?limit=1&cursor=" + one["next_cursor"].get<std::string>();
    }
    EXPECT_EQ(paged, (std::vector<std::string>{second["id"], third["id"], first["id"]}));
    EXPECT_EQ(get(port(), a.token, pins_url(chat) + "?cursor=bogus!").status, 400);

    // Idempotent both ways: nothing moves.
    const auto version = get_chat(port(), a, chat)["version"];
    EXPECT_EQ(put(port(), a.token, pin_url(first["id"])).status, 204);
    EXPECT_EQ(get_chat(port(), a, chat)["version"], version) << "pinning a pinned message changes nothing";
    EXPECT_EQ(get_message(port(), a, first["id"])["pinned_by"], b.id);

    EXPECT_EQ(del(port(), a.token, pin_url(third["id"])).status, 204);
    EXPECT_TRUE(get_message(port(), b, third["id"])["pinned_at"].is_null());
    EXPECT_TRUE(get_message(port(), b, third["id"])["pinned_by"].is_null());
    const auto after_unpin = get_chat(port(), a, chat)["version"];
    EXPECT_EQ(del(port(), a.token, pin_url(third["id"])).status, 204);
    EXPECT_EQ(get_chat(port(), a, chat)["version"], after_unpin) << "unpinning an unpinned message changes nothing";
    EXPECT_EQ(pinned_ids(port(), a, chat), (std::vector<std::string>{second["id"], first["id"]}));
}

TEST_F(PinsTest, TheGroupSettingDecidesWhetherMembersMayPin) {
    auto owner = register_user(port(), "pg");
    auto admin = register_user(port(), "pg");
    auto member = register_user(port(), "pg");
    const auto group = create_group(port(), owner, {admin.id, member.id});
    const std::string chat = group["id"];
    EXPECT_EQ(group["settings"]["only_admins_can_pin"], true) << "the default";
    set_role(port(), owner, chat, admin.id, "admin");
    const auto message = send_text(port(), member, chat, "pin me");

    auto refused = put(port(), member.token, pin_url(message["id"]));
    EXPECT_TRUE(IsError(refused, 403, "forbidden"));
    EXPECT_TRUE(get_message(port(), owner, message["id"])["pinned_at"].is_null()) << "nothing was pinned";
    EXPECT_EQ(put(port(), admin.token, pin_url(message["id"])).status, 204);
    EXPECT_TRUE(IsError(del(port(), member.token, pin_url(message["id"])), 403, "forbidden"));
    EXPECT_EQ(del(port(), owner.token, pin_url(message["id"])).status, 204);

    // Members may not open it up themselves; admins may.
    EXPECT_TRUE(IsError(put(port(), member.token, chat_url(chat), {{"settings", {{"only_admins_can_pin", false}}}}),
                        403, "forbidden"));
    auto opened = put(port(), admin.token, chat_url(chat), {{"settings", {{"only_admins_can_pin", false}}}});
    ASSERT_TRUE(IsJson(opened, 200));
    EXPECT_TRUE(IsChatModel(opened.json()));
    EXPECT_EQ(opened.json()["settings"]["only_admins_can_pin"], false);
    EXPECT_EQ(opened.json()["settings"]["only_admins_can_edit_info"], true) << "the other settings stay";
    const auto notes = system_messages(port(), owner, chat);
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back()["metadata"]["event"], "chat.settings_changed");

    EXPECT_EQ(put(port(), member.token, pin_url(message["id"])).status, 204);
    EXPECT_EQ(get_message(port(), owner, message["id"])["pinned_by"], member.id);
    // Open to members, not to a restricted one, and the refusal says why.
    set_role(port(), owner, chat, member.id, "restricted");
    auto restricted = put(port(), member.token, pin_url(message["id"]));
    ASSERT_TRUE(IsError(restricted, 403, "forbidden"));
    EXPECT_EQ(restricted.json()["error"]["message"], "restricted members cannot pin messages");
    set_role(port(), owner, chat, member.id, "member");
    EXPECT_TRUE(IsError(put(port(), member.token, chat_url(chat), {{"settings", {{"only_admins_can_pin", 1}}}}), 400,
                        "bad_request"));

    // A group created closed to members' pins... or open from the start.
    const auto open = create_group(port(), owner, {member.id}, {{"settings", {{"only_admins_can_pin", false}}}});
    EXPECT_EQ(open["settings"]["only_admins_can_pin"], false);
}

TEST_F(PinsTest, DeletedMessagesCannotBePinnedAndDeletingUnpins) {
    auto a = register_user(port(), "px");
    auto b = register_user(port(), "px");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto kept = send_text(port(), a, chat, "kept");
    const auto doomed = send_text(port(), a, chat, "doomed");
    ASSERT_EQ(put(port(), b.token, pin_url(kept["id"])).status, 204);
    ASSERT_EQ(put(port(), b.token, pin_url(doomed["id"])).status, 204);
    const auto before_delete = get_chat(port(), a, chat)["version"].get<std::int64_t>();

    ASSERT_EQ(del(port(), a.token, message_url(doomed["id"])).status, 204);
    EXPECT_EQ(pinned_ids(port(), b, chat), (std::vector<std::string>{kept["id"]}));
    const auto sync =
        expect_json(get(port(), b.token, chat_messages_url(chat) + "?since_version=" + std::to_string(before_delete)),
                    200, "sync");
    ASSERT_EQ(sync["messages"].size(), 1u);
    EXPECT_EQ(sync["messages"][0]["is_deleted"], true);
    EXPECT_TRUE(sync["messages"][0]["pinned_at"].is_null()) << "the tombstone is not pinned";

    EXPECT_TRUE(IsError(put(port(), b.token, pin_url(doomed["id"])), 409, "conflict"));
    EXPECT_EQ(del(port(), b.token, pin_url(doomed["id"])).status, 204) << "nothing to unpin";
}

TEST_F(PinsTest, NonMembersLearnNothing) {
    auto a = register_user(port(), "pn");
    auto b = register_user(port(), "pn");
    auto stranger = register_user(port(), "pn");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto message = send_text(port(), a, chat, "ours");
    ASSERT_EQ(put(port(), a.token, pin_url(message["id"])).status, 204);

    EXPECT_TRUE(IsError(put(port(), stranger.token, pin_url(message["id"])), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), stranger.token, pin_url(message["id"])), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), stranger.token, pins_url(chat)), 404, "not_found"));
    EXPECT_TRUE(IsError(put(port(), a.token, pin_url(random_uuid())), 404, "not_found"));
    EXPECT_TRUE(IsError(put(port(), a.token, pin_url("not-a-uuid")), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), a.token, pins_url("not-a-uuid")), 400, "bad_request"));
    EXPECT_EQ(put(port(), "", pin_url(message["id"])).status, 401);
    EXPECT_FALSE(get_message(port(), a, message["id"])["pinned_at"].is_null());

    // A member who left a group can no longer pin in it.
    const std::string group = create_group(port(), a, {b.id}, {{"settings", {{"only_admins_can_pin", false}}}})["id"];
    const auto in_group = send_text(port(), a, group, "group message");
    ASSERT_EQ(del(port(), b.token, member_url(group, b.id)).status, 204);
    EXPECT_TRUE(IsError(put(port(), b.token, pin_url(in_group["id"])), 404, "not_found"));
}

TEST_F(PinsTest, PinsReachEveryMemberAsMessageUpdatedAndSyncCarriesThem) {
    auto a = register_user(port(), "pe");
    auto b = register_user(port(), "pe");
    auto outsider = register_user(port(), "pe");
    const std::string chat = create_direct(port(), a, b)["id"];
    const auto message = send_text(port(), a, chat, "news");
    const auto version = message["version"].get<std::int64_t>();
    auto wa = ws_connect(port(), a.token);
    auto wb = ws_connect(port(), b.token);
    auto wo = ws_connect(port(), outsider.token);

    const auto ack = ws_request(*wb, "message.pin", {{"message_id", message["id"]}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_EQ(ack["data"], json::object());
    for (auto* ws : {wa.get(), wb.get()}) {
        auto event = wait_for(*ws, "message.updated", about_message(message["id"]));
        ASSERT_TRUE(event.has_value()) << "a member missed the pin";
        EXPECT_TRUE(IsMessageModel((*event)["data"]["message"]));
        EXPECT_EQ((*event)["data"]["message"]["pinned_by"], b.id);
        EXPECT_EQ((*event)["data"]["message"]["version"], version + 1);
    }
    EXPECT_TRUE(NoFrameBefore(*wo, mentioning(chat), direct_message_marker(port(), a, outsider)))
        << "a non-member hears nothing of the pin";

    // A repeat pin sends nothing.
    ASSERT_TRUE(IsAck(ws_request(*wb, "message.pin", {{"message_id", message["id"]}})));
    const auto marker = send_text(port(), a, chat, "marker");
    EXPECT_TRUE(NoFrameBefore(*wa, frame_of("message.updated", about_message(message["id"])),
                              frame_of("message.new", about_message(marker["id"]))));

    auto sync = expect_json(get(port(), a.token, chat_messages_url(chat) + "?since_version=" + std::to_string(version)),
                            200, "sync");
    ASSERT_EQ(sync["messages"].size(), 2u);
    EXPECT_EQ(sync["messages"][0]["id"], message["id"]);
    EXPECT_EQ(sync["messages"][0]["pinned_by"], b.id);
    EXPECT_EQ(sync["hidden"], json::array());

    const auto unpinned = ws_request(*wa, "message.unpin", {{"message_id", message["id"]}});
    ASSERT_TRUE(IsAck(unpinned)) << unpinned.dump();
    auto event = wait_for(*wb, "message.updated", about_message(message["id"]));
    ASSERT_TRUE(event.has_value());
    EXPECT_TRUE((*event)["data"]["message"]["pinned_at"].is_null());

    const auto refused = ws_request(*wo, "message.pin", {{"message_id", message["id"]}});
    EXPECT_EQ(refused["type"], "error");
    EXPECT_EQ(refused["error"]["code"], "not_found");
}

}  // namespace
}  // namespace confab::test
