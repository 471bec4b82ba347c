#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/push_sender.hpp"
#include "confab/net/push_crypto.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// APNs (docs/api.md, APNs requests): POST /3/device/<token> over one HTTP/2 connection (TLS,
// ALPN h2, nghttp2) that carries many requests at once and is opened again when it drops or
// the server sends GOAWAY; authenticated with a provider token, an ES256 JWT signed with the
// team's .p8 key and reused for 50 minutes (Apple refuses tokens older than an hour and
// renewals more often than every 20 minutes).
namespace boost::asio::ssl {
class context;
}

namespace confab::net {

class ApnsConnection;

class Apns {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;  // lower-case names

    // Null, with a log line saying why, when a push.apns_* setting is missing or the key file is
    // unreadable or not a P-256 key.
    static std::unique_ptr<Apns> from_settings(const config::Push& settings);
    Apns(const config::Push& settings, PrivateKey key);
    ~Apns();
    Apns(const Apns&) = delete;
    Apns& operator=(const Apns&) = delete;

    boost::asio::awaitable<domain::PushOutcome> send(const model::PushDevice& device,
                                                     const domain::PushNotification& notification);

private:
    using Clock = std::chrono::steady_clock;
    using Strand = boost::asio::strand<boost::asio::any_io_executor>;
    struct ProviderToken {
        std::string value;
        Clock::time_point renew_at;
    };
    struct Answer {
        int status = 0;
        std::string body;
    };

    std::string provider_token();
    void forget_token(const std::string& value);
    Strand strand_for(const boost::asio::any_io_executor& executor);
    // One request on the shared connection (run on `strand`): opens the connection first when
    // there is none that takes new streams. Throws when no answer came.
    boost::asio::awaitable<Answer> exchange(Strand strand, std::string path, Headers headers, std::string body);
    Headers headers_for(const domain::PushNotification& notification, const std::string& token) const;

    const config::Push& settings_;
    PrivateKey key_;
    std::shared_ptr<boost::asio::ssl::context> tls_;  // the system's roots and push.apns_ca_file, ALPN h2
    std::mutex mutex_;                                // sends run on several threads: guards token_ and strand_
    std::optional<ProviderToken> token_;
    std::optional<Strand> strand_;
    std::shared_ptr<ApnsConnection> connection_;  // used on the strand only
};

// The provider token: an ES256 JWT with header "kid" and claims "iss" (the team) and "iat".
std::string apns_provider_token(const PrivateKey& key, const std::string& key_id, const std::string& team_id,
                                std::chrono::system_clock::time_point issued_at);

// The JSON payload: an alert (title, body), thread-id and mutable-content in "aps" and the
// notification's ids and names beside it; content-free: "content-available" and the ids only.
std::string apns_payload(const domain::PushNotification& notification, bool content_free);

// What an APNs answer means: its status and the JSON body's "reason".
struct ApnsVerdict {
    domain::PushOutcome outcome;
    bool provider_token_expired = false;  // 403 ExpiredProviderToken: sign a new token and try again
    bool operator==(const ApnsVerdict&) const = default;
};
ApnsVerdict apns_verdict(int status, std::string_view body);

}  // namespace confab::net
