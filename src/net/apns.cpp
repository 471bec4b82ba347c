#include "confab/net/apns.hpp"
#include "confab/model/user.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <nghttp2/nghttp2.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

namespace confab::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::use_awaitable;

// No answer to a request: the connection could not be opened, broke, or the timeout passed.
class ApnsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace {

constexpr auto token_reuse = std::chrono::minutes(50);
constexpr auto expiration =
    std::chrono::hours(24);                // apns-expiration: how long APNs keeps a push for an offline device
constexpr std::size_t max_payload = 4096;  // Apple's limit for a notification's payload
constexpr std::size_t max_alert_body = 1024;
constexpr std::size_t max_answer = 64 * 1024;
constexpr std::array dead_token_reasons = {"BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered"};

// At most `limit` bytes of `text`, cut before a UTF-8 sequence that would not fit whole.
std::string utf8_prefix(const std::string& text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return text.substr(0, end) + "\u2026";
}

// APNs device tokens are hexadecimal; anything else cannot be one (and must not reach the :path).
bool is_device_token(std::string_view token) {
    return !token.empty() && token.size() <= 200 &&
           std::all_of(token.begin(), token.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

struct Origin {
    std::string host;
    std::string port;
    std::string authority;  // the :authority pseudo-header
};

Origin origin_of_url(const std::string& url) {
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "https" || parsed->host().empty())
        throw ApnsError("push.apns_url is not an https URL: " + url);
    Origin origin{parsed->host(), parsed->has_port() ? std::string(parsed->port()) : "443",
                  std::string(parsed->encoded_authority())};
    return origin;
}

std::shared_ptr<asio::ssl::context> tls_context(const std::string& extra_ca_file) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    context->set_default_verify_paths();
    if (!extra_ca_file.empty()) context->load_verify_file(extra_ca_file);
    context->set_verify_mode(asio::ssl::verify_peer);
    static constexpr unsigned char h2[] = {2, 'h', '2'};
    if (SSL_CTX_set_alpn_protos(context->native_handle(), h2, sizeof h2) != 0)
        throw ApnsError("ALPN could not be set up");
    return context;
}

// The name and value must outlive the nghttp2_submit_request call (it copies them).
nghttp2_nv header(std::string_view name, std::string_view value) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): nghttp2 only reads them
    auto* name_bytes = reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data()));
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    auto* value_bytes = reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data()));
    return nghttp2_nv{name_bytes, value_bytes, name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// One HTTP/2 connection to APNs. Everything it does runs on one strand: the reading coroutine
// feeds what arrives to the nghttp2 session, a writing coroutine sends what the session has to
// send, and each request's coroutine waits on a timer its stream's end cancels.
class ApnsConnection : public std::enable_shared_from_this<ApnsConnection> {
public:
    using Strand = asio::strand<asio::any_io_executor>;
    struct Response {
        int status = 0;
        std::string body;
    };

    ApnsConnection(Strand strand, std::shared_ptr<asio::ssl::context> tls, Origin origin)
        : strand_(std::move(strand)),
          tls_(std::move(tls)),
          stream_(beast::tcp_stream(strand_), *tls_),
          origin_(std::move(origin)),
          opened_(strand_, asio::steady_timer::time_point::max()) {}
    ~ApnsConnection() {
        if (session_ != nullptr) nghttp2_session_del(session_);
    }
    ApnsConnection(const ApnsConnection&) = delete;
    ApnsConnection& operator=(const ApnsConnection&) = delete;

    // Connects, then reads until the connection ends; started once, detached.
    asio::awaitable<void> run(std::chrono::milliseconds connect_timeout) {
        auto self = shared_from_this();
        try {
            co_await connect(connect_timeout);
            state_ = State::open;
            opened_.cancel();
            flush();
            co_await read_until_closed();
            close("the connection ended");
        } catch (const std::exception& e) {
            close(e.what());
        }
    }

    // Until the connection is open or has failed to open.
    asio::awaitable<void> wait_open() {
        if (state_ != State::connecting) co_return;
        boost::system::error_code ignored;
        co_await opened_.async_wait(asio::redirect_error(use_awaitable, ignored));
    }

    bool takes_streams() const { return state_ == State::open && !goaway_; }
    bool ended() const { return state_ == State::closed || goaway_; }

    // One request; throws ApnsError when it got no answer within `timeout`.
    asio::awaitable<Response> request(const std::string& path, const Apns::Headers& fields, std::string body,
                                      std::chrono::milliseconds timeout) {
        if (!takes_streams()) throw ApnsError("the connection takes no new requests: " + failure_);
        auto self = shared_from_this();
        Stream stream{.body = std::move(body), .done = asio::steady_timer(strand_, timeout)};
        std::vector<nghttp2_nv> headers{header(":method", "POST"), header(":scheme", "https"),
                                        header(":authority", origin_.authority), header(":path", path)};
        for (const auto& [name, value] : fields) headers.push_back(header(name, value));
        nghttp2_data_provider provider{};
        provider.read_callback = &ApnsConnection::read_body;
        const auto id = nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(), &provider, nullptr);
        if (id < 0) throw ApnsError(std::string("the request could not be submitted: ") + nghttp2_strerror(id));
        streams_[id] = &stream;
        flush();
        boost::system::error_code waited;
        co_await stream.done.async_wait(asio::redirect_error(use_awaitable, waited));
        if (streams_.erase(id) == 1) {  // still open: no answer in time
            nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
            flush();
            throw ApnsError("no answer within the timeout");
        }
        if (!stream.complete) throw ApnsError(stream.failure);
        co_return Response{stream.status, std::move(stream.answer)};
    }

private:
    enum class State { connecting, open, closed };
    struct Stream {
        std::string body;  // the request's
        std::size_t sent = 0;
        int status = 0;
        std::string answer;
        bool complete = false;  // the whole answer arrived
        std::string failure;
        asio::steady_timer done;
    };

    asio::awaitable<void> connect(std::chrono::milliseconds timeout) {
        asio::ip::tcp::resolver resolver(strand_);
        const auto resolved = co_await resolver.async_resolve(origin_.host, origin_.port, use_awaitable);
        auto& tcp = beast::get_lowest_layer(stream_);
        tcp.expires_after(timeout);
        co_await tcp.async_connect(resolved, use_awaitable);
        if (SSL_set_tlsext_host_name(stream_.native_handle(), origin_.host.c_str()) != 1)
            throw ApnsError("the TLS server name could not be set");
        stream_.set_verify_callback(asio::ssl::host_name_verification(origin_.host));
        co_await stream_.async_handshake(asio::ssl::stream_base::client, use_awaitable);
        tcp.expires_never();
        const unsigned char* protocol = nullptr;
        unsigned int length = 0;
        SSL_get0_alpn_selected(stream_.native_handle(), &protocol, &length);
        if (length != 2 || std::memcmp(protocol, "h2", 2) != 0) throw ApnsError("the server did not choose HTTP/2");
        start_session();
    }

    void start_session() {
        nghttp2_session_callbacks* callbacks = nullptr;
        nghttp2_session_callbacks_new(&callbacks);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, &ApnsConnection::on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &ApnsConnection::on_data);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &ApnsConnection::on_stream_close);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &ApnsConnection::on_frame);
        const int made = nghttp2_session_client_new(&session_, callbacks, this);
        nghttp2_session_callbacks_del(callbacks);
        if (made != 0) throw ApnsError("no HTTP/2 session");
        const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
    }

    asio::awaitable<void> read_until_closed() {
        std::array<std::uint8_t, 16384> buffer{};
        while (nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0) {
            const auto got = co_await stream_.async_read_some(asio::buffer(buffer), use_awaitable);
            const auto used = nghttp2_session_mem_recv(session_, buffer.data(), got);
            if (used < 0) throw ApnsError(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(used)));
            flush();
        }
    }

    // Starts the writer unless it runs: it sends until the session has nothing more.
    void flush() {
        if (writing_ || state_ != State::open) return;
        writing_ = true;
        asio::co_spawn(strand_, write_pending(shared_from_this()), asio::detached);
    }

    static asio::awaitable<void> write_pending(std::shared_ptr<ApnsConnection> self) {
        try {
            std::string pending;
            for (;;) {
                pending.clear();
                const std::uint8_t* data = nullptr;
                while (pending.size() < 65536) {
                    const auto length = nghttp2_session_mem_send(self->session_, &data);
                    if (length < 0)
                        throw ApnsError(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(length)));
                    if (length == 0) break;
                    pending.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
                }
                if (pending.empty()) break;
                co_await asio::async_write(self->stream_, asio::buffer(pending), use_awaitable);
            }
        } catch (const std::exception& e) {
            self->writing_ = false;
            self->close(e.what());
            co_return;
        }
        self->writing_ = false;
    }

    // Every waiting request learns the connection is gone; later ones open a new one.
    void close(const std::string& why) {
        if (state_ == State::closed) return;
        if (state_ == State::open) spdlog::info("push: APNs connection closed: {}", why);
        else spdlog::warn("push: APNs connection failed: {}", why);
        state_ = State::closed;
        failure_ = why;
        for (auto& [id, stream] : streams_) {
            stream->failure = why;
            stream->done.cancel();
        }
        streams_.clear();
        opened_.cancel();
        boost::system::error_code ignored;
        beast::get_lowest_layer(stream_).socket().close(ignored);
    }

    Stream* stream_of(std::int32_t id) {
        const auto found = streams_.find(id);
        return found == streams_.end() ? nullptr : found->second;
    }

    static ssize_t read_body(nghttp2_session* /*session*/, std::int32_t id, std::uint8_t* out, std::size_t length,
                             std::uint32_t* flags, nghttp2_data_source* /*source*/, void* self) {
        auto* stream = static_cast<ApnsConnection*>(self)->stream_of(id);
        if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        const auto chunk = std::min(length, stream->body.size() - stream->sent);
        std::copy_n(stream->body.data() + stream->sent, chunk, out);
        stream->sent += chunk;
        if (stream->sent == stream->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(chunk);
    }

    static int on_header(nghttp2_session* /*session*/, const nghttp2_frame* frame, const std::uint8_t* name,
                         std::size_t name_length, const std::uint8_t* value, std::size_t value_length,
                         std::uint8_t /*flags*/, void* self) {
        auto* stream = static_cast<ApnsConnection*>(self)->stream_of(frame->hd.stream_id);
        const std::string_view field(reinterpret_cast<const char*>(name), name_length);
        if (stream != nullptr && field == ":status") {
            const std::string_view text(reinterpret_cast<const char*>(value), value_length);
            stream->status = std::atoi(std::string(text).c_str());
        }
        return 0;
    }

    static int on_data(nghttp2_session* /*session*/, std::uint8_t /*flags*/, std::int32_t id, const std::uint8_t* data,
                       std::size_t length, void* self) {
        auto* stream = static_cast<ApnsConnection*>(self)->stream_of(id);
        if (stream != nullptr && stream->answer.size() + length <= max_answer)
            stream->answer.append(reinterpret_cast<const char*>(data), length);
        return 0;
    }

    static int on_stream_close(nghttp2_session* /*session*/, std::int32_t id, std::uint32_t error_code, void* self) {
        auto* connection = static_cast<ApnsConnection*>(self);
        auto* stream = connection->stream_of(id);
        if (stream == nullptr) return 0;
        stream->complete = error_code == NGHTTP2_NO_ERROR && stream->status != 0;
        if (!stream->complete)
            stream->failure = std::string("the stream was reset: ") + nghttp2_http2_strerror(error_code);
        connection->streams_.erase(id);
        stream->done.cancel();
        return 0;
    }

    static int on_frame(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* self) {
        if (frame->hd.type == NGHTTP2_GOAWAY) {
            auto* connection = static_cast<ApnsConnection*>(self);
            connection->goaway_ = true;
            spdlog::info("push: APNs sent GOAWAY ({}); new requests go on a new connection",
                         nghttp2_http2_strerror(frame->goaway.error_code));
        }
        return 0;
    }

    Strand strand_;
    std::shared_ptr<asio::ssl::context> tls_;
    beast::ssl_stream<beast::tcp_stream> stream_;
    Origin origin_;
    asio::steady_timer opened_;  // cancelled when the connection opened or failed to
    nghttp2_session* session_ = nullptr;
    State state_ = State::connecting;
    bool goaway_ = false;
    bool writing_ = false;
    std::string failure_;
    std::map<std::int32_t, Stream*> streams_;  // the requests waiting for their answers
};

std::string apns_provider_token(const PrivateKey& key, const std::string& key_id, const std::string& team_id,
                                std::chrono::system_clock::time_point issued_at) {
    return signed_jwt(key, nlohmann::json{{"kid", key_id}}.dump(),
                      nlohmann::json{{"iss", team_id}, {"iat", model::unix_seconds(issued_at)}}.dump());
}

std::string apns_payload(const domain::PushNotification& notification, bool content_free) {
    nlohmann::json payload{{"dedupe_key", notification.dedupe_key},
                           {"chat_id", notification.chat_id},
                           {"message_id", notification.message_id},
                           {"count", notification.count}};
    if (content_free) {
        payload["aps"] = {{"content-available", 1}};
        return payload.dump();
    }
    const std::pair<const char*, const std::optional<std::string>*> names[] = {{"sender_id", &notification.sender_id},
                                                                               {"sender_name",
                                                                                &notification.sender_name},
                                                                               {"chat_title", &notification.chat_title},
                                                                               {"type", &notification.message_type}};
    for (const auto& [name, value] : names)
        if (*value) payload[name] = **value;
    auto alert = nlohmann::json::object();
    if (const auto& title = notification.chat_title ? notification.chat_title : notification.sender_name; title)
        alert["title"] = *title;
    payload["aps"] = {{"alert", alert}, {"thread-id", notification.chat_id}, {"mutable-content", 1}};
    if (!notification.body) return payload.dump();
    // The body goes in the alert only, shortened until the payload fits Apple's limit.
    for (auto limit = max_alert_body;; limit /= 2) {
        payload["aps"]["alert"]["body"] = utf8_prefix(*notification.body, limit);
        auto text = payload.dump();
        if (text.size() <= max_payload || limit == 0) return text;
    }
}

ApnsVerdict apns_verdict(int status, std::string_view body) {
    const auto answer = nlohmann::json::parse(body, nullptr, false);
    const auto reason = answer.is_object() && answer.contains("reason") && answer["reason"].is_string()
                            ? answer["reason"].get<std::string>()
                            : std::string();
    if (status == 200) return {domain::PushOutcome::delivered};
    if (status == 410) return {domain::PushOutcome::dead_token};
    if (status == 400 &&
        std::find(dead_token_reasons.begin(), dead_token_reasons.end(), reason) != dead_token_reasons.end())
        return {domain::PushOutcome::dead_token};
    if (status == 403 && reason == "ExpiredProviderToken") return {domain::PushOutcome::retry, true};
    return {domain::PushOutcome::retry};
}

std::unique_ptr<Apns> Apns::from_settings(const config::Push& settings) {
    const std::pair<const char*, const std::string*> required[] = {{"push.apns_key_file", &settings.apns_key_file},
                                                                   {"push.apns_key_id", &settings.apns_key_id},
                                                                   {"push.apns_team_id", &settings.apns_team_id},
                                                                   {"push.apns_topic", &settings.apns_topic}};
    std::vector<std::string> missing;
    for (const auto& [name, value] : required)
        if (value->empty()) missing.emplace_back(name);
    if (missing.size() == std::size(required)) {
        spdlog::info("push: APNs is off (push.apns_key_file is not set)");
        return nullptr;
    }
    if (!missing.empty()) {
        spdlog::error("push: APNs is off: {} is not set", missing.front());
        return nullptr;
    }
    const auto pem = key_file_text(settings.apns_key_file);
    if (!pem) {
        spdlog::error("push: APNs is off: cannot read push.apns_key_file {}", settings.apns_key_file);
        return nullptr;
    }
    try {
        auto key = PrivateKey::from_pem(*pem);
        if (!key.is_p256()) throw CryptoError("the key is not a P-256 (ES256) key");
        auto apns = std::make_unique<Apns>(settings, std::move(key));
        spdlog::info("push: APNs is on for {} at {}", settings.apns_topic, settings.apns_url);
        return apns;
    } catch (const CryptoError& e) {
        spdlog::error("push: APNs is off: push.apns_key_file: {}", e.what());
    } catch (const std::exception& e) {  // an unreadable push.apns_ca_file, a bad URL
        spdlog::error("push: APNs is off: {}", e.what());
    }
    return nullptr;
}

Apns::Apns(const config::Push& settings, PrivateKey key)
    : settings_(settings), key_(std::move(key)), tls_(tls_context(settings.apns_ca_file)) {
    origin_of_url(settings.apns_url);  // refused here rather than on every send
}

Apns::~Apns() = default;

std::string Apns::provider_token() {
    const std::lock_guard lock(mutex_);
    if (!token_ || Clock::now() >= token_->renew_at) {
        token_ = ProviderToken{apns_provider_token(key_, settings_.apns_key_id, settings_.apns_team_id,
                                                   std::chrono::system_clock::now()),
                               Clock::now() + token_reuse};
    }
    return token_->value;
}

void Apns::forget_token(const std::string& value) {
    const std::lock_guard lock(mutex_);
    if (token_ && token_->value == value) token_.reset();
}

Apns::Strand Apns::strand_for(const asio::any_io_executor& executor) {
    const std::lock_guard lock(mutex_);
    if (!strand_) strand_.emplace(asio::make_strand(executor));
    return *strand_;
}

asio::awaitable<Apns::Answer> Apns::exchange(Strand strand, std::string path, Headers headers, std::string body) {
    if (!connection_ || connection_->ended()) {
        connection_ = std::make_shared<ApnsConnection>(strand, tls_, origin_of_url(settings_.apns_url));
        asio::co_spawn(strand, connection_->run(settings_.timeout), asio::detached);
    }
    const auto connection = connection_;
    co_await connection->wait_open();
    auto response = co_await connection->request(path, headers, std::move(body), settings_.timeout);
    co_return Answer{response.status, std::move(response.body)};
}

Apns::Headers Apns::headers_for(const domain::PushNotification& notification, const std::string& token) const {
    return {{"authorization", "bearer " + token},
            {"apns-topic", settings_.apns_topic},
            {"apns-push-type", settings_.content_free ? "background" : "alert"},
            {"apns-priority", settings_.content_free ? "5" : "10"},  // Apple requires 5 for background pushes
            {"apns-expiration", std::to_string(model::unix_seconds(std::chrono::system_clock::now() + expiration))},
            // A chat's newer notification replaces its older one on the device (the count says how many).
            {"apns-collapse-id", notification.chat_id},
            {"content-type", "application/json"}};
}

asio::awaitable<domain::PushOutcome> Apns::send(const model::PushDevice& device,
                                                const domain::PushNotification& notification) {
    if (!is_device_token(device.token)) {
        spdlog::warn("push: apns device {}: the token is not hexadecimal", device.id);
        co_return domain::PushOutcome::dead_token;
    }
    const auto strand = strand_for(co_await asio::this_coro::executor);
    const auto path = "/3/device/" + device.token;
    const auto payload = apns_payload(notification, settings_.content_free);
    for (int attempt = 0; attempt < 2; ++attempt) {  // a second one with a new token after ExpiredProviderToken
        const auto token = provider_token();
        try {
            const auto answer =
                co_await asio::co_spawn(strand, exchange(strand, path, headers_for(notification, token), payload),
                                        use_awaitable);
            const auto verdict = apns_verdict(answer.status, answer.body);
            if (!verdict.provider_token_expired) {
                if (verdict.outcome == domain::PushOutcome::retry)
                    spdlog::warn("push: apns device {}: {} {}", device.id, answer.status, answer.body);
                co_return verdict.outcome;
            }
            forget_token(token);
        } catch (const std::exception& e) {
            spdlog::warn("push: apns device {}: {}", device.id, e.what());
            co_return domain::PushOutcome::retry;
        }
    }
    spdlog::warn("push: apns device {}: a fresh provider token expired too", device.id);
    co_return domain::PushOutcome::retry;
}

}  // namespace confab::net
