// The real push providers against fakes in this process (support/fake_http_server) that check
// each request as the real service would: Web Push (RFC 8030) with a VAPID JWT (RFC 8292) the
// fake verifies with the key the header names, and a body it decrypts with the subscription's
// private key (RFC 8291); FCM HTTP v1 with an OAuth token obtained by a service account's
// RS256 assertion the fake token endpoint verifies. Some requests fail on purpose: 5xx are
// retried, a gone subscription (410) or an unregistered FCM token (404) removes the device.
// Missing or unreadable settings turn a provider off without stopping the server.

#include "support/chat_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/push_receivers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

namespace confab::test {
namespace {

using namespace std::chrono_literals;
using Request = FakeHttpServer::Request;
using Reply = FakeHttpServer::Reply;

const std::string devices_url = "/api/v1/devices";
const std::string subject = "mailto:push-ops@example.com";
const std::string project = "confab-test";
const std::string client_email = "pusher@confab-test.iam.gserviceaccount.com";
const std::string messages_path = "/v1/projects/" + project + "/messages:send";
const std::string access_token = "ya29.fake-access-token";

std::string header_of(const Request& request, const std::string& name) {
    const auto found = request.headers.find(name);
    return found == request.headers.end() ? std::string() : found->second;
}

std::filesystem::path write_file(const std::string& name, const std::string& text) {
    auto path = std::filesystem::temp_directory_path() / ("confab-push-" + std::to_string(::getpid()) + "-" + name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The fake push services: Web Push endpoints under /wp/<name>, FCM's token endpoint at /token
// and its messages:send. Each checks the request as the real service would; fail() plans
// other answers for a Web Push endpoint, an FCM device token, or "revoked" (the next
// messages:send, whatever its device, as if the access token had been revoked).
class PushServices {
public:
    PushServices() : server_([this](const Request& request) { return answer(request); }) {}

    std::string url() const { return server_.url(); }
    const FakeHttpServer& server() const { return server_; }

    // A subscription at /wp/<name>: the keys the browser made, checked on each push.
    std::shared_ptr<WebPushSubscriber> subscribe(const std::string& name) {
        auto subscriber = std::make_shared<WebPushSubscriber>();
        const std::lock_guard lock(mutex_);
        subscribers_["/wp/" + name] = subscriber;
        return subscriber;
    }
    // The next `times` requests for `key` (a /wp/<name> target or an FCM device token) get `status`.
    void fail(const std::string& key, int status, int times) {
        const std::lock_guard lock(mutex_);
        failures_[key] = {status, times};
    }
    std::vector<std::string> web_pushes(const std::string& name) {
        const std::lock_guard lock(mutex_);
        return decrypted_["/wp/" + name];
    }
    std::vector<nlohmann::json> fcm_messages(const std::string& token) {
        const std::lock_guard lock(mutex_);
        return messages_[token];
    }
    int token_exchanges() const { return token_exchanges_; }
    const ServiceAccountKey& account_key() const { return account_key_; }
    std::vector<std::string> refusals() {
        const std::lock_guard lock(mutex_);
        return refusals_;
    }

private:
    Reply refuse(int status, const std::string& why) {
        const std::lock_guard lock(mutex_);
        refusals_.push_back(why);
        return {status, nlohmann::json{{"error", why}}.dump()};
    }
    // A planned failure for `key`, if one is left.
    std::optional<int> planned_failure(const std::string& key) {
        const std::lock_guard lock(mutex_);
        const auto found = failures_.find(key);
        if (found == failures_.end() || found->second.second == 0) return std::nullopt;
        --found->second.second;
        return found->second.first;
    }

    Reply answer(const Request& request) {
        if (request.method != "POST") return refuse(405, "not a POST");
        if (request.target.starts_with("/wp/")) return web_push(request);
        if (request.target == "/token") return token(request);
        if (request.target == messages_path) return fcm_send(request);
        return refuse(404, "no such path " + request.target);
    }

    Reply web_push(const Request& request) {
        std::string why;
        const auto claims = vapid_claims(header_of(request, "authorization"), &why);
        if (!claims) return refuse(401, why);
        if (claims->value("aud", "") != url()) return refuse(403, "aud is not the endpoint's origin");
        if (claims->value("sub", "") != subject) return refuse(403, "sub is not the operator's contact");
        const auto exp = claims->value("exp", std::int64_t{0});
        if (exp <= unix_now() || exp > unix_now() + 24 * 3600) return refuse(403, "exp is not within 24 hours");
        if (header_of(request, "content-encoding") != "aes128gcm") return refuse(415, "not aes128gcm");
        if (header_of(request, "ttl").empty()) return refuse(400, "no TTL");
        std::shared_ptr<WebPushSubscriber> subscriber;
        {
            const std::lock_guard lock(mutex_);
            const auto found = subscribers_.find(request.target);
            if (found != subscribers_.end()) subscriber = found->second;
        }
        if (!subscriber) return refuse(404, "no subscription " + request.target);
        const auto plaintext = subscriber->decrypt(request.body);
        if (!plaintext) return refuse(400, "the body does not decrypt for the subscription");
        if (const auto status = planned_failure(request.target)) return {*status, ""};
        const std::lock_guard lock(mutex_);
        decrypted_[request.target].push_back(*plaintext);
        return {201, ""};
    }

    Reply token(const Request& request) {
        if (header_of(request, "content-type") != "application/x-www-form-urlencoded") return refuse(400, "not a form");
        constexpr std::string_view grant =
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
        if (!request.body.starts_with(grant)) return refuse(400, "not a JWT bearer grant");
        const auto claims = account_key_.verified_claims(std::string_view(request.body).substr(grant.size()));
        if (!claims) return refuse(401, "the assertion is not signed by the service account's key");
        const auto iat = claims->value("iat", std::int64_t{0});
        const auto exp = claims->value("exp", std::int64_t{0});
        if (claims->value("iss", "") != client_email || claims->value("aud", "") != url() + "/token" ||
            claims->value("scope", "") != "https://www.googleapis.com/auth/firebase.messaging" ||
            std::abs(iat - unix_now()) > 60 || exp <= iat || exp - iat > 3600)
            return refuse(401, "the assertion's claims are wrong: " + claims->dump());
        ++token_exchanges_;
        return {200,
                nlohmann::json{{"access_token", access_token}, {"expires_in", 3599}, {"token_type", "Bearer"}}.dump()};
    }

    Reply fcm_send(const Request& request) {
        if (header_of(request, "authorization") != "Bearer " + access_token) return refuse(401, "no access token");
        if (const auto status = planned_failure("revoked"))
            return {*status, R"({"error":{"status":"UNAUTHENTICATED"}})"};
        const auto body = nlohmann::json::parse(request.body, nullptr, false);
        if (!body.is_object() || !body.contains("message") || !body["message"]["token"].is_string())
            return refuse(400, "not a message");
        for (const auto& [name, value] : body["message"]["data"].items())
            if (!value.is_string()) return refuse(400, "data." + name + " is not a string");
        const std::string device = body["message"]["token"];
        if (device.starts_with("unregistered")) {
            return {404, R"({"error":{"code":404,"status":"NOT_FOUND","details":[{"@type":)"
                         R"("type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}})"};
        }
        if (const auto status = planned_failure(device)) return {*status, R"({"error":{"status":"UNAVAILABLE"}})"};
        const std::lock_guard lock(mutex_);
        messages_[device].push_back(body["message"]);
        return {200, R"({"name":"projects/)" + project + R"(/messages/1"})"};
    }

    ServiceAccountKey account_key_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<WebPushSubscriber>> subscribers_;
    std::map<std::string, std::pair<int, int>> failures_;
    std::map<std::string, std::vector<std::string>> decrypted_;
    std::map<std::string, std::vector<nlohmann::json>> messages_;
    std::vector<std::string> refusals_;
    std::atomic<int> token_exchanges_{0};
    FakeHttpServer server_;  // last: its threads stop before the state they use goes
};

std::string service_account_json(const PushServices& services) {
    return nlohmann::json{{"type", "service_account"},    {"project_id", project},
                          {"private_key_id", "key-1"},    {"private_key", services.account_key().private_pem()},
                          {"client_email", client_email}, {"token_uri", "https://oauth2.googleapis.com/token"}}
        .dump();
}

class PushProvidersTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!TestDatabase::configured()) return;
        services_ = std::make_unique<PushServices>();
        account_file_ = write_file("account.json", service_account_json(*services_));
        vapid_file_ = write_file("vapid.pem", new_p256_private_pem());
        server_ = std::make_unique<ServerProcess>(shared_database().url(), provider_settings());
    }
    // Both providers pointed at the fake services, retries quick.
    static std::map<std::string, std::string> provider_settings() {
        return {
            {"CONFAB_PUSH_WEBPUSH_VAPID_KEY", vapid_file_.string()},
            {"CONFAB_PUSH_WEBPUSH_SUBJECT", subject},
            {"CONFAB_PUSH_WEBPUSH_TTL_SECONDS", "3600"},
            {"CONFAB_PUSH_FCM_SERVICE_ACCOUNT", account_file_.string()},
            {"CONFAB_PUSH_FCM_TOKEN_URL", services_->url() + "/token"},
            {"CONFAB_PUSH_FCM_BASE_URL", services_->url()},
            {"CONFAB_WEBHOOKS_ALLOW_LOOPBACK", "true"},
            {"CONFAB_PUSH_COLLAPSE_MS", "0"},
            {"CONFAB_PUSH_RETRY_MIN_MS", "100"},
            {"CONFAB_PUSH_RETRY_MAX_MS", "400"},
        };
    }
    static void TearDownTestSuite() {
        server_.reset();
        services_.reset();
        std::filesystem::remove(account_file_);
        std::filesystem::remove(vapid_file_);
    }
    void SetUp() override { CONFAB_REQUIRE_DATABASE(); }
    void TearDown() override {
        if (services_) EXPECT_TRUE(services_->refusals().empty()) << services_->refusals().front();
    }
    static std::uint16_t port() { return server_->port(); }

    static json subscribe(const TestUser& user, const std::string& name) {
        const auto keys = services_->subscribe(name);
        return expect_json(post(port(), user.token, devices_url,
                                {{"provider", "webpush"},
                                 {"token", services_->url() + "/wp/" + name},
                                 {"p256dh", keys->p256dh()},
                                 {"auth", keys->auth()}}),
                           201, "POST /devices webpush");
    }
    static json register_fcm(const TestUser& user, const std::string& token, std::uint16_t on_port = port()) {
        return expect_json(post(on_port, user.token, devices_url, {{"provider", "fcm"}, {"token", token}}), 201,
                           "POST /devices fcm");
    }
    static json devices_of(const TestUser& user) {
        return expect_json(get(port(), user.token, devices_url), 200, "GET /devices")["devices"];
    }
    // Every notification derived so far has been handed over (as in push_test.cpp).
    static bool settled(TestDatabase& database = shared_database()) {
        return eventually(
            [&database] {
                return database.query_value(
                           "SELECT (SELECT count(*) FROM push_jobs) + (SELECT count(*) FROM chats c LEFT JOIN "
                           "push_cursors p ON p.chat_id = c.id WHERE coalesce(p.seq, 0) < c.last_seq)") == "0";
            },
            15s);
    }

    static std::unique_ptr<PushServices> services_;
    static std::unique_ptr<ServerProcess> server_;
    static std::filesystem::path account_file_;
    static std::filesystem::path vapid_file_;
};
std::unique_ptr<PushServices> PushProvidersTest::services_;
std::unique_ptr<ServerProcess> PushProvidersTest::server_;
std::filesystem::path PushProvidersTest::account_file_;
std::filesystem::path PushProvidersTest::vapid_file_;

TEST_F(PushProvidersTest, AWebPushIsSignedWithVapidAndEncryptedForTheSubscription) {
    auto ann = register_user(port(), "wp");
    auto bob = register_user(port(), "wp");
    const auto device = subscribe(bob, bob.username);
    EXPECT_EQ(device["provider"], "webpush");
    const std::string chat = create_group(port(), ann, {bob.id}, {{"title", "Lunch"}})["id"];
    const auto message = send_text(port(), ann, chat, "Pizza at noon?");
    ASSERT_TRUE(settled());

    const auto pushes = services_->web_pushes(bob.username);
    ASSERT_EQ(pushes.size(), 1u);
    const auto payload = json::parse(pushes[0]);
    EXPECT_EQ(payload, (json{{"dedupe_key", payload["dedupe_key"]},
                             {"chat_id", chat},
                             {"message_id", message["id"]},
                             {"count", 1},
                             {"sender_id", ann.id},
                             {"sender_name", ann.user["display_name"]},
                             {"chat_title", "Lunch"},
                             {"type", "text"},
                             {"body", "Pizza at noon?"}}));
    for (const auto& request : services_->server().requests()) {
        if (request.target != "/wp/" + bob.username) continue;
        EXPECT_EQ(header_of(request, "ttl"), "3600");
        EXPECT_EQ(header_of(request, "urgency"), "high");
        EXPECT_EQ(header_of(request, "content-type"), "application/octet-stream");
        EXPECT_EQ(request.body.find("Pizza"), std::string::npos) << "the body travels encrypted";
    }
}

TEST_F(PushProvidersTest, FailedWebPushesAreRetriedAndAGoneSubscriptionIsRemoved) {
    auto ann = register_user(port(), "wr");
    auto bob = register_user(port(), "wr");
    auto carol = register_user(port(), "wr");
    subscribe(bob, bob.username);
    subscribe(carol, carol.username);
    services_->fail("/wp/" + bob.username, 503, 2);
    services_->fail("/wp/" + carol.username, 410, 1);
    const std::string chat = create_group(port(), ann, {bob.id, carol.id})["id"];
    send_text(port(), ann, chat, "eventually");
    ASSERT_TRUE(settled());
    EXPECT_EQ(services_->web_pushes(bob.username).size(), 1u) << "accepted on the third try";
    EXPECT_EQ(devices_of(bob).size(), 1u);
    EXPECT_TRUE(services_->web_pushes(carol.username).empty());
    EXPECT_TRUE(devices_of(carol).empty()) << "410 Gone: the subscription is forgotten";
    const auto requests = services_->server().requests();
    const auto tries_to_carol = std::count_if(requests.begin(), requests.end(), [&](const Request& request) {
        return request.target == "/wp/" + carol.username;
    });
    EXPECT_EQ(tries_to_carol, 1) << "a gone subscription is not retried";
}

TEST_F(PushProvidersTest, BadSubscriptionsAreRefusedNamingTheField) {
    auto ann = register_user(port(), "wb");
    const WebPushSubscriber keys;
    const auto endpoint = services_->url() + "/wp/never";
    const auto refused = [&](const json& body, const std::string& field) {
        const auto r = post(port(), ann.token, devices_url, body);
        auto shape = IsError(r, 400, "bad_request");
        if (!shape) return shape;
        if (r.json()["error"]["details"].value("field", "") != field)
            return ::testing::AssertionFailure() << "details.field is not " << field << ": " << r.body;
        return ::testing::AssertionSuccess();
    };
    const json good{{"provider", "webpush"}, {"token", endpoint}, {"p256dh", keys.p256dh()}, {"auth", keys.auth()}};
    const auto with = [&](const std::string& name, const json& value) {
        auto body = good;
        body[name] = value;
        return body;
    };
    EXPECT_TRUE(refused(with("token", "not-a-url"), "token"));
    EXPECT_TRUE(refused(with("p256dh", keys.p256dh().substr(4)), "p256dh")) << "too short";
    EXPECT_TRUE(refused(with("p256dh", "BC+/" + keys.p256dh().substr(4)), "p256dh")) << "not base64url";
    EXPECT_TRUE(refused(with("p256dh", to_base64url(std::string(65, '\x05'))), "p256dh")) << "not uncompressed";
    EXPECT_TRUE(refused(with("auth", to_base64url(std::string(15, 'a'))), "auth"));
    EXPECT_TRUE(refused(with("auth", ""), "auth"));
    auto no_keys = good;
    no_keys.erase("p256dh");
    EXPECT_TRUE(refused(no_keys, "p256dh"));
    EXPECT_TRUE(devices_of(ann).empty());
    EXPECT_EQ(expect_json(post(port(), ann.token, devices_url, good), 201, "POST /devices")["token"], endpoint);
}

TEST_F(PushProvidersTest, FcmSendsWithAnAccessTokenItObtainedOnceWithTheServiceAccount) {
    auto ann = register_user(port(), "fc");
    auto bob = register_user(port(), "fc");
    const auto device_token = "fcm-" + bob.username;
    EXPECT_EQ(register_fcm(bob, device_token)["provider"], "fcm");
    const std::string chat = create_group(port(), ann, {bob.id}, {{"title", "Plans"}})["id"];
    const auto first = send_text(port(), ann, chat, "first");
    ASSERT_TRUE(settled());
    const auto second = send_text(port(), ann, chat, "second");
    ASSERT_TRUE(settled());

    const auto messages = services_->fcm_messages(device_token);
    ASSERT_EQ(messages.size(), 2u);
    const auto& message = messages[1];
    EXPECT_EQ(message["token"], device_token);
    EXPECT_EQ(message["data"], (json{{"dedupe_key", message["data"]["dedupe_key"]},
                                     {"chat_id", chat},
                                     {"message_id", second["id"]},
                                     {"count", "1"},
                                     {"sender_id", ann.id},
                                     {"sender_name", ann.user["display_name"]},
                                     {"chat_title", "Plans"},
                                     {"type", "text"},
                                     {"body", "second"}}));
    EXPECT_EQ(message["notification"], (json{{"title", "Plans"}, {"body", "second"}}));
    EXPECT_EQ(message["android"], (json{{"collapse_key", chat}}));
    EXPECT_EQ(messages[0]["data"]["message_id"], first["id"]);
    EXPECT_EQ(services_->token_exchanges(), 1) << "the access token is kept until it nears expiry";
}

TEST_F(PushProvidersTest, FcmRetriesUnavailableAndForgetsAnUnregisteredToken) {
    auto ann = register_user(port(), "fu");
    auto bob = register_user(port(), "fu");
    auto carol = register_user(port(), "fu");
    const auto flaky = "fcm-" + bob.username;
    register_fcm(bob, flaky);
    register_fcm(carol, "unregistered-" + carol.username);
    services_->fail(flaky, 503, 2);
    const std::string chat = create_group(port(), ann, {bob.id, carol.id})["id"];
    send_text(port(), ann, chat, "hello");
    ASSERT_TRUE(settled());
    EXPECT_EQ(services_->fcm_messages(flaky).size(), 1u) << "delivered after two 503s";
    EXPECT_EQ(devices_of(bob).size(), 1u);
    EXPECT_TRUE(devices_of(carol).empty()) << "UNREGISTERED: the token is forgotten";
}

TEST_F(PushProvidersTest, AnAccessTokenFcmNoLongerTakesIsReplaced) {
    auto ann = register_user(port(), "fa");
    auto bob = register_user(port(), "fa");
    const auto device_token = "fcm-" + bob.username;
    register_fcm(bob, device_token);
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    send_text(port(), ann, chat, "warm up");
    ASSERT_TRUE(settled());
    const auto exchanges = services_->token_exchanges();
    services_->fail("revoked", 401, 1);
    send_text(port(), ann, chat, "after a revocation");
    ASSERT_TRUE(settled());
    const auto messages = services_->fcm_messages(device_token);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[1]["data"]["body"], "after a revocation") << "retried after the 401";
    EXPECT_EQ(services_->token_exchanges(), exchanges + 1) << "a 401 drops the kept token";
}

TEST_F(PushProvidersTest, ABurstOfFcmSendsWithNoTokenYetExchangesOneAssertion) {
    // A server of its own, so that it starts with no access token, as after a restart: its
    // first message's notifications are all sent at once.
    TestDatabase db;
    ServerProcess server(db.url(), provider_settings());
    const auto exchanges = services_->token_exchanges();
    auto ann = register_user(server.port(), "fb");
    std::vector<std::string> members, device_tokens;
    for (int i = 0; i < 12; ++i) {
        const auto member = register_user(server.port(), "fb");
        members.push_back(member.id);
        device_tokens.push_back("fcm-" + member.username);
        register_fcm(member, device_tokens.back(), server.port());
    }
    const std::string chat = create_group(server.port(), ann, members, {{"title", "Burst"}})["id"];
    send_text(server.port(), ann, chat, "all at once");
    ASSERT_TRUE(settled(db));
    for (const auto& device_token : device_tokens) {
        const auto messages = services_->fcm_messages(device_token);
        ASSERT_EQ(messages.size(), 1u) << device_token;
        EXPECT_EQ(messages[0]["data"]["body"], "all at once");
    }
    EXPECT_EQ(services_->token_exchanges(), exchanges + 1)
        << "one assertion signed and exchanged; the other sends were tried again with its token";
}

TEST_F(PushProvidersTest, MissingOrUnreadableSettingsTurnAProviderOffAndTheServerStillStarts) {
    TestDatabase db;
    const auto no_key_account = write_file("no-key.json", R"({"project_id":"p","client_email":"e"})");
    ServerProcess server(db.url(), std::map<std::string, std::string>{
                                       {"CONFAB_PUSH_WEBPUSH_VAPID_KEY", "/nonexistent/vapid.pem"},
                                       {"CONFAB_PUSH_WEBPUSH_SUBJECT", subject},
                                       {"CONFAB_PUSH_FCM_SERVICE_ACCOUNT", no_key_account.string()},
                                   });
    std::filesystem::remove(no_key_account);
    auto ann = register_user(server.port(), "po");
    const WebPushSubscriber keys;
    for (const auto& body : {json{{"provider", "webpush"},
                                  {"token", services_->url() + "/wp/off"},
                                  {"p256dh", keys.p256dh()},
                                  {"auth", keys.auth()}},
                             json{{"provider", "fcm"}, {"token", "fcm-off"}}}) {
        const auto r = post(server.port(), ann.token, devices_url, body);
        ASSERT_TRUE(IsError(r, 400, "bad_request")) << body.dump();
        EXPECT_EQ(r.json()["error"]["details"]["reason"], "provider_not_configured");
    }
    std::ifstream log(server.log_path());
    const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
    EXPECT_NE(text.find("Web Push is off: push.webpush_vapid_key: cannot read the file"), std::string::npos) << text;
    EXPECT_NE(text.find("FCM is off: push.fcm_service_account: the service account has no private_key"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace confab::test
