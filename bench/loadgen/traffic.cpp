#include "traffic.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace confab::bench {
namespace {

const Clock::time_point origin = Clock::now();

// The digits that follow `marker` in `frame`, or -1.
std::int64_t number_after(std::string_view frame, std::string_view marker) {
    const auto at = frame.find(marker);
    if (at == std::string_view::npos) return -1;
    std::int64_t value = -1;
    const auto digits = frame.substr(at + marker.size());
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return value;
}

// The server writes objects with sorted keys, so "type" is the envelope's last member and a
// frame's kind is known from its tail without parsing it. A change of key order shows up
// as missing deliveries, never as wrong latencies.
constexpr std::string_view message_new_tail = R"("type":"message.new"})";
constexpr std::string_view ack_tail = R"("type":"ack"})";
constexpr std::string_view error_tail = R"("type":"error"})";

}  // namespace

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - origin).count(); }

Traffic::Traffic(std::vector<std::string> chat_ids, std::vector<int> audience)
    : chat_ids_(std::move(chat_ids)), audience_(std::move(audience)) {
    // A reused client_id would make the server return the earlier message (idempotent send).
    static int instances = 0;
    client_id_prefix_ = "c" + std::to_string(instances++) + "-";
}

void Traffic::send(WsConnection& sender, int chat, std::int64_t intended_ns) {
    const auto number = std::to_string(sent_.size());
    const bool counted = window_open_ && intended_ns >= window_start_ns_;
    sent_.push_back(Sent{intended_ns, chat, 0, counted ? window_ : 0u});
    if (counted) ++counters_.offered;
    ++outstanding_acks_;
    outstanding_deliveries_ += static_cast<std::uint64_t>(audience_[static_cast<std::size_t>(chat)]);
    sender.send(R"({"type":"message.send","id":"s)" + number + R"(","data":{"chat_id":")" +
                chat_ids_[static_cast<std::size_t>(chat)] + R"(","type":"text","content":"b)" + number +
                R"(","client_id":")" + client_id_prefix_ + number + R"("}})");
}

void Traffic::begin_window() {
    ++window_;
    window_open_ = true;
    window_start_ns_ = now_ns();
    counters_ = WindowCounters{};
}

void Traffic::end_window() {
    window_open_ = false;
    counters_.seconds = static_cast<double>(now_ns() - window_start_ns_) / 1e9;
}

WindowCounters Traffic::take_window() { return std::move(counters_); }

void Traffic::on_frame(WsConnection& connection, std::string_view frame) {
    const auto received = now_ns();
    if (frame.ends_with(message_new_tail)) {
        on_delivery(connection, frame, received);
    } else if (frame.ends_with(ack_tail) || frame.ends_with(error_tail)) {
        on_answer(frame, received);
    }
    // presence.update, chat.created and the like are not measured.
}

void Traffic::on_delivery(WsConnection& connection, std::string_view frame, std::int64_t received_ns) {
    const auto number = number_after(frame, R"("content":"b)");
    if (number < 0 || static_cast<std::size_t>(number) >= sent_.size()) return;  // not one of ours
    auto& message = sent_[static_cast<std::size_t>(number)];
    if (message.delivered >= audience_[static_cast<std::size_t>(message.chat)]) {
        ++errors_.duplicates;
        return;
    }
    ++message.delivered;
    --outstanding_deliveries_;
    const auto seq = number_after(frame, R"("seq":)");
    if (seq <= connection.last_seq) ++errors_.out_of_order;
    connection.last_seq = seq;
    if (window_open_) ++counters_.deliveries;
    if (message.window == window_ && message.window != 0)
        counters_.end_to_end.add_ns(received_ns - message.intended_ns);
}

void Traffic::on_answer(std::string_view frame, std::int64_t received_ns) {
    // The envelope's id is its second-to-last member, after the whole message.
    const auto number = number_after(frame.substr(frame.size() > 96 ? frame.size() - 96 : 0), R"("id":"s)");
    if (number < 0 || static_cast<std::size_t>(number) >= sent_.size()) return;
    auto& message = sent_[static_cast<std::size_t>(number)];
    if (message.answered) return;
    message.answered = true;
    --outstanding_acks_;
    if (frame.ends_with(error_tail)) {
        ++errors_.error_frames;
        if (errors_.first_error.empty()) errors_.first_error = std::string(frame.substr(0, 300));
        settle_refused(message);
        return;
    }
    // Acks are a few thousand a second at most: parsing them whole is affordable.
    const auto ack = nlohmann::json::parse(frame, nullptr, false);
    if (ack.is_discarded()) return;
    acked_.push_back({message.chat, ack["data"]["message"]["id"].get<std::string>()});
    if (window_open_) ++counters_.acks;
    if (message.window == window_ && message.window != 0) counters_.ack.add_ns(received_ns - message.intended_ns);
}

// A refused message is never delivered: stop waiting for it.
void Traffic::settle_refused(Sent& message) {
    const auto audience = static_cast<std::uint64_t>(audience_[static_cast<std::size_t>(message.chat)]);
    const auto pending = audience - static_cast<std::uint64_t>(message.delivered);
    outstanding_deliveries_ -= std::min(pending, outstanding_deliveries_);
}

void Traffic::on_closed(WsConnection&, bool expected) {
    if (!expected) ++errors_.lost_connections;
}

}  // namespace confab::bench
