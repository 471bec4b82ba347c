#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confab::media {

// The variant name of image thumbnails (JPEG, at most 320 px a side).
extern const std::string thumbnail_variant;
// An empty file beside an object whose thumbnail could not be made: its bytes will not decode
// on the next request either.
extern const std::string no_thumbnail_variant;

// Where uploaded bytes live. Keys are made from the content's SHA-256, never from user
// input, so identical uploads share one file. Blocking: call off the I/O threads.
class Storage {
public:
    virtual ~Storage() = default;
    // A fresh path to stream an incoming upload into (not yet a stored object).
    virtual std::filesystem::path temporary_path() = 0;
    // Makes the temporary file durable under its content key and returns the key. The
    // temporary file is consumed (renamed, or removed when the content is already stored).
    // Variants left beside a key whose object is not stored are removed first.
    virtual std::string store(const std::filesystem::path& temporary, const std::string& sha256) = 0;
    virtual std::filesystem::path path_of(const std::string& key) const = 0;
    // Where a derived variant of the object lives, beside it (e.g. "thumb.jpg").
    virtual std::filesystem::path variant_path_of(const std::string& key, const std::string& variant) const = 0;
    // Removes the object, then its variants: a variant made while this runs is found without
    // its object by whoever made it (domain::MediaService's thumbnails check after the rename).
    virtual void remove(const std::string& key) = 0;
    // Removes temporary files not modified for `min_age` (zero: all of them), left by a crash
    // or a failed thumbnail; how many. Files still being written are younger than any sane age.
    virtual std::size_t remove_temporaries(std::chrono::seconds min_age) = 0;
    // The keys of the objects stored in one of the 256 shards they are spread over by their
    // first byte (0-255), variants not included: a listing in pieces of bounded size.
    virtual std::vector<std::string> keys_in_shard(int shard) const = 0;
    // How long ago the object was stored, or found already stored by store(); nullopt when it
    // is not stored.
    virtual std::optional<std::chrono::seconds> age_of(const std::string& key) const = 0;
};

// A local directory: <dir>/objects/<first two hex digits>/<sha256>, temporaries in <dir>/tmp.
// A crash never leaves a half-written file under a real name: the temporary is fsynced
// before the rename, and the directory after it.
class LocalStorage final : public Storage {
public:
    explicit LocalStorage(std::filesystem::path root);
    std::filesystem::path temporary_path() override;
    std::string store(const std::filesystem::path& temporary, const std::string& sha256) override;
    std::filesystem::path path_of(const std::string& key) const override;
    std::filesystem::path variant_path_of(const std::string& key, const std::string& variant) const override;
    void remove(const std::string& key) override;
    std::size_t remove_temporaries(std::chrono::seconds min_age) override;
    std::vector<std::string> keys_in_shard(int shard) const override;
    std::optional<std::chrono::seconds> age_of(const std::string& key) const override;

private:
    void remove_variants(const std::string& key);

    std::filesystem::path root_;
};

}  // namespace confab::media
