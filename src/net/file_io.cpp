#include "confab/net/file_io.hpp"

#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace confab::net {

OpenFile::~OpenFile() {
    if (fd_ >= 0) boost::asio::post(files_->pool(), [fd = fd_] { ::close(fd); });
}

boost::asio::awaitable<std::optional<OpenFile>> open_for_reading(domain::Workers& files, std::filesystem::path path) {
    const int fd = co_await domain::offload(files, [path = std::move(path)] {
        return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    });
    if (fd < 0) co_return std::nullopt;
    co_return OpenFile(files, fd);
}

boost::asio::awaitable<CreatedFile> create_for_writing(domain::Workers& files, std::filesystem::path path) {
    const auto [created, error] = co_await domain::offload(files, [path = std::move(path)] {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        return std::pair{fd, fd < 0 ? errno : 0};
    });
    if (created < 0) co_return CreatedFile{std::nullopt, std::error_code(error, std::generic_category())};
    co_return CreatedFile{OpenFile(files, created), {}};
}

boost::asio::awaitable<std::size_t> read_at(domain::Workers& files, const OpenFile& file, std::span<char> into,
                                            std::uint64_t offset) {
    co_return co_await domain::offload(files, [fd = file.fd(), into, offset]() -> std::size_t {
        for (;;) {
            const auto got = ::pread(fd, into.data(), into.size(), static_cast<off_t>(offset));
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EINTR) return 0;
        }
    });
}

boost::asio::awaitable<std::error_code> write_all(domain::Workers& files, const OpenFile& file,
                                                  std::span<const char> bytes) {
    co_return co_await domain::offload(files, [fd = file.fd(), bytes]() mutable -> std::error_code {
        while (!bytes.empty()) {
            const auto written = ::write(fd, bytes.data(), bytes.size());
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) return {errno, std::generic_category()};
            bytes = bytes.subspan(static_cast<std::size_t>(written));
        }
        return {};
    });
}

boost::asio::awaitable<void> remove_file(domain::Workers& files, std::filesystem::path path) {
    co_await domain::offload(files, [path = std::move(path)] {
        std::error_code ignored;
        return std::filesystem::remove(path, ignored);
    });
}

}  // namespace confab::net
