// Reports (docs/api.md, Reports): any member reports a message with a reason and an
// optional comment; those who handle the chat's reports (moderators, admins, the owner) hear
// of it at once (report.created), list the open ones a page at a time and resolve them with
// the action they took; the server's operators see every chat's open reports. The hostile
// side: members and outsiders who try to list, resolve or report what they may not, and
// every malformed request.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

using ReportsTest = ChatTest;

struct Group {
    TestUser owner, admin, moderator, member, reporter;
    std::string chat_id;
    std::string message_id;  // the member's message
};

Group make_group(std::uint16_t port) {
    Group g{register_user(port, "rp"),
            register_user(port, "rp"),
            register_user(port, "rp"),
            register_user(port, "rp"),
            register_user(port, "rp"),
            "",
            ""};
    g.chat_id = create_group(port, g.owner, {g.admin.id, g.moderator.id, g.member.id, g.reporter.id})
                    .at("id")
                    .get<std::string>();
    set_role(port, g.owner, g.chat_id, g.admin.id, "admin");
    set_role(port, g.owner, g.chat_id, g.moderator.id, "moderator");
    g.message_id = send_text(port, g.member, g.chat_id, "buy cheap watches").at("id").get<std::string>();
    return g;
}

std::string reports_url(const std::string& chat_id, const std::string& message_id) {
    return chat_url(chat_id) + "/messages/" + message_id + "/reports";
}
std::string chat_reports_url(const std::string& chat_id) { return chat_url(chat_id) + "/reports"; }
std::string resolve_url(const std::string& chat_id, const std::string& report_id) {
    return chat_reports_url(chat_id) + "/" + report_id + "/resolve";
}
const std::string admin_reports_url = "/api/v1/admin/reports";

::testing::AssertionResult IsReportModel(const json& j) {
    const std::set<std::string> keys{"id",          "chat_id",     "message_id", "reporter_id",
                                     "reason",      "comment",     "status",     "action",
                                     "resolved_by", "resolved_at", "created_at", "reported_message"};
    std::set<std::string> got;
    for (const auto& [key, value] : j.items()) got.insert(key);
    if (got != keys) return ::testing::AssertionFailure() << "ReportModel keys: " << j.dump();
    if (!is_uuid(j["id"]) || !is_uuid(j["chat_id"]) || !is_uuid(j["message_id"]) || !is_uuid(j["reporter_id"]))
        return ::testing::AssertionFailure() << "ReportModel ids: " << j.dump();
    if (!is_timestamp(j["created_at"])) return ::testing::AssertionFailure() << "ReportModel.created_at: " << j.dump();
    const bool open = j["status"] == "open";
    if (!open && j["status"] != "resolved") return ::testing::AssertionFailure() << "ReportModel.status: " << j.dump();
    if (open != j["action"].is_null() || open != j["resolved_at"].is_null())
        return ::testing::AssertionFailure() << "ReportModel resolution fields: " << j.dump();
    const auto& reported = j["reported_message"];
    if (!reported.is_object() || reported.size() != 4 || !reported["type"].is_string() ||
        !reported["content"].is_string() || !(reported["sender_id"].is_null() || is_uuid(reported["sender_id"])) ||
        !is_timestamp(reported["created_at"]))
        return ::testing::AssertionFailure() << "ReportModel.reported_message: " << j.dump();
    return ::testing::AssertionSuccess();
}

json report(std::uint16_t port, const TestUser& u, const Group& g, json body = {{"reason", "spam"}}) {
    return expect_json(post(port, u.token, reports_url(g.chat_id, g.message_id), body), 201, "report");
}

void make_operator(const TestUser& u) {
    pqxx::connection db(chat_database_url());
    pqxx::work tx(db);
    tx.exec_params("UPDATE users SET is_admin = true WHERE id = $1::uuid", u.id);
    tx.commit();
}

TEST_F(ReportsTest, AMemberReportsAMessageAndTheChatsModeratorsHearOfItAtOnce) {
    auto g = make_group(port());
    auto ws_owner = ws_connect(port(), g.owner.token);
    auto ws_admin = ws_connect(port(), g.admin.token);
    auto ws_moderator = ws_connect(port(), g.moderator.token);
    auto ws_member = ws_connect(port(), g.member.token);
    auto ws_reporter = ws_connect(port(), g.reporter.token);

    const auto r = report(port(), g.reporter, g, {{"reason", "spam"}, {"comment", "the same link ten times"}});
    EXPECT_TRUE(IsReportModel(r));
    EXPECT_EQ(r["chat_id"], g.chat_id);
    EXPECT_EQ(r["message_id"], g.message_id);
    EXPECT_EQ(r["reporter_id"], g.reporter.id);
    EXPECT_EQ(r["reason"], "spam");
    EXPECT_EQ(r["comment"], "the same link ten times");
    EXPECT_EQ(r["status"], "open");

    for (auto* ws : {ws_owner.get(), ws_admin.get(), ws_moderator.get()}) {
        const auto event =
            wait_for(*ws, "report.created", [&](const json& f) { return f["data"]["report"]["id"] == r["id"]; });
        ASSERT_TRUE(event.has_value());
        EXPECT_EQ((*event)["data"]["report"], r);
    }
    // Neither the reported member nor the reporter hears of it: a marker after it arrives first.
    for (auto* ws : {ws_member.get(), ws_reporter.get()}) {
        const auto marker = send_text(port(), g.owner, g.chat_id, "marker");
        const auto frames = frames_until(*ws, frame_of("message.new", about_message(marker["id"])));
        ASSERT_TRUE(frames.has_value());
        for (const auto& frame : *frames) EXPECT_NE(frame["type"], "report.created") << frame.dump();
    }
}

TEST_F(ReportsTest, ModeratorsListOpenReportsAPageAtATimeAndResolveThem) {
    auto g = make_group(port());
    std::vector<std::string> ids;
    for (const auto* reporter : {&g.reporter, &g.admin, &g.owner})
        ids.push_back(report(port(), *reporter, g, {{"reason", "abuse"}})["id"].get<std::string>());

    std::vector<std::string> listed;
    std::string cursor;
    for (int pages = 0; pages < 5; ++pages) {
        const auto r = get(port(), g.moderator.token,
                           chat_reports_url(g.chat_id) + "?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_TRUE(IsJson(r, 200));
        const auto page = r.json();  // held: a range-for over a member of a temporary reads freed memory
        for (const auto& item : page["reports"]) {
            EXPECT_TRUE(IsReportModel(item));
            listed.push_back(item["id"]);
        }
        if (page["next_cursor"].is_null()) break;
        cursor = page["next_cursor"];
    }
    EXPECT_EQ(listed, ids) << "oldest first, each once";

    const auto resolved =
        post(port(), g.moderator.token, resolve_url(g.chat_id, ids[0]), {{"action", "message_deleted"}});
    ASSERT_TRUE(IsJson(resolved, 200));
    EXPECT_TRUE(IsReportModel(resolved.json()));
    EXPECT_EQ(resolved.json()["status"], "resolved");
    EXPECT_EQ(resolved.json()["action"], "message_deleted");
    EXPECT_EQ(resolved.json()["resolved_by"], g.moderator.id);
    EXPECT_TRUE(is_timestamp(resolved.json()["resolved_at"]));
    EXPECT_TRUE(
        IsError(post(port(), g.admin.token, resolve_url(g.chat_id, ids[0]), {{"action", "none"}}), 409, "conflict"))
        << "resolved once";
    const auto open = get(port(), g.owner.token, chat_reports_url(g.chat_id));
    ASSERT_TRUE(IsJson(open, 200));
    EXPECT_EQ(ids_of(open.json()["reports"]), (std::vector<std::string>{ids[1], ids[2]}));

    // Once its report is resolved, the reporter may report the message again.
    EXPECT_TRUE(IsReportModel(report(port(), g.reporter, g)));
}

// report.resolved goes where report.created went: the members who handle the chat's reports
// (the resolver's own connections too), and nobody else.
TEST_F(ReportsTest, AResolutionIsToldToThoseWhoHandleTheChatsReports) {
    auto g = make_group(port());
    const auto r = report(port(), g.reporter, g);
    auto ws_owner = ws_connect(port(), g.owner.token);
    auto ws_admin = ws_connect(port(), g.admin.token);
    auto ws_moderator = ws_connect(port(), g.moderator.token);
    auto ws_member = ws_connect(port(), g.member.token);
    auto ws_reporter = ws_connect(port(), g.reporter.token);

    const auto resolved = post(port(), g.admin.token, resolve_url(g.chat_id, r["id"]), {{"action", "member_muted"}});
    ASSERT_TRUE(IsJson(resolved, 200));
    for (auto* ws : {ws_owner.get(), ws_admin.get(), ws_moderator.get()}) {
        const auto event =
            wait_for(*ws, "report.resolved", [&](const json& f) { return f["data"]["report"]["id"] == r["id"]; });
        ASSERT_TRUE(event.has_value());
        EXPECT_TRUE(IsReportModel((*event)["data"]["report"]));
        EXPECT_EQ((*event)["data"]["report"], resolved.json());
        EXPECT_EQ((*event)["data"]["report"]["status"], "resolved");
        EXPECT_EQ((*event)["data"]["report"]["action"], "member_muted");
    }
    for (auto* ws : {ws_member.get(), ws_reporter.get()}) {
        const auto marker = send_text(port(), g.owner, g.chat_id, "marker");
        EXPECT_TRUE(
            NoFrameBefore(*ws, frame_of("report.resolved"), frame_of("message.new", about_message(marker["id"]))));
    }
}

// The report keeps the message as it was reported: an edit, then a deletion, change neither the
// chat's list nor the operators' queue.
TEST_F(ReportsTest, AReportKeepsTheMessageAsItWasWhenReported) {
    auto g = make_group(port());
    const auto original = get_message(port(), g.member, g.message_id);
    const auto r = report(port(), g.reporter, g);
    const json expected{{"type", "text"},
                        {"content", "buy cheap watches"},
                        {"sender_id", g.member.id},
                        {"created_at", original["created_at"]}};
    EXPECT_EQ(r["reported_message"], expected);

    ASSERT_TRUE(IsJson(put(port(), g.member.token, message_url(g.message_id), {{"content", "hello everyone"}}), 200));
    ASSERT_EQ(del(port(), g.member.token, message_url(g.message_id)).status, 204);

    const auto listed = get(port(), g.moderator.token, chat_reports_url(g.chat_id));
    ASSERT_TRUE(IsJson(listed, 200));
    const auto page = listed.json();
    ASSERT_EQ(page["reports"].size(), 1u);
    EXPECT_EQ(page["reports"][0]["reported_message"], expected);

    const auto op = register_user(port(), "rp");
    make_operator(op);
    std::string cursor;
    bool found = false;
    for (int pages = 0; pages < 1000 && !found; ++pages) {
        const auto q =
            get(port(), op.token, admin_reports_url + "?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_TRUE(IsJson(q, 200));
        const auto queue = q.json();
        for (const auto& item : queue["reports"]) {
            if (item["id"] != r["id"]) continue;
            found = true;
            EXPECT_EQ(item["reported_message"], expected);
        }
        if (queue["next_cursor"].is_null()) break;
        cursor = queue["next_cursor"];
    }
    EXPECT_TRUE(found) << "in the operators' queue";
}

TEST_F(ReportsTest, OneOpenReportPerReporterAndMessage) {
    auto g = make_group(port());
    report(port(), g.reporter, g);
    const auto again = post(port(), g.reporter.token, reports_url(g.chat_id, g.message_id), {{"reason", "other"}});
    EXPECT_TRUE(IsError(again, 409, "conflict"));
    EXPECT_EQ(again.json()["error"]["details"]["reason"], "already_reported");
    EXPECT_TRUE(IsReportModel(report(port(), g.admin, g))) << "another member reports it too";
}

TEST_F(ReportsTest, MembersAndOutsidersNeitherListNorResolveNorSeeOthersReports) {
    auto g = make_group(port());
    const auto r = report(port(), g.reporter, g);
    for (const auto* member : {&g.member, &g.reporter}) {
        EXPECT_TRUE(IsError(get(port(), member->token, chat_reports_url(g.chat_id)), 403, "forbidden"));
        EXPECT_TRUE(IsError(post(port(), member->token, resolve_url(g.chat_id, r["id"]), {{"action", "none"}}), 403,
                            "forbidden"));
    }
    const auto outsider = register_user(port(), "rp");
    EXPECT_TRUE(IsError(get(port(), outsider.token, chat_reports_url(g.chat_id)), 404, "not_found"));
    EXPECT_TRUE(
        IsError(post(port(), outsider.token, resolve_url(g.chat_id, r["id"]), {{"action", "none"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), outsider.token, reports_url(g.chat_id, g.message_id), {{"reason", "spam"}}), 404,
                        "not_found"));
    EXPECT_TRUE(IsError(get(port(), g.owner.token, admin_reports_url), 403, "forbidden")) << "not an operator";

    // A report of one chat is not found through another, even by that chat's owner.
    const std::string other_chat = create_group(port(), g.owner, {g.member.id})["id"];
    EXPECT_TRUE(
        IsError(post(port(), g.owner.token, resolve_url(other_chat, r["id"]), {{"action", "none"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(post(port(), g.member.token, reports_url(other_chat, g.message_id), {{"reason", "spam"}}), 404,
                        "not_found"));
    EXPECT_TRUE(IsError(post(port(), g.owner.token, resolve_url(g.chat_id, "not-a-uuid"), {{"action", "none"}}), 404,
                        "not_found"));
    EXPECT_TRUE(IsError(post(port(), g.owner.token, resolve_url(g.chat_id, random_uuid()), {{"action", "none"}}), 404,
                        "not_found"));
}

// The ids of every open report in the operators' queue, page by page, in its order.
std::vector<std::string> operator_queue(std::uint16_t port, const TestUser& op) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int pages = 0; pages < 1000; ++pages) {
        const auto r =
            get(port, op.token, admin_reports_url + "?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor));
        EXPECT_TRUE(IsJson(r, 200));
        if (r.status != 200) break;
        const auto page = r.json();  // held, as above
        for (const auto& item : page["reports"]) {
            EXPECT_TRUE(IsReportModel(item));
            EXPECT_EQ(item["status"], "open");
            ids.push_back(item["id"]);
        }
        if (page["next_cursor"].is_null()) break;
        cursor = page["next_cursor"];
    }
    return ids;
}

TEST_F(ReportsTest, OperatorsSeeEveryChatsOpenReports) {
    auto g = make_group(port());
    auto h = make_group(port());
    const std::string first = report(port(), g.reporter, g)["id"];
    const std::string second = report(port(), h.reporter, h)["id"];
    const auto op = register_user(port(), "rp");
    make_operator(op);

    const auto queue = operator_queue(port(), op);
    const auto first_at = std::find(queue.begin(), queue.end(), first);
    const auto second_at = std::find(queue.begin(), queue.end(), second);
    ASSERT_NE(first_at, queue.end());
    ASSERT_NE(second_at, queue.end());
    EXPECT_LT(first_at, second_at) << "oldest first";
    EXPECT_EQ(std::set<std::string>(queue.begin(), queue.end()).size(), queue.size()) << "each once";

    ASSERT_TRUE(IsJson(post(port(), g.owner.token, resolve_url(g.chat_id, first), {{"action", "none"}}), 200));
    const auto after = operator_queue(port(), op);
    EXPECT_EQ(std::find(after.begin(), after.end(), first), after.end()) << "resolved: off the queue";
    EXPECT_NE(std::find(after.begin(), after.end(), second), after.end());
}

TEST_F(ReportsTest, MalformedReportsAndResolutionsAreRefused) {
    auto g = make_group(port());
    const auto url = reports_url(g.chat_id, g.message_id);
    const auto refused = [&](const json& body, const char* field) {
        const auto r = post(port(), g.reporter.token, url, body);
        EXPECT_TRUE(IsError(r, 400, "bad_request")) << body.dump();
        EXPECT_EQ(r.json()["error"]["details"]["field"], field) << body.dump();
    };
    refused(json::object(), "reason");
    refused({{"reason", "boring"}}, "reason");
    refused({{"reason", 3}}, "reason");
    refused({{"reason", "spam"}, {"comment", 5}}, "comment");
    refused({{"reason", "spam"}, {"comment", repeat("x", 1001)}}, "comment");
    refused({{"reason", "spam"}, {"extra", true}}, "extra");
    EXPECT_TRUE(IsReportModel(report(port(), g.reporter, g, {{"reason", "other"}, {"comment", repeat("é", 1000)}})))
        << "1000 characters, not bytes";

    EXPECT_TRUE(IsError(post(port(), g.member.token, url, {{"reason", "spam"}}), 400, "bad_request"))
        << "one's own message";
    const auto notes = system_messages(port(), g.owner, g.chat_id);
    ASSERT_FALSE(notes.empty());
    EXPECT_TRUE(
        IsError(post(port(), g.reporter.token, reports_url(g.chat_id, notes.front()["id"]), {{"reason", "spam"}}), 400,
                "bad_request"))
        << "a system message";
    const auto gone = send_text(port(), g.member, g.chat_id, "regrettable");
    ASSERT_EQ(del(port(), g.member.token, message_url(gone["id"])).status, 204);
    EXPECT_TRUE(IsError(post(port(), g.reporter.token, reports_url(g.chat_id, gone["id"]), {{"reason", "spam"}}), 409,
                        "conflict"))
        << "a deleted message";
    EXPECT_TRUE(IsError(post(port(), g.reporter.token, reports_url(g.chat_id, random_uuid()), {{"reason", "spam"}}),
                        404, "not_found"));

    const auto r = report(port(), g.admin, g);
    for (const json& body : {json::object(), json{{"action", "burn"}}, json{{"action", nullptr}}}) {
        const auto bad = post(port(), g.owner.token, resolve_url(g.chat_id, r["id"]), body);
        EXPECT_TRUE(IsError(bad, 400, "bad_request")) << body.dump();
        EXPECT_EQ(bad.json()["error"]["details"]["field"], "action") << body.dump();
    }
}

// A direct chat has no moderators: its reports go to the operators, who resolve them (as any
// chat's) through POST /admin/reports/{id}/resolve; the reporter may then report it again.
TEST_F(ReportsTest, OperatorsResolveReportsOfDirectChats) {
    auto ana = register_user(port(), "rp"), ben = register_user(port(), "rp"), op = register_user(port(), "rp");
    make_operator(op);
    const auto chat_id = create_direct(port(), ana, ben).at("id").get<std::string>();
    const auto message_id = send_text(port(), ben, chat_id, "rude words").at("id").get<std::string>();
    const auto r =
        expect_json(post(port(), ana.token, reports_url(chat_id, message_id), {{"reason", "abuse"}}), 201, "report");
    const auto admin_resolve = admin_reports_url + "/" + r["id"].get<std::string>() + "/resolve";
    EXPECT_TRUE(IsError(post(port(), ben.token, resolve_url(chat_id, r["id"]), {{"action", "none"}}), 403, "forbidden"))
        << "the chat's route: a direct chat has no moderators";
    EXPECT_TRUE(IsError(post(port(), ana.token, admin_resolve, {{"action", "none"}}), 403, "forbidden"))
        << "not an operator";
    EXPECT_TRUE(IsError(post(port(), ben.token, admin_resolve, {{"action", "none"}}), 403, "forbidden"))
        << "not an operator";

    auto ws_op = ws_connect(port(), op.token);
    auto ws_ben = ws_connect(port(), ben.token);
    const auto resolved = post(port(), op.token, admin_resolve, {{"action", "message_deleted"}});
    ASSERT_TRUE(IsJson(resolved, 200));
    EXPECT_TRUE(IsReportModel(resolved.json()));
    EXPECT_EQ(resolved.json()["status"], "resolved");
    EXPECT_EQ(resolved.json()["action"], "message_deleted");
    EXPECT_EQ(resolved.json()["resolved_by"], op.id);
    const auto event =
        wait_for(*ws_op, "report.resolved", [&](const json& f) { return f["data"]["report"]["id"] == r["id"]; });
    ASSERT_TRUE(event.has_value()) << "the operator's own connections hear of it";
    EXPECT_EQ((*event)["data"]["report"], resolved.json());
    const auto marker = send_text(port(), ana, chat_id, "marker");
    EXPECT_TRUE(
        NoFrameBefore(*ws_ben, frame_of("report.resolved"), frame_of("message.new", about_message(marker["id"]))));

    EXPECT_TRUE(IsError(post(port(), op.token, admin_resolve, {{"action", "none"}}), 409, "conflict"))
        << "resolved already";
    const auto queue = operator_queue(port(), op);
    EXPECT_EQ(std::count(queue.begin(), queue.end(), r["id"].get<std::string>()), 0) << "no longer open";
    EXPECT_TRUE(IsReportModel(
        expect_json(post(port(), ana.token, reports_url(chat_id, message_id), {{"reason", "abuse"}}), 201, "report")))
        << "reported again once resolved";
}

// The operators' resolution of a group's report is told to the group's handlers and to the
// operator, and answers every malformed request as the chat's route does.
TEST_F(ReportsTest, OperatorsResolveAGroupsReportAndItsHandlersHearOfIt) {
    auto g = make_group(port());
    auto op = register_user(port(), "rp");
    make_operator(op);
    const auto r = report(port(), g.reporter, g);
    const auto url = admin_reports_url + "/" + r["id"].get<std::string>() + "/resolve";
    for (const json& body : {json::object(), json{{"action", "burn"}}, json{{"action", nullptr}}}) {
        const auto bad = post(port(), op.token, url, body);
        EXPECT_TRUE(IsError(bad, 400, "bad_request")) << body.dump();
        EXPECT_EQ(bad.json()["error"]["details"]["field"], "action") << body.dump();
    }
    const auto extra = post(port(), op.token, url, {{"action", "none"}, {"extra", 1}});
    EXPECT_TRUE(IsError(extra, 400, "bad_request"));
    EXPECT_EQ(extra.json()["error"]["details"]["field"], "extra");
    for (const std::string& id : {random_uuid(), std::string("not-a-uuid")})
        EXPECT_TRUE(IsError(post(port(), op.token, admin_reports_url + "/" + id + "/resolve", {{"action", "none"}}),
                            404, "not_found"))
            << id;
    EXPECT_TRUE(IsError(post(port(), g.owner.token, url, {{"action", "none"}}), 403, "forbidden"))
        << "the chat's owner is no operator";

    auto ws_owner = ws_connect(port(), g.owner.token);
    auto ws_moderator = ws_connect(port(), g.moderator.token);
    auto ws_op = ws_connect(port(), op.token);
    auto ws_reporter = ws_connect(port(), g.reporter.token);
    const auto resolved = post(port(), op.token, url, {{"action", "member_banned"}});
    ASSERT_TRUE(IsJson(resolved, 200));
    EXPECT_EQ(resolved.json()["resolved_by"], op.id);
    for (auto* ws : {ws_owner.get(), ws_moderator.get(), ws_op.get()}) {
        const auto event =
            wait_for(*ws, "report.resolved", [&](const json& f) { return f["data"]["report"]["id"] == r["id"]; });
        ASSERT_TRUE(event.has_value());
        EXPECT_EQ((*event)["data"]["report"], resolved.json());
    }
    const auto marker = send_text(port(), g.owner, g.chat_id, "marker");
    EXPECT_TRUE(
        NoFrameBefore(*ws_reporter, frame_of("report.resolved"), frame_of("message.new", about_message(marker["id"]))));
    EXPECT_TRUE(
        IsError(post(port(), g.admin.token, resolve_url(g.chat_id, r["id"]), {{"action", "none"}}), 409, "conflict"))
        << "one resolution for both routes";
}

// Nobody judges a report of their own message: a moderator whose message is reported neither
// hears of it nor lists it nor resolves it (own_message); the other handlers do.
TEST_F(ReportsTest, TheReportedSenderNeitherHearsListsNorResolvesTheReport) {
    auto g = make_group(port());
    const auto own = send_text(port(), g.moderator, g.chat_id, "moderator's message").at("id").get<std::string>();
    auto ws_moderator = ws_connect(port(), g.moderator.token);
    auto ws_owner = ws_connect(port(), g.owner.token);
    const auto r =
        expect_json(post(port(), g.reporter.token, reports_url(g.chat_id, own), {{"reason", "abuse"}}), 201, "report");
    const auto other = report(port(), g.reporter, g);  // of the member's message
    ASSERT_TRUE(wait_for(*ws_owner, "report.created", [&](const json& f) {
                    return f["data"]["report"]["id"] == r["id"];
                }).has_value());
    const auto marker = send_text(port(), g.owner, g.chat_id, "marker");
    const auto frames = frames_until(*ws_moderator, frame_of("message.new", about_message(marker["id"])));
    ASSERT_TRUE(frames.has_value());
    bool heard_other = false;
    for (const auto& frame : *frames) {
        if (frame["type"] == "report.created") {
            EXPECT_NE(frame["data"]["report"]["id"], r["id"]) << "of their own message";
            heard_other = heard_other || frame["data"]["report"]["id"] == other["id"];
        }
    }
    EXPECT_TRUE(heard_other) << "the member's message's report";

    const auto listed = [&](const TestUser& u) {
        const auto page = expect_json(get(port(), u.token, chat_reports_url(g.chat_id) + "?limit=100"), 200, "page");
        std::set<std::string> ids;
        for (const auto& item : page["reports"]) ids.insert(item["id"].get<std::string>());
        return ids;
    };
    EXPECT_EQ(listed(g.moderator).count(r["id"].get<std::string>()), 0u);
    EXPECT_EQ(listed(g.moderator).count(other["id"].get<std::string>()), 1u);
    EXPECT_EQ(listed(g.owner).count(r["id"].get<std::string>()), 1u);

    const auto refused = post(port(), g.moderator.token, resolve_url(g.chat_id, r["id"]), {{"action", "none"}});
    EXPECT_TRUE(IsError(refused, 403, "forbidden"));
    EXPECT_EQ(refused.json()["error"]["details"]["reason"], "own_message");

    const auto resolved = post(port(), g.owner.token, resolve_url(g.chat_id, r["id"]), {{"action", "none"}});
    ASSERT_TRUE(IsJson(resolved, 200));
    ASSERT_TRUE(wait_for(*ws_owner, "report.resolved", [&](const json& f) {
                    return f["data"]["report"]["id"] == r["id"];
                }).has_value());
    const auto marker2 = send_text(port(), g.owner, g.chat_id, "marker");
    EXPECT_TRUE(NoFrameBefore(*ws_moderator, frame_of("report.resolved"),
                              frame_of("message.new", about_message(marker2["id"]))));
}

}  // namespace
}  // namespace confab::test
