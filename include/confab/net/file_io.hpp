#pragma once

#include "confab/domain/blocking.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

namespace confab::net {

// The file calls of downloads and uploads. Each runs on the file threads (as many as
// `media.worker_threads`, apart from them) and is awaited, so an I/O thread never waits for
// the disk; the caller resumes on its own executor (the connection's strand).
//
// The file threads' queue has no bound of its own: a connection waits for one file job at a
// time (and may leave a close behind), so the connection caps bound it, and a transfer is
// never cut off for a full queue.

// An open descriptor. Its close is handed to the file threads too: closing the last
// descriptor of a file removed meanwhile frees its blocks, which can take as long as a write.
class OpenFile {
public:
    OpenFile(domain::Workers& files, int fd) noexcept : files_(&files), fd_(fd) {}
    OpenFile(OpenFile&& other) noexcept : files_(other.files_), fd_(std::exchange(other.fd_, -1)) {}
    OpenFile& operator=(OpenFile&&) = delete;
    OpenFile(const OpenFile&) = delete;
    ~OpenFile();

    int fd() const noexcept { return fd_; }

private:
    domain::Workers* files_;
    int fd_;
};

// nullopt when the file cannot be opened (e.g. removed since its row was read).
boost::asio::awaitable<std::optional<OpenFile>> open_for_reading(domain::Workers& files, std::filesystem::path path);

// A new file (it must not exist), or the reason it could not be made.
struct CreatedFile {
    std::optional<OpenFile> file;
    std::error_code error;
};
boost::asio::awaitable<CreatedFile> create_for_writing(domain::Workers& files, std::filesystem::path path);

// Up to into.size() bytes from `offset`; 0 at the end of the file or on an error (a file
// that shrank under a download ends it early either way).
boost::asio::awaitable<std::size_t> read_at(domain::Workers& files, const OpenFile& file, std::span<char> into,
                                            std::uint64_t offset);

// All of `bytes`, appended; the error that stopped it, if any.
boost::asio::awaitable<std::error_code> write_all(domain::Workers& files, const OpenFile& file,
                                                  std::span<const char> bytes);

// Removes the file if it is there; nothing is reported (it was temporary).
boost::asio::awaitable<void> remove_file(domain::Workers& files, std::filesystem::path path);

}  // namespace confab::net
