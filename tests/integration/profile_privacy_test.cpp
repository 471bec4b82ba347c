// Profile and privacy (docs/api.md, Accounts and Privacy): PATCH /users/me changes the display
// name and bio and tells the user's contacts with user.updated; who_can_see_presence and
// send_read_receipts are honoured in presence.update, read.updated, GET /users/{id} and the
// member list, for everyone but the user themself.

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using ProfilePrivacyTest = ChatTest;

const std::string me_url = "/api/v1/users/me";
const std::string privacy_url = "/api/v1/users/me/privacy";

FramePred from_user(const std::string& user_id) {
    return [user_id](const json& f) { return f.contains("data") && f["data"].value("user_id", "") == user_id; };
}

FramePred about_user(const std::string& user_id) {
    return [user_id](const json& f) {
        return f.contains("data") && f["data"].contains("user") && f["data"]["user"].value("id", "") == user_id;
    };
}

json set_privacy(std::uint16_t port, const TestUser& u, const json& change) {
    return expect_json(put(port, u.token, privacy_url, change), 200, "privacy");
}

// The user as `viewer` finds them on GET /users/{id}.
json user_as_seen_by(std::uint16_t port, const TestUser& viewer, const TestUser& user) {
    return expect_json(get(port, viewer.token, "/api/v1/users/" + user.id), 200, "user");
}

json member_as_seen_by(std::uint16_t port, const TestUser& viewer, const std::string& chat, const TestUser& member) {
    const auto members = list_members(port, viewer, chat);
    const json* found = find_member(members, member.id);
    if (!found) throw std::runtime_error("no member " + member.id);
    return *found;
}

std::string error_field(const HttpResponse& r) {
    const auto body = r.json();
    return body.contains("error") && body["error"].contains("details")
               ? body["error"]["details"].value("field", std::string())
               : std::string();
}

TEST_F(ProfilePrivacyTest, PatchChangesDisplayNameAndBioAndTellsContactsOnly) {
    auto a = register_user(port(), "pa");
    auto contact = register_user(port(), "pc");
    auto outsider = register_user(port(), "po");
    create_direct(port(), a, contact);
    auto ws_a = ws_connect(port(), a.token);
    auto ws_contact = ws_connect(port(), contact.token);
    auto ws_outsider = ws_connect(port(), outsider.token);

    const auto r = patch(port(), a.token, me_url, {{"display_name", "Ana Maria"}, {"bio", "Tea, maps, 🚲"}});
    ASSERT_TRUE(IsJson(r, 200));
    const auto user = r.json();
    EXPECT_TRUE(IsUserModel(user));
    EXPECT_EQ(user["display_name"], "Ana Maria");
    EXPECT_EQ(user["bio"], "Tea, maps, 🚲");
    EXPECT_EQ(expect_json(get(port(), a.token, me_url), 200, "me")["bio"], "Tea, maps, 🚲");
    EXPECT_EQ(user_as_seen_by(port(), outsider, a)["display_name"], "Ana Maria") << "a profile is public";

    for (auto* ws : {ws_a.get(), ws_contact.get()}) {
        const auto event = wait_for(*ws, "user.updated", about_user(a.id));
        ASSERT_TRUE(event.has_value()) << "no user.updated";
        EXPECT_EQ((*event)["data"]["user"], user);
    }
    EXPECT_TRUE(NoFrameBefore(*ws_outsider, frame_of("user.updated"), direct_message_marker(port(), contact, outsider)))
        << "only those who share a chat are told";

    // Only what is named changes; an empty or null bio is no bio.
    const auto renamed = expect_json(patch(port(), a.token, me_url, {{"display_name", "Ana"}}), 200, "rename");
    EXPECT_EQ(renamed["bio"], "Tea, maps, 🚲");
    EXPECT_TRUE(expect_json(patch(port(), a.token, me_url, {{"bio", ""}}), 200, "empty bio")["bio"].is_null());
    patch(port(), a.token, me_url, {{"bio", "back"}});
    const auto cleared = expect_json(patch(port(), a.token, me_url, {{"bio", nullptr}}), 200, "null bio");
    EXPECT_TRUE(cleared["bio"].is_null());
    EXPECT_EQ(cleared["display_name"], "Ana");
}

// Each used to send user.updated to every contact, though nothing had changed.
TEST_F(ProfilePrivacyTest, AChangeToNothingAnswersTheProfileAndTellsNobody) {
    auto a = register_user(port(), "pn");
    auto contact = register_user(port(), "pk");
    create_direct(port(), a, contact);
    const auto before =
        expect_json(patch(port(), a.token, me_url, {{"display_name", "Nora"}, {"bio", "hi"}}), 200, "set");
    auto ws_contact = ws_connect(port(), contact.token);
    for (const json& nothing : {json::object(), json{{"display_name", "Nora"}}, json{{"bio", "hi"}},
                                json{{"display_name", "Nora"}, {"bio", "hi"}}}) {
        const auto r = patch(port(), a.token, me_url, nothing);
        EXPECT_TRUE(IsJson(r, 200)) << nothing.dump();
        EXPECT_EQ(r.json()["display_name"], "Nora") << nothing.dump();
        EXPECT_EQ(r.json()["bio"], before["bio"]) << nothing.dump();
    }
    expect_json(patch(port(), a.token, me_url, {{"bio", nullptr}}), 200, "a real change");
    const auto event = wait_for(*ws_contact, "user.updated", about_user(a.id));
    ASSERT_TRUE(event.has_value()) << "no user.updated";
    EXPECT_TRUE((*event)["data"]["user"]["bio"].is_null())
        << "the first user.updated is the real change: " << event->dump();
}

TEST_F(ProfilePrivacyTest, BadProfileChangesAreRefusedNamingTheField) {
    auto a = register_user(port(), "pb");
    const struct {
        json body;
        const char* field;
    } cases[] = {
        {{{"display_name", ""}}, "display_name"},
        {{{"display_name", repeat("n", 65)}}, "display_name"},
        {{{"display_name", "two\nlines"}}, "display_name"},
        {{{"display_name", "\u202Eevil"}}, "display_name"},
        {{{"display_name", nullptr}}, "display_name"},
        {{{"display_name", 7}}, "display_name"},
        {{{"bio", repeat("é", 201)}}, "bio"},
        {{{"bio", "tab\there"}}, "bio"},
        {{{"bio", json::array()}}, "bio"},
        {{{"username", "renamed"}}, "username"},
    };
    for (const auto& c : cases) {
        const auto r = patch(port(), a.token, me_url, c.body);
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << c.body.dump();
        EXPECT_EQ(error_field(r), c.field) << c.body.dump() << " " << r.body;
    }
    EXPECT_EQ(expect_json(patch(port(), a.token, me_url, {{"bio", repeat("é", 200)}}), 200, "200 characters")["bio"],
              repeat("é", 200));
    EXPECT_TRUE(IsError(patch(port(), "", me_url, {{"bio", "x"}}), 401, "unauthorized"));
    const auto me = expect_json(get(port(), a.token, me_url), 200, "me");
    EXPECT_EQ(me["display_name"], a.username) << "nothing refused was applied";
}

TEST_F(ProfilePrivacyTest, PrivacyDefaultsAndPartialUpdates) {
    auto a = register_user(port(), "pd");
    const auto defaults = expect_json(get(port(), a.token, privacy_url), 200, "privacy");
    EXPECT_EQ(defaults, (json{{"who_can_add_me", "everyone"},
                              {"who_can_see_presence", "contacts"},
                              {"send_read_receipts", true}}));

    auto after = set_privacy(port(), a, {{"who_can_see_presence", "nobody"}});
    EXPECT_EQ(after["who_can_see_presence"], "nobody");
    EXPECT_EQ(after["who_can_add_me"], "everyone") << "what is not named stays";
    after = set_privacy(port(), a, {{"send_read_receipts", false}, {"who_can_add_me", "contacts"}});
    EXPECT_EQ(after, (json{{"who_can_add_me", "contacts"},
                           {"who_can_see_presence", "nobody"},
                           {"send_read_receipts", false}}));
    EXPECT_EQ(expect_json(get(port(), a.token, privacy_url), 200, "privacy"), after);

    const struct {
        json body;
        const char* field;
    } bad[] = {
        {{{"who_can_see_presence", "friends"}}, "who_can_see_presence"},
        {{{"who_can_see_presence", nullptr}}, "who_can_see_presence"},
        {{{"send_read_receipts", "no"}}, "send_read_receipts"},
        {{{"who_can_add_me", 1}}, "who_can_add_me"},
        {{{"show_typing", false}}, "show_typing"},
    };
    for (const auto& c : bad) {
        const auto r = put(port(), a.token, privacy_url, c.body);
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << c.body.dump();
        EXPECT_EQ(error_field(r), c.field) << c.body.dump() << " " << r.body;
    }
    EXPECT_TRUE(IsError(put(port(), a.token, privacy_url, json::object()), 400, "bad_request")) << "names nothing";
    EXPECT_EQ(expect_json(get(port(), a.token, privacy_url), 200, "privacy"), after) << "nothing refused was applied";
}

TEST_F(ProfilePrivacyTest, PresenceHiddenFromEveryoneIsSentToNobodyAndShownNowhere) {
    auto a = register_user(port(), "ph");
    auto b = register_user(port(), "ph");
    const std::string group = create_group(port(), a, {b.id})["id"];
    set_privacy(port(), a, {{"who_can_see_presence", "nobody"}});
    auto ws_b = ws_connect(port(), b.token);

    // A connection announces itself before it reads its first request: the ack's message.new
    // reaches b after any presence.update the connection caused.
    auto ws_a = ws_connect(port(), a.token);
    const auto ack = ws_request(*ws_a, "message.send", {{"chat_id", group}, {"type", "text"}, {"content", "hi"}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_TRUE(NoFrameBefore(*ws_b, frame_of("presence.update", from_user(a.id)),
                              frame_of("message.new", about_message(ack["data"]["message"]["id"]))));

    const auto seen = user_as_seen_by(port(), b, a);
    EXPECT_FALSE(seen.contains("online")) << seen.dump();
    EXPECT_FALSE(seen.contains("last_seen_at")) << seen.dump();
    const auto member = member_as_seen_by(port(), b, group, a);
    EXPECT_TRUE(IsMemberModel(member)) << member.dump();
    EXPECT_FALSE(member["user"].contains("online")) << member.dump();
    EXPECT_FALSE(member["user"].contains("last_seen_at")) << member.dump();

    // The user themself still sees their own.
    EXPECT_EQ(member_as_seen_by(port(), a, group, a)["user"].value("online", json()), true);
    EXPECT_EQ(user_as_seen_by(port(), a, a).value("online", json()), true);

    // b's presence, under the default, still reaches a.
    auto ws_b2 = ws_connect(port(), b.token);
    ws_b.reset();
    ws_b2.reset();
    const auto off = wait_for(*ws_a, "presence.update", from_user(b.id));
    ASSERT_TRUE(off.has_value()) << "b's presence stopped reaching a";

    ws_a->close();
    const auto after = send_text(port(), b, group, "after a left");
    auto ws_b3 = ws_connect(port(), b.token);
    const auto marker = send_text(port(), b, group, "marker");
    EXPECT_TRUE(NoFrameBefore(*ws_b3, frame_of("presence.update", from_user(a.id)),
                              frame_of("message.new", about_message(marker["id"]))))
        << "nor when the last connection closes";
    EXPECT_FALSE(after.empty());
}

TEST_F(ProfilePrivacyTest, PresenceForEveryoneIsShownToUsersWhoShareNoChat) {
    auto a = register_user(port(), "pe");
    auto stranger = register_user(port(), "pe");
    auto ws_a = ws_connect(port(), a.token);
    ASSERT_TRUE(IsAck(ws_request(*ws_a, "ping")));

    EXPECT_FALSE(user_as_seen_by(port(), stranger, a).contains("online")) << "contacts only, by default";
    set_privacy(port(), a, {{"who_can_see_presence", "everyone"}});
    const auto seen = user_as_seen_by(port(), stranger, a);
    EXPECT_EQ(seen.value("online", json()), true) << seen.dump();
    EXPECT_TRUE(seen.contains("last_seen_at")) << seen.dump();
}

TEST_F(ProfilePrivacyTest, SearchResultsCarryPresenceWhereTheUsersOwnPageWould) {
    const auto prefix = unique_username("sp").substr(0, 12);
    auto viewer = register_user(port(), prefix);
    auto contact = register_user(port(), prefix);
    auto stranger = register_user(port(), prefix);
    auto blocked = register_user(port(), prefix);
    auto subscriber = register_user(port(), prefix);
    create_group(port(), viewer, {contact.id, blocked.id});
    const auto channel = create_channel(port(), viewer, {{"handle", prefix}, {"is_public", true}});
    join_channel(port(), subscriber, prefix);
    ASSERT_EQ(put(port(), viewer.token, "/api/v1/users/me/blocks/" + blocked.id).status, 204);
    auto online = ws_connect(port(), contact.token);
    ASSERT_TRUE(IsAck(ws_request(*online, "ping")));

    const auto found = expect_json(get(port(), viewer.token, "/api/v1/users?query=" + prefix), 200, "search");
    ASSERT_EQ(found["users"].size(), 5u) << found.dump();
    for (const auto& user : found["users"]) {
        const auto id = user["id"].get<std::string>();
        const bool shown = id == viewer.id || id == contact.id;
        EXPECT_EQ(user.contains("online"), shown) << user.dump();
        EXPECT_EQ(user.contains("last_seen_at"), shown) << user.dump();
        if (id == contact.id) EXPECT_EQ(user["online"], true);
        const TestUser* as = id == viewer.id     ? &viewer
                             : id == contact.id  ? &contact
                             : id == stranger.id ? &stranger
                             : id == blocked.id  ? &blocked
                                                 : &subscriber;
        auto own_page = user_as_seen_by(port(), viewer, *as);
        if (shown) own_page["online"] = user["online"];  // a presence change between the two reads is no difference
        EXPECT_EQ(user, own_page) << "the same model as GET /users/{id}";
    }
    EXPECT_FALSE(channel.empty());
}

TEST_F(ProfilePrivacyTest, ReadsWithoutReceiptsReachOnlyTheReadersOwnDevices) {
    auto a = register_user(port(), "pr");
    auto b = register_user(port(), "pr");
    const std::string group = create_group(port(), a, {b.id})["id"];
    const auto first = send_text(port(), b, group, "one");
    const auto second = send_text(port(), b, group, "two");
    set_privacy(port(), a, {{"send_read_receipts", false}});
    auto ws_a = ws_connect(port(), a.token);
    auto ws_b = ws_connect(port(), b.token);

    ASSERT_EQ(post(port(), a.token, read_url(group), {{"seq", first["seq"]}}).status, 204);
    const auto own = wait_for(*ws_a, "read.updated", from_user(a.id));
    ASSERT_TRUE(own.has_value()) << "the reader's own devices follow their reads";
    EXPECT_EQ((*own)["data"]["last_read_seq"], first["seq"]);
    const auto marker = send_text(port(), a, group, "marker");
    EXPECT_TRUE(NoFrameBefore(*ws_b, frame_of("read.updated", from_user(a.id)),
                              frame_of("message.new", about_message(marker["id"]))));

    const auto seen = member_as_seen_by(port(), b, group, a);
    EXPECT_TRUE(IsMemberModel(seen)) << seen.dump();
    EXPECT_TRUE(seen["last_read_seq"].is_null()) << seen.dump();
    EXPECT_EQ(member_as_seen_by(port(), a, group, a)["last_read_seq"], marker["seq"]) << "sending reads it all";
    // Changing their own membership, the reader still sees their own read position.
    const auto muted = patch(port(), a.token, member_url(group, a.id), {{"is_muted", true}});
    ASSERT_TRUE(IsJson(muted, 200));
    EXPECT_EQ(muted.json()["last_read_seq"], marker["seq"]) << muted.body;
    const auto own_mute = wait_for(*ws_a, "member.updated");
    ASSERT_TRUE(own_mute.has_value());
    EXPECT_EQ((*own_mute)["data"]["member"]["last_read_seq"], marker["seq"]);

    // Turned back on, the next read is told again.
    set_privacy(port(), a, {{"send_read_receipts", true}});
    const auto third = send_text(port(), b, group, "three");
    ASSERT_EQ(post(port(), a.token, read_url(group), {{"seq", third["seq"]}}).status, 204);
    const auto told = wait_for(*ws_b, "read.updated", from_user(a.id));
    ASSERT_TRUE(told.has_value());
    EXPECT_EQ((*told)["data"]["last_read_seq"], third["seq"]);
    EXPECT_EQ(member_as_seen_by(port(), b, group, a)["last_read_seq"], third["seq"]);
    EXPECT_FALSE(second.empty());
}

}  // namespace
}  // namespace confab::test
