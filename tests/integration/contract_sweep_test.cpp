// Every operation docs/openapi.yaml documents, called the ways a careless or hostile client
// calls it: without credentials, with path parameters that are no ids or the ids of nothing,
// and with a JSON body of the wrong kind; and every client event docs/asyncapi.yaml
// documents, with data of the wrong kind. None may fail the server (5xx) or answer outside
// the one error shape, and the WebSocket stays open; ctest's api_contract then holds each
// answer to the documents (tools/api-docs/contract.mjs). The specific answers of each operation are
// the other suites' business: this one is the net under all of them.

#include "support/chat_api.hpp"
#include "support/api_documents.hpp"
#include "support/source_tree.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace confab::test {
namespace {

std::vector<DocumentedOperation> documented() {
    std::istringstream yaml(source_file("docs/openapi.yaml"));
    std::vector<std::string> duplicates;
    auto operations = documented_operations(yaml, duplicates);
    EXPECT_TRUE(duplicates.empty());
    return operations;
}

// The path with every `{parameter}` replaced by `value`.
std::string with_parameters(const std::string& path, const std::string& value) {
    static const std::regex parameter(R"(\{[^}]+\})");
    return std::regex_replace(path, parameter, value);
}

bool has_parameters(const std::string& path) { return path.find('{') != std::string::npos; }

// The one error shape whenever the answer is no success, and never a server failure.
::testing::AssertionResult AnsweredWithoutFailing(const HttpResponse& r) {
    if (r.status >= 500) return ::testing::AssertionFailure() << "the server failed: " << r.describe();
    if (r.status < 400) return ::testing::AssertionSuccess();
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.contains("error") || !body["error"].contains("code") ||
        !body["error"].contains("message"))
        return ::testing::AssertionFailure() << "not the error shape: " << r.describe();
    return ::testing::AssertionSuccess();
}

// The sweep makes hundreds of requests from one user and one address, which the limits would
// rightly refuse.
using ContractSweepTest = OwnServerSuite<unlimited>;

TEST_F(ContractSweepTest, EveryOperationThatNeedsCredentialsRefusesARequestWithout) {
    const auto operations = documented();
    ASSERT_GT(operations.size(), 100U);
    for (const auto& operation : operations) {
        // The metrics answer loopback clients without a token unless one is configured, and
        // the WebSocket path wants an upgrade (both documented on their operations).
        if (operation.open || operation.path == "/metrics" || operation.path == "/api/v1/ws") continue;
        const auto target = with_parameters(operation.path, random_uuid());
        const auto r = http(port(), upper_cased(operation.method), target,
                            operation.json_body ? "{}" : std::optional<std::string>());
        EXPECT_TRUE(IsError(r, 401, "unauthorized")) << operation.method << " " << target;
    }
}

TEST_F(ContractSweepTest, PathParametersThatAreNoIdsOrTheIdsOfNothingAreRefused) {
    const auto user = register_user(port(), "sweep");
    for (const auto& operation : documented()) {
        if (!has_parameters(operation.path)) continue;
        for (const auto& value : {std::string("not-an-id"), random_uuid(), std::string("%00"), std::string(300, '9')}) {
            const auto target = with_parameters(operation.path, value);
            const auto r = http(port(), upper_cased(operation.method), target,
                                operation.json_body ? "{}" : std::optional<std::string>(), auth_header(user.token));
            EXPECT_TRUE(AnsweredWithoutFailing(r)) << operation.method << " " << target;
            EXPECT_GE(r.status, 400) << operation.method << " " << target << ": " << r.describe();
        }
    }
    EXPECT_EQ(get(port(), user.token, "/api/v1/users/me").status, 200) << "the sweep's user is untouched";
}

// The path with the ids of what `user` has where the parameter names them (the chat, the
// message, the user), else ids of nothing: a body of the wrong kind must be refused where
// the operation would act as much as where it finds nothing.
std::string with_own_ids(const std::string& path, const TestUser& user, const std::string& chat_id,
                         const std::string& message_id) {
    std::string target = path;
    const auto put = [&](const std::string& parameter, const std::string& value) {
        for (auto at = target.find(parameter); at != std::string::npos; at = target.find(parameter))
            target.replace(at, parameter.size(), value);
    };
    put(path.starts_with("/api/v1/messages/") ? "{id}" : "{message_id}", message_id);
    if (path.starts_with("/api/v1/chats/")) put("{id}", chat_id);
    put("{user_id}", user.id);
    return with_parameters(target, random_uuid());
}

TEST_F(ContractSweepTest, JsonBodiesOfTheWrongKindAreRefused) {
    const auto user = register_user(port(), "sweep");
    const auto chat_id = create_group(port(), user)["id"].get<std::string>();
    const auto message = send_text(port(), user, chat_id, "kept as it is");
    for (const auto& operation : documented()) {
        if (!operation.json_body) continue;
        for (const auto& target : {with_parameters(operation.path, random_uuid()),
                                   with_own_ids(operation.path, user, chat_id, message["id"].get<std::string>())}) {
            for (const auto& body : {std::string("not json"), std::string("[]"), std::string("{\"type\":"),
                                     std::string("\"a string\""), std::string("{\"id\":{\"$gt\":\"\"}}")}) {
                const auto r = http(port(), upper_cased(operation.method), target, body, auth_header(user.token));
                EXPECT_TRUE(AnsweredWithoutFailing(r)) << operation.method << " " << target << " " << body;
                EXPECT_GE(r.status, 400) << operation.method << " " << target << " " << body << ": " << r.describe();
            }
        }
    }
    EXPECT_EQ(get(port(), user.token, "/api/v1/users/me").status, 200) << "the sweep's user is untouched";
    const auto page = get(port(), user.token, chat_url(chat_id) + "/messages");
    ASSERT_EQ(page.status, 200) << page.describe();
    EXPECT_EQ(page.json()["messages"][0]["content"], "kept as it is");
    EXPECT_FALSE(page.json()["messages"][0]["is_edited"].get<bool>());
}

TEST_F(ContractSweepTest, EveryClientEventWithDataOfTheWrongKindGetsAnErrorAndTheConnectionStays) {
    std::istringstream yaml(source_file("docs/asyncapi.yaml"));
    const auto events = documented_client_events(yaml);
    ASSERT_GT(events.size(), 20U);
    const auto user = register_user(port(), "sweep");
    auto ws = ws_connect(port(), user.token);
    const std::vector<json> wrong_data = {json(), json::array(), json("text"),
                                          json({{"chat_id", "not-an-id"}, {"message_id", 5}, {"call_id", true}}),
                                          json({{"chat_id", random_uuid()},
                                                {"message_id", random_uuid()},
                                                {"call_id", random_uuid()},
                                                {"emoji", "x"},
                                                {"content", "x"}})};
    int sent = 0;
    for (const auto& type : events) {
        for (const auto& data : wrong_data) {
            const auto id = "sweep-" + std::to_string(++sent);
            json frame = {{"type", type}, {"id", id}};
            if (!data.is_null()) frame["data"] = data;
            ws->send_json(frame);
            const auto reply =
                ws->receive_matching([&](const json& f) { return f.contains("id") && f["id"] == id; }, 10s);
            ASSERT_TRUE(reply) << "no reply to " << frame.dump();
            // A ping is answered whatever it carries (asyncapi.yaml, ping).
            if (type != "ping") EXPECT_EQ((*reply)["type"], "error") << frame.dump() << " -> " << reply->dump();
        }
    }
    EXPECT_TRUE(ws->is_open()) << "closed with " << ws->close_code().value_or(0) << " " << ws->close_reason();
    EXPECT_EQ(get(port(), user.token, "/api/v1/users/me").status, 200);
}

}  // namespace
}  // namespace confab::test
