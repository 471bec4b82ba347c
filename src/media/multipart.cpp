#include "confab/media/multipart.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <system_error>

namespace confab::media {
namespace {

constexpr std::size_t max_boundary = 70;  // RFC 2046

class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open upload");
        struct stat info {};
        if (::fstat(fd_, &info) != 0) throw std::system_error(errno, std::generic_category(), "stat upload");
        size_ = static_cast<std::size_t>(info.st_size);
        if (size_ == 0) return;
        data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
        if (data_ == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap upload");
    }
    ~MappedFile() {
        if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
        if (fd_ >= 0) ::close(fd_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::string_view view() const {
        return size_ ? std::string_view(static_cast<const char*>(data_), size_) : std::string_view{};
    }

private:
    int fd_ = -1;
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The value of the parameter `name` (lowercase) in a header's parameters (`form-data;
// name="file"; filename="a.png"`), the first of that name. The parameters are walked in
// order, so text inside a quoted value (`filename="a;name=file;"`) is never taken for one.
// Inside quotes a backslash escapes the next character (curl's `\"`), and the value keeps the
// text as written between the quotes, backslashes included: a file name then keeps only what
// follows its last backslash, as the path rule says (docs/api.md, Media). nullopt when the
// parameter is absent, or a quoted value before or at it is never closed.
std::optional<std::string> parameter(std::string_view header, std::string_view name) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    std::size_t at = header.find(';');  // past the type ("form-data", "multipart/form-data")
    while (at < header.size()) {
        ++at;  // past the ';'
        while (at < header.size() && is_space(header[at])) ++at;
        const auto equals = header.find_first_of("=;", at);
        if (equals == std::string_view::npos) return std::nullopt;
        const auto key = header.substr(at, equals - at);
        at = equals;
        if (header[equals] == ';') continue;  // a parameter without a value
        const auto value_start = equals + 1;
        std::string_view value;
        if (value_start < header.size() && header[value_start] == '"') {
            auto close = value_start + 1;
            while (close < header.size() && header[close] != '"') close += header[close] == '\\' ? 2 : 1;
            if (close >= header.size()) return std::nullopt;
            value = header.substr(value_start + 1, close - value_start - 1);
            at = header.find(';', close + 1);
        } else {
            at = header.find(';', value_start);
            value = header.substr(value_start, at == std::string_view::npos ? at : at - value_start);
        }
        if (lowercase(key) == name) return std::string(value);
    }
    return std::nullopt;
}

void write_all(const std::filesystem::path& destination, std::string_view content) {
    const int fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "create upload part");
    while (!content.empty()) {
        const auto written = ::write(fd, content.data(), content.size());
        if (written < 0) {
            const int error = errno;
            ::close(fd);
            throw std::system_error(error, std::generic_category(), "write upload part");
        }
        content.remove_prefix(static_cast<std::size_t>(written));
    }
    ::close(fd);
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    if (!lowercase(content_type.substr(0, content_type.find(';'))).starts_with("multipart/form-data"))
        return std::nullopt;
    auto boundary = parameter(content_type, "boundary");
    if (!boundary || boundary->empty() || boundary->size() > max_boundary) return std::nullopt;
    return boundary;
}

std::optional<FilePart> extract_part(const std::filesystem::path& body, const std::string& boundary,
                                     std::string_view name, const std::filesystem::path& destination) {
    const MappedFile mapped(body);
    const auto data = mapped.view();
    const std::string delimiter = "--" + boundary;
    auto at = data.find(delimiter);
    while (at != std::string_view::npos) {
        auto rest = data.substr(at + delimiter.size());
        if (rest.starts_with("--")) break;  // the closing delimiter
        if (!rest.starts_with("\r\n")) throw std::invalid_argument("malformed multipart delimiter");
        rest.remove_prefix(2);
        const auto headers_end = rest.find("\r\n\r\n");
        if (headers_end == std::string_view::npos) throw std::invalid_argument("malformed multipart headers");
        const auto headers = rest.substr(0, headers_end);
        const auto content_start = rest.substr(headers_end + 4);
        const auto content_end = content_start.find("\r\n" + delimiter);
        if (content_end == std::string_view::npos) throw std::invalid_argument("unterminated multipart part");
        std::optional<std::string> disposition;
        for (std::size_t line_start = 0; line_start <= headers.size();) {
            const auto line_end = std::min(headers.find("\r\n", line_start), headers.size());
            const auto line = headers.substr(line_start, line_end - line_start);
            if (lowercase(line.substr(0, 20)).starts_with("content-disposition:")) disposition = std::string(line);
            line_start = line_end + 2;
        }
        if (disposition && parameter(*disposition, "name") == name) {
            write_all(destination, content_start.substr(0, content_end));
            return FilePart{parameter(*disposition, "filename")};
        }
        at = static_cast<std::size_t>(content_start.data() - data.data()) + content_end + 2;
    }
    if (at == std::string_view::npos) throw std::invalid_argument("no multipart delimiter");
    return std::nullopt;
}

}  // namespace confab::media
