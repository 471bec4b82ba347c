#include "confab/realtime/cluster.hpp"

#include "confab/obs/metrics.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <span>
#include <utility>

namespace confab::realtime {
namespace {

constexpr char kVersion = 1;
constexpr char kSend = 'S';
constexpr char kOrderedSend = 'O';  // a send with its chat id and seq before the user ids
constexpr char kClose = 'C';
constexpr char kAccess = 'A';
constexpr char kResync = 'R';
constexpr char kDeviceSend = 'T';       // user id, token hash, then the frame
constexpr char kDevice = 'D';           // user id, token hash, whether connected
constexpr std::size_t kUuidChars = 36;  // a user id, as the hub's callers pass it
// The first byte of the recipient that carries an event's place after a seq in a send (kind
// `S`): then the seq (8 bytes) and the chat id. User ids are UUIDs in text, which never hold
// it, so a node of the previous version, which knows no such place, finds no connection of
// that "user" and hands the event to the real recipients (no log, metric or resync names a
// send's recipients there). A new kind would have been dropped by such a node whole.
constexpr char kPlaceMark = '\0';
// How far apart two nodes' clocks (and the database's) may be: a connection attached this soon
// after another node's lost event was committed (on that node's clock) is closed too, since it
// may not have; a message stored this soon before this node joined the bus is waited for.
constexpr auto kClockSkewAllowance = std::chrono::milliseconds(100);

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

bool is_place(std::string_view recipient) { return !recipient.empty() && recipient.front() == kPlaceMark; }

// An event's place after a seq, from the recipient that carries it (kPlaceMark).
std::optional<Ordering> place_after(std::string_view recipient) {
    Reader in(recipient.substr(1));
    const auto seq = in.number<std::uint64_t>();
    if (!seq || in.rest().empty()) return std::nullopt;
    return Ordering{std::string(in.rest()), static_cast<std::int64_t>(*seq), Order::Place::after};
}

std::optional<Envelope> decode_send(Reader& in, std::optional<Ordering> ordering) {
    const auto count = in.number<std::uint32_t>();
    // Each id takes at least its two length bytes: a count past that is not a whole envelope.
    if (!count || *count > in.rest().size() / 2) return std::nullopt;
    SendEnvelope send;
    send.ordering = std::move(ordering);
    send.user_ids.reserve(*count);
    for (std::uint32_t i = 0; i < *count; ++i) {
        auto user_id = in.short_text();
        if (!user_id) return std::nullopt;
        if (i == 0 && !send.ordering && is_place(*user_id)) {
            send.ordering = place_after(*user_id);
            if (!send.ordering) return std::nullopt;
            continue;
        }
        send.user_ids.push_back(std::move(*user_id));
    }
    send.frame = std::string(in.rest());
    return send;
}

std::optional<Envelope> decode_ordered_send(Reader& in) {
    auto chat_id = in.short_text();
    const auto seq = in.number<std::uint64_t>();
    if (!chat_id || !seq) return std::nullopt;
    return decode_send(in, Ordering{std::move(*chat_id), static_cast<std::int64_t>(*seq), Order::Place::at});
}

std::optional<Envelope> decode_access(Reader& in) {
    auto chat_id = in.short_text();
    if (!chat_id || !in.rest().empty()) return std::nullopt;
    return AccessEnvelope{std::move(*chat_id)};
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

std::optional<Envelope> decode_resync(Reader& in) {
    if (in.rest().empty()) return ResyncEnvelope{};
    const auto ms = in.number<std::uint64_t>();
    if (!ms || !in.rest().empty()) return std::nullopt;
    return ResyncEnvelope{LossTime(std::chrono::milliseconds(static_cast<std::int64_t>(*ms)))};
}

std::optional<Envelope> decode_device_send(Reader& in) {
    auto user_id = in.short_text();
    auto token_hash = in.short_text();
    if (!user_id || !token_hash) return std::nullopt;
    return DeviceSendEnvelope{std::move(*user_id), std::move(*token_hash), std::string(in.rest())};
}

std::optional<Envelope> decode_device(Reader& in) {
    auto user_id = in.short_text();
    auto token_hash = in.short_text();
    const auto connected = in.number<std::uint8_t>();
    if (!user_id || !token_hash || !connected || *connected > 1 || !in.rest().empty()) return std::nullopt;
    return DeviceEnvelope{std::move(*user_id), std::move(*token_hash), *connected == 1};
}

// Written straight from the hub's arguments: a relayed send copies neither the user ids nor
// the frame into an envelope first.
std::string encode_send(std::span<const std::string> user_ids, std::string_view frame,
                        const std::optional<Order>& order) {
    const bool message = order && order->place == Order::Place::at;
    const bool after = order && order->place == Order::Place::after;
    std::string out;
    out.reserve(2 + (order ? sizeof(std::uint16_t) + 1 + order->chat_id.size() + sizeof(std::uint64_t) : 0) +
                sizeof(std::uint32_t) + user_ids.size() * (sizeof(std::uint16_t) + kUuidChars) + frame.size());
    out.push_back(kVersion);
    out.push_back(message ? kOrderedSend : kSend);
    if (message) {
        put_short(out, order->chat_id);
        put(out, static_cast<std::uint64_t>(order->seq));
    }
    put(out, static_cast<std::uint32_t>(user_ids.size() + (after ? 1 : 0)));
    if (after) {
        put(out, static_cast<std::uint16_t>(1 + sizeof(std::uint64_t) + order->chat_id.size()));
        out.push_back(kPlaceMark);
        put(out, static_cast<std::uint64_t>(order->seq));
        out.append(order->chat_id);
    }
    for (const auto& user_id : user_ids) put_short(out, user_id);
    out.append(frame);
    return out;
}

}  // namespace

std::string encode(const Envelope& envelope) {
    if (const auto* send = std::get_if<SendEnvelope>(&envelope)) {
        const auto order =
            send->ordering
                ? std::optional<Order>(Order{send->ordering->chat_id, send->ordering->seq, send->ordering->place})
                : std::nullopt;
        return encode_send(send->user_ids, send->frame, order);
    }
    if (const auto* access = std::get_if<AccessEnvelope>(&envelope)) {
        std::string out{kVersion, kAccess};
        put_short(out, access->chat_id);
        return out;
    }
    if (const auto* resync = std::get_if<ResyncEnvelope>(&envelope)) {
        std::string out{kVersion, kResync};
        if (resync->committed_before)
            put(out, static_cast<std::uint64_t>(resync->committed_before->time_since_epoch().count()));
        return out;
    }
    if (const auto* device_send = std::get_if<DeviceSendEnvelope>(&envelope)) {
        std::string out{kVersion, kDeviceSend};
        put_short(out, device_send->user_id);
        put_short(out, device_send->token_hash);
        out.append(device_send->frame);
        return out;
    }
    if (const auto* device = std::get_if<DeviceEnvelope>(&envelope)) {
        std::string out{kVersion, kDevice};
        put_short(out, device->user_id);
        put_short(out, device->token_hash);
        put(out, static_cast<std::uint8_t>(device->connected ? 1 : 0));
        return out;
    }
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
    if (*kind == kSend) return decode_send(in, std::nullopt);
    if (*kind == kOrderedSend) return decode_ordered_send(in);
    if (*kind == kClose) return decode_close(in);
    if (*kind == kAccess) return decode_access(in);
    if (*kind == kResync) return decode_resync(in);
    if (*kind == kDeviceSend) return decode_device_send(in);
    if (*kind == kDevice) return decode_device(in);
    return std::nullopt;
}

Cluster::Cluster(Hub& hub, Bus& bus, Told told, Sequencer::Clock::duration order_wait)
    : hub_(hub),
      bus_(bus),
      told_(std::move(told)),
      sequencer_(order_wait),
      gap_expirer_([this](const std::stop_token& stop) { expire_gaps(stop); }) {}

Cluster::~Cluster() {
    gap_expirer_.request_stop();
    order_changed_.notify_all();
}

void Cluster::relay_send(const std::vector<std::string>& user_ids, const Frame& frame,
                         const std::optional<Order>& order) {
    const std::span<const std::string> all(user_ids);
    for (std::size_t first = 0; first < all.size(); first += users_per_envelope)
        publish(encode_send(all.subspan(first, std::min(users_per_envelope, all.size() - first)), *frame, order));
}

std::size_t Cluster::send_here_in_order(const std::vector<std::string>& user_ids, const Frame& frame,
                                        const Order& order) {
    static auto& held = obs::metrics().cluster_ordering.with({"held"});
    static auto& late = obs::metrics().cluster_ordering.with({"late"});
    std::size_t delivered = 0;
    auto arrival = Sequencer::Arrival::delivered;
    std::chrono::system_clock::time_point joined_at;
    const bool message = order.place == Order::Place::at;
    // An unknown chat is settled below the message, or up to the seq the event follows.
    const auto unsettled_below = message ? order.seq : order.seq + 1;
    {
        std::lock_guard lock(order_mutex_);
        const auto deliver = [&](const std::vector<std::string>& users, const Frame& ready) {
            delivered += hub_.send_here(users, ready);
        };
        const auto now = Sequencer::Clock::now();
        arrival = message ? sequencer_.arrive(order.chat_id, order.seq, user_ids, frame, now, deliver)
                          : sequencer_.arrive_after(order.chat_id, order.seq, user_ids, frame, now, deliver);
        joined_at = joined_at_;
        if (arrival == Sequencer::Arrival::unsettled && !told_.settled) {
            // Nobody to ask: every earlier seq is taken to be settled.
            sequencer_.settle(order.chat_id, unsettled_below - 1, deliver);
            arrival = Sequencer::Arrival::delivered;
        }
        if (arrival == Sequencer::Arrival::held || arrival == Sequencer::Arrival::unsettled) {
            held.inc();
            order_changed_.notify_all();
        } else if (arrival == Sequencer::Arrival::late) {
            late.inc();
            spdlog::warn("cluster: message {} of chat {} came after later ones went out; its recipients resync",
                         order.seq, order.chat_id);
            for (const auto& user_id : user_ids) resync(user_id);
        }
    }
    // The nodes' clocks may differ: what another node stored a moment after this one joined is
    // still waited for.
    if (arrival == Sequencer::Arrival::unsettled)
        told_.settled(std::string(order.chat_id), unsettled_below, joined_at - kClockSkewAllowance,
                      [this, chat_id = std::string(order.chat_id)](std::int64_t settled) { settle(chat_id, settled); });
    return delivered;
}

void Cluster::settle(const std::string& chat_id, std::int64_t settled) {
    std::lock_guard lock(order_mutex_);
    sequencer_.settle(chat_id, settled, [this](const std::vector<std::string>& users, const Frame& ready) {
        hub_.send_here(users, ready);
    });
    order_changed_.notify_all();
}

void Cluster::expire_gaps(const std::stop_token& stop) {
    static auto& gaps = obs::metrics().cluster_ordering.with({"gap"});
    std::unique_lock lock(order_mutex_);
    while (!stop.stop_requested()) {
        if (const auto deadline = sequencer_.next_deadline())
            order_changed_.wait_until(lock, stop, *deadline, [] { return false; });
        else order_changed_.wait(lock, stop, [this] { return sequencer_.next_deadline().has_value(); });
        if (stop.stop_requested()) return;
        const auto given_up =
            sequencer_.expire(Sequencer::Clock::now(), [this](const std::string& user_id) { resync(user_id); });
        if (given_up > 0) {
            gaps.inc(given_up);
            spdlog::warn("cluster: gave up {} gap(s) in chats' seqs after the wait; their recipients resync", given_up);
        }
    }
}

void Cluster::resync(const std::string& user_id) {
    hub_.close_here(user_id, TokenFilter::all_except(""), CloseCode::try_again_later);
}

void Cluster::relay_close(const std::string& user_id, const TokenFilter& tokens, CloseCode code) {
    publish(encode(CloseEnvelope{user_id, tokens, code}));
}

void Cluster::relay_access_changed(const std::string& chat_id) { publish(encode(AccessEnvelope{chat_id})); }

void Cluster::relay_device_send(const std::string& user_id, const std::string& token_hash, const Frame& frame) {
    publish(encode(DeviceSendEnvelope{user_id, token_hash, *frame}));
}

void Cluster::relay_device_changed(const std::string& user_id, const std::string& token_hash, bool connected) {
    publish(encode(DeviceEnvelope{user_id, token_hash, connected}));
}

void Cluster::publish(std::string bytes) {
    bus_.publish(std::move(bytes));
    // While the bus is up rejoined() will not run: the others are told now.
    if (bus_.connected()) tell_others_of_loss();
}

void Cluster::tell_others_of_loss() {
    const auto committed_before = bus_.take_loss();
    if (!committed_before) return;
    spdlog::warn("cluster: something this node published may not have reached the others; their clients resync");
    bus_.publish(encode(ResyncEnvelope{committed_before}));  // lost in turn, it is asked about again
}

void Cluster::resync_everyone_here() { hub_.close_everyone_here(CloseCode::try_again_later); }

void Cluster::resync_attached_before(const ResyncEnvelope& lost) {
    if (!lost.committed_before) return resync_everyone_here();
    hub_.close_everyone_here(CloseCode::try_again_later, *lost.committed_before + kClockSkewAllowance);
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
        auto frame = std::make_shared<const std::string>(std::move(send->frame));
        if (send->ordering)
            send_here_in_order(send->user_ids, frame,
                               Order{send->ordering->chat_id, send->ordering->seq, send->ordering->place});
        else hub_.send_here(send->user_ids, frame);
    } else if (const auto* access = std::get_if<AccessEnvelope>(&*envelope)) {
        if (told_.access_changed) told_.access_changed(access->chat_id);
    } else if (auto* device_send = std::get_if<DeviceSendEnvelope>(&*envelope)) {
        hub_.send_to_token(device_send->user_id, device_send->token_hash,
                           std::make_shared<const std::string>(std::move(device_send->frame)));
    } else if (const auto* device = std::get_if<DeviceEnvelope>(&*envelope)) {
        if (told_.device_changed) told_.device_changed(device->user_id, device->token_hash, device->connected);
    } else if (const auto* lost = std::get_if<ResyncEnvelope>(&*envelope)) {
        spdlog::warn(
            "cluster: another node may have lost what it published; closing this node's connections that could "
            "have missed it so their clients resync");
        resync_attached_before(*lost);
    } else {
        const auto& close = std::get<CloseEnvelope>(*envelope);
        if (told_.closed) told_.closed(close.user_id, close.tokens);
        hub_.close_here(close.user_id, close.tokens, close.code);
    }
}

void Cluster::rejoined() {
    spdlog::warn("cluster: back on the bus; closing this node's connections so their clients resync");
    tell_others_of_loss();
    {
        std::lock_guard lock(order_mutex_);
        joined_at_ = std::chrono::system_clock::now();
        sequencer_.reset();
        order_changed_.notify_all();
    }
    resync_everyone_here();
}

}  // namespace confab::realtime
