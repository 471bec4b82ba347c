// APNs over HTTP/2 against a fake in this process (support/fake_apns) that speaks real HTTP/2
// over TLS with ALPN h2, with a certificate made at start that the server trusts through
// push.apns_ca_file, and checks each request as Apple does: the provider token's ES256
// signature with the team's key, its kid and iss, the :path, apns-topic, the push type and
// priority, and the JSON payload. Some requests fail on purpose: 410 Unregistered and 400
// BadDeviceToken remove the device, 429 is retried, 403 ExpiredProviderToken makes the server
// sign a new token. A GOAWAY moves later pushes to a new connection; a CA the fake's
// certificate does not chain to fails the TLS handshake.

#include "support/chat_api.hpp"
#include "support/fake_apns.hpp"
#include "support/push_receivers.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace confab::test {
namespace {

using namespace std::chrono_literals;
using Request = FakeApns::Request;
using Reply = FakeApns::Reply;

const std::string devices_url = "/api/v1/devices";
const std::string key_id = "KEY1234567";
const std::string team_id = "TEAM123456";
const std::string topic = "com.example.confab";

std::filesystem::path write_file(const std::string& name, const std::string& text) {
    const auto path =
        std::filesystem::temp_directory_path() / ("confab-apns-" + std::to_string(::getpid()) + "-" + name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string header_of(const Request& request, const std::string& name) {
    const auto found = request.headers.find(name);
    return found == request.headers.end() ? std::string() : found->second;
}

// A device token as iOS hands one out: 32 bytes in hexadecimal, distinct per name.
std::string device_token(const std::string& name) {
    std::string token;
    for (std::size_t i = 0; token.size() < 64; ++i) {
        static constexpr char digits[] = "0123456789abcdef";
        const auto byte = static_cast<unsigned char>(i < name.size() ? name[i] : i);
        token += digits[byte >> 4];
        token += digits[byte & 15];
    }
    return token;
}

// What Apple's service checks, and the answers the tests plan.
class ApnsService {
public:
    ApnsService() : server_([this](const Request& request) { return answer(request); }) {}

    FakeApns& server() { return server_; }
    const Es256Key& team_key() const { return team_key_; }
    // The next `times` requests for `token` get `status` with `reason`.
    void fail(const std::string& token, int status, const std::string& reason, int times) {
        const std::lock_guard lock(mutex_);
        failures_[token] = {Reply{status, reason}, times};
    }
    // The provider token in use is refused from now on (as an hour-old one is).
    void expire_current_token() {
        const std::lock_guard lock(mutex_);
        expired_.insert(last_token_);
    }
    std::vector<nlohmann::json> pushes(const std::string& token) {
        const std::lock_guard lock(mutex_);
        return accepted_[token];
    }
    std::vector<Request> requests_for(const std::string& token) const {
        std::vector<Request> found;
        for (auto& request : server_.requests())
            if (request.headers.at(":path") == "/3/device/" + token) found.push_back(request);
        return found;
    }
    std::size_t provider_tokens() {
        const std::lock_guard lock(mutex_);
        return tokens_seen_.size();
    }
    std::vector<std::string> refusals() {
        const std::lock_guard lock(mutex_);
        return refusals_;
    }
    void expect_background(bool background) {
        const std::lock_guard lock(mutex_);
        background_ = background;
    }

private:
    Reply refuse(int status, const std::string& reason, const std::string& why) {
        const std::lock_guard lock(mutex_);
        refusals_.push_back(why);
        return {status, reason};
    }

    Reply answer(const Request& request) {
        const auto path = header_of(request, ":path");
        constexpr std::string_view prefix = "/3/device/";
        if (header_of(request, ":method") != "POST" || !path.starts_with(prefix))
            return refuse(405, "MethodNotAllowed", "not a POST to /3/device/: " + path);
        const auto token = path.substr(prefix.size());
        const auto authorization = header_of(request, "authorization");
        constexpr std::string_view bearer = "bearer ";
        if (!authorization.starts_with(bearer)) return refuse(403, "MissingProviderToken", "no provider token");
        const auto jwt = authorization.substr(bearer.size());
        const auto verified = team_key_.verified(jwt);
        if (!verified) return refuse(403, "InvalidProviderToken", "the token is not signed with the team's key");
        const auto iat = verified->claims.value("iat", std::int64_t{0});
        if (verified->header.value("kid", "") != key_id || verified->claims.value("iss", "") != team_id ||
            iat > unix_now() + 60 || iat < unix_now() - 3600)
            return refuse(403, "InvalidProviderToken", "kid, iss or iat is wrong: " + verified->claims.dump());
        if (header_of(request, "apns-topic") != topic) return refuse(400, "BadTopic", "apns-topic is not the app's");
        bool background = false;
        {
            const std::lock_guard lock(mutex_);
            background = background_;
        }
        if (header_of(request, "apns-push-type") != (background ? "background" : "alert") ||
            header_of(request, "apns-priority") != (background ? "5" : "10"))
            return refuse(400, "InvalidPushType", "push type or priority is wrong");
        const auto expiration = std::stoll("0" + header_of(request, "apns-expiration"));
        if (expiration < unix_now()) return refuse(400, "BadExpirationDate", "apns-expiration is in the past");
        const auto payload = nlohmann::json::parse(request.body, nullptr, false);
        if (!payload.is_object() || !payload.contains("aps") || !payload["aps"].is_object() ||
            request.body.size() > 4096)
            return refuse(400, "PayloadEmpty", "the payload has no aps object or is too large");
        if (header_of(request, "apns-collapse-id").size() > 64)
            return refuse(400, "BadCollapseId", "apns-collapse-id is longer than 64 bytes");
        const std::lock_guard lock(mutex_);
        tokens_seen_.insert(jwt);
        last_token_ = jwt;
        if (expired_.contains(jwt)) return {403, "ExpiredProviderToken"};
        if (token.starts_with("bad")) return {400, "BadDeviceToken"};
        if (auto found = failures_.find(token); found != failures_.end() && found->second.second > 0) {
            --found->second.second;
            return found->second.first;
        }
        accepted_[token].push_back(payload);
        return {200, ""};
    }

    Es256Key team_key_;
    std::mutex mutex_;
    std::map<std::string, std::pair<Reply, int>> failures_;
    std::map<std::string, std::vector<nlohmann::json>> accepted_;
    std::set<std::string> tokens_seen_;
    std::set<std::string> expired_;
    std::string last_token_;
    std::vector<std::string> refusals_;
    bool background_ = false;
    FakeApns server_;  // last: its thread stops before the state it uses goes
};

std::map<std::string, std::string> apns_settings(ApnsService& service, const std::filesystem::path& key_file) {
    return {{"CONFAB_PUSH_APNS_KEY_FILE", key_file.string()},
            {"CONFAB_PUSH_APNS_KEY_ID", key_id},
            {"CONFAB_PUSH_APNS_TEAM_ID", team_id},
            {"CONFAB_PUSH_APNS_TOPIC", topic},
            {"CONFAB_PUSH_APNS_URL", service.server().url()},
            {"CONFAB_PUSH_APNS_CA_FILE", service.server().ca_file().string()},
            {"CONFAB_PUSH_COLLAPSE_MS", "0"},
            {"CONFAB_PUSH_RETRY_MIN_MS", "100"},
            {"CONFAB_PUSH_RETRY_MAX_MS", "400"}};
}

// Every notification derived so far has been handed over (as in push_test.cpp).
bool settled(const TestDatabase& database) {
    return eventually(
        [&] {
            return database.query_value(
                       "SELECT (SELECT count(*) FROM push_jobs) + (SELECT count(*) FROM chats c LEFT JOIN "
                       "push_cursors p ON p.chat_id = c.id WHERE coalesce(p.seq, 0) < c.last_seq)") == "0";
        },
        15s);
}

json register_apns(std::uint16_t port, const TestUser& user, const std::string& token) {
    return expect_json(post(port, user.token, devices_url, {{"provider", "apns"}, {"token", token}}), 201,
                       "POST /devices apns");
}

json devices_of(std::uint16_t port, const TestUser& user) {
    return expect_json(get(port, user.token, devices_url), 200, "GET /devices")["devices"];
}

std::string log_of(const ServerProcess& server) {
    std::ifstream log(server.log_path());
    return {std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
}

class PushApnsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!TestDatabase::configured()) return;
        service_ = std::make_unique<ApnsService>();
        key_file_ = write_file("AuthKey.p8", service_->team_key().private_pem());
        server_ = std::make_unique<ServerProcess>(shared_database().url(), apns_settings(*service_, key_file_));
    }
    static void TearDownTestSuite() {
        server_.reset();
        service_.reset();
        std::filesystem::remove(key_file_);
    }
    void SetUp() override { CONFAB_REQUIRE_DATABASE(); }
    void TearDown() override {
        if (service_) EXPECT_TRUE(service_->refusals().empty()) << service_->refusals().front();
    }
    static std::uint16_t port() { return server_->port(); }

    static std::unique_ptr<ApnsService> service_;
    static std::unique_ptr<ServerProcess> server_;
    static std::filesystem::path key_file_;
};
std::unique_ptr<ApnsService> PushApnsTest::service_;
std::unique_ptr<ServerProcess> PushApnsTest::server_;
std::filesystem::path PushApnsTest::key_file_;

TEST_F(PushApnsTest, AnAlertIsSignedWithTheTeamsKeyAndNamesTheChat) {
    auto ann = register_user(port(), "aa");
    auto bob = register_user(port(), "aa");
    const auto token = device_token(bob.username);
    EXPECT_EQ(register_apns(port(), bob, token)["provider"], "apns");
    const std::string chat = create_group(port(), ann, {bob.id}, {{"title", "Lunch"}})["id"];
    const auto first = send_text(port(), ann, chat, "Pizza at noon?");
    ASSERT_TRUE(settled(shared_database()));
    const auto second = send_text(port(), ann, chat, "Or sushi?");
    ASSERT_TRUE(settled(shared_database()));

    const auto pushes = service_->pushes(token);
    ASSERT_EQ(pushes.size(), 2u);
    EXPECT_EQ(pushes[0], (json{{"aps",
                                {{"alert", {{"title", "Lunch"}, {"body", "Pizza at noon?"}}},
                                 {"thread-id", chat},
                                 {"mutable-content", 1}}},
                               {"dedupe_key", pushes[0]["dedupe_key"]},
                               {"chat_id", chat},
                               {"message_id", first["id"]},
                               {"count", 1},
                               {"sender_id", ann.id},
                               {"sender_name", ann.user["display_name"]},
                               {"chat_title", "Lunch"},
                               {"type", "text"}}));
    EXPECT_EQ(pushes[1]["message_id"], second["id"]);
    const auto requests = service_->requests_for(token);
    ASSERT_EQ(requests.size(), 2u);
    for (const auto& request : requests) {
        EXPECT_EQ(header_of(request, ":scheme"), "https");
        EXPECT_EQ(header_of(request, "apns-collapse-id"), chat);
        EXPECT_EQ(header_of(request, "content-type"), "application/json");
    }
    EXPECT_EQ(requests[0].connection, requests[1].connection) << "one connection carries the pushes";
    EXPECT_EQ(header_of(requests[0], "authorization"), header_of(requests[1], "authorization"))
        << "the provider token is reused";
}

TEST_F(PushApnsTest, ManyDevicesShareTheConnection) {
    auto ann = register_user(port(), "am");
    std::vector<TestUser> members;
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i) {
        members.push_back(register_user(port(), "am"));
        register_apns(port(), members.back(), device_token(members.back().username));
        ids.push_back(members.back().id);
    }
    const std::string chat = create_group(port(), ann, ids)["id"];
    send_text(port(), ann, chat, "all hands");
    ASSERT_TRUE(settled(shared_database()));
    std::set<int> connections;
    for (const auto& member : members) {
        const auto token = device_token(member.username);
        EXPECT_EQ(service_->pushes(token).size(), 1u) << member.username;
        for (const auto& request : service_->requests_for(token)) connections.insert(request.connection);
    }
    EXPECT_EQ(connections.size(), 1u);
}

TEST_F(PushApnsTest, GoneTokensAreRemovedAndThrottledPushesRetried) {
    auto ann = register_user(port(), "ag");
    auto bob = register_user(port(), "ag");
    auto carol = register_user(port(), "ag");
    auto dave = register_user(port(), "ag");
    const auto throttled = device_token(bob.username);
    const auto unregistered = device_token(carol.username);
    const auto bad = "bad" + device_token(dave.username).substr(3);
    register_apns(port(), bob, throttled);
    register_apns(port(), carol, unregistered);
    register_apns(port(), dave, bad);
    service_->fail(throttled, 429, "TooManyRequests", 2);
    service_->fail(unregistered, 410, "Unregistered", 1);
    const std::string chat = create_group(port(), ann, {bob.id, carol.id, dave.id})["id"];
    send_text(port(), ann, chat, "anyone?");
    ASSERT_TRUE(settled(shared_database()));
    EXPECT_EQ(service_->pushes(throttled).size(), 1u) << "accepted on the third try";
    EXPECT_EQ(service_->requests_for(throttled).size(), 3u);
    EXPECT_EQ(devices_of(port(), bob).size(), 1u);
    EXPECT_TRUE(devices_of(port(), carol).empty()) << "410 Unregistered: the device is forgotten";
    EXPECT_EQ(service_->requests_for(unregistered).size(), 1u) << "a gone device is not retried";
    EXPECT_TRUE(devices_of(port(), dave).empty()) << "400 BadDeviceToken: the device is forgotten";
}

TEST_F(PushApnsTest, AnExpiredProviderTokenIsReplacedAndThePushSent) {
    auto ann = register_user(port(), "ae");
    auto bob = register_user(port(), "ae");
    const auto token = device_token(bob.username);
    register_apns(port(), bob, token);
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    send_text(port(), ann, chat, "warm up");
    ASSERT_TRUE(settled(shared_database()));
    const auto tokens_before = service_->provider_tokens();
    service_->expire_current_token();
    send_text(port(), ann, chat, "after expiry");
    ASSERT_TRUE(settled(shared_database()));
    const auto pushes = service_->pushes(token);
    ASSERT_EQ(pushes.size(), 2u);
    EXPECT_EQ(pushes[1]["aps"]["alert"]["body"], "after expiry");
    EXPECT_EQ(service_->provider_tokens(), tokens_before + 1) << "one new token was signed";
    const auto requests = service_->requests_for(token);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_NE(header_of(requests[1], "authorization"), header_of(requests[2], "authorization"));
}

TEST_F(PushApnsTest, AfterGoawayPushesGoOnANewConnection) {
    auto ann = register_user(port(), "aw");
    auto bob = register_user(port(), "aw");
    const auto token = device_token(bob.username);
    register_apns(port(), bob, token);
    const std::string chat = create_group(port(), ann, {bob.id})["id"];
    service_->server().go_away_after_next_request();
    send_text(port(), ann, chat, "last on the old connection");
    ASSERT_TRUE(settled(shared_database()));
    send_text(port(), ann, chat, "first on the new one");
    ASSERT_TRUE(settled(shared_database()));
    ASSERT_EQ(service_->pushes(token).size(), 2u);
    const auto requests = service_->requests_for(token);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_LT(requests[0].connection, requests[1].connection);
    EXPECT_EQ(requests[1].connection, service_->server().connections());
}

TEST_F(PushApnsTest, ContentFreePushesAreBackgroundPushesWithIdsOnly) {
    TestDatabase db;
    ApnsService service;
    service.expect_background(true);
    const auto key_file = write_file("content-free.p8", service.team_key().private_pem());
    auto settings = apns_settings(service, key_file);
    settings["CONFAB_PUSH_CONTENT_FREE"] = "true";
    ServerProcess server(db.url(), settings);
    auto ann = register_user(server.port(), "cf");
    auto bob = register_user(server.port(), "cf");
    const auto token = device_token(bob.username);
    register_apns(server.port(), bob, token);
    const std::string chat = create_group(server.port(), ann, {bob.id}, {{"title", "Secret"}})["id"];
    const auto message = send_text(server.port(), ann, chat, "the plan");
    ASSERT_TRUE(settled(db));
    std::filesystem::remove(key_file);
    const auto pushes = service.pushes(token);
    ASSERT_EQ(pushes.size(), 1u);
    EXPECT_EQ(pushes[0], (json{{"aps", {{"content-available", 1}}},
                               {"dedupe_key", pushes[0]["dedupe_key"]},
                               {"chat_id", chat},
                               {"message_id", message["id"]},
                               {"count", 1}}));
    EXPECT_TRUE(service.refusals().empty()) << service.refusals().front();
}

TEST_F(PushApnsTest, ACertificateTheCaFileDoesNotVouchForIsRefused) {
    TestDatabase db;
    const auto other_ca = write_file("other-ca.pem", new_self_signed_certificate().certificate_pem);
    auto settings = apns_settings(*service_, key_file_);
    settings["CONFAB_PUSH_APNS_CA_FILE"] = other_ca.string();
    ServerProcess server(db.url(), settings);
    auto ann = register_user(server.port(), "ca");
    auto bob = register_user(server.port(), "ca");
    const auto token = device_token(bob.username);
    register_apns(server.port(), bob, token);
    const std::string chat = create_group(server.port(), ann, {bob.id})["id"];
    const auto connections = service_->server().connections();
    send_text(server.port(), ann, chat, "never delivered");
    EXPECT_TRUE(eventually([&] { return log_of(server).find("certificate verify failed") != std::string::npos; }))
        << log_of(server);
    std::filesystem::remove(other_ca);
    EXPECT_TRUE(service_->requests_for(token).empty());
    EXPECT_EQ(service_->server().connections(), connections) << "no HTTP/2 connection was opened";
    EXPECT_EQ(devices_of(server.port(), bob).size(), 1u) << "a failed connection is retried, not a dead device";
}

TEST_F(PushApnsTest, IncompleteSettingsTurnApnsOffAndTheServerStillStarts) {
    TestDatabase db;
    auto settings = apns_settings(*service_, key_file_);
    settings.erase("CONFAB_PUSH_APNS_TEAM_ID");
    ServerProcess server(db.url(), settings);
    auto ann = register_user(server.port(), "ao");
    const auto r = post(server.port(), ann.token, devices_url, {{"provider", "apns"}, {"token", device_token("x")}});
    ASSERT_TRUE(IsError(r, 400, "bad_request"));
    EXPECT_EQ(r.json()["error"]["details"]["reason"], "provider_not_configured");
    EXPECT_NE(log_of(server).find("APNs is off: push.apns_team_id is not set"), std::string::npos) << log_of(server);
}

}  // namespace
}  // namespace confab::test
