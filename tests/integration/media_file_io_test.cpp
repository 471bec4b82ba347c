// Where download file work runs (docs/architecture.md "Uploads and downloads"): on the file
// threads, never the I/O threads, and a download once started survives the removal of its
// media.

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/media_fixtures.hpp"

namespace confab::test {
namespace {

namespace fs = std::filesystem;
using MediaFileIoTest = ChatTest;

std::string media_url(const std::string& message_id) { return "/api/v1/messages/" + message_id + "/media"; }

// Uploads `bytes` as a file and sends it; the message.
json send_file(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& bytes) {
    auto headers = auth_header(u.token);
    headers["Content-Type"] = "application/octet-stream";
    const auto media = expect_json(http(port, "POST", "/api/v1/messages/upload?chat_id=" + chat_id + "&kind=file",
                                        bytes, headers, 60s),
                                   201, "upload");
    return expect_json(send_message(port, u, chat_id, {{"type", "file"}, {"media_id", media.at("id")}}), 201,
                       "send file");
}

fs::path stored_path(const ServerProcess& server, const std::string& bytes) {
    const auto sha256 = media::sha256_hex(bytes);
    return server.media_dir() / "objects" / sha256.substr(0, 2) / sha256;
}

// A download read at the client's pace: a small receive buffer keeps the server from
// reading far ahead of what was received.
class SlowDownload {
public:
    SlowDownload(std::uint16_t port, const TestUser& u, const std::string& message_id) {
        fd_ = connect_with_receive_buffer(port, 16 * 1024);
        const timeval timeout{30, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        const std::string request = "GET " + media_url(message_id) +
                                    " HTTP/1.1\r\nHost: confab\r\nAuthorization: Bearer " + u.token +
                                    "\r\nConnection: close\r\n\r\n";
        if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
            throw std::runtime_error("send failed");
    }
    ~SlowDownload() { ::close(fd_); }

    // Reads until the header block is in (the server writes it once the file is open) and
    // returns it; the body's first bytes stay in body().
    std::string read_header() {
        while (received_.find("\r\n\r\n") == std::string::npos) {
            if (!receive()) throw std::runtime_error("connection closed before the header: " + received_);
        }
        const auto end = received_.find("\r\n\r\n") + 4;
        auto header = received_.substr(0, end);
        received_.erase(0, end);
        return header;
    }

    // Everything until the server closes the connection.
    const std::string& read_to_end() {
        while (receive()) {
        }
        return received_;
    }

private:
    bool receive() {
        char chunk[16 * 1024];
        const auto got = ::recv(fd_, chunk, sizeof chunk, 0);
        if (got < 0) throw std::runtime_error("receive failed or timed out");
        received_.append(chunk, static_cast<std::size_t>(got));
        return got > 0;
    }

    int fd_ = -1;
    std::string received_;
};

TEST_F(MediaFileIoTest, ADownloadStartedBeforeItsMediaIsRemovedSendsEveryByte) {
    auto a = register_user(port(), "fio");
    auto b = register_user(port(), "fio");
    const std::string chat = create_direct(port(), a, b)["id"];
    // Far more than the socket buffers hold, so most of it is read after the removal.
    const auto bytes = media::text_of_size(20 * 1024 * 1024);
    const std::string message = send_file(port(), a, chat, bytes)["id"];

    SlowDownload download(port(), b, message);
    EXPECT_EQ(download.read_header().rfind("HTTP/1.1 200", 0), 0u);
    const auto removed = http(port(), "DELETE", media_url(message), std::nullopt, auth_header(a.token));
    ASSERT_EQ(removed.status, 204) << removed.describe();
    EXPECT_FALSE(fs::exists(stored_path(server(), bytes))) << "the bytes were released";

    const auto& body = download.read_to_end();
    EXPECT_EQ(body.size(), bytes.size());
    EXPECT_TRUE(body == bytes) << "downloaded bytes differ";
    EXPECT_EQ(http(port(), "GET", media_url(message), std::nullopt, auth_header(b.token)).status, 404);
}

// How many of the process's threads wait in open() for a FIFO's writer.
int threads_opening_a_fifo(pid_t pid) {
    int waiting = 0;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream wchan(task.path() / "wchan");
        std::string where;
        wchan >> where;
        if (where == "wait_for_partner") ++waiting;
    }
    return waiting;
}

// A FIFO in place of a stored file stands in for a disk that stalls: open() blocks until a
// writer comes. With the file work on the I/O threads, two such downloads stopped every
// connection of a server with two I/O threads.
TEST(MediaFileIoServerTest, RequestsAreAnsweredWhileDownloadsWaitForTheirFiles) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(chat_database_url(),
                         ServerProcess::Options{{{"CONFAB_IO_THREADS", "2"}, {"CONFAB_MEDIA_WORKER_THREADS", "2"}},
                                                true,
                                                30s,
                                                "2 I/O threads confab"});
    const auto port = server.port();
    auto a = register_user(port, "fif");
    auto b = register_user(port, "fif");
    const std::string chat = create_direct(port, a, b)["id"];
    std::vector<fs::path> stalled;
    std::vector<std::future<void>> downloads;
    for (std::uint8_t seed : {1, 2}) {
        const auto bytes = media::text(seed);
        const std::string message = send_file(port, a, chat, bytes)["id"];
        stalled.push_back(stored_path(server, bytes));
        fs::remove(stalled.back());
        ASSERT_EQ(::mkfifo(stalled.back().c_str(), 0600), 0);
        downloads.push_back(std::async(std::launch::async, [port, b, message] {
            try {
                http(port, "GET", media_url(message), std::nullopt, auth_header(b.token), 30s);
            } catch (const std::runtime_error&) {
                // the server drops it: a FIFO cannot be read at an offset
            }
        }));
    }
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (threads_opening_a_fifo(server.pid()) < 2 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(10ms);
    ASSERT_EQ(threads_opening_a_fifo(server.pid()), 2) << "both downloads wait for their files";

    EXPECT_EQ(http(port, "GET", "/healthz", std::nullopt, {}, 5s).status, 200);
    EXPECT_EQ(get(port, a.token, "/api/v1/chats?limit=1").status, 200);

    for (const auto& fifo : stalled) ::close(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));  // lets each open() return
    for (auto& download : downloads) download.get();
    EXPECT_EQ(http(port, "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace confab::test
