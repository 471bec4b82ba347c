#include "confab/store/page_stamps.hpp"

#include "confab/store/rows.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>

#include <libpq-fe.h>

#include <array>
#include <deque>

namespace confab::store {

namespace asio = boost::asio;
using Stamp = std::optional<messages::PageStamp>;
using Waiter = asio::any_completion_handler<void(std::exception_ptr, Stamp)>;

namespace {

constexpr const char* statement_name = "page_stamp";
constexpr const char* application_name = "confab page stamps";

struct Finish {
    void operator()(PGconn* pg) const { PQfinish(pg); }
};
using Connected = std::unique_ptr<PGconn, Finish>;

struct Clear {
    void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, Clear>;

// Blocking: run on a Pool thread. The statement is prepared before the connection turns
// nonblocking and enters pipeline mode.
Connected open_connection(const std::string& url) {
    // The URL (a URI or key=value pairs) is expanded as dbname; the name after it tells
    // these connections apart in pg_stat_activity.
    const std::array<const char*, 3> keys{"dbname", "application_name", nullptr};
    const std::array<const char*, 3> values{url.c_str(), application_name, nullptr};
    Connected pg(PQconnectdbParams(keys.data(), values.data(), 1));
    if (!pg || PQstatus(pg.get()) != CONNECTION_OK) throw Unavailable("page stamps: could not connect");
    const Result prepared(PQprepare(pg.get(), statement_name, messages::page_stamp_sql, 2, nullptr));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) throw Unavailable("page stamps: could not prepare");
    if (PQsetnonblocking(pg.get(), 1) != 0 || PQenterPipelineMode(pg.get()) != 1)
        throw Unavailable("page stamps: no pipeline mode");
    return pg;
}

Stamp stamp_of(const PGresult* result) {
    if (PQntuples(result) == 0) return std::nullopt;
    return messages::PageStamp{std::stoll(PQgetvalue(result, 0, 0)), comma_separated(PQgetvalue(result, 0, 1))};
}

}  // namespace

// One thread's connection: the stamps asked for, in the order their queries were sent, each
// answered when its result and then the pipeline's sync point have been read.
//
// Asio waits on the socket edge-triggered: data that arrives while no wait is queued wakes
// no later wait. So each wait is queued first and what came before it is read after
// (receive_from_now_on), and a send that libpq could not finish is tried again on every
// occasion (send), since the socket may turn writable unseen in the same way.
struct PageStamps::Connection : std::enable_shared_from_this<Connection> {
    Connection(Connected connected, const asio::any_io_executor& executor)
        : pg(std::move(connected)), socket(executor, PQsocket(pg.get())) {}
    ~Connection() { socket.release(); }  // PQfinish closes it

    Connected pg;
    asio::posix::stream_descriptor socket;
    struct Pending {
        asio::any_io_executor executor;  // the asker's
        Waiter waiter;
        Stamp stamp;
        std::exception_ptr error;
    };
    std::deque<Pending> pending;
    bool broken = false;
    bool waiting_to_send = false;

    void ask(asio::any_io_executor executor, Waiter waiter) {
        pending.push_back({std::move(executor), std::move(waiter), std::nullopt, nullptr});
        send();
    }

    void receive_from_now_on() {
        socket.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& error) {
                              if (self->broken) return;
                              if (error) return self->fail_all("page stamps: connection lost");
                              self->receive_from_now_on();
                          });
        if (!PQconsumeInput(pg.get())) return fail_all("page stamps: connection lost");
        take_results();
        if (waiting_to_send) send();
    }

    void fail_all(const std::string& why) {
        broken = true;
        for (auto& waiting : pending) {
            waiting.error = std::make_exception_ptr(Unavailable(why));
            answer(waiting);
        }
        pending.clear();
        socket.cancel();
    }

private:
    void send() {
        const int left = PQflush(pg.get());
        if (left < 0) return fail_all("page stamps: could not send");
        if (left == 0 || waiting_to_send) {
            waiting_to_send = left == 1;
            return;
        }
        waiting_to_send = true;
        socket.async_wait(asio::posix::stream_descriptor::wait_write,
                          [self = shared_from_this()](const boost::system::error_code& error) {
                              if (self->broken || !self->waiting_to_send) return;
                              if (error) return self->fail_all("page stamps: could not send");
                              self->waiting_to_send = false;
                              self->send();
                          });
    }

    // On the asker's own executor, never inline: its coroutine may ask again at once.
    static void answer(Pending& done) {
        asio::post(done.executor,
                   [waiter = std::move(done.waiter), error = done.error, stamp = std::move(done.stamp)]() mutable {
                       std::move(waiter)(error, std::move(stamp));
                   });
    }

    // Answers every stamp whose result and sync point have arrived.
    void take_results() {
        bool ended = false;
        while (!pending.empty() && !PQisBusy(pg.get())) {
            const Result result(PQgetResult(pg.get()));
            auto& front = pending.front();
            if (!result) {  // the end of the front query's results; its sync point comes next
                if (ended) return;
                ended = true;
                continue;
            }
            ended = false;
            const auto status = PQresultStatus(result.get());
            if (status == PGRES_PIPELINE_SYNC) {
                answer(front);
                pending.pop_front();
            } else if (status == PGRES_TUPLES_OK) {
                front.stamp = stamp_of(result.get());
            } else {
                front.error = std::make_exception_ptr(Unavailable(PQresultErrorMessage(result.get())));
                if (PQstatus(pg.get()) == CONNECTION_BAD) return fail_all("page stamps: connection lost");
            }
        }
    }
};

asio::awaitable<std::shared_ptr<PageStamps::Connection>> PageStamps::connection() {
    auto& slot = slot_of_this_thread();
    if (auto found = slot.connection.lock(); found && !found->broken) co_return found;
    // The reads that come while this thread connects go through the Pool meanwhile.
    if (slot.connecting) throw Unavailable("page stamps: connecting");
    slot.connecting = true;
    std::shared_ptr<Connection> connection;
    try {
        auto connected = co_await pool_.read([url = url_](Tx&) { return open_connection(url); });
        connection = std::make_shared<Connection>(std::move(connected), co_await asio::this_coro::executor);
    } catch (...) {
        slot.connecting = false;
        throw;
    }
    slot.connecting = false;
    slot.connection = connection;
    connection->receive_from_now_on();
    co_return connection;
}

PageStamps::Slot& PageStamps::slot_of_this_thread() {
    // Remembered per thread, so that a read takes no lock once its thread has a slot. By
    // serial, not address: another PageStamps may later be made where a gone one was.
    thread_local std::uint64_t remembered_for = 0;
    thread_local Slot* remembered = nullptr;
    if (remembered_for == serial_) return *remembered;
    const std::lock_guard lock(mutex_);
    remembered = &slots_[std::this_thread::get_id()];  // a node of the map: stays where it is
    remembered_for = serial_;
    return *remembered;
}

asio::awaitable<Stamp> PageStamps::read(std::string chat_id, std::string viewer) {
    auto connection = co_await this->connection();
    std::array<const char*, 2> values{chat_id.c_str(), viewer.empty() ? nullptr : viewer.c_str()};
    if (!PQsendQueryPrepared(connection->pg.get(), statement_name, 2, values.data(), nullptr, nullptr, 0) ||
        !PQpipelineSync(connection->pg.get())) {
        connection->fail_all("page stamps: could not send");
        throw Unavailable("page stamps: could not send");
    }
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, Stamp)>(
        [&connection](auto handler) {
            auto executor = asio::get_associated_executor(handler);
            connection->ask(std::move(executor), Waiter(std::move(handler)));
        },
        asio::use_awaitable);
}

}  // namespace confab::store
