#include "confab/domain/blocking.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <future>
#include <vector>

namespace confab::domain {
namespace {

namespace asio = boost::asio;

// Admission is decided when a job is offered, so the refusal below needs no timing: the
// first job holds the only thread until the refusal lets it go.
TEST(BoundedWorkers, RefusesJobsBeyondThreadsPlusQueueWithRetryAfter) {
    asio::io_context io;
    BoundedWorkers workers(1, 1);
    std::promise<void> release;
    const auto gate = release.get_future().share();
    std::vector<int> done;
    std::optional<Error> refused;
    for (int i = 0; i < 3; ++i) {
        asio::co_spawn(io, [&, i]() -> asio::awaitable<void> {
            try {
                done.push_back(co_await workers.run([gate, i] {
                    gate.wait();
                    return i;
                }));
            } catch (const Error& error) {
                refused = error;
                release.set_value();
            }
        }, asio::detached);
    }
    io.run();
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code(), ErrorCode::unavailable);
    EXPECT_EQ(refused->retry_after_ms, 1000);
    EXPECT_EQ(done, (std::vector<int>{0, 1}));
    workers.stop();
    workers.join();
}

TEST(BoundedWorkers, AFinishedJobFreesItsPlace) {
    asio::io_context io;
    BoundedWorkers workers(1, 0);
    int done = 0;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) done += co_await workers.run([] { return 1; });
        try {
            co_await workers.run([]() -> int { throw std::runtime_error("failed"); });
        } catch (const std::runtime_error&) {
        }
        done += co_await workers.run([] { return 1; });  // a failed job freed its place too
    }, asio::detached);
    io.run();
    EXPECT_EQ(done, 4);
    workers.stop();
    workers.join();
}

}  // namespace
}  // namespace confab::domain
