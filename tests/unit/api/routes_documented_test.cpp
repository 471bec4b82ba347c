// Every route the real router knows is in docs/openapi.yaml, and every documented
// operation is a route (no stale docs). The document's own validity is checked by
// tools/api-docs/validate.mjs (ctest api_documents); this test only reads its `paths:`.

#include "confab/api/application.hpp"
#include "support/source_tree.hpp"
#include "support/api_documents.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>

namespace confab::api {
namespace {

// (method in lower case, path pattern), e.g. ("delete", "/api/v1/chats/{id}/members/{user_id}").
using Operation = std::pair<std::string, std::string>;

std::filesystem::path openapi_path() { return test::source_dir() / "docs/openapi.yaml"; }

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::set<Operation> documented_operations(std::istream& in, std::vector<std::string>& duplicates) {
    std::set<Operation> operations;
    for (const auto& operation : test::documented_operations(in, duplicates))
        operations.emplace(operation.method, operation.path);
    return operations;
}

std::set<Operation> documented_operations() {
    std::ifstream in(openapi_path());
    EXPECT_TRUE(in) << "cannot read " << openapi_path();
    std::vector<std::string> duplicates;
    auto operations = documented_operations(in, duplicates);
    for (const auto& duplicate : duplicates) ADD_FAILURE() << "documented twice in openapi.yaml: " << duplicate;
    return operations;
}

// The real router, built from real services the way main.cpp's serve() does. Nothing
// here touches the database: the pool connects only when a job runs.
class RoutesDocumented : public ::testing::Test {
protected:
    static config::Config make_config() {
        config::Config config;
        config.database.url = "postgresql://nobody@127.0.0.1:1/none";
        config.database.pool_size = 1;
        config.auth.hash_threads = 1;
        config.media.dir =
            (std::filesystem::temp_directory_path() / ("confab-routes-test-" + std::to_string(std::random_device{}())))
                .string();
        return config;
    }

    void TearDown() override {
        app.stop();
        std::error_code ignored;
        std::filesystem::remove_all(config.media.dir, ignored);
    }

    std::set<Operation> routed_operations() const {
        std::set<Operation> operations;
        for (const auto& route : router.routes()) {
            if (!operations.emplace(lower(http::method_name(route.method)), route.pattern).second)
                ADD_FAILURE() << "registered twice: " << http::method_name(route.method) << " " << route.pattern;
        }
        return operations;
    }

    config::Config config = make_config();
    Application app{config};
    http::Router& router = app.router;
};

TEST_F(RoutesDocumented, EveryRouteIsDocumentedInOpenApi) {
    const auto routed = routed_operations();
    ASSERT_FALSE(routed.empty());
    const auto documented = documented_operations();
    for (const auto& [method, path] : routed)
        EXPECT_TRUE(documented.count({method, path}))
            << "route " << method << " " << path
            << " is not in docs/openapi.yaml (add it under paths:, exactly as registered)";
}

TEST_F(RoutesDocumented, EveryDocumentedOperationIsARoute) {
    const auto routed = routed_operations();
    const auto documented = documented_operations();
    ASSERT_FALSE(documented.empty()) << "no operations found under paths: in " << openapi_path();
    for (const auto& operation : documented) {
        if (routed.count(operation)) continue;
        ADD_FAILURE() << "docs/openapi.yaml documents " << operation.first << " " << operation.second
                      << ", which the router does not know (stale docs, or a typo in the path)";
    }
}

TEST(OpenApiDocumentReader, ReadsOnlyThePathsSection) {
    std::istringstream yaml(R"(openapi: 3.1.0
info:
  title: x
  /not/a/path:
    get:
paths:
  /healthz:
    get:
      summary: up
      responses:
        '200':
          description: ok
  '/api/v1/chats/{id}':   # quoted
    parameters: []
    get:
      responses: {}
    delete:
      responses: {}
  /healthz:
    post:
components:
  schemas:
    /nope:
      get:
)");
    std::vector<std::string> duplicates;
    const auto operations = documented_operations(yaml, duplicates);
    const std::set<Operation> expected = {{"get", "/healthz"},
                                          {"post", "/healthz"},
                                          {"get", "/api/v1/chats/{id}"},
                                          {"delete", "/api/v1/chats/{id}"}};
    EXPECT_EQ(operations, expected);
    EXPECT_EQ(duplicates, std::vector<std::string>{"/healthz"});
}

TEST(OpenApiDocumentReader, ReadsWhichOperationsTakeJsonAndWhichAreOpen) {
    std::istringstream yaml(R"(paths:
  /api/v1/auth/login:
    post:
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema: {}
      responses: {}
  /api/v1/messages/upload:
    post:
      requestBody:
        content:
          application/octet-stream:
            schema: {}
      responses:
        '201':
          content:
            application/json:
              schema: {}
    delete:
      responses: {}
)");
    std::vector<std::string> duplicates;
    const std::vector<test::DocumentedOperation> expected = {{"post", "/api/v1/auth/login", true, true},
                                                             {"post", "/api/v1/messages/upload", false, false},
                                                             {"delete", "/api/v1/messages/upload", false, false}};
    EXPECT_EQ(test::documented_operations(yaml, duplicates), expected);
    EXPECT_TRUE(duplicates.empty());
}

TEST(AsyncApiDocumentReader, ReadsTheTitlesOfTheReceiveOperations) {
    std::istringstream yaml(R"(asyncapi: 3.0.0
channels:
  realtime:
    title: not an operation
operations:
  # ----- client events
  receiveMessageSend:
    action: receive
    title: message.send
    reply:
      messages: []
  sendMessageNew:
    action: send
    title: message.new
  receivePing:
    title: 'ping'
    action: receive
components:
  messages:
    x:
      title: ack
)");
    EXPECT_EQ(test::documented_client_events(yaml), (std::vector<std::string>{"message.send", "ping"}));
}

}  // namespace
}  // namespace confab::api
