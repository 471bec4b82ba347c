#include "confab/realtime/cluster.hpp"

#include "realtime/recording_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confab::realtime {
namespace {

TEST(ClusterEnvelope, ASendAndACloseComeBackAsTheyWent) {
    const Envelope send =
        SendEnvelope{{"u1", "", std::string(300, 'x')}, std::string("{\"type\":\"x\"}\0\xff", 14), std::nullopt};
    const Envelope close = CloseEnvelope{"u1", TokenFilter{"hash", true}, CloseCode::token_revoked};
    const Envelope close_one = CloseEnvelope{"u2", TokenFilter{"", false}, CloseCode::going_away};
    for (const auto& envelope : {send, close, close_one}) EXPECT_EQ(decode(encode(envelope)), envelope);
    EXPECT_EQ(decode(encode(SendEnvelope{{}, "", std::nullopt})), Envelope{SendEnvelope{}});
}

TEST(ClusterEnvelope, AnAccessChangeComesBackWithItsChat) {
    const Envelope access = AccessEnvelope{"chat-1"};
    EXPECT_EQ(decode(encode(access)), access);
}

TEST(ClusterEnvelope, AResyncComesBackWithItsTimeAndTakesNoMoreBytes) {
    const ResyncEnvelope timed{LossTime(std::chrono::milliseconds(1'780'000'000'123))};
    const auto bytes = encode(timed);
    EXPECT_EQ(decode(bytes), Envelope{timed});
    EXPECT_EQ(decode(bytes + "x"), std::nullopt);
    EXPECT_EQ(decode(bytes.substr(0, bytes.size() - 1)), std::nullopt);
    EXPECT_EQ(decode(encode(ResyncEnvelope{})), Envelope{ResyncEnvelope{}}) << "an older node's, for everyone";
}

TEST(ClusterEnvelope, AnOrderedSendComesBackWithItsChatAndSeq) {
    const Envelope send = SendEnvelope{{"u1", "u2"}, "{}", Ordering{"chat-1", 9007199254740993}};
    EXPECT_EQ(decode(encode(send)), send);
}

TEST(ClusterEnvelope, AnEventAfterASeqComesBackWithItsChatAndSeq) {
    const Envelope send = SendEnvelope{{"u1", "u2"}, "{}", Ordering{"chat-1", 9007199254740993, Order::Place::after}};
    EXPECT_EQ(decode(encode(send)), send);
    const Envelope first = SendEnvelope{{"u1"}, "{}", Ordering{"chat-1", 0, Order::Place::after}};
    EXPECT_EQ(decode(encode(first)), first) << "after none: before the chat's first message";
}

// What a node of the previous version made of a send: its decode() took kinds S and O (and
// others, which are no sends) of version 1, and handed a send's user ids and frame to its hub's
// send_here as they came. Copied here from that version, which a rolling upgrade runs beside
// this one.
struct PreviousSend {
    std::vector<std::string> user_ids;
    std::string frame;
};
std::optional<PreviousSend> decoded_by_previous_version(std::string_view bytes) {
    const auto take = [&bytes](std::size_t size) -> std::optional<std::string_view> {
        if (bytes.size() < size) return std::nullopt;
        const auto taken = bytes.substr(0, size);
        bytes.remove_prefix(size);
        return taken;
    };
    const auto number = [&take](std::size_t size) -> std::optional<std::uint64_t> {
        const auto taken = take(size);
        if (!taken) return std::nullopt;
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < size; ++i)
            value |= static_cast<std::uint64_t>(static_cast<unsigned char>((*taken)[i])) << (8 * i);
        return value;
    };
    const auto short_text = [&]() -> std::optional<std::string> {
        const auto size = number(2);
        if (!size) return std::nullopt;
        const auto text = take(*size);
        if (!text) return std::nullopt;
        return std::string(*text);
    };
    const auto version = number(1);
    const auto kind = number(1);
    if (!version || *version != 1 || !kind) return std::nullopt;
    if (*kind == 'O' && (!short_text() || !number(8))) return std::nullopt;
    if (*kind != 'S' && *kind != 'O') return std::nullopt;  // no send
    const auto count = number(4);
    if (!count || *count > bytes.size() / 2) return std::nullopt;
    PreviousSend send;
    for (std::uint64_t i = 0; i < *count; ++i) {
        auto user_id = short_text();
        if (!user_id) return std::nullopt;
        send.user_ids.push_back(std::move(*user_id));
    }
    send.frame = std::string(bytes);
    return send;
}

TEST(ClusterEnvelope, ANodeOfThePreviousVersionTakesAnEventAfterASeqAsAPlainSendToItsRecipients) {
    const auto ana = std::string("3f2a9c4e-0b1d-4e6f-8a7b-1c2d3e4f5a6b");
    const auto ben = std::string("7d1e2f3a-4b5c-4d6e-9f0a-1b2c3d4e5f6a");
    const auto bytes = encode(SendEnvelope{{ana, ben},
                                           "{\"type\":\"member.removed\"}",
                                           Ordering{"chat-1", 0x0102030405060708, Order::Place::after}});
    // Byte for byte: a plain send (version 1, kind S) of three recipients, the first of them
    // the place: a NUL byte, the seq, the chat id.
    auto expected = std::string("\x01S\x03\x00\x00\x00", 6);
    expected += std::string("\x0f\x00\x00\x08\x07\x06\x05\x04\x03\x02\x01", 11) + "chat-1";
    for (const auto& user : {ana, ben}) expected += std::string("\x24\x00", 2) + user;
    expected += "{\"type\":\"member.removed\"}";
    EXPECT_EQ(bytes, expected);

    const auto previous = decoded_by_previous_version(bytes);
    ASSERT_TRUE(previous) << "an unknown kind would have been dropped";
    EXPECT_EQ(previous->frame, "{\"type\":\"member.removed\"}");
    ASSERT_EQ(previous->user_ids.size(), 3u);
    EXPECT_EQ(previous->user_ids[0].front(), '\0') << "no user id (a UUID in text) starts so";
    EXPECT_EQ(std::vector<std::string>(previous->user_ids.begin() + 1, previous->user_ids.end()),
              (std::vector<std::string>{ana, ben}));

    // Its hub finds no connection of the place's "user": the real recipients get the event, once.
    boost::asio::io_context io;
    Hub hub;
    hub.deliver_on(io.get_executor());
    std::vector<std::shared_ptr<RecordingConnection>> connections;
    for (const auto& user : {ana, ben, std::string("0c0ffee0-0000-4000-8000-000000000000")}) {
        connections.push_back(std::make_shared<RecordingConnection>(user, "t"));
        hub.attach(connections.back());
    }
    EXPECT_EQ(hub.send_here(previous->user_ids, frame(previous->frame)), 2u);
    io.run();
    EXPECT_EQ(connections[0]->received, std::vector<std::string>{previous->frame});
    EXPECT_EQ(connections[1]->received, std::vector<std::string>{previous->frame});
    EXPECT_TRUE(connections[2]->received.empty());

    EXPECT_EQ(decoded_by_previous_version(encode(SendEnvelope{{ana}, "{}", std::nullopt}))->user_ids,
              std::vector<std::string>{ana})
        << "the copy reads what that version read";
}

TEST(ClusterEnvelope, APlaceThatIsNotWholeIsNoEnvelope) {
    auto bytes = encode(SendEnvelope{{"u1"}, "{}", Ordering{"c", 5, Order::Place::after}});
    // The place's length (10: the mark, the seq, a one-byte chat id) cut to 9: no chat id.
    ASSERT_EQ(bytes.substr(6, 3), std::string("\x0a\x00\x00", 3));
    auto no_chat = bytes.substr(0, 6) + std::string("\x09\x00", 2) + bytes.substr(8, 9) + bytes.substr(18);
    EXPECT_EQ(decode(no_chat), std::nullopt);
}

TEST(ClusterEnvelope, ADeviceSendAndADeviceChangeComeBackAsTheyWent) {
    const Envelope send = DeviceSendEnvelope{"u1", "hash", std::string("{\"type\":\"call.signal\"}\0\xff", 24)};
    const Envelope up = DeviceEnvelope{"u1", "hash", true};
    const Envelope down = DeviceEnvelope{"u2", "other", false};
    for (const auto& envelope : {send, up, down}) EXPECT_EQ(decode(encode(envelope)), envelope);
    EXPECT_EQ(decode(encode(up) + "x"), std::nullopt);
    auto bad_flag = encode(up);
    bad_flag.back() = 2;
    EXPECT_EQ(decode(bad_flag), std::nullopt);
}

TEST(ClusterEnvelope, APartOfAnEnvelopeIsNone) {
    for (const auto& envelope : {Envelope{SendEnvelope{{"u1", "u2"}, "", std::nullopt}},
                                 Envelope{SendEnvelope{{"u1"}, "", Ordering{"chat-1", 3}}},
                                 Envelope{SendEnvelope{{"u1"}, "", Ordering{"chat-1", 3, Order::Place::after}}},
                                 Envelope{AccessEnvelope{"chat-1"}}, Envelope{DeviceSendEnvelope{"u1", "hash", ""}},
                                 Envelope{DeviceEnvelope{"u1", "hash", true}},
                                 Envelope{CloseEnvelope{"u1", TokenFilter{"hash", false}, CloseCode::token_revoked}}}) {
        const auto bytes = encode(envelope);
        for (std::size_t size = 0; size < bytes.size(); ++size)
            EXPECT_EQ(decode(std::string_view(bytes).substr(0, size)), std::nullopt) << size;
    }
}

TEST(ClusterEnvelope, OtherVersionsKindsAndTrailingBytesAreNone) {
    auto bytes = encode(CloseEnvelope{"u1", TokenFilter{"hash", false}, CloseCode::token_revoked});
    EXPECT_EQ(decode(bytes + "x"), std::nullopt);
    EXPECT_EQ(decode("\x02" + bytes.substr(1)), std::nullopt);
    EXPECT_EQ(decode(bytes.substr(0, 1) + "Z" + bytes.substr(2)), std::nullopt);
    // A send claiming more user ids than its bytes could hold.
    EXPECT_EQ(decode(std::string("\x01S\xff\xff\xff\x0f", 6)), std::nullopt);
}

// Two nodes' buses joined in memory: what one publishes, the other receives.
class LinkedBus final : public Bus {
public:
    void publish(std::string bytes) override {
        if (refuse > 0) {
            --refuse;
            refused = true;
            return;
        }
        published.push_back(bytes);
        if (peer) peer->receive(bytes);
    }
    std::optional<LossTime> take_loss() override {
        if (!std::exchange(refused, false)) return std::nullopt;
        return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    }
    bool connected() const override { return up; }
    Cluster* peer = nullptr;
    std::vector<std::string> published;
    bool up = true;
    int refuse = 0;  // the next this many publishes are refused
    bool refused = false;
};

struct Node {
    Node() { hub.deliver_on(io.get_executor()); }

    std::shared_ptr<RecordingConnection> connect(const std::string& user, const std::string& token) {
        auto connection = std::make_shared<RecordingConnection>(user, token);
        hub.attach(connection);
        return connection;
    }

    boost::asio::io_context io;
    Hub hub;
    LinkedBus bus;
    Cluster cluster{hub, bus};
};

class ClusterTest : public ::testing::Test {
protected:
    ClusterTest() {
        a.bus.peer = &b.cluster;
        b.bus.peer = &a.cluster;
        a.hub.relay_through(&a.cluster);
        b.hub.relay_through(&b.cluster);
    }
    void run() {
        for (auto* io : {&a.io, &b.io}) {
            io->restart();
            io->run();
        }
    }

    Node a, b;
};

TEST_F(ClusterTest, ASendReachesTheSameUsersOnTheOtherNodeOnce) {
    auto ana_here = a.connect("ana", "t1");
    auto ana_there = b.connect("ana", "t2");
    auto ben_there = b.connect("ben", "t3");
    auto cy_there = b.connect("cy", "t4");
    EXPECT_EQ(a.hub.send_to_users({"ana", "ben"}, frame("1")), 1u) << "counts this node's connections";
    run();
    EXPECT_EQ(ana_here->received, std::vector<std::string>{"1"});
    EXPECT_EQ(ana_there->received, std::vector<std::string>{"1"});
    EXPECT_EQ(ben_there->received, std::vector<std::string>{"1"});
    EXPECT_TRUE(cy_there->received.empty());
    EXPECT_EQ(a.bus.published.size(), 1u);
    EXPECT_TRUE(b.bus.published.empty()) << "what arrives from another node is not sent on again";
}

TEST_F(ClusterTest, ASendToALargeGroupCrossesInPartsNATSTakesAndReachesEveryoneInOrder) {
    std::vector<std::string> members;
    for (int i = 0; i < 25'000; ++i)
        members.push_back("00000000-0000-4000-8000-" + std::to_string(100'000'000'000 + i));
    const std::vector<std::shared_ptr<RecordingConnection>> there{b.connect(members.front(), "t1"),
                                                                  b.connect(members[12'345], "t2"),
                                                                  b.connect(members.back(), "t3")};
    a.hub.send_to_users(members, frame("1"), Order{"large", 1});
    a.hub.send_to_users(members, frame("2"), Order{"large", 2});
    run();
    for (const auto& connection : there)
        EXPECT_EQ(connection->received, std::vector<std::string>{"1+2"}) << connection->user_id();
    ASSERT_EQ(a.bus.published.size(), 6u) << "three parts a message";
    for (const auto& bytes : a.bus.published) EXPECT_LT(bytes.size(), 1u << 19) << "within NATS's 1 MiB max_payload";
}

TEST_F(ClusterTest, SendsFromOneNodeArriveInTheOrderSent) {
    auto ana_there = b.connect("ana", "t");
    for (const auto* text : {"1", "2", "3"}) a.hub.send_to_users({"ana"}, frame(text));
    run();
    EXPECT_EQ(ana_there->received, std::vector<std::string>{"1+2+3"});
}

TEST_F(ClusterTest, AMessageCommittedHereWaitsForTheOneBeforeItStillCrossingFromAnotherNode) {
    auto ana_there = b.connect("ana", "t1");
    auto ana_here = a.connect("ana", "t2");
    a.hub.send_to_users({"ana"}, frame("1"), Order{"chat", 1});
    run();
    a.bus.peer = nullptr;  // a's next publish is still on its way
    a.hub.send_to_users({"ana"}, frame("2"), Order{"chat", 2});
    EXPECT_EQ(b.hub.send_to_users({"ana"}, frame("3"), Order{"chat", 3}), 0u) << "held: none of b's got it yet";
    run();
    EXPECT_EQ(ana_there->received, std::vector<std::string>{"1"});
    b.cluster.receive(a.bus.published.back());
    run();
    EXPECT_EQ(ana_there->received, (std::vector<std::string>{"1", "2+3"}));
    EXPECT_EQ(ana_here->received, (std::vector<std::string>{"1", "2+3"})) << "a had 2 before b's 3 came";
}

TEST_F(ClusterTest, AMessageBehindWhatWentOutClosesItsRecipientsToResync) {
    auto ana_there = b.connect("ana", "t");
    b.hub.send_to_users({"ana"}, frame("5"), Order{"chat", 5});
    a.hub.send_to_users({"ana"}, frame("4"), Order{"chat", 4});
    run();
    EXPECT_EQ(ana_there->received, (std::vector<std::string>{"5", "close 1013"}));
}

// The outside probe's removed member: a message committed before the removal, crossing from
// another node, reached it after its member.removed.
TEST_F(ClusterTest, AnEventCommittedAfterAMessageStillCrossingFollowsItOnEveryNode) {
    auto dee_there = b.connect("dee", "t1");
    auto dee_here = a.connect("dee", "t2");
    a.hub.send_to_users({"dee"}, frame("1"), Order{"chat", 1});
    run();
    a.bus.peer = nullptr;  // a's next publish is still on its way
    a.hub.send_to_users({"dee"}, frame("2"), Order{"chat", 2});
    EXPECT_EQ(b.hub.send_to_users({"dee"}, frame("removed"), Order{"chat", 2, Order::Place::after}), 0u)
        << "b's own event waits for 2 as well";
    run();
    EXPECT_EQ(dee_there->received, std::vector<std::string>{"1"});
    EXPECT_EQ(dee_here->received, (std::vector<std::string>{"1", "2+removed"})) << "a had 2: at once";
    b.cluster.receive(a.bus.published.back());
    run();
    EXPECT_EQ(dee_there->received, (std::vector<std::string>{"1", "2+removed"}));
}

TEST_F(ClusterTest, AnEventBehindAHeldMessageOfThisNodeWaitsForItHere) {
    auto dee_here = b.connect("dee", "t1");
    a.hub.send_to_users({"dee"}, frame("1"), Order{"chat", 1});
    run();
    a.bus.peer = nullptr;
    a.hub.send_to_users({"dee"}, frame("2"), Order{"chat", 2});
    b.hub.send_to_users({"dee"}, frame("3"), Order{"chat", 3});
    b.hub.send_to_users({"dee"}, frame("removed"), Order{"chat", 3, Order::Place::after});
    b.hub.send_to_users({"dee"}, frame("edited"), Order{"chat", 1, Order::Place::after});
    run();
    EXPECT_EQ(dee_here->received, (std::vector<std::string>{"1", "edited"})) << "after what went out: at once";
    b.cluster.receive(a.bus.published.back());
    run();
    EXPECT_EQ(dee_here->received, (std::vector<std::string>{"1", "edited", "2+3+removed"}));
}

TEST_F(ClusterTest, ASendWithoutAPlaceGoesOutAtOnceAsBefore) {
    auto dee_there = b.connect("dee", "t1");
    a.hub.send_to_users({"dee"}, frame("1"), Order{"chat", 1});
    run();
    a.bus.peer = nullptr;
    a.hub.send_to_users({"dee"}, frame("2"), Order{"chat", 2});
    b.hub.send_to_users({"dee"}, frame("typing"));
    run();
    EXPECT_EQ(dee_there->received, (std::vector<std::string>{"1", "typing"}));
}

TEST_F(ClusterTest, ClosingATokenClosesItsConnectionsOnEveryNodeAfterWhatWasSent) {
    auto revoked_there = b.connect("ana", "revoked");
    auto kept_there = b.connect("ana", "kept");
    a.hub.send_to_users({"ana"}, frame("1"));
    a.hub.close("ana", TokenFilter::only("revoked"), CloseCode::token_revoked);
    run();
    EXPECT_EQ(revoked_there->received, (std::vector<std::string>{"1", "close 4001"}));
    EXPECT_EQ(kept_there->received, std::vector<std::string>{"1"});
}

TEST_F(ClusterTest, ClosingAllButOneTokenKeepsThatTokensConnectionsElsewhere) {
    auto other_there = b.connect("ana", "other");
    auto kept_there = b.connect("ana", "kept");
    a.hub.close("ana", TokenFilter::all_except("kept"), CloseCode::token_revoked);
    run();
    EXPECT_EQ(other_there->received, std::vector<std::string>{"close 4001"});
    EXPECT_TRUE(kept_there->received.empty());
}

TEST_F(ClusterTest, BackOnTheBusEveryConnectionHereIsClosedToResyncAfterWhatItHad) {
    auto ana_there = b.connect("ana", "t1");
    auto ben_there = b.connect("ben", "t2");
    auto ana_here = a.connect("ana", "t3");
    a.hub.send_to_users({"ana"}, frame("1"));
    b.cluster.rejoined();
    run();
    EXPECT_EQ(ana_there->received, (std::vector<std::string>{"1", "close 1013"}));
    EXPECT_EQ(ben_there->received, std::vector<std::string>{"close 1013"});
    EXPECT_EQ(ana_here->received, std::vector<std::string>{"1"}) << "the other node's stay open";
}

TEST_F(ClusterTest, APublishRefusedWhileAwayClosesTheOtherNodesConnectionsOnceBackAfterWhatTheyHad) {
    auto ana_there = b.connect("ana", "t1");
    auto ben_there = b.connect("ben", "t2");
    a.hub.send_to_users({"ana"}, frame("1"));
    a.bus.up = false;
    a.bus.refuse = 1;
    a.hub.send_to_users({"ana"}, frame("lost"));
    run();
    EXPECT_EQ(ana_there->received, std::vector<std::string>{"1"}) << "nothing said while a is away";
    a.bus.up = true;
    a.cluster.rejoined();
    run();
    EXPECT_EQ(ana_there->received, (std::vector<std::string>{"1", "close 1013"}));
    EXPECT_EQ(ben_there->received, std::vector<std::string>{"close 1013"});
    a.cluster.rejoined();
    EXPECT_EQ(a.bus.published.size(), 2u) << "told once: the send, then one resync";
}

TEST_F(ClusterTest, APublishRefusedWhileUpClosesTheOtherNodesConnectionsAtOnce) {
    auto ana_there = b.connect("ana", "t1");
    a.bus.refuse = 1;
    a.hub.send_to_users({"ana"}, frame("too big"));
    run();
    EXPECT_EQ(ana_there->received, std::vector<std::string>{"close 1013"});
}

TEST_F(ClusterTest, AnotherNodesLossClosesOnlyTheConnectionsAttachedBeforeItsEventWasCommitted) {
    auto ana_there = b.connect("ana", "t1");
    const auto attached = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    b.cluster.receive(encode(ResyncEnvelope{attached - std::chrono::seconds(1)}));
    run();
    EXPECT_TRUE(ana_there->received.empty()) << "attached after it, so its client synced it";
    b.cluster.receive(encode(ResyncEnvelope{attached - std::chrono::milliseconds(50)}));
    run();
    EXPECT_EQ(ana_there->received, std::vector<std::string>{"close 1013"})
        << "within the clocks' allowance it could have missed it";
    auto ben_there = b.connect("ben", "t2");
    b.cluster.receive(encode(ResyncEnvelope{}));
    run();
    EXPECT_EQ(ben_there->received, std::vector<std::string>{"close 1013"}) << "no time: everyone";
}

TEST_F(ClusterTest, AResyncRefusedWhileUpGoesWithTheNextPublish) {
    auto ana_there = b.connect("ana", "t1");
    a.bus.refuse = 2;
    a.hub.send_to_users({"ana"}, frame("too big"));
    a.hub.send_to_users({"ana"}, frame("2"));
    run();
    EXPECT_EQ(ana_there->received, (std::vector<std::string>{"2", "close 1013"}));
}

TEST_F(ClusterTest, TheHubTellsWhetherTheOtherNodesAreReachable) {
    ASSERT_NE(a.hub.relay(), nullptr);
    EXPECT_TRUE(a.hub.relay()->linked());
    a.bus.up = false;
    EXPECT_FALSE(a.hub.relay()->linked());
    EXPECT_EQ(Hub().relay(), nullptr) << "a single node has no relay";
}

TEST(ClusterTold, AnotherNodesAccessChangeIsToldHere) {
    Hub hub;
    LinkedBus bus;
    std::vector<std::string> changed;
    Cluster cluster(hub, bus,
                    Cluster::Told{{}, [&](const std::string& chat_id) { changed.push_back(chat_id); }, {}, {}});
    Cluster other(hub, bus);
    bus.peer = &cluster;
    other.relay_access_changed("chat-1");
    EXPECT_EQ(changed, std::vector<std::string>{"chat-1"});
}

TEST(ClusterTold, AnotherNodesDeviceChangeIsToldHere) {
    Hub hub;
    LinkedBus bus;
    std::vector<DeviceEnvelope> told;
    Cluster cluster(hub, bus,
                    Cluster::Told{{},
                                  {},
                                  [&](const std::string& user_id, const std::string& token_hash, bool connected) {
                                      told.push_back({user_id, token_hash, connected});
                                  },
                                  {}});
    Cluster other(hub, bus);
    bus.peer = &cluster;
    other.relay_device_changed("u1", "hash", true);
    other.relay_device_changed("u1", "hash", false);
    EXPECT_EQ(told, (std::vector<DeviceEnvelope>{{"u1", "hash", true}, {"u1", "hash", false}}));
}

// A node that sees a chat for the first time asks which earlier seqs it need not wait for.
class ClusterSettlingTest : public ::testing::Test {
protected:
    ClusterSettlingTest() {
        hub.deliver_on(io.get_executor());
        hub.attach(ana);
    }
    void arrive(std::int64_t seq, const std::string& chat = "chat") {
        cluster.receive(encode(SendEnvelope{{"ana"}, std::to_string(seq), Ordering{chat, seq}}));
        io.restart();
        io.run();
    }
    void answer(std::int64_t settled) {
        ASSERT_TRUE(reply);
        std::exchange(reply, nullptr)(settled);
        io.restart();
        io.run();
    }

    boost::asio::io_context io;
    Hub hub;
    LinkedBus bus;
    std::vector<std::pair<std::string, std::int64_t>> asked;
    std::chrono::system_clock::time_point stored_before;
    std::function<void(std::int64_t)> reply;
    Cluster cluster{
        hub, bus,
        Cluster::Told{{}, {}, {}, [this](const std::string& chat_id, std::int64_t below, auto before, auto answer) {
                          asked.emplace_back(chat_id, below);
                          stored_before = before;
                          reply = std::move(answer);
                      }}};
    std::shared_ptr<RecordingConnection> ana = std::make_shared<RecordingConnection>("ana", "t");
};

TEST_F(ClusterSettlingTest, AnEarlierMessageStillCrossingGoesFirst) {
    arrive(6);
    arrive(5);
    EXPECT_TRUE(ana->received.empty()) << "6 waits to be settled, 5 behind it";
    EXPECT_EQ(asked, (std::vector<std::pair<std::string, std::int64_t>>{{"chat", 6}})) << "asked once";
    answer(4);
    EXPECT_EQ(ana->received, std::vector<std::string>{"5+6"});
}

TEST_F(ClusterSettlingTest, AMessageAfterSettledOnesGoesOutOnTheAnswer) {
    arrive(6);
    answer(5);
    EXPECT_EQ(ana->received, std::vector<std::string>{"6"});
    arrive(7);
    EXPECT_EQ(ana->received, (std::vector<std::string>{"6", "7"}));
    EXPECT_EQ(asked.size(), 1u);
}

TEST_F(ClusterSettlingTest, BackOnTheBusWhatWasStoredBeforeIsNotWaitedForAndAResyncedClientGetsTheRestLive) {
    arrive(1);
    const auto away = std::chrono::system_clock::now();
    cluster.rejoined();  // 2 was published while this node was away
    io.restart();
    io.run();
    EXPECT_EQ(ana->received, (std::vector<std::string>{"1", "close 1013"}));
    auto ana_again = std::make_shared<RecordingConnection>("ana", "t2");
    hub.attach(ana_again);
    arrive(3);
    ASSERT_EQ(asked, (std::vector<std::pair<std::string, std::int64_t>>{{"chat", 3}}))
        << "the chat starts afresh: 3 is its first message again";
    EXPECT_GE(stored_before, away - std::chrono::milliseconds(100)) << "what was stored before the return";
    answer(2);
    EXPECT_EQ(ana_again->received, std::vector<std::string>{"3"}) << "2 came with the resync";
}

TEST_F(ClusterSettlingTest, AnUnknownChatsFirstEventAsksAboutTheSeqsUpToTheOneItFollows) {
    cluster.receive(encode(SendEnvelope{{"ana"}, "edited", Ordering{"chat", 6, Order::Place::after}}));
    arrive(7);
    EXPECT_TRUE(ana->received.empty());
    EXPECT_EQ(asked, (std::vector<std::pair<std::string, std::int64_t>>{{"chat", 7}})) << "6 and below";
    answer(6);
    EXPECT_EQ(ana->received, std::vector<std::string>{"edited+7"});
}

TEST_F(ClusterSettlingTest, AnUnknownChatsEventAfterNoMessageAsksNothing) {
    cluster.receive(encode(SendEnvelope{{"ana"}, "created", Ordering{"chat", 0, Order::Place::after}}));
    arrive(1);
    EXPECT_EQ(ana->received, std::vector<std::string>{"created+1"});
    EXPECT_TRUE(asked.empty());
}

TEST_F(ClusterSettlingTest, AChatsFirstSeqAsksNothing) {
    arrive(1);
    EXPECT_EQ(ana->received, std::vector<std::string>{"1"});
    EXPECT_TRUE(asked.empty());
}

TEST_F(ClusterTest, WhatIsNotAnEnvelopeIsDropped) {
    auto ana_there = b.connect("ana", "t");
    b.cluster.receive("garbage");
    b.cluster.receive("");
    run();
    EXPECT_TRUE(ana_there->received.empty());
}

}  // namespace
}  // namespace confab::realtime
