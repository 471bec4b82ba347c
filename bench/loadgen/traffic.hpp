#pragma once

#include "latency.hpp"
#include "ws_connection.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace confab::bench {

using Clock = std::chrono::steady_clock;

// Nanoseconds since the loadgen started; send times and receipt times share this origin.
std::int64_t now_ns();

// What one measurement window saw. Rates are per second of the window.
struct WindowCounters {
    double seconds = 0;
    std::uint64_t offered = 0;     // sends scheduled inside the window
    std::uint64_t acks = 0;        // acks received inside the window
    std::uint64_t deliveries = 0;  // message.new frames received inside the window
    LatencySamples end_to_end;     // send -> each member's message.new, window sends only
    LatencySamples ack;            // send -> ack, window sends only
};

// Problems seen since the traffic started; any of them fails a step and the scenario.
struct TrafficErrors {
    std::uint64_t error_frames = 0;      // "error" answers to message.send
    std::uint64_t lost_connections = 0;  // closed by the server or the network
    std::uint64_t out_of_order = 0;      // message.new with a seq not above the last one seen
    std::uint64_t duplicates = 0;        // more deliveries of a message than its audience
    std::string first_error;             // text of the first error frame, for the report

    std::uint64_t total() const { return error_frames + lost_connections + out_of_order + duplicates; }
};

struct AckedMessage {
    int chat;
    std::string id;
};

// Sends messages and accounts for their acks and deliveries. Every message carries its own
// number in `content` ("b<n>") and in the request id ("s<n>"), so a frame names the send it
// belongs to without a lookup table keyed by strings.
class Traffic final : public FrameSink {
public:
    // `chat_ids[c]` is scenario chat c; `audience[c]` is how many open connections listen to it.
    Traffic(std::vector<std::string> chat_ids, std::vector<int> audience);

    // Sends one text message from `sender` into chat `chat`; `intended_ns` is when the
    // open-loop schedule wanted it sent, which is what latency is measured from.
    void send(WsConnection& sender, int chat, std::int64_t intended_ns);

    void begin_window();
    // Closes the window; its latency samples keep growing until take_window().
    void end_window();
    WindowCounters take_window();

    // Nothing sent is still waiting for its ack or for a delivery.
    bool drained() const { return outstanding_acks_ == 0 && outstanding_deliveries_ == 0; }
    std::uint64_t outstanding_acks() const { return outstanding_acks_; }
    std::uint64_t outstanding_deliveries() const { return outstanding_deliveries_; }
    const TrafficErrors& errors() const { return errors_; }
    const std::vector<AckedMessage>& acked() const { return acked_; }
    const std::vector<std::string>& chat_ids() const { return chat_ids_; }

    void on_frame(WsConnection& connection, std::string_view frame) override;
    void on_closed(WsConnection& connection, bool expected) override;

private:
    struct Sent {
        std::int64_t intended_ns;
        std::int32_t chat;
        std::int32_t delivered = 0;
        std::uint32_t window;   // the window it was sent in, 0 for none
        bool answered = false;  // acked or refused
    };

    void on_delivery(WsConnection& connection, std::string_view frame, std::int64_t received_ns);
    void on_answer(std::string_view frame, std::int64_t received_ns);
    void settle_refused(Sent& message);

    std::vector<std::string> chat_ids_;
    std::vector<int> audience_;
    std::string client_id_prefix_;  // unique per Traffic: the same users send in several scenarios
    std::vector<Sent> sent_;
    std::vector<AckedMessage> acked_;
    std::uint64_t outstanding_acks_ = 0;
    std::uint64_t outstanding_deliveries_ = 0;
    TrafficErrors errors_;

    std::uint32_t window_ = 0;  // number of the current or last window
    bool window_open_ = false;
    std::int64_t window_start_ns_ = 0;
    WindowCounters counters_;
};

}  // namespace confab::bench
