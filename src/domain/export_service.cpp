#include "confab/domain/export_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/validation.hpp"
#include "confab/media/archive.hpp"
#include "confab/media/storage.hpp"
#include "confab/store/accounts.hpp"
#include "confab/store/pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace confab::domain {
namespace {

// Progress is written about this many times an export, not once an item.
constexpr int progress_updates = 20;

// The roles that see a channel's members (rules::sees_members), for chats.json.
std::vector<std::string> channel_member_viewers() {
    std::vector<std::string> roles;
    for (const auto role : {Role::restricted, Role::member, Role::moderator, Role::admin, Role::owner})
        if (rules::sees_members(Standing{ChatType::channel, {}, role})) roles.emplace_back(to_string(role));
    return roles;
}

}  // namespace

ExportService::ExportService(store::Pool& pool, media::Storage& storage, Workers& workers, std::filesystem::path dir)
    : pool_(pool),
      storage_(storage),
      dir_(std::move(dir)),
      strand_(boost::asio::make_strand(workers.pool().get_executor())) {}

std::filesystem::path ExportService::archive_path(const std::string& id) const { return dir_ / (id + ".tar.gz"); }

std::filesystem::path ExportService::partial_path(const std::string& id) const {
    return dir_ / (id + ".tar.gz.partial");
}

boost::asio::awaitable<DataExport> ExportService::start(std::string user_id) {
    auto created = co_await pool_.run([user_id](store::Tx& tx) { return store::exports::insert(tx, user_id); });
    rules::may_start_export(!created);
    spdlog::info("export started export_id={} user_id={}", created->id, user_id);
    boost::asio::co_spawn(strand_, build(*created), boost::asio::detached);
    co_return std::move(*created);
}

boost::asio::awaitable<DataExport> ExportService::get(std::string user_id, std::string id) {
    // Another user's export is as unknown as one that never existed.
    if (!is_uuid(id)) throw not_found("export");
    auto found = co_await pool_.run([user_id, id](store::Tx& tx) { return store::exports::find(tx, id, user_id); });
    if (!found) throw not_found("export");
    co_return std::move(*found);
}

boost::asio::awaitable<ExportFile> ExportService::file_of(std::string user_id, std::string id) {
    auto found = co_await get(std::move(user_id), id);
    rules::may_download_export(found.status);
    co_return ExportFile{archive_path(id), std::move(found)};
}

boost::asio::awaitable<void> ExportService::remove_all(std::string user_id) {
    auto ids = co_await pool_.run([user_id](store::Tx& tx) { return store::exports::remove_all(tx, user_id); });
    co_await boost::asio::co_spawn(strand_, remove_archives(std::move(ids)), boost::asio::use_awaitable);
}

boost::asio::awaitable<void> ExportService::remove_archives(std::vector<std::string> ids) const {
    for (const auto& id : ids) {
        std::error_code ignored;
        std::filesystem::remove(archive_path(id), ignored);
        std::filesystem::remove(partial_path(id), ignored);
    }
    co_return;
}

void ExportService::start_recovery() { boost::asio::co_spawn(strand_, recover(), boost::asio::detached); }

boost::asio::awaitable<void> ExportService::recover() {
    const auto started = model::now();
    try {
        const auto ids =
            co_await pool_.run([started](store::Tx& tx) { return store::exports::fail_unfinished(tx, started); });
        co_await remove_archives(ids);
        if (!ids.empty()) spdlog::warn("{} exports left unfinished by the last run marked failed", ids.size());
    } catch (const std::exception& e) {
        spdlog::error("unfinished exports not recovered: {}", e.what());
    }
}

boost::asio::awaitable<int> ExportService::advanced(std::string id, int done, int items, int step) {
    const int now_done = done + items;
    if (now_done / step != done / step)
        co_await pool_.run([id, now_done](store::Tx& tx) { store::exports::progress(tx, id, now_done); });
    co_return now_done;
}

// On the strand: the archive's file I/O runs on a worker thread, never an I/O thread.
boost::asio::awaitable<void> ExportService::build(DataExport data_export) {
    const auto id = data_export.id;
    bool failed = false;
    try {
        std::filesystem::create_directories(dir_);
        co_await write_archive(data_export, partial_path(id));
        std::filesystem::rename(partial_path(id), archive_path(id));
        const auto size = static_cast<std::int64_t>(std::filesystem::file_size(archive_path(id)));
        // The export it replaces goes first, record and archive, so that a client that sees this
        // one ready never finds the old one still there.
        const auto replaced = co_await pool_.run(
            [user = data_export.user_id, id](store::Tx& tx) { return store::exports::remove_finished(tx, user, id); });
        co_await remove_archives(replaced);
        const bool kept =
            co_await pool_.run([id, size](store::Tx& tx) { return store::exports::finish(tx, id, size); });
        if (!kept) {
            co_await remove_archives({id});  // its user was deleted meanwhile
            co_return;
        }
        spdlog::info("export ready export_id={} size_bytes={}", id, size);
    } catch (const std::exception& e) {
        spdlog::error("export failed export_id={}: {}", id, e.what());
        failed = true;
    }
    if (!failed) co_return;
    co_await remove_archives({id});
    try {
        co_await pool_.run([id](store::Tx& tx) { store::exports::fail(tx, id); });
    } catch (const std::exception& e) {
        spdlog::error("export not marked failed export_id={}: {}", id, e.what());
    }
}

void ExportService::add_if_stored(media::ArchiveWriter& archive, const std::string& name,
                                  const std::string& storage_key, std::vector<std::string>& left_out) const {
    const auto stored = storage_.path_of(storage_key);
    if (std::filesystem::exists(stored)) archive.add_file(name, stored);
    else left_out.push_back(name);
}

boost::asio::awaitable<void> ExportService::write_archive(const DataExport& data_export,
                                                          const std::filesystem::path& path) {
    const auto id = data_export.id;
    const auto user_id = data_export.user_id;
    const auto contents = co_await pool_.run(
        [user_id](store::Tx& tx) { return store::exports::contents(tx, user_id, channel_member_viewers()); });
    const int total = static_cast<int>(contents.documents.size() + contents.chat_ids.size() + contents.media.size());
    co_await pool_.run([id, total](store::Tx& tx) { store::exports::start(tx, id, total); });
    const int step = std::max(1, total / progress_updates);
    int done = 0;

    media::ArchiveWriter archive(path);
    // media.json goes last, once it is known which bytes the archive holds.
    std::string media_json;
    for (const auto& [name, document] : contents.documents) {
        if (name == "media.json") media_json = document;
        else archive.add(name, document);
    }
    done = co_await advanced(id, done, static_cast<int>(contents.documents.size()) - 1, step);
    for (const auto& chat_id : contents.chat_ids) {
        const auto messages = co_await pool_.run(
            [user_id, chat_id](store::Tx& tx) { return store::exports::messages_json(tx, user_id, chat_id); });
        archive.add("messages/" + chat_id + ".json", messages);
        done = co_await advanced(id, done, 1, step);
    }
    std::vector<std::string> left_out;
    for (const auto& file : contents.media) {
        add_if_stored(archive, "media/" + file.media_id, file.storage_key, left_out);
        if (file.live_video_storage_key)
            add_if_stored(archive, "media/" + file.media_id + ".live_video", *file.live_video_storage_key, left_out);
        done = co_await advanced(id, done, 1, step);
    }
    if (!left_out.empty())
        media_json = co_await pool_.run([&media_json, &left_out](store::Tx& tx) {
            return store::exports::media_without_paths(tx, media_json, left_out);
        });
    archive.add("media.json", media_json);
    co_await advanced(id, done, 1, step);
    archive.close();
}

}  // namespace confab::domain
