// Server-wide behaviour: routing errors, headers, body limits, raw HTTP robustness,
// graceful shutdown and running several processes against one database.

#include <algorithm>
#include <csignal>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/chat_api.hpp"
#include "support/fixture.hpp"

namespace confab::test {
namespace {

using ServerTest = ConfabTest;

std::set<std::string> allow_methods(const HttpResponse& r) {
    std::set<std::string> out;
    std::stringstream ss(r.header("allow"));
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto b = item.find_first_not_of(" \t");
        auto e = item.find_last_not_of(" \t");
        if (b != std::string::npos) out.insert(item.substr(b, e - b + 1));
    }
    return out;
}

// A valid registration body for a fresh user, padded with JSON whitespace to exactly `size` bytes.
std::string padded_register_body(std::size_t size, std::string* username = nullptr) {
    auto name = unique_username("pad");
    if (username) *username = name;
    std::string body = json({{"username", name}, {"password", kPassword}}).dump();
    if (body.size() > size) throw std::logic_error("padding target too small");
    body.insert(body.size() - 1, std::string(size - body.size(), ' '));
    return body;
}

int count_occurrences(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
    return n;
}

// ---------------------------------------------------------------------------------------------
// headers and routing errors

TEST_F(ServerTest, EveryResponseCarriesAUniqueRequestId) {
    auto u = register_user(port(), "rid");
    std::vector<HttpResponse> responses = {
        http(port(), "GET", "/healthz"),
        http(port(), "GET", "/readyz"),
        get(port(), u.token, "/api/v1/users/me"),
        http(port(), "GET", "/api/v1/users/me"),                                                            // 401
        get(port(), u.token, "/api/v1/no/such/path"),                                                       // 404
        http(port(), "GET", "/api/v1/auth/login"),                                                          // 405
        http(port(), "POST", "/api/v1/auth/register", std::string("{")),                                    // 400
        http(port(), "POST", "/api/v1/auth/logout", std::nullopt, auth_header(login(port(), u.username))),  // 204
    };
    std::set<std::string> ids;
    for (const auto& r : responses) {
        auto id = r.header("x-request-id");
        EXPECT_FALSE(id.empty()) << "no X-Request-Id on " << r.describe();
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), responses.size()) << "request ids must differ between requests";
}

TEST_F(ServerTest, JsonResponsesDeclareUtf8) {
    auto u = register_user(port(), "ct");
    EXPECT_EQ(http(port(), "GET", "/healthz").header("content-type"), kJsonContentType);
    EXPECT_EQ(get(port(), u.token, "/api/v1/users/me").header("content-type"), kJsonContentType);
    EXPECT_EQ(http(port(), "GET", "/api/v1/users/me").header("content-type"), kJsonContentType);
    EXPECT_EQ(get(port(), u.token, "/api/v1/nope").header("content-type"), kJsonContentType);
}

// A browser refuses a preflight whose Access-Control-Allow-Origin has more than one value, and
// with it every cross-origin request that sends Authorization.
TEST_F(ServerTest, CorsHeadersAppearOnceOnPreflightsAndAnswers) {
    const std::string origin = "http://app.example";
    const auto preflight = http(port(), "OPTIONS", "/api/v1/chats", std::nullopt,
                                {{"Origin", origin},
                                 {"Access-Control-Request-Method", "POST"},
                                 {"Access-Control-Request-Headers", "authorization, content-type"}});
    EXPECT_EQ(preflight.status, 204);
    EXPECT_FALSE(preflight.has_header("Content-Length")) << "RFC 9110 8.6: none on a 204";
    EXPECT_EQ(preflight.header("Access-Control-Allow-Origin"), origin) << "repeated headers are joined with \", \"";
    EXPECT_EQ(preflight.header("Vary"), "Origin");
    EXPECT_NE(preflight.header("Access-Control-Allow-Methods").find("POST"), std::string::npos);
    EXPECT_NE(preflight.header("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);

    const auto user = register_user(port(), "co");
    const auto answer = http(port(), "GET", "/api/v1/users/me", std::nullopt,
                             {{"Origin", origin}, {"Authorization", "Bearer " + user.token}});
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(answer.header("Access-Control-Allow-Origin"), origin);
    EXPECT_EQ(answer.header("Vary"), "Origin");
    EXPECT_NE(answer.header("Access-Control-Expose-Headers").find("X-Request-Id"), std::string::npos);
}

TEST_F(ServerTest, UnknownPathsAre404) {
    auto u = register_user(port(), "nf");
    for (const char* target :
         {"/api/v1/nope", "/api/v1/users/me/extra", "/api/v2/users/me", "/api/v1", "/api/v1/", "/api/v1/auth"}) {
        EXPECT_TRUE(IsError(get(port(), u.token, target), 404, "not_found")) << target;
    }
    EXPECT_TRUE(IsError(post(port(), u.token, "/api/v1/nope", json::object()), 404, "not_found"));
    EXPECT_TRUE(IsError(http(port(), "GET", "/nope"), 404, "not_found"));
    EXPECT_TRUE(IsError(http(port(), "GET", "/"), 404, "not_found"));
}

TEST_F(ServerTest, WrongMethodIs405WithAllowHeader) {
    auto u = register_user(port(), "ma");
    struct Case {
        std::string method, target;
        bool auth;
        std::string allowed;
    };
    const std::vector<Case> cases = {
        {"GET", "/api/v1/auth/login", false, "POST"},
        {"PUT", "/api/v1/auth/login", false, "POST"},
        {"GET", "/api/v1/auth/register", false, "POST"},
        {"GET", "/api/v1/auth/logout", true, "POST"},
        {"PUT", "/api/v1/users/me", true, "GET"},
        {"POST", "/api/v1/users/me", true, "GET"},
        {"PATCH", "/api/v1/users/" + u.id, true, "GET"},
        {"POST", "/healthz", false, "GET"},
        {"DELETE", "/readyz", false, "GET"},
    };
    for (const auto& c : cases) {
        std::map<std::string, std::string> headers;
        if (c.auth) headers = auth_header(u.token);
        std::optional<std::string> body;
        if (c.method != "GET" && c.method != "DELETE") body = "{}";
        auto r = http(port(), c.method, c.target, body, headers);
        EXPECT_TRUE(IsError(r, 405, "method_not_allowed")) << c.method << " " << c.target;
        auto allow = allow_methods(r);
        EXPECT_TRUE(allow.count(c.allowed)) << c.method << " " << c.target << ": Allow is \"" << r.header("allow")
                                            << "\", expected it to list " << c.allowed;
        EXPECT_FALSE(allow.count(c.method)) << c.method << " " << c.target << ": Allow lists the refused method";
    }
}

// ---------------------------------------------------------------------------------------------
// body limits

TEST_F(ServerTest, BodyOverTheDefault256KiBLimitIs413) {
    auto r = http(port(), "POST", "/api/v1/auth/register", padded_register_body(256 * 1024 + 1));
    EXPECT_TRUE(IsError(r, 413, "payload_too_large"));
    auto r2 = http(port(), "POST", "/api/v1/auth/login", std::string(1024 * 1024, ' '));
    EXPECT_TRUE(IsError(r2, 413, "payload_too_large")) << "1 MiB body";
    EXPECT_EQ(http(port(), "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, BodyOfExactly256KiBIsAccepted) {
    std::string name;
    auto r = http(port(), "POST", "/api/v1/auth/register", padded_register_body(256 * 1024, &name));
    EXPECT_TRUE(IsJson(r, 201));
    // A large body within the limit that is invalid gets the validation error, not 413.
    json big = {{"username", unique_username("bp")}, {"password", std::string(200 * 1024, 'p')}};
    EXPECT_TRUE(IsError(http(port(), "POST", "/api/v1/auth/register", big.dump()), 400, "bad_request"));
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitIs413) {
    std::string chunk(64 * 1024, ' ');
    std::ostringstream req;
    req << "POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    req << std::hex << 1 << "\r\n{\r\n";
    for (int i = 0; i < 5; ++i) req << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";
    req << "1\r\n}\r\n0\r\n\r\n";
    auto out = raw_exchange(port(), req.str(), 5s);
    EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out.substr(0, 500);
    EXPECT_NE(out.find("payload_too_large"), std::string::npos) << out.substr(0, 500);
}

TEST(ServerLimitTest, ConfiguredBodyLimitIsEnforced) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         ServerProcess::Options{{{"CONFAB_LIMIT_BODY_BYTES", "2048"}}, true, 30s, "2 KiB confab"});
    auto over = http(server.port(), "POST", "/api/v1/auth/register", padded_register_body(2049));
    EXPECT_TRUE(IsError(over, 413, "payload_too_large"));
    auto at = http(server.port(), "POST", "/api/v1/auth/register", padded_register_body(2048));
    EXPECT_TRUE(IsJson(at, 201));
    auto under = http(server.port(), "POST", "/api/v1/auth/register", padded_register_body(100));
    EXPECT_TRUE(IsJson(under, 201));
    EXPECT_EQ(server.terminate(10s), 0);
}

// ---------------------------------------------------------------------------------------------
// raw HTTP robustness

TEST_F(ServerTest, PipelinedKeepAliveRequestsAreAnswered) {
    std::string req =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    auto out = raw_exchange(port(), req, 5s);
    EXPECT_EQ(count_occurrences(out, "HTTP/1.1 200"), 2) << out;
    EXPECT_NE(out.find("\"ok\""), std::string::npos) << out;
    EXPECT_NE(out.find("\"ready\""), std::string::npos) << out;
}

TEST_F(ServerTest, Http10RequestIsAnswered) {
    auto out = raw_exchange(port(), "GET /healthz HTTP/1.0\r\n\r\n", 5s);
    EXPECT_EQ(out.rfind("HTTP/1.", 0), 0u) << out;
    EXPECT_NE(out.find(" 200 "), std::string::npos) << out;
}

TEST_F(ServerTest, AnHttp11RequestWithoutExactlyOneHostIs400AndClosesTheConnection) {
    for (const std::string& headers : {std::string(), std::string("Host: a\r\nHost: b\r\n")}) {
        const auto out = raw_exchange(port(),
                                      "GET /healthz HTTP/1.1\r\n" + headers +
                                          "\r\nGET /healthz HTTP/1.1\r\n"
                                          "Host: x\r\n\r\n",
                                      5s);
        EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
        EXPECT_NE(out.find("\"details\":{\"field\":\"Host\"}"), std::string::npos) << out;
        EXPECT_EQ(count_occurrences(out, "Server: confab"), 1)
            << "the pipelined request after it is not answered: " << out;
    }
    EXPECT_EQ(raw_exchange(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5s)
                  .rfind("HTTP/1.1 200 ", 0),
              0u);
}

TEST_F(ServerTest, ATransferEncodingNotEndingInChunkedIs400AndClosesTheConnection) {
    // Read by its Content-Length, or as bodiless, the smuggled request after it was answered.
    const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const std::string& framing :
         {"Transfer-Encoding: gzip\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n",
          std::string("Transfer-Encoding: chunked, gzip\r\n"), std::string("Transfer-Encoding: identity\r\n")}) {
        const auto out =
            raw_exchange(port(), "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n" + smuggled, 5s);
        EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << framing << out;
        EXPECT_NE(out.find("\"details\":{\"field\":\"Transfer-Encoding\"}"), std::string::npos) << out;
        EXPECT_EQ(count_occurrences(out, "Server: confab"), 1) << "the request in the body is not answered: " << out;
    }
}

TEST_F(ServerTest, MalformedRequestsGetA4xxOrACloseAndTheServerSurvives) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"garbage request line", "GARBAGE\r\n\r\n"},
        {"binary noise", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)},
        {"missing version", "GET /healthz\r\n\r\n"},
        {"bad header line", "GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n"},
        {"bad content-length", "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"},
        {"negative content-length", "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}"},
        {"bad chunk size",
         "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "zz\r\n{}\r\n0\r\n\r\n"},
        {"huge header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(128 * 1024, 'a') + "\r\n\r\n"},
        {"many headers",
         [] {
             std::string s = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
             for (int i = 0; i < 2000; ++i) s += "X-H" + std::to_string(i) + ": v\r\n";
             return s + "\r\n";
         }()},
    };
    for (const auto& [what, bytes] : cases) {
        auto out = raw_exchange(port(), bytes, 3s);
        if (!out.empty()) {
            ASSERT_GE(out.size(), 12u) << what << ": " << out.substr(0, 300);
            EXPECT_EQ(out.rfind("HTTP/1.", 0), 0u) << what << ": " << out.substr(0, 300);
            EXPECT_EQ(out[9], '4') << what << ": expected a 4xx, got " << out.substr(0, 300);
        }
        auto health = http(port(), "GET", "/healthz");
        ASSERT_EQ(health.status, 200) << "after " << what;
    }
    EXPECT_TRUE(server().running());
}

TEST_F(ServerTest, DeeplyNestedJsonIsRejectedWithoutCrashing) {
    for (const std::string& body :
         {std::string(200 * 1024, '['), std::string(100 * 1024, '[') + std::string(100 * 1024, ']'), [] {
              std::string b;
              for (int i = 0; i < 40000; ++i) b += "{\"a\":";
              return b + "1" + std::string(40000, '}');
          }()}) {
        auto r = http(port(), "POST", "/api/v1/auth/register", body);
        EXPECT_TRUE(IsError(r, 400, "bad_request"))
            << "body of " << body.size() << " bytes starting " << body.substr(0, 10);
        ASSERT_EQ(http(port(), "GET", "/healthz").status, 200) << "server died";
    }
    auto u = register_user(port(), "nest");
    auto ws = ws_connect(port(), u.token);
    ws->send_text(std::string(30000, '[') + std::string(30000, ']'));
    EXPECT_TRUE(IsWsError(ws->receive(), "bad_request"));
    ws->send_text("{\"type\":\"ping\",\"id\":\"n\",\"data\":" + std::string(20000, '[') + std::string(20000, ']') +
                  "}");
    auto reply = ws->receive();
    ASSERT_TRUE(reply.has_value()) << "closed with " << ws->close_code().value_or(-1);
    EXPECT_EQ((*reply)["id"], "n") << reply->dump();
    EXPECT_TRUE(server().running());
}

TEST_F(ServerTest, SlowlorisConnectionDoesNotBlockOthers) {
    // A connection that sends half a request and stalls must not hold up anyone else.
    std::thread staller([&] {
        try {
            raw_exchange(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n", 3s);
        } catch (const std::exception&) {
        }
    });
    // Counted from its accept: with this metrics request's own connection, two are open.
    ASSERT_TRUE(eventually([&] { return open_connections(port(), "http") >= 2; })) << "the staller never connected";
    // Held up behind the staller, the requests would wait for its 3 s to run out: the contract
    // is about time, so the bound is.
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(http(port(), "GET", "/healthz").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    staller.join();
}

TEST_F(ServerTest, ConcurrentRequestsAreAllAnswered) {
    auto u = register_user(port(), "cc");
    std::atomic<int> ok{0}, bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                try {
                    (get(port(), u.token, "/api/v1/users/me").status == 200 ? ok : bad)++;
                } catch (...) {
                    bad++;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 200);
    EXPECT_EQ(bad.load(), 0);
}

TEST_F(ServerTest, LogsNeverContainTokensPasswordsOrQueryStrings) {
    std::string password = "pw-" + random_alnum(16);
    auto name = unique_username("lg");
    auto reg = http(port(), "POST", "/api/v1/auth/register", json({{"username", name}, {"password", password}}).dump());
    ASSERT_TRUE(IsJson(reg, 201));
    std::string token = reg.json()["token"];
    auto second = login(port(), name, password);
    auto ws = WsClient::connect(port(), "/api/v1/ws?access_token=" + url_encode(token));
    ASSERT_TRUE(ws.ok()) << ws.status << " " << ws.body;
    ASSERT_EQ(ws.client->request("ping")["type"], "ack");
    EXPECT_EQ(get(port(), second, "/api/v1/users?query=" + name + "&limit=5").status, 200);
    EXPECT_EQ(http(port(), "POST", "/api/v1/auth/logout", std::nullopt, auth_header(second)).status, 204);
    ws.client->close();
    // A failed login with a wrong password must not log the attempted password either.
    std::string wrong = "wrong-" + random_alnum(16);
    const std::string last_request = "lg-" + random_alnum(12);
    EXPECT_EQ(http(port(), "POST", "/api/v1/auth/login", json({{"username", name}, {"password", wrong}}).dump(),
                   {{"X-Request-Id", last_request}})
                  .status,
              401);
    // The log is written in order: once the last request's line is in, every earlier one is.
    const auto logged = [&] { return server().log_contents().find("request_id=" + last_request) != std::string::npos; };
    ASSERT_TRUE(eventually(logged)) << "the last request was never logged";

    auto log = server().log_contents();
    ASSERT_FALSE(log.empty());
    for (const auto& [what, secret] : std::vector<std::pair<std::string, std::string>>{
             {"password", password}, {"wrong password", wrong}, {"token", token}, {"second token", second}}) {
        EXPECT_EQ(log.find(secret), std::string::npos) << "the server log contains a " << what;
    }
    EXPECT_EQ(log.find("access_token"), std::string::npos) << "query strings are never written to logs";
    EXPECT_EQ(log.find("query=" + name), std::string::npos) << "query strings are never written to logs";
}

// ---------------------------------------------------------------------------------------------
// process lifecycle

TEST(ServerLifecycleTest, SigtermClosesWebSocketsWith1001AndExitsZero) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(), ServerProcess::Options{{}, true, 30s, "sigterm confab"});
    auto u = register_user(server.port(), "st");
    auto ws1 = ws_connect(server.port(), u.token);
    auto ws2 = ws_connect(server.port(), u.token);
    ASSERT_EQ(ws1->request("ping")["type"], "ack");
    ASSERT_EQ(ws2->request("ping")["type"], "ack");

    auto t0 = std::chrono::steady_clock::now();
    int status = server.terminate(10s);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_FALSE(server.forced_kill());
    EXPECT_EQ(status, 0) << "exit status after SIGTERM";
    EXPECT_LT(elapsed, 10s);
    EXPECT_EQ(ws1->wait_for_close(2s), std::optional<int>(1001));
    EXPECT_EQ(ws2->wait_for_close(2s), std::optional<int>(1001));
    EXPECT_THROW(http(server.port(), "GET", "/healthz", std::nullopt, {}, 2s), std::runtime_error)
        << "nothing listens after exit";
}

TEST(ServerLifecycleTest, SigtermLetsAnInFlightRequestFinish) {
    CONFAB_REQUIRE_DATABASE();
    // Expensive Argon2id (~1 s per hash) keeps a registration in flight long enough. The grace
    // is long because on a loaded machine (a ThreadSanitizer run beside the cluster tests) that
    // hash took over ten seconds; on a quiet one the server still exits about a second in.
    ServerProcess server(shared_database().url(), ServerProcess::Options{{{"CONFAB_PASSWORD_HASH_OPS", "10"},
                                                                          {"CONFAB_PASSWORD_HASH_MEM_KIB", "196608"},
                                                                          {"CONFAB_SHUTDOWN_GRACE_SECONDS", "60"}},
                                                                         true,
                                                                         30s,
                                                                         "in-flight confab"});
    auto name = unique_username("if");
    std::optional<HttpResponse> response;
    std::string error;
    std::thread client([&] {
        try {
            response = http(server.port(), "POST", "/api/v1/auth/register",
                            json({{"username", name}, {"password", kPassword}}).dump(), {}, 60s);
        } catch (const std::exception& e) {
            error = e.what();
        }
    });
    // The registration is being answered (with this metrics request: two), hashing for about
    // a second; an open connection alone could still hold it unread.
    ASSERT_TRUE(eventually([&] { return requests_in_flight(server.port()) >= 2; }))
        << "the registration never reached the server";
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
    ASSERT_TRUE(eventually([&] { return server.log_contents().find("shutting down") != std::string::npos; }))
        << "SIGTERM was not noticed";
    // Still finishing the registration, but no longer accepting new work.
    if (server.running()) {
        try {
            auto late = http(server.port(), "GET", "/api/v1/users/me", std::nullopt, {}, 2s);
            EXPECT_TRUE(IsError(late, 503, "unavailable")) << "a request arriving after SIGTERM";
        } catch (const std::exception&) {
            // Connection refused: the listener is closed. Also fine.
        }
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    auto exit_status =
        server.wait_exit(std::max(std::chrono::milliseconds(60s) - elapsed, std::chrono::milliseconds(0)));
    if (!exit_status) {
        ADD_FAILURE() << "did not exit within the 60 s grace of SIGTERM";
        exit_status = server.terminate(1s);
    }
    int status = *exit_status;
    client.join();
    EXPECT_EQ(status, 0);
    ASSERT_TRUE(response.has_value()) << "the in-flight request was dropped: " << error;
    EXPECT_TRUE(IsJson(*response, 201)) << "the in-flight request must complete";
    // It was committed: another server can log the user in.
    auto& shared = shared_server();
    EXPECT_FALSE(login(shared.port(), name).empty());
}

// A statement still running after the grace is cancelled: here a send waits on a lock that a
// transaction of the test holds, which would otherwise hold the exit for as long as the lock.
TEST(ServerLifecycleTest, SigtermCancelsAStatementThatWouldHoldTheExit) {
    CONFAB_REQUIRE_DATABASE();
    TestDatabase database;  // its own: the test locks a table of it
    ServerProcess server(database.url(), ServerProcess::Options{
                                             {{"CONFAB_SHUTDOWN_GRACE_SECONDS", "2"}}, true, 30s, "cancelling confab"});
    const auto owner = register_user(server.port(), "cq");
    const std::string chat_id = create_group(server.port(), owner)["id"];
    pqxx::connection holder(database.url());
    pqxx::work lock(holder);
    lock.exec0("lock table messages in access exclusive mode");
    std::optional<HttpResponse> answer;
    std::thread sender([&] {
        try {
            answer = send_message(server.port(), owner, chat_id, json{{"type", "text"}, {"content", "held"}});
        } catch (const std::exception&) {
            // The server closed the connection unanswered: also fine.
        }
    });
    const auto waiting_for_the_lock = [&] {
        return database.query_value(
                   "select count(*) from pg_locks where relation = 'messages'::regclass and "
                   "not granted") != "0";
    };
    EXPECT_TRUE(eventually(waiting_for_the_lock)) << "nothing waited for the lock";
    EXPECT_EQ(::kill(server.pid(), SIGTERM), 0);
    const auto exit_status = server.wait_exit(30s);
    lock.abort();
    sender.join();

    ASSERT_TRUE(exit_status.has_value()) << "the exit waited for a statement held by a lock";
    EXPECT_EQ(*exit_status, 0);
    if (answer) EXPECT_NE(answer->status, 201) << "a send cancelled was acknowledged";
    EXPECT_EQ(database.query_value("select count(*) from messages where content = 'held'"), "0");
}

TEST(ServerTimeoutTest, IdleConnectionsAreClosedButPingedWebSocketsStayOpen) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(), ServerProcess::Options{{{"CONFAB_IDLE_TIMEOUT_SECONDS", "2"},
                                                                          {"CONFAB_WS_PING_INTERVAL_SECONDS", "1"}},
                                                                         true,
                                                                         30s,
                                                                         "short-timeout confab"});
    auto u = register_user(server.port(), "to");
    auto ws = ws_connect(server.port(), u.token);
    ASSERT_EQ(ws->request("ping")["type"], "ack");

    const auto websocket_quiet_since = std::chrono::steady_clock::now();

    // A connection that never sends anything, and one that stalls mid-request, are dropped. The
    // idle timeout is a time, so the bounds are times: after it (not before), and well in time.
    for (const std::string& bytes : {std::string(), std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")}) {
        auto t0 = std::chrono::steady_clock::now();
        auto out = raw_exchange(server.port(), bytes, 10s);
        auto elapsed = std::chrono::steady_clock::now() - t0;
        EXPECT_LT(elapsed, 6s) << "idle connection not closed (sent " << bytes.size() << " bytes)";
        EXPECT_GE(elapsed, 1s) << "closed too early (sent " << bytes.size() << " bytes): " << out;
    }

    // Meanwhile the WebSocket has been quiet for longer than the idle timeout, but it answered
    // the server's pings (Beast does that for us), so it is still open. The two closes above
    // took about the idle timeout each; this waits only if they were quicker.
    std::this_thread::sleep_until(websocket_quiet_since + 3s);
    EXPECT_TRUE(ws->is_open()) << "closed with " << ws->close_code().value_or(-1);
    EXPECT_EQ(ws->request("ping")["type"], "ack");
    EXPECT_EQ(server.terminate(10s), 0);
}

TEST(ServerLifecycleTest, SigtermOnAnIdleServerExitsZeroQuickly) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(), ServerProcess::Options{{}, true, 30s, "idle confab"});
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(server.terminate(10s), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "no connections: nothing to wait for";
}

TEST(ServerLifecycleTest, SecondServerOnAnAlreadyMigratedDatabaseWorks) {
    CONFAB_REQUIRE_DATABASE();
    auto& db = shared_database();
    auto& first = shared_server();  // has migrated the database
    auto before = register_user(first.port(), "rt");

    ServerProcess second(db.url(), ServerProcess::Options{{}, true, 30s, "second confab"});
    auto ready = http(second.port(), "GET", "/readyz");
    EXPECT_TRUE(IsJson(ready, 200));
    // Both processes see the same data.
    EXPECT_EQ(get(second.port(), before.token, "/api/v1/users/me").status, 200);
    auto after = register_user(second.port(), "rt");
    EXPECT_EQ(get(first.port(), after.token, "/api/v1/users/" + before.id).status, 200);
    EXPECT_EQ(login(first.port(), after.username).empty(), false);
    EXPECT_EQ(second.terminate(10s), 0);

    // And a third start after the second stopped, too.
    ServerProcess third(db.url(), ServerProcess::Options{{}, true, 30s, "third confab"});
    EXPECT_EQ(get(third.port(), after.token, "/api/v1/users/me").status, 200);
    EXPECT_EQ(third.terminate(10s), 0);
}

TEST(ServerLifecycleTest, ServersStartingTogetherOnAFreshDatabaseAllBecomeReady) {
    CONFAB_REQUIRE_DATABASE();
    TestDatabase fresh;
    // Three at once (not just two) to make overlapping migration runs likely.
    ServerProcess a(fresh.url(), ServerProcess::Options{{}, false, 30s, "concurrent confab A"});
    ServerProcess b(fresh.url(), ServerProcess::Options{{}, false, 30s, "concurrent confab B"});
    ServerProcess c(fresh.url(), ServerProcess::Options{{}, false, 30s, "concurrent confab C"});
    ASSERT_NO_THROW(a.wait_healthy(30s));
    ASSERT_NO_THROW(b.wait_healthy(30s));
    ASSERT_NO_THROW(c.wait_healthy(30s));
    // Healthy is "process up"; ready means migrated. All must get there.
    for (auto* s : {&a, &b, &c}) {
        HttpResponse ready;
        eventually(
            [&] {
                ready = http(s->port(), "GET", "/readyz");
                return ready.status == 200;
            },
            15s);
        EXPECT_TRUE(IsJson(ready, 200)) << "server on port " << s->port();
    }
    auto u = register_user(a.port(), "cs");
    auto token = login(b.port(), u.username);
    EXPECT_EQ(get(b.port(), token, "/api/v1/users/" + u.id).status, 200);
    EXPECT_EQ(get(c.port(), token, "/api/v1/users/me").status, 200);
    EXPECT_EQ(a.terminate(10s), 0);
    EXPECT_EQ(b.terminate(10s), 0);
    EXPECT_EQ(c.terminate(10s), 0);
    EXPECT_TRUE(fresh.query_value("SELECT 1").has_value());
}

TEST(ServerLifecycleTest, DataSurvivesARestart) {
    CONFAB_REQUIRE_DATABASE();
    TestDatabase fresh;
    TestUser u;
    {
        ServerProcess s1(fresh.url(), ServerProcess::Options{{}, true, 30s, "restart confab 1"});
        u = register_user(s1.port(), "rs");
        EXPECT_EQ(s1.terminate(10s), 0);
    }
    ServerProcess s2(fresh.url(), ServerProcess::Options{{}, true, 30s, "restart confab 2"});
    auto me = get(s2.port(), u.token, "/api/v1/users/me");
    ASSERT_TRUE(IsJson(me, 200)) << "tokens survive a restart";
    EXPECT_EQ(me.json(), u.user);
    EXPECT_FALSE(login(s2.port(), u.username).empty());
    EXPECT_EQ(s2.terminate(10s), 0);
}

}  // namespace
}  // namespace confab::test
