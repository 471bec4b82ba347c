#include "confab/media/storage.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <stdexcept>
#include <system_error>

namespace confab::media {
namespace {

void fsync_path(const std::filesystem::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
    const int result = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (result != 0) throw std::system_error(error, std::generic_category(), "fsync " + path.string());
}

bool is_hex_key(const std::string& sha256) {
    return sha256.size() == 64 && sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

const std::string thumbnail_variant = "thumb.jpg";
const std::string no_thumbnail_variant = "no-thumb";

LocalStorage::LocalStorage(std::filesystem::path root) : root_(std::move(root)) {
    std::filesystem::create_directories(root_ / "tmp");
    std::filesystem::create_directories(root_ / "objects");
}

std::filesystem::path LocalStorage::temporary_path() {
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    return root_ / "tmp" / hex;
}

std::filesystem::path LocalStorage::path_of(const std::string& key) const {
    if (!is_hex_key(key)) throw std::invalid_argument("not a storage key");
    return root_ / "objects" / key.substr(0, 2) / key;
}

std::string LocalStorage::store(const std::filesystem::path& temporary, const std::string& sha256) {
    const auto target = path_of(sha256);
    if (std::filesystem::exists(target)) {
        std::filesystem::remove(temporary);
        // Found again: as young as a new copy to the sweep of unused bytes (age_of), which
        // may otherwise take it between this store and its row's commit, were that retried.
        std::error_code ignored;
        std::filesystem::last_write_time(target, std::filesystem::file_time_type::clock::now(), ignored);
        return sha256;
    }
    fsync_path(temporary, O_RDONLY);
    // Variants beside bytes that are not stored are leftovers of an earlier copy of them (made
    // while it was being removed): a stale no-thumb marker would refuse these bytes' thumbnail.
    remove_variants(sha256);
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::rename(temporary, target);
    fsync_path(target.parent_path(), O_RDONLY | O_DIRECTORY);
    return sha256;
}

std::filesystem::path LocalStorage::variant_path_of(const std::string& key, const std::string& variant) const {
    auto path = path_of(key);
    path += "." + variant;
    return path;
}

void LocalStorage::remove(const std::string& key) {
    std::error_code ignored;
    std::filesystem::remove(path_of(key), ignored);
    remove_variants(key);
}

void LocalStorage::remove_variants(const std::string& key) {
    std::error_code ignored;
    for (const auto& variant : {thumbnail_variant, no_thumbnail_variant})
        std::filesystem::remove(variant_path_of(key, variant), ignored);
}

std::size_t LocalStorage::remove_temporaries(std::chrono::seconds min_age) {
    const auto cutoff = std::filesystem::file_time_type::clock::now() - min_age;
    std::size_t removed = 0;
    std::error_code error;
    for (std::filesystem::directory_iterator it(root_ / "tmp", error), end; !error && it != end; it.increment(error)) {
        std::error_code ignored;
        const auto modified = it->last_write_time(ignored);
        if (ignored || (min_age.count() > 0 && modified > cutoff)) continue;
        if (std::filesystem::remove(it->path(), ignored)) ++removed;
    }
    return removed;
}

std::vector<std::string> LocalStorage::keys_in_shard(int shard) const {
    constexpr char digits[] = "0123456789abcdef";
    const std::string prefix{digits[(shard >> 4) & 0xf], digits[shard & 0xf]};
    std::vector<std::string> keys;
    std::error_code error;
    for (std::filesystem::directory_iterator it(root_ / "objects" / prefix, error), end; !error && it != end;
         it.increment(error)) {
        auto name = it->path().filename().string();
        if (is_hex_key(name)) keys.push_back(std::move(name));
    }
    return keys;
}

std::optional<std::chrono::seconds> LocalStorage::age_of(const std::string& key) const {
    std::error_code error;
    const auto modified = std::filesystem::last_write_time(path_of(key), error);
    if (error) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::seconds>(std::filesystem::file_time_type::clock::now() - modified);
}

}  // namespace confab::media
