// store::media against a real PostgreSQL: what the cleanup of stale uploads may delete is
// decided by the database at the moment of the delete.

#include "confab/store/database.hpp"
#include "confab/store/sql.hpp"
#include "confab/store/media.hpp"
#include "fresh_database.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace confab::store {
namespace {

using test::TestDatabase;

class MediaStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        connection_ = std::make_unique<pqxx::connection>(database_->url());
        pqxx::nontransaction registration(*connection_);
        store::Tx statements(registration);
        store::prepare_statements(statements);
        user_ = test::add_user(*database_, "ann");
        chat_ = value("insert into chats (type) values ('group') returning id");
    }

    std::string value(const std::string& sql) { return database_->query_value(sql).value_or(""); }

    // An upload made `hours_ago`, never attached.
    std::string upload(const std::string& chat, const std::string& key, int hours_ago = 0) {
        return value(
            "insert into media (chat_id, uploader_id, kind, mime_type, size_bytes, sha256, storage_key, "
            "created_at) values ('" +
            chat + "', '" + user_ + "', 'file', 'text/plain', 3, '" + key + "', '" + key + "', now() - interval '" +
            std::to_string(hours_ago) + " hours') returning id");
    }

    bool exists(const std::string& media_id) {
        return value("select count(*) from media where id = '" + media_id + "'") == "1";
    }

    std::unique_ptr<TestDatabase> database_;
    std::unique_ptr<pqxx::connection> connection_;
    std::string user_, chat_;
};

const std::string key_a(64, 'a');

TEST_F(MediaStoreTest, StaleCleanupKeepsAnUploadAttachedAfterItWasListed) {
    const auto id = upload(chat_, key_a, 48);
    pqxx::work work(*connection_);
    store::Tx tx(work);
    const auto stale = media::stale_unattached(tx, 24, 100);
    ASSERT_EQ(stale, std::vector<std::string>{id});
    media::mark_attached(tx, id);  // a send attaches it between the listing and the delete
    EXPECT_TRUE(media::remove_unattached(tx, id).empty());
    work.commit();
    EXPECT_TRUE(exists(id));
}

TEST_F(MediaStoreTest, StaleCleanupRemovesAnUploadStillUnattached) {
    const auto id = upload(chat_, key_a, 48);
    pqxx::work work(*connection_);
    store::Tx tx(work);
    EXPECT_EQ(media::remove_unattached(tx, id), std::vector<std::string>{key_a});
    work.commit();
    EXPECT_FALSE(exists(id));
}

TEST_F(MediaStoreTest, ALivePhotosVideoBytesAreInUseAndReleasedWithItsRow) {
    const std::string key_b(64, 'b');
    const auto id = upload(chat_, key_a);
    value("update media set live_video_storage_key = '" + key_b + "', live_video_sha256 = '" + key_b +
          "', live_video_mime_type = 'video/mp4', live_video_size_bytes = 5 where id = '" + id + "' returning id");
    pqxx::work work(*connection_);
    store::Tx tx(work);
    EXPECT_TRUE(media::bytes_in_use(tx, key_b)) << "the motion part's bytes are in use";
    auto keys = media::remove(tx, id);
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, (std::vector<std::string>{key_a, key_b})) << "both parts' keys, to release";
    EXPECT_FALSE(media::bytes_in_use(tx, key_b));
    EXPECT_TRUE(media::remove(tx, id).empty()) << "no row, no keys";
}

}  // namespace
}  // namespace confab::store
