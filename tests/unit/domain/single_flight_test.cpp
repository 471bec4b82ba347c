#include "confab/domain/single_flight.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace confab::domain {
namespace {

namespace asio = boost::asio;

// A job that runs until the test opens its gate, counting its runs.
struct GatedJob {
    asio::steady_timer& gate;
    int& runs;
    int value;
    bool fails = false;

    asio::awaitable<int> operator()() const {
        ++runs;
        gate.expires_at(asio::steady_timer::time_point::max());
        try {
            co_await gate.async_wait(asio::use_awaitable);
        } catch (const boost::system::system_error&) {  // cancelled: the gate opened
        }
        if (fails) throw std::runtime_error("the job failed");
        co_return value;
    }
};

class SingleFlightTest : public ::testing::Test {
protected:
    // Asks for `key` on `io`; the answer lands in answers_ (-1 for an exception).
    void ask(asio::io_context& io, const std::string& key, GatedJob job) {
        asio::co_spawn(
            io,
            [this, key, job]() -> asio::awaitable<void> {
                try {
                    answers_.push_back(co_await flights_.run(key, job));
                } catch (const std::runtime_error&) {
                    answers_.push_back(-1);
                }
            },
            asio::detached);
    }

    SingleFlight<int> flights_;
    std::vector<int> answers_;
};

TEST_F(SingleFlightTest, AskersWhileAJobRunsShareItsResultAndItRunsOnce) {
    asio::io_context io;
    asio::steady_timer gate(io);
    int runs = 0;
    for (int asker = 0; asker < 5; ++asker) ask(io, "a", GatedJob{gate, runs, 7 + asker});
    io.poll();  // every asker is in: the first runs the job, the others wait for it
    EXPECT_EQ(runs, 1);
    EXPECT_TRUE(answers_.empty());
    gate.cancel();
    io.run();
    EXPECT_EQ(answers_, (std::vector<int>{7, 7, 7, 7, 7})) << "the first asker's job answers them all";
}

TEST_F(SingleFlightTest, DifferentKeysRunApartAndAKeyAsksAgainOnceItsRunEnded) {
    asio::io_context io;
    asio::steady_timer gate_a(io), gate_b(io);
    int runs_a = 0, runs_b = 0;
    ask(io, "a", GatedJob{gate_a, runs_a, 1});
    ask(io, "b", GatedJob{gate_b, runs_b, 2});
    io.poll();
    EXPECT_EQ(runs_a, 1);
    EXPECT_EQ(runs_b, 1);
    gate_b.cancel();
    io.poll();
    EXPECT_EQ(answers_, std::vector<int>{2}) << "b does not wait for a";
    gate_a.cancel();
    io.run();
    io.restart();
    ask(io, "a", GatedJob{gate_a, runs_a, 3});
    io.poll();
    gate_a.cancel();
    io.run();
    EXPECT_EQ(runs_a, 2) << "a run that ended shares nothing with later askers";
    EXPECT_EQ(answers_, (std::vector<int>{2, 1, 3}));
}

TEST_F(SingleFlightTest, AFailedRunFailsEveryoneWhoWaitedForItAndTheNextAskerRunsAgain) {
    asio::io_context io;
    asio::steady_timer gate(io);
    int runs = 0;
    for (int asker = 0; asker < 3; ++asker) ask(io, "a", GatedJob{gate, runs, 1, true});
    io.poll();
    gate.cancel();
    io.run();
    EXPECT_EQ(answers_, (std::vector<int>{-1, -1, -1}));
    EXPECT_EQ(runs, 1);
    io.restart();
    ask(io, "a", GatedJob{gate, runs, 4});
    io.poll();
    gate.cancel();
    io.run();
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(answers_.back(), 4);
}

TEST_F(SingleFlightTest, AnAskerOnAnotherEventLoopResumesOnItsOwn) {
    asio::io_context leader_io, other_io;
    asio::steady_timer gate(leader_io);
    int runs = 0;
    ask(leader_io, "a", GatedJob{gate, runs, 5});
    leader_io.poll();
    std::optional<int> other_answer;
    std::thread::id resumed_on;
    asio::co_spawn(
        other_io,
        [&]() -> asio::awaitable<void> {
            other_answer = co_await flights_.run("a", GatedJob{gate, runs, 6});
            resumed_on = std::this_thread::get_id();
        },
        asio::detached);
    other_io.poll();                                  // it waits for the leader's run
    std::thread other_loop([&] { other_io.run(); });  // held open by the waiter until it is answered
    const auto other_thread = other_loop.get_id();
    gate.cancel();
    leader_io.run();
    other_loop.join();
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(other_answer, 5);
    EXPECT_EQ(resumed_on, other_thread) << "resumed on its own loop's thread";
}

}  // namespace
}  // namespace confab::domain
