// /api/v1/templates and /api/v1/chats/{id}/templates: a user's own templates and a group's,
// who may manage and use them, and sending from one (REST and WebSocket).

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using TemplatesTest = ChatTest;

const std::string own_url = "/api/v1/templates";
std::string chat_templates_url(const std::string& chat_id) { return chat_url(chat_id) + "/templates"; }
std::string template_url(const std::string& id) { return own_url + "/" + id; }

json create_template(std::uint16_t port, const TestUser& u, const std::string& url, const std::string& name,
                     const std::string& content) {
    return expect_json(post(port, u.token, url, {{"name", name}, {"content", content}}), 201, "create template");
}

std::vector<std::string> names_of(const HttpResponse& r) {
    const auto body = r.json();
    std::vector<std::string> names;
    for (const auto& t : body["templates"]) names.push_back(t["name"]);
    return names;
}

TEST_F(TemplatesTest, OwnTemplatesAreCreatedListedUpdatedAndDeletedByTheirOwnerOnly) {
    auto ann = register_user(port(), "tp");
    auto bob = register_user(port(), "tp");
    auto created = create_template(port(), ann, own_url, "greeting", "Hi {{name}}, see you {{day}}. Bye {{name}}");
    EXPECT_TRUE(is_uuid(created["id"]));
    EXPECT_EQ(created["chat_id"], nullptr);
    EXPECT_EQ(created["name"], "greeting");
    EXPECT_EQ(created["placeholders"], json({"name", "day"}));
    EXPECT_TRUE(is_timestamp(created["created_at"]) && is_timestamp(created["updated_at"]));
    create_template(port(), ann, own_url, "alpha", "plain");

    auto listed = get(port(), ann.token, own_url);
    ASSERT_TRUE(IsJson(listed, 200));
    EXPECT_EQ(names_of(listed), (std::vector<std::string>{"alpha", "greeting"})) << "ordered by name";
    EXPECT_EQ(listed.json()["templates"][1], created);
    EXPECT_EQ(names_of(get(port(), bob.token, own_url)), std::vector<std::string>{}) << "nobody else's";

    const std::string id = created["id"];
    EXPECT_TRUE(IsError(patch(port(), bob.token, template_url(id), {{"content", "x"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(del(port(), bob.token, template_url(id)), 404, "not_found"));
    auto updated = patch(port(), ann.token, template_url(id), {{"content", "Hello {{who}}"}});
    ASSERT_TRUE(IsJson(updated, 200));
    EXPECT_EQ(updated.json()["name"], "greeting");
    EXPECT_EQ(updated.json()["placeholders"], json({"who"}));
    EXPECT_TRUE(IsError(patch(port(), ann.token, template_url(id), {{"name", "alpha"}}), 409, "conflict"));
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", "alpha"}, {"content", "y"}}), 409, "conflict"));

    EXPECT_EQ(del(port(), ann.token, template_url(id)).status, 204);
    EXPECT_TRUE(IsError(del(port(), ann.token, template_url(id)), 404, "not_found"));
    EXPECT_EQ(names_of(get(port(), ann.token, own_url)), std::vector<std::string>{"alpha"});
}

TEST_F(TemplatesTest, BadInputGetsTheDocumentedErrors) {
    auto ann = register_user(port(), "tp");
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", ""}, {"content", "x"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", std::string(65, 'n')}, {"content", "x"}}), 400,
                        "bad_request"));
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", "a\nb"}, {"content", "x"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", "n"}, {"content", ""}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", "n"}}), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(post(port(), ann.token, own_url, {{"name", "n"}, {"content", "x"}, {"extra", 1}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", "n"}, {"content", std::string(4001, 'c')}}), 413,
                        "payload_too_large"));
    EXPECT_TRUE(IsError(patch(port(), ann.token, template_url("not-a-uuid"), {{"name", "n"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(patch(port(), ann.token, template_url(random_uuid()), {{"name", "n"}}), 404, "not_found"));
    const std::string id = create_template(port(), ann, own_url, "n", "x")["id"];
    EXPECT_TRUE(IsError(patch(port(), ann.token, template_url(id), json::object()), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), "", own_url), 401, "unauthorized"));
}

TEST_F(TemplatesTest, AUserHasAtMostAHundred) {
    auto ann = register_user(port(), "tp");
    for (int i = 0; i < 100; ++i) create_template(port(), ann, own_url, "t" + std::to_string(i), "x");
    EXPECT_TRUE(IsError(post(port(), ann.token, own_url, {{"name", "one more"}, {"content", "x"}}), 409, "conflict"));
}

TEST_F(TemplatesTest, AGroupsTemplatesAreManagedByItsAdminsAndListedByItsMembers) {
    auto owner = register_user(port(), "tp");
    auto admin = register_user(port(), "tp");
    auto member = register_user(port(), "tp");
    auto outsider = register_user(port(), "tp");
    std::string id = create_group(port(), owner, {admin.id, member.id})["id"];
    set_role(port(), owner, id, admin.id, "admin");

    auto created = create_template(port(), admin, chat_templates_url(id), "rules", "Welcome {{name}}");
    EXPECT_EQ(created["chat_id"], id);
    EXPECT_TRUE(IsError(post(port(), member.token, chat_templates_url(id), {{"name", "m"}, {"content", "x"}}), 403,
                        "forbidden"));
    EXPECT_TRUE(IsError(post(port(), outsider.token, chat_templates_url(id), {{"name", "o"}, {"content", "x"}}), 404,
                        "not_found"));
    auto listed = get(port(), member.token, chat_templates_url(id));
    ASSERT_TRUE(IsJson(listed, 200));
    EXPECT_EQ(listed.json()["templates"], json::array({created}));
    EXPECT_TRUE(IsError(get(port(), outsider.token, chat_templates_url(id)), 404, "not_found"));
    EXPECT_EQ(names_of(get(port(), admin.token, own_url)), std::vector<std::string>{}) << "not the admin's own";

    const std::string tid = created["id"];
    EXPECT_TRUE(IsError(patch(port(), member.token, template_url(tid), {{"name", "x"}}), 403, "forbidden"));
    EXPECT_TRUE(IsError(patch(port(), outsider.token, template_url(tid), {{"name", "x"}}), 404, "not_found"));
    EXPECT_TRUE(IsJson(patch(port(), owner.token, template_url(tid), {{"name", "house rules"}}), 200));

    // An admin demoted to member manages no more.
    set_role(port(), owner, id, admin.id, "member");
    EXPECT_TRUE(IsError(del(port(), admin.token, template_url(tid)), 403, "forbidden"));
    EXPECT_EQ(del(port(), owner.token, template_url(tid)).status, 204);
}

TEST_F(TemplatesTest, ADirectChatHasNoSharedTemplates) {
    auto a = register_user(port(), "tp");
    auto b = register_user(port(), "tp");
    std::string id = create_direct(port(), a, b)["id"];
    EXPECT_TRUE(
        IsError(post(port(), a.token, chat_templates_url(id), {{"name", "n"}, {"content", "x"}}), 403, "forbidden"));
}

TEST_F(TemplatesTest, SendingFromATemplateIsAnOrdinarySend) {
    auto ann = register_user(port(), "tp");
    auto bob = register_user(port(), "tp");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    std::string own = create_template(port(), ann, own_url, "hi", "Hi {{name}}, {{name}}!")["id"];
    auto wb = ws_connect(port(), bob.token);

    auto sent =
        send_message(port(), ann, id,
                     {{"type", "text"}, {"template_id", own}, {"values", {{"name", "Bob"}}}, {"client_id", "t1"}});
    ASSERT_TRUE(IsJson(sent, 201)) << sent.body;
    EXPECT_TRUE(IsMessageModel(sent.json()));
    EXPECT_EQ(sent.json()["content"], "Hi Bob, Bob!");
    EXPECT_EQ(sent.json()["type"], "text");
    auto event = wait_for(*wb, "message.new", about_message(sent.json()["id"]));
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ((*event)["data"]["message"], sent.json());

    auto repeat =
        send_message(port(), ann, id,
                     {{"type", "text"}, {"template_id", own}, {"values", {{"name", "Bob"}}}, {"client_id", "t1"}});
    ASSERT_TRUE(IsJson(repeat, 200)) << "a repeated client_id is the stored message";
    EXPECT_EQ(repeat.json()["id"], sent.json()["id"]);

    // Over the WebSocket, and as a media caption would be: the same fields.
    auto wa = ws_connect(port(), ann.token);
    auto acked = ws_request(*wa, "message.send",
                            {{"chat_id", id}, {"type", "text"}, {"template_id", own}, {"values", {{"name", "all"}}}});
    ASSERT_TRUE(IsAck(acked)) << acked.dump();
    EXPECT_EQ(acked["data"]["message"]["content"], "Hi all, all!");
}

TEST_F(TemplatesTest, ATemplateSendIsRefusedLikeAnyOtherSend) {
    auto ann = register_user(port(), "tp");
    auto bob = register_user(port(), "tp");
    auto eve = register_user(port(), "tp");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    std::string other = create_group(port(), eve)["id"];
    std::string own = create_template(port(), ann, own_url, "hi", "Hi {{name}}")["id"];
    std::string bobs = create_template(port(), bob, own_url, "b", "Bob's")["id"];
    std::string of_other = create_template(port(), eve, chat_templates_url(other), "e", "Eve's")["id"];
    std::string shared = create_template(port(), ann, chat_templates_url(id), "s", "Shared {{x}}")["id"];
    const auto send = [&](const TestUser& u, json body) {
        body["type"] = "text";
        return send_message(port(), u, id, body);
    };

    EXPECT_TRUE(IsError(send(ann, {{"template_id", own}, {"values", json::object()}}), 400, "bad_request"));
    EXPECT_TRUE(
        IsError(send(ann, {{"template_id", own}, {"values", {{"name", "a"}, {"x", "b"}}}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(send(ann, {{"template_id", own}, {"values", {{"name", 1}}}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(send(ann, {{"template_id", own}, {"content", "also"}, {"values", {{"name", "a"}}}}), 400,
                        "bad_request"));
    EXPECT_TRUE(IsError(send(ann, {{"content", "x"}, {"values", {{"name", "a"}}}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(send(ann, {{"template_id", "nope"}}), 400, "bad_request"));
    EXPECT_TRUE(IsError(send(ann, {{"template_id", random_uuid()}}), 404, "not_found"));
    EXPECT_TRUE(IsError(send(ann, {{"template_id", bobs}}), 404, "not_found")) << "another user's own template";
    EXPECT_TRUE(IsError(send(ann, {{"template_id", of_other}}), 404, "not_found")) << "another chat's template";
    EXPECT_TRUE(IsError(send(ann, {{"template_id", own}, {"values", {{"name", std::string(4001, 'v')}}}}), 413,
                        "payload_too_large"));
    std::string blank = create_template(port(), ann, own_url, "blank", "{{v}}")["id"];
    EXPECT_TRUE(IsError(send(ann, {{"template_id", blank}, {"values", {{"v", ""}}}}), 400, "bad_request"))
        << "a text filled to nothing is empty";

    // A member uses the group's templates; a removed member no longer posts.
    auto by_bob = send(bob, {{"template_id", shared}, {"values", {{"x", "hello"}}}});
    ASSERT_TRUE(IsJson(by_bob, 201)) << by_bob.body;
    EXPECT_EQ(by_bob.json()["content"], "Shared hello");
    expect_json(del(port(), ann.token, member_url(id, bob.id)), 204, "remove bob");
    EXPECT_TRUE(IsError(send(bob, {{"template_id", bobs}}), 404, "not_found"));
}

// docs/api.md, Templates: a template that would fill past limits.content_chars is 413, found
// from the lengths before the text is built: a 4,000-character template repeating one
// 200,000-character value would otherwise build 160 MB per request before refusing it.
TEST_F(TemplatesTest, ATemplateFillingPastTheLimitIsRefusedBeforeItIsBuilt) {
    auto ann = register_user(port(), "tp");
    auto bob = register_user(port(), "tp");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    std::string repeated;
    for (int i = 0; i < 800; ++i) repeated += "{{v}}";
    std::string own = create_template(port(), ann, own_url, "big", repeated)["id"];
    const json body = {{"type", "text"},
                       {"template_id", own},
                       {"values", {{"v", std::string(200'000, 'x')}}},
                       {"client_id", "big"}};
    auto scheduled = body;
    scheduled["send_at"] = timestamp_from_now(std::chrono::hours(1));
    std::string list =
        expect_json(post(port(), ann.token, "/api/v1/broadcast-lists", {{"name", "l"}, {"recipient_ids", {bob.id}}}),
                    201, "create list")["id"];
    const std::vector<std::pair<std::string, json>> sends{
        {chat_url(id) + "/messages", body},
        {chat_url(id) + "/scheduled-messages", scheduled},
        {"/api/v1/broadcast-lists/" + list + "/messages", body},
    };
    for (const auto& [url, sent] : sends) {
        const auto started = std::chrono::steady_clock::now();
        auto refused = post(port(), ann.token, url, sent);
        const auto took = std::chrono::steady_clock::now() - started;
        EXPECT_TRUE(IsError(refused, 413, "payload_too_large")) << url;
        EXPECT_EQ(refused.json()["error"]["details"]["field"], "content") << url;
        // Building the text took seconds here (2.9 s); measuring it takes milliseconds.
        EXPECT_LT(took, 1s) << url;
    }
}

// docs/api.md, Conventions: U+0000 is refused with 400 in any string field, a template's values
// included, on every way a template is sent; a broadcast refused so opens no direct chat.
TEST_F(TemplatesTest, ANulInTheValuesIsRefusedWhereverATemplateIsSent) {
    auto ann = register_user(port(), "tp");
    auto bob = register_user(port(), "tp");
    std::string id = create_group(port(), ann, {bob.id})["id"];
    std::string own = create_template(port(), ann, own_url, "hi", "Hi {{name}}")["id"];
    const json with_nul = {{"type", "text"}, {"template_id", own}, {"values", {{"name", std::string("a\0b", 3)}}}};
    const json nul_name = {{"type", "text"}, {"template_id", own}, {"values", {{std::string("na\0me", 6), "x"}}}};

    EXPECT_TRUE(IsBadField(send_message(port(), ann, id, with_nul), "values"));
    EXPECT_TRUE(IsBadField(send_message(port(), ann, id, nul_name), "values"));
    auto scheduled = with_nul;
    scheduled["send_at"] = timestamp_from_now(std::chrono::hours(1));
    EXPECT_TRUE(IsBadField(post(port(), ann.token, chat_url(id) + "/scheduled-messages", scheduled), "values"));
    std::string list =
        expect_json(post(port(), ann.token, "/api/v1/broadcast-lists", {{"name", "l"}, {"recipient_ids", {bob.id}}}),
                    201, "create list")["id"];
    auto broadcast = with_nul;
    broadcast["client_id"] = "b1";
    EXPECT_TRUE(
        IsBadField(post(port(), ann.token, "/api/v1/broadcast-lists/" + list + "/messages", broadcast), "values"));
    EXPECT_EQ(list_chats(port(), bob).size(), 1u) << "the group only: no direct chat was opened";

    auto ws = ws_connect(port(), ann.token);
    auto over_ws = with_nul;
    over_ws["chat_id"] = id;
    auto refused = ws_request(*ws, "message.send", over_ws);
    ASSERT_TRUE(IsWsError(refused, "bad_request")) << refused.dump();
    EXPECT_EQ(refused["error"]["details"]["field"], "values");
}

}  // namespace
}  // namespace confab::test
