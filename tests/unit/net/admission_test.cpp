#include "confab/net/admission.hpp"

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

namespace confab::net {
namespace {

using namespace std::chrono_literals;

// Out of descriptors, the loop waits longer and longer (never more than the cap), logs the
// start of the episode once, and learns how many accepts failed when it ends.
TEST(AcceptBackoff, DoublesUpToTheCapAndReportsEachEpisodeOnce) {
    AcceptBackoff backoff(10ms, 80ms);
    EXPECT_EQ(backoff.succeeded(), 0u);
    const auto first = backoff.failed();
    EXPECT_EQ(first.wait, 10ms);
    EXPECT_TRUE(first.episode_started);
    std::vector<std::chrono::milliseconds> waits;
    for (int i = 0; i < 5; ++i) {
        const auto pause = backoff.failed();
        EXPECT_FALSE(pause.episode_started);
        waits.push_back(pause.wait);
    }
    EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{20ms, 40ms, 80ms, 80ms, 80ms}));
    EXPECT_EQ(backoff.succeeded(), 6u);
    EXPECT_EQ(backoff.succeeded(), 0u);
    const auto next = backoff.failed();
    EXPECT_EQ(next.wait, 10ms);
    EXPECT_TRUE(next.episode_started);
}

TEST(AcceptBackoff, OnlyResourceExhaustionBacksOff) {
    namespace errc = boost::system::errc;
    EXPECT_TRUE(AcceptBackoff::is_exhaustion(errc::make_error_code(errc::too_many_files_open)));
    EXPECT_TRUE(AcceptBackoff::is_exhaustion(errc::make_error_code(errc::too_many_files_open_in_system)));
    EXPECT_TRUE(AcceptBackoff::is_exhaustion(errc::make_error_code(errc::no_buffer_space)));
    EXPECT_TRUE(AcceptBackoff::is_exhaustion(errc::make_error_code(errc::not_enough_memory)));
    EXPECT_FALSE(AcceptBackoff::is_exhaustion(boost::asio::error::connection_aborted));
}

TEST(ConnectionCap, DefaultIsTheDescriptorLimitLessTheReserve) {
    const auto reserve = descriptor_reserve(4);
    EXPECT_EQ(connection_cap(0, 1024, 4), 1024 - reserve);
    EXPECT_EQ(connection_cap(100, 1024, 4), 100u);
    EXPECT_EQ(connection_cap(1024 - reserve, 1024, 4), 1024 - reserve);
}

TEST(ConnectionCap, ACapAboveTheDescriptorLimitIsRefused) {
    try {
        connection_cap(1024, 1024, 4);
        FAIL() << "a cap the descriptors cannot hold must be refused";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("overload.connections_total (CONFAB_OVERLOAD_CONNECTIONS_TOTAL)"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(connection_cap(0, descriptor_reserve(4), 4), std::invalid_argument);
}

}  // namespace
}  // namespace confab::net
