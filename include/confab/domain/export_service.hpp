#pragma once

#include "confab/domain/blocking.hpp"
#include "confab/domain/model.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace confab::store {
class Pool;
}
namespace confab::media {
class ArchiveWriter;
class Storage;
}  // namespace confab::media

namespace confab::domain {

struct ExportFile {
    std::filesystem::path path;
    DataExport data_export;  // ready: size_bytes is the file's
};

// Archives of a user's data (docs/api.md, Exporting your data): a gzip tar of profile.json,
// chats.json, messages/<chat id>.json, media.json and media/<media id>, built in the
// background on the workers (never on an I/O thread), its progress in the database.
// Archives live in <media.dir>/exports/; a user keeps only their newest finished one.
class ExportService {
public:
    ExportService(store::Pool& pool, media::Storage& storage, Workers& workers, std::filesystem::path dir);

    // A pending export, whose archive is then built in the background; Error{conflict}
    // while the user has one pending or running.
    boost::asio::awaitable<DataExport> start(std::string user_id);
    // Error{not_found} for an export that is not the user's.
    boost::asio::awaitable<DataExport> get(std::string user_id, std::string id);
    // A ready export's archive; Error{conflict} for one not ready.
    boost::asio::awaitable<ExportFile> file_of(std::string user_id, std::string id);
    // Every export of the user and its archive (the account is being deleted).
    boost::asio::awaitable<void> remove_all(std::string user_id);

    // Marks the exports a stopped server left unfinished failed and removes their partial
    // archives, in the background; call before serving.
    void start_recovery();

private:
    boost::asio::awaitable<void> build(DataExport data_export);
    boost::asio::awaitable<void> write_archive(const DataExport& data_export, const std::filesystem::path& path);
    // Bytes removed since the listing (a media deletion) are left out, `name` added to `left_out`;
    // media.json still names the media, with that path null.
    void add_if_stored(media::ArchiveWriter& archive, const std::string& name, const std::string& storage_key,
                       std::vector<std::string>& left_out) const;
    boost::asio::awaitable<void> recover();
    // `done` + `items` parts written: recorded each time it passes another `step`.
    boost::asio::awaitable<int> advanced(std::string id, int done, int items, int step);
    // Removes the archives (and partial archives) of these exports; on the strand.
    boost::asio::awaitable<void> remove_archives(std::vector<std::string> ids) const;
    std::filesystem::path archive_path(const std::string& id) const;
    std::filesystem::path partial_path(const std::string& id) const;

    store::Pool& pool_;
    media::Storage& storage_;
    std::filesystem::path dir_;
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
};

}  // namespace confab::domain
