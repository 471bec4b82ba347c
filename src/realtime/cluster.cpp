#include "confab/realtime/cluster.hpp"

#include "confab/obs/metrics.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

namespace confab::realtime {
namespace {

constexpr char kVersion = 1;
constexpr char kSend = 'S';
constexpr char kClose = 'C';
constexpr std::size_t kUuidChars = 36;  // a user id, as the hub's callers pass it

// Little-endian unsigned integers of a fixed width.
template <typename Unsigned>
void put(std::string& out, Unsigned value) {
    for (std::size_t i = 0; i < sizeof(Unsigned); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// A user id or token hash: short strings, so a 16-bit length; longer ones are not ours.
void put_short(std::string& out, std::string_view text) {
    put(out, static_cast<std::uint16_t>(text.size()));
    out.append(text);
}

class Reader {
public:
    explicit Reader(std::string_view bytes) : rest_(bytes) {}

    template <typename Unsigned>
    std::optional<Unsigned> number() {
        if (rest_.size() < sizeof(Unsigned)) return std::nullopt;
        Unsigned value = 0;
        for (std::size_t i = 0; i < sizeof(Unsigned); ++i)
            value |= static_cast<Unsigned>(static_cast<Unsigned>(static_cast<unsigned char>(rest_[i])) << (8 * i));
        rest_.remove_prefix(sizeof(Unsigned));
        return value;
    }

    std::optional<std::string> short_text() {
        const auto size = number<std::uint16_t>();
        if (!size || rest_.size() < *size) return std::nullopt;
        std::string text(rest_.substr(0, *size));
        rest_.remove_prefix(*size);
        return text;
    }

    std::string_view rest() const { return rest_; }

private:
    std::string_view rest_;
};

std::optional<Envelope> decode_send(Reader& in) {
    const auto count = in.number<std::uint32_t>();
    // Each id takes at least its two length bytes: a count past that is not a whole envelope.
    if (!count || *count > in.rest().size() / 2) return std::nullopt;
    SendEnvelope send;
    send.user_ids.reserve(*count);
    for (std::uint32_t i = 0; i < *count; ++i) {
        auto user_id = in.short_text();
        if (!user_id) return std::nullopt;
        send.user_ids.push_back(std::move(*user_id));
    }
    send.frame = std::string(in.rest());
    return send;
}

std::optional<Envelope> decode_close(Reader& in) {
    auto user_id = in.short_text();
    auto token_hash = in.short_text();
    const auto all_but = in.number<std::uint8_t>();
    const auto code = in.number<std::uint16_t>();
    if (!user_id || !token_hash || !all_but || *all_but > 1 || !code || !in.rest().empty()) return std::nullopt;
    return CloseEnvelope{std::move(*user_id), TokenFilter{std::move(*token_hash), *all_but == 1},
                         static_cast<CloseCode>(*code)};
}

// Written straight from the hub's arguments: a relayed send copies neither the user ids nor
// the frame into an envelope first.
std::string encode_send(const std::vector<std::string>& user_ids, std::string_view frame) {
    std::string out;
    out.reserve(2 + sizeof(std::uint32_t) + user_ids.size() * (sizeof(std::uint16_t) + kUuidChars) + frame.size());
    out.push_back(kVersion);
    out.push_back(kSend);
    put(out, static_cast<std::uint32_t>(user_ids.size()));
    for (const auto& user_id : user_ids) put_short(out, user_id);
    out.append(frame);
    return out;
}

}  // namespace

std::string encode(const Envelope& envelope) {
    if (const auto* send = std::get_if<SendEnvelope>(&envelope)) return encode_send(send->user_ids, send->frame);
    const auto& close = std::get<CloseEnvelope>(envelope);
    std::string out{kVersion, kClose};
    put_short(out, close.user_id);
    put_short(out, close.tokens.token_hash);
    put(out, static_cast<std::uint8_t>(close.tokens.all_but ? 1 : 0));
    put(out, static_cast<std::uint16_t>(close.code));
    return out;
}

std::optional<Envelope> decode(std::string_view bytes) {
    Reader in(bytes);
    const auto version = in.number<std::uint8_t>();
    const auto kind = in.number<std::uint8_t>();
    if (!version || *version != kVersion || !kind) return std::nullopt;
    if (*kind == kSend) return decode_send(in);
    if (*kind == kClose) return decode_close(in);
    return std::nullopt;
}

Cluster::Cluster(Hub& hub, Bus& bus, Closed closed) : hub_(hub), bus_(bus), closed_(std::move(closed)) {}

void Cluster::relay_send(const std::vector<std::string>& user_ids, const Frame& frame) {
    if (user_ids.empty()) return;
    bus_.publish(encode_send(user_ids, *frame));
}

void Cluster::relay_close(const std::string& user_id, const TokenFilter& tokens, CloseCode code) {
    bus_.publish(encode(CloseEnvelope{user_id, tokens, code}));
}

void Cluster::receive(std::string_view bytes) {
    static auto& received = obs::metrics().cluster_messages.with({"received"});
    static auto& dropped = obs::metrics().cluster_messages.with({"dropped"});
    auto envelope = decode(bytes);
    if (!envelope) {
        dropped.inc();
        spdlog::warn("cluster: dropped a message of {} bytes that is not an envelope", bytes.size());
        return;
    }
    received.inc();
    if (auto* send = std::get_if<SendEnvelope>(&*envelope)) {
        hub_.send_here(send->user_ids, std::make_shared<const std::string>(std::move(send->frame)));
    } else {
        const auto& close = std::get<CloseEnvelope>(*envelope);
        if (closed_) closed_(close.user_id, close.tokens);
        hub_.close_here(close.user_id, close.tokens, close.code);
    }
}

void Cluster::rejoined() {
    spdlog::warn("cluster: back on the bus; closing this node's connections so their clients resync");
    hub_.close_everyone_here(CloseCode::try_again_later);
}

}  // namespace confab::realtime
