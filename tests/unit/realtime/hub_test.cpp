#include "confab/realtime/hub.hpp"

#include "realtime/recording_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace confab::realtime {
namespace {

class HubTest : public ::testing::Test {
protected:
    HubTest() { hub.deliver_on(io.get_executor()); }

    std::shared_ptr<RecordingConnection> connect(const std::string& user, const std::string& token = "t") {
        auto connection = std::make_shared<RecordingConnection>(user, token);
        hub.attach(connection);
        return connection;
    }

    boost::asio::io_context io;
    Hub hub;
};

TEST_F(HubTest, SendingOnlyQueuesUntilTheExecutorRuns) {
    auto ana = connect("ana");
    EXPECT_EQ(hub.send_to_users({"ana", "nobody"}, frame("1")), 1u);
    EXPECT_TRUE(ana->received.empty()) << "the publisher's thread hands nothing over";
    io.run();
    EXPECT_EQ(ana->received, std::vector<std::string>{"1"});
}

TEST_F(HubTest, WhatQueuesTogetherGoesToEachConnectionAsOneBatchInOrder) {
    auto ana = connect("ana");
    auto ben = connect("ben");
    hub.send_to_users({"ana", "ben"}, frame("1"));
    hub.send_to_users({"ben"}, frame("2"));
    hub.send_to_users({"ana", "ben"}, frame("3"));
    io.run();
    EXPECT_EQ(ana->received, std::vector<std::string>{"1+3"});
    EXPECT_EQ(ben->received, std::vector<std::string>{"1+2+3"});

    io.restart();
    hub.send_to_users({"ana"}, frame("4"));
    io.run();
    EXPECT_EQ(ana->received, (std::vector<std::string>{"1+3", "4"})) << "a later drain, a later batch";
}

TEST_F(HubTest, ACloseFollowsWhatWasSentBeforeIt) {
    auto phone = connect("ana", "phone");
    auto laptop = connect("ana", "laptop");
    hub.send_to_users({"ana"}, frame("1"));
    hub.close("ana", TokenFilter::only("phone"), CloseCode::token_revoked);
    hub.send_to_users({"ana"}, frame("2"));
    io.run();
    EXPECT_EQ(phone->received, (std::vector<std::string>{"1", "close 4001", "2"}))
        << "frames after the close are the connection's to refuse";
    EXPECT_EQ(laptop->received, std::vector<std::string>{"1+2"});
}

TEST_F(HubTest, TheConnectedMembersOfAChatAreFoundFromEitherSide) {
    auto ana = connect("ana");
    auto ana_again = connect("ana", "t2");
    auto ben = connect("ben");
    auto cy = connect("cy");
    hub.detach(*cy);
    connect("outsider");
    const model::MemberRoles few{{"ana", model::Role::owner},
                                 {"cy", model::Role::member},
                                 {"dee", model::Role::member}};
    EXPECT_EQ(hub.connected_among(few), std::vector<std::string>{"ana"}) << "fewer members than users connected";
    model::MemberRoles many;
    for (int i = 0; i < 100; ++i) many.emplace("member-" + std::to_string(i), model::Role::member);
    many.emplace("ben", model::Role::member);
    many.emplace("ana", model::Role::member);
    auto found = hub.connected_among(many);
    std::sort(found.begin(), found.end());
    EXPECT_EQ(found, (std::vector<std::string>{"ana", "ben"})) << "fewer users connected than members";
    EXPECT_TRUE(hub.connected_among(model::MemberRoles{}).empty());
}

TEST_F(HubTest, DetachedConnectionsAreNotTargets) {
    auto ana = connect("ana");
    hub.detach(*ana);
    EXPECT_EQ(hub.send_to_users({"ana"}, frame("1")), 0u);
    io.run();
    EXPECT_TRUE(ana->received.empty());
    EXPECT_EQ(hub.connection_count(), 0u);
}

}  // namespace
}  // namespace confab::realtime
