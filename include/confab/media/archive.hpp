#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

struct archive;

namespace confab::media {

// A gzip-compressed tar archive (POSIX pax) written entry by entry with libarchive.
// Blocking: use off the I/O threads. Throws std::runtime_error when a write fails.
class ArchiveWriter {
public:
    explicit ArchiveWriter(const std::filesystem::path& path);
    ~ArchiveWriter();
    ArchiveWriter(const ArchiveWriter&) = delete;
    ArchiveWriter& operator=(const ArchiveWriter&) = delete;

    // An entry `name` holding `bytes`.
    void add(const std::string& name, std::string_view bytes);
    // An entry `name` holding the file's bytes, copied in chunks.
    void add_file(const std::string& name, const std::filesystem::path& file);
    // Writes the archive's end; the file is complete only after this.
    void close();

private:
    void begin_entry(const std::string& name, std::int64_t size);
    void check(int status, const char* what);

    struct Release {
        void operator()(::archive* handle) const;
    };
    std::unique_ptr<::archive, Release> handle_;
};

}  // namespace confab::media
