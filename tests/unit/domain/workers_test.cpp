#include "confab/domain/blocking.hpp"
#include "confab/domain/model.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <future>
#include <optional>

namespace confab::domain {
namespace {

// With its one thread busy and `queue_limit` jobs waiting, the next job is refused at once
// with 503 (and never runs); the waiting ones still run once the thread is free.
TEST(Workers, RefusesWorkPastTheQueueLimit) {
    Workers workers(1, 1);
    std::promise<void> release;
    std::promise<void> running;
    boost::asio::io_context io;
    std::optional<int> first, second;
    std::optional<ErrorCode> third;
    bool third_ran = false;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            first = co_await offload(workers, [&, gate = release.get_future().share()] {
                running.set_value();
                gate.wait();
                return 1;
            });
        },
        boost::asio::detached);
    io.poll();                    // the first job is posted
    running.get_future().wait();  // and holds the only thread
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { second = co_await offload(workers, [] { return 2; }); },
        boost::asio::detached);
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            try {
                co_await offload(workers, [&] {
                    third_ran = true;
                    return 3;
                });
            } catch (const Error& e) {
                third = e.code();
            }
        },
        boost::asio::detached);
    io.poll();
    ASSERT_EQ(third, ErrorCode::unavailable);
    release.set_value();
    io.run();  // the first two complete
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, 2);
    EXPECT_FALSE(third_ran);
}

}  // namespace
}  // namespace confab::domain
