#include "support/fake_apns.hpp"
#include "support/loopback.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nghttp2/nghttp2.h>
#include <nlohmann/json.hpp>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <unistd.h>

namespace confab::test {

namespace asio = boost::asio;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("fake APNs: ") + what);
}

std::string pem_text(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return text;
}

void add_extension(X509* certificate, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    require(extension != nullptr && X509_add_ext(certificate, extension, -1) == 1, "no certificate extension");
    X509_EXTENSION_free(extension);
}

int select_h2(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
              unsigned int offered_length, void* /*arg*/) {
    for (unsigned int at = 0; at < offered_length; at += 1 + offered[at]) {
        if (offered[at] == 2 && at + 3 <= offered_length && std::memcmp(offered + at + 1, "h2", 2) == 0) {
            *out = offered + at + 1;
            *out_length = 2;
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

SelfSignedCertificate new_self_signed_certificate() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    require(key != nullptr, "no key");
    X509* certificate = X509_new();
    X509_set_version(certificate, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate), static_cast<long>(::getpid()));
    X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
    X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 3600);
    X509_set_pubkey(certificate, key);
    X509_NAME* name = X509_get_subject_name(certificate);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                               0);
    X509_set_issuer_name(certificate, name);
    add_extension(certificate, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(certificate, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    require(X509_sign(certificate, key, EVP_sha256()) > 0, "the certificate could not be signed");
    BIO* certificate_out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(certificate_out, certificate);
    BIO* key_out = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(key_out, key, nullptr, nullptr, 0, nullptr, nullptr);
    X509_free(certificate);
    EVP_PKEY_free(key);
    return {pem_text(certificate_out), pem_text(key_out)};
}

struct FakeApns::State {
    asio::ssl::context tls{asio::ssl::context::tls_server};  // before io: outlives the connections' frames
    asio::io_context io;
    tcp::acceptor acceptor{io};
    mutable std::mutex mutex;
    Handler handler;
    std::vector<Request> requests;
    int connections = 0;
    bool go_away = false;
};

namespace {

// One client connection: an nghttp2 server session fed from the TLS stream.
class Http2Connection {
public:
    Http2Connection(FakeApns::State& state, int number) : state_(state), number_(number) {
        nghttp2_session_callbacks* callbacks = nullptr;
        nghttp2_session_callbacks_new(&callbacks);
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Http2Connection::on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(callbacks, &Http2Connection::on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Http2Connection::on_data);
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Http2Connection::on_frame);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Http2Connection::on_stream_close);
        nghttp2_session_server_new(&session_, callbacks, this);
        nghttp2_session_callbacks_del(callbacks);
        const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
    }
    ~Http2Connection() { nghttp2_session_del(session_); }
    Http2Connection(const Http2Connection&) = delete;
    Http2Connection& operator=(const Http2Connection&) = delete;

    // Feeds what arrived; false when the session failed.
    bool received(const std::uint8_t* data, std::size_t length) {
        return nghttp2_session_mem_recv(session_, data, length) >= 0;
    }
    std::string to_send() {
        std::string out;
        const std::uint8_t* data = nullptr;
        for (ssize_t length = 0; (length = nghttp2_session_mem_send(session_, &data)) > 0;)
            out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
        return out;
    }
    bool done() const { return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0; }

private:
    struct Stream {
        FakeApns::Request request;
        std::string answer;
        std::size_t sent = 0;
    };

    static Http2Connection& of(void* self) { return *static_cast<Http2Connection*>(self); }

    static int on_begin_headers(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* self) {
        if (frame->hd.type == NGHTTP2_HEADERS)
            of(self).streams_[frame->hd.stream_id].request.connection = of(self).number_;
        return 0;
    }
    static int on_header(nghttp2_session* /*session*/, const nghttp2_frame* frame, const std::uint8_t* name,
                         std::size_t name_length, const std::uint8_t* value, std::size_t value_length,
                         std::uint8_t /*flags*/, void* self) {
        of(self)
            .streams_[frame->hd.stream_id]
            .request.headers[std::string(reinterpret_cast<const char*>(name), name_length)] =
            std::string(reinterpret_cast<const char*>(value), value_length);
        return 0;
    }
    static int on_data(nghttp2_session* /*session*/, std::uint8_t /*flags*/, std::int32_t id, const std::uint8_t* data,
                       std::size_t length, void* self) {
        of(self).streams_[id].request.body.append(reinterpret_cast<const char*>(data), length);
        return 0;
    }
    static int on_frame(nghttp2_session* /*session*/, const nghttp2_frame* frame, void* self) {
        const bool request_ended = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                                   (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        if (request_ended) of(self).answer(frame->hd.stream_id);
        return 0;
    }
    static int on_stream_close(nghttp2_session* /*session*/, std::int32_t id, std::uint32_t /*error*/, void* self) {
        of(self).streams_.erase(id);
        return 0;
    }
    static ssize_t read_answer(nghttp2_session* /*session*/, std::int32_t id, std::uint8_t* out, std::size_t length,
                               std::uint32_t* flags, nghttp2_data_source* /*source*/, void* self) {
        auto& stream = of(self).streams_[id];
        const auto chunk = std::min(length, stream.answer.size() - stream.sent);
        std::copy_n(stream.answer.data() + stream.sent, chunk, out);
        stream.sent += chunk;
        if (stream.sent == stream.answer.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return static_cast<ssize_t>(chunk);
    }

    void answer(std::int32_t id) {
        auto& stream = streams_[id];
        FakeApns::Handler handler;
        {
            const std::lock_guard lock(state_.mutex);
            handler = state_.handler;
        }
        const auto reply = handler(stream.request);
        bool go_away = false;
        {
            const std::lock_guard lock(state_.mutex);
            state_.requests.push_back(stream.request);
            go_away = std::exchange(state_.go_away, false);
        }
        const std::string status = std::to_string(reply.status);
        std::array<char, 40> id_text{};
        std::snprintf(id_text.data(), id_text.size(), "00000000-0000-0000-0000-%012d", id);
        const std::string apns_id(id_text.data());
        const std::string content_type = "application/json";
        const auto field = [](const char* name, const std::string& value) {
            // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): nghttp2 copies them
            return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
                              // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
                              reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), std::strlen(name),
                              value.size(), NGHTTP2_NV_FLAG_NONE};
        };
        std::vector<nghttp2_nv> headers{field(":status", status), field("apns-id", apns_id)};
        if (reply.reason.empty()) {
            nghttp2_submit_response(session_, id, headers.data(), headers.size(), nullptr);
        } else {
            stream.answer = nlohmann::json{{"reason", reply.reason}}.dump();
            headers.push_back(field("content-type", content_type));
            nghttp2_data_provider provider{};
            provider.read_callback = &Http2Connection::read_answer;
            nghttp2_submit_response(session_, id, headers.data(), headers.size(), &provider);
        }
        if (go_away) nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, nullptr, 0);
    }

    FakeApns::State& state_;
    int number_;
    nghttp2_session* session_ = nullptr;
    std::map<std::int32_t, Stream> streams_;
};

asio::awaitable<void> serve(FakeApns::State& state, tcp::socket socket) {
    asio::ssl::stream<tcp::socket> stream(std::move(socket), state.tls);
    try {
        co_await stream.async_handshake(asio::ssl::stream_base::server, use_awaitable);
        const unsigned char* protocol = nullptr;
        unsigned int length = 0;
        SSL_get0_alpn_selected(stream.native_handle(), &protocol, &length);
        if (length != 2 || std::memcmp(protocol, "h2", 2) != 0) co_return;
        int number = 0;
        {
            const std::lock_guard lock(state.mutex);
            number = ++state.connections;
        }
        Http2Connection connection(state, number);
        std::array<std::uint8_t, 16384> buffer{};
        for (;;) {
            if (const auto out = connection.to_send(); !out.empty())
                co_await asio::async_write(stream, asio::buffer(out), use_awaitable);
            if (connection.done()) break;
            const auto got = co_await stream.async_read_some(asio::buffer(buffer), use_awaitable);
            if (!connection.received(buffer.data(), got)) break;
        }
    } catch (const boost::system::system_error&) {
        // A failed handshake or a client that went away: the connection just ends.
    }
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);
}

asio::awaitable<void> accept_loop(FakeApns::State& state) {
    for (;;) {
        auto socket = co_await state.acceptor.async_accept(use_awaitable);
        asio::co_spawn(state.io, serve(state, std::move(socket)), asio::detached);
    }
}

}  // namespace

FakeApns::FakeApns(Handler handler) : state_(std::make_unique<State>()) {
    state_->handler = std::move(handler);
    const auto certificate = new_self_signed_certificate();
    state_->tls.use_certificate_chain(asio::buffer(certificate.certificate_pem));
    state_->tls.use_private_key(asio::buffer(certificate.private_key_pem), asio::ssl::context::pem);
    SSL_CTX_set_alpn_select_cb(state_->tls.native_handle(), &select_h2, nullptr);
    port_ = listen_on_loopback(state_->acceptor);
    ca_file_ = std::filesystem::temp_directory_path() /
               ("confab-fake-apns-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".pem");
    std::ofstream(ca_file_, std::ios::binary) << certificate.certificate_pem;
    asio::co_spawn(state_->io, accept_loop(*state_), asio::detached);
    thread_ = std::thread([this] { state_->io.run(); });
}

FakeApns::~FakeApns() {
    state_->io.stop();
    thread_.join();
    std::filesystem::remove(ca_file_);
}

std::string FakeApns::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

int FakeApns::connections() const {
    const std::lock_guard lock(state_->mutex);
    return state_->connections;
}

std::vector<FakeApns::Request> FakeApns::requests() const {
    const std::lock_guard lock(state_->mutex);
    return state_->requests;
}

void FakeApns::go_away_after_next_request() {
    const std::lock_guard lock(state_->mutex);
    state_->go_away = true;
}

}  // namespace confab::test
