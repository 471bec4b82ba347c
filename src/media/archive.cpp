#include "confab/media/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <ctime>
#include <fstream>
#include <stdexcept>

namespace confab::media {
namespace {

constexpr std::size_t chunk_bytes = 64 * 1024;

struct EntryRelease {
    void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

}  // namespace

void ArchiveWriter::Release::operator()(::archive* handle) const { archive_write_free(handle); }

ArchiveWriter::ArchiveWriter(const std::filesystem::path& path) : handle_(archive_write_new()) {
    if (!handle_) throw std::runtime_error("archive_write_new failed");
    check(archive_write_set_format_pax_restricted(handle_.get()), "set the tar format");
    check(archive_write_add_filter_gzip(handle_.get()), "add gzip");
    check(archive_write_open_filename(handle_.get(), path.c_str()), "open the archive");
}

ArchiveWriter::~ArchiveWriter() = default;

void ArchiveWriter::check(int status, const char* what) {
    if (status >= ARCHIVE_WARN) return;
    const char* reason = archive_error_string(handle_.get());
    throw std::runtime_error(std::string("archive: cannot ") + what + ": " + (reason ? reason : "unknown error"));
}

void ArchiveWriter::begin_entry(const std::string& name, std::int64_t size) {
    std::unique_ptr<archive_entry, EntryRelease> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_size(entry.get(), size);
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_mtime(entry.get(), std::time(nullptr), 0);
    check(archive_write_header(handle_.get(), entry.get()), "write an entry header");
}

void ArchiveWriter::add(const std::string& name, std::string_view bytes) {
    begin_entry(name, static_cast<std::int64_t>(bytes.size()));
    if (!bytes.empty() && archive_write_data(handle_.get(), bytes.data(), bytes.size()) < 0)
        check(ARCHIVE_FATAL, "write an entry");
}

void ArchiveWriter::add_file(const std::string& name, const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("archive: cannot open " + file.string());
    begin_entry(name, static_cast<std::int64_t>(std::filesystem::file_size(file)));
    std::array<char, chunk_bytes> chunk{};
    while (in) {
        in.read(chunk.data(), chunk.size());
        const auto got = in.gcount();
        if (got > 0 && archive_write_data(handle_.get(), chunk.data(), static_cast<std::size_t>(got)) < 0)
            check(ARCHIVE_FATAL, "write an entry");
    }
    if (in.bad()) throw std::runtime_error("archive: cannot read " + file.string());
}

void ArchiveWriter::close() { check(archive_write_close(handle_.get()), "finish the archive"); }

}  // namespace confab::media
