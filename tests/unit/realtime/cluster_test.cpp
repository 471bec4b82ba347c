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
    for (const auto& envelope :
         {Envelope{SendEnvelope{{"u1", "u2"}, "", std::nullopt}},
          Envelope{SendEnvelope{{"u1"}, "", Ordering{"chat-1", 3}}}, Envelope{AccessEnvelope{"chat-1"}},
          Envelope{DeviceSendEnvelope{"u1", "hash", ""}}, Envelope{DeviceEnvelope{"u1", "hash", true}},
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
