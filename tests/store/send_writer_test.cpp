// domain::SendWriter against a real PostgreSQL: a batch of sends, written in one go, gives
// each send what it would have got alone, and numbers each chat's messages in batch order.

#include "confab/domain/message_service.hpp"
#include "confab/store/database.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/sql.hpp"
#include "fresh_database.hpp"
#include "support/server.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace confab::domain {
namespace {

using test::TestDatabase;

class SendWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        database_ = test::migrated_database();
        connection_ = std::make_unique<pqxx::connection>(database_->url());
        pqxx::nontransaction registration(*connection_);
        store::Tx statements(registration);
        store::prepare_statements(statements);
        for (const char* name : {"ann", "bob", "cid"}) users_[name] = test::add_user(*database_, name);
        first_ = group_of({"ann", "bob"});
        second_ = group_of({"ann", "cid"});
    }

    std::string value(const std::string& sql) { return database_->query_value(sql).value_or(""); }

    std::string group_of(const std::vector<std::string>& members) {
        const auto chat = value("insert into chats (type) values ('group') returning id");
        for (const auto& member : members)
            value("insert into chat_members (chat_id, user_id) values ('" + chat + "', '" + users_[member] + "')");
        return chat;
    }

    SendMessage text(const std::string& chat, const std::string& sender, const std::string& content,
                     std::optional<std::string> client_id = std::nullopt) {
        SendMessage m;
        m.chat_id = chat;
        m.sender_id = users_[sender];
        m.content = content;
        m.metadata.text = "{}";
        m.client_id = std::move(client_id);
        return m;
    }

    // Writes the sends as one batch in one committed transaction.
    std::vector<SendWriter::Entry> write(const std::vector<SendMessage>& sends) {
        std::vector<const SendMessage*> inputs;
        for (const auto& send : sends) inputs.push_back(&send);
        pqxx::work work(*connection_);
        store::Tx tx(work);
        const auto cached = cache_.chats();
        auto entries = writer_.write(tx, inputs);
        EXPECT_EQ(cache_.chats(), cached) << "nothing is cached before the commit";
        work.commit();
        // Once committed, the writes' cache changes in order, as ChatWrites::apply makes them.
        for (auto& entry : entries)
            if (auto* outcome = std::get_if<Outcome<Sent>>(&entry); outcome && outcome->effects.cache_change)
                outcome->effects.cache_change(cache_);
        return entries;
    }

    static const Sent& sent(const SendWriter::Entry& entry) {
        if (const auto* error = std::get_if<std::exception_ptr>(&entry)) {
            try {
                std::rethrow_exception(*error);
            } catch (const std::exception& e) {
                ADD_FAILURE() << "refused: " << e.what();
                throw;
            }
        }
        return std::get<Outcome<Sent>>(entry).value;
    }

    static ErrorCode refusal(const SendWriter::Entry& entry) {
        try {
            std::rethrow_exception(std::get<std::exception_ptr>(entry));
        } catch (const Error& e) {
            return e.code();
        }
    }

    std::unique_ptr<TestDatabase> database_;
    std::unique_ptr<pqxx::connection> connection_;
    std::map<std::string, std::string> users_;
    std::string first_, second_;
    AccessCache cache_;
    SendWriter writer_{cache_, config::Limits{}.content_chars};
};

TEST_F(SendWriterTest, NumbersEachChatsMessagesInBatchOrder) {
    const auto entries = write({text(first_, "ann", "a1"), text(second_, "cid", "b1"), text(first_, "bob", "a2"),
                                text(first_, "ann", "a3"), text(second_, "ann", "b2")});
    ASSERT_EQ(entries.size(), 5u);
    EXPECT_EQ(sent(entries[0]).message.seq, 1);
    EXPECT_EQ(sent(entries[1]).message.seq, 1);
    EXPECT_EQ(sent(entries[2]).message.seq, 2);
    EXPECT_EQ(sent(entries[3]).message.seq, 3);
    EXPECT_EQ(sent(entries[4]).message.seq, 2);
    EXPECT_EQ(sent(entries[3]).message.content, "a3");
    EXPECT_EQ(sent(entries[2]).message.version, 2);
    for (const auto& entry : entries) EXPECT_TRUE(sent(entry).created);
    // Each new message is published to its chat.
    EXPECT_EQ(std::get<Outcome<Sent>>(entries[0]).effects.deliveries.size(), 1u);

    EXPECT_EQ(value("select last_seq || '/' || version from chats where id = '" + first_ + "'"), "3/3");
    EXPECT_EQ(value("select string_agg(seq::text, ',' order by seq) from messages where chat_id = '" + first_ + "'"),
              "1,2,3");
    // Each sender has read up to their own last message of the chat, and no further.
    EXPECT_EQ(value("select last_read_seq from chat_members where chat_id = '" + first_ + "' and user_id = '" +
                    users_["ann"] + "'"),
              "3");
    EXPECT_EQ(value("select last_read_seq from chat_members where chat_id = '" + first_ + "' and user_id = '" +
                    users_["bob"] + "'"),
              "2");
}

// What a cluster's node need not wait for when it first sees a chat (realtime::Sequencer).
TEST_F(SendWriterTest, TheSettledSeqIsTheHighestBelowOneStoredLongEnoughAgo) {
    write(
        {text(first_, "ann", "a1"), text(first_, "bob", "a2"), text(first_, "ann", "a3"), text(second_, "cid", "b1")});
    value("update messages set created_at = now() - interval '10 seconds' where chat_id = '" + first_ +
          "' and seq <= 2 returning 1");
    const auto now = std::chrono::system_clock::now();
    const auto settled = [&](std::int64_t below, std::chrono::milliseconds age,
                             std::chrono::system_clock::time_point stored_before = {}) {
        pqxx::nontransaction read(*connection_);
        store::Tx tx(read);
        return store::messages::settled_seq(tx, first_, below, age, stored_before);
    };
    EXPECT_EQ(settled(4, std::chrono::seconds(1)), 2) << "3 was stored a moment ago";
    EXPECT_EQ(settled(2, std::chrono::seconds(1)), 1) << "only below the seq asked about";
    EXPECT_EQ(settled(1, std::chrono::seconds(1)), 0);
    EXPECT_EQ(settled(4, std::chrono::seconds(60)), 0) << "none is a minute old";
    EXPECT_EQ(settled(4, std::chrono::milliseconds(0)), 3);
    EXPECT_EQ(settled(4, std::chrono::seconds(60), now - std::chrono::seconds(5)), 2) << "stored before then";
    EXPECT_EQ(settled(4, std::chrono::seconds(60), now + std::chrono::minutes(1)), 3);
}

TEST_F(SendWriterTest, RepeatedClientIdsAnswerWithTheFirstMessage) {
    const auto stored = sent(write({text(first_, "ann", "once", "c-1")}).front()).message;
    const auto entries = write({text(first_, "ann", "again", "c-1"), text(first_, "ann", "new", "c-2"),
                                text(first_, "ann", "new again", "c-2"), text(second_, "ann", "elsewhere", "c-1"),
                                text(second_, "ann", "elsewhere", "c-2"), text(second_, "bob", "not a member", "c-3")});
    EXPECT_FALSE(sent(entries[0]).created);
    EXPECT_EQ(sent(entries[0]).message.id, stored.id);
    EXPECT_EQ(sent(entries[0]).message.content, "once");
    EXPECT_TRUE(sent(entries[1]).created);
    EXPECT_FALSE(sent(entries[2]).created) << "a repeat within the batch is the batch's first message";
    EXPECT_EQ(sent(entries[2]).message.id, sent(entries[1]).message.id);
    EXPECT_EQ(refusal(entries[3]), ErrorCode::conflict) << "a stored client_id sent to another chat";
    EXPECT_EQ(refusal(entries[4]), ErrorCode::conflict) << "a client_id of the batch sent to another chat";
    EXPECT_EQ(refusal(entries[5]), ErrorCode::not_found);
    EXPECT_EQ(value("select count(*) from messages"), "2");
    EXPECT_EQ(value("select last_seq from chats where id = '" + first_ + "'"), "2");
}

TEST_F(SendWriterTest, RefusedSendsWriteNothingAndLeaveNoGap) {
    const auto earlier = sent(write({text(second_, "cid", "in the second chat")}).front()).message;
    auto reply_elsewhere = text(first_, "ann", "reply");
    reply_elsewhere.reply_to_id = earlier.id;
    auto reply_here = text(second_, "ann", "reply");
    reply_here.reply_to_id = earlier.id;
    const auto gone = value("select gen_random_uuid()");
    const auto entries = write({text(first_, "cid", "not a member"), text(gone, "ann", "no chat"), reply_elsewhere,
                                text(first_, "bob", "fine"), reply_here});
    EXPECT_EQ(refusal(entries[0]), ErrorCode::not_found);
    EXPECT_EQ(refusal(entries[1]), ErrorCode::not_found);
    EXPECT_EQ(refusal(entries[2]), ErrorCode::bad_request);
    EXPECT_EQ(sent(entries[3]).message.seq, 1) << "refused sends take no seq";
    EXPECT_EQ(sent(entries[4]).message.seq, 2);
    EXPECT_EQ(sent(entries[4]).message.reply_to_id, earlier.id);
    EXPECT_EQ(value("select count(*) from messages where chat_id = '" + first_ + "'"), "1");
}

// MessageService::send queues a send without waiting for its chat's access: the writer
// loads what is not cached, and refuses senders as the early check would.
TEST_F(SendWriterTest, ChecksWhoMayPostWithTheAccessItLoads) {
    value("update chats set only_admins_can_post = true where id = '" + first_ + "'");
    value("update chat_members set role = 'admin' where chat_id = '" + first_ + "' and user_id = '" + users_["ann"] +
          "'");
    ASSERT_EQ(cache_.find(first_), nullptr);
    const auto entries = write({text(first_, "bob", "a member"), text(first_, "ann", "an admin"),
                                text(first_, "cid", "not a member"), text(second_, "cid", "a member elsewhere")});
    EXPECT_EQ(refusal(entries[0]), ErrorCode::forbidden);
    EXPECT_EQ(sent(entries[1]).message.seq, 1);
    EXPECT_EQ(refusal(entries[2]), ErrorCode::not_found);
    EXPECT_EQ(sent(entries[3]).message.seq, 1);
    ASSERT_NE(cache_.find(first_), nullptr) << "the loaded access is cached";
    EXPECT_TRUE(cache_.find(first_)->settings.only_admins_can_post);
    EXPECT_EQ(value("select count(*) from messages where chat_id = '" + first_ + "'"), "1");
}

TEST_F(SendWriterTest, ASendBringsTheChatBackForMembersWhoHidIt) {
    value("update chat_members set is_hidden = true where chat_id = '" + first_ + "'");
    write({text(first_, "ann", "hello")});
    EXPECT_EQ(value("select count(*) from chat_members where is_hidden"), "0");
}

TEST_F(SendWriterTest, AnUploadIsAttachedToOneMessageOnly) {
    const auto upload = [&](const std::string& user) {
        return value(
            "insert into media (chat_id, uploader_id, kind, mime_type, size_bytes, sha256, storage_key) values ('" +
            first_ + "', '" + users_[user] + "', 'image', 'image/png', 1, 'h" + user + "', 'k') returning id");
    };
    const auto photo = upload("ann");
    const auto bobs = upload("bob");
    auto image = [&](const std::string& sender, const std::string& media_id) {
        auto m = text(first_, sender, "caption");
        m.type = MessageType::image;
        m.media_id = media_id;
        return m;
    };
    const auto entries = write({image("ann", photo), image("ann", photo), image("ann", bobs)});
    ASSERT_TRUE(sent(entries[0]).message.media.has_value());
    EXPECT_EQ(sent(entries[0]).message.media->id, photo);
    EXPECT_TRUE(sent(entries[0]).message.media->attached);
    EXPECT_EQ(refusal(entries[1]), ErrorCode::conflict);
    EXPECT_EQ(refusal(entries[2]), ErrorCode::bad_request) << "someone else's upload";
    EXPECT_EQ(value("select count(*) from media where attached_at is not null"), "1");
    EXPECT_EQ(refusal(write({image("ann", photo)}).front()), ErrorCode::conflict);
}

TEST_F(SendWriterTest, ContentIsStoredExactly) {
    const std::string awkward = R"(quotes " and \ backslashes, {braces}, commas, NULL, and ünïcödé)";
    auto with_metadata = text(first_, "ann", awkward);
    with_metadata.metadata.text = R"({"k": "v \" {x}"})";
    const auto entries = write({with_metadata, text(first_, "bob", "")});
    EXPECT_EQ(sent(entries[0]).message.content, awkward);
    EXPECT_EQ(value("select content from messages where seq = 1"), awkward);
    EXPECT_EQ(value("select metadata->>'k' from messages where seq = 1"), "v \" {x}");
    EXPECT_EQ(sent(entries[1]).message.content, "");
}

// Replies in one batch: each takes its seq and version, each gives the root a version after its
// own, and the root's new summary is published once, after the batch's last reply to it.
TEST_F(SendWriterTest, RepliesInABatchUpdateTheirRootOnceAfterTheLast) {
    const auto root = sent(write({text(first_, "ann", "root")})[0]).message;
    auto reply = [&](const std::string& sender, const std::string& content) {
        auto m = text(first_, sender, content);
        m.thread_root_id = root.id;
        return m;
    };
    const auto entries = write({reply("bob", "r1"), text(first_, "ann", "plain"), reply("ann", "r2")});
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(sent(entries[0]).message.thread_root_id, root.id);
    EXPECT_EQ(sent(entries[1]).message.thread_root_id, std::nullopt);
    EXPECT_EQ(std::get<Outcome<Sent>>(entries[0]).effects.deliveries.size(), 1u) << "only its message.new";
    const auto& last = std::get<Outcome<Sent>>(entries[2]).effects.deliveries;
    ASSERT_EQ(last.size(), 2u) << "message.new, then the root's message.updated";
    const auto* updated = std::get_if<MessageUpdated>(&last[1].event);
    ASSERT_NE(updated, nullptr);
    EXPECT_EQ(updated->message.id, root.id);
    ASSERT_TRUE(updated->message.thread.has_value());
    EXPECT_EQ(updated->message.thread->reply_count, 2);
    EXPECT_EQ(updated->message.thread->participant_ids, (std::vector<std::string>{users_["ann"], users_["bob"]}));
    EXPECT_GT(updated->message.version, sent(entries[2]).message.version);
    EXPECT_EQ(value("select version from chats where id = '" + first_ + "'"), std::to_string(updated->message.version));

    // A reply under a reply, or under another chat's message, is refused and writes nothing.
    auto nested = reply("bob", "nested");
    nested.thread_root_id = sent(entries[0]).message.id;
    auto foreign = text(second_, "cid", "elsewhere");
    foreign.thread_root_id = root.id;
    const auto refused = write({nested, foreign});
    EXPECT_EQ(refusal(refused[0]), ErrorCode::bad_request);
    EXPECT_EQ(refusal(refused[1]), ErrorCode::bad_request);
    EXPECT_EQ(value("select thread_reply_count from messages where id = '" + root.id + "'"), "2");
}

// Batched writes run generic plans, and a new database has no statistics until its first
// ANALYZE: the per-row lookups of a batch in messages and chat_members, which grow with
// every message and member, must still be index lookups, not hash joins over the whole
// tables (which cost 1.3 ms of PostgreSQL's CPU per message in bench/run). (chats may be
// scanned while it is small: each message updates it, so ANALYZE soon replans.)
TEST_F(SendWriterTest, GenericPlansLookEachRowUpByIndexBeforeAnyAnalyze) {
    pqxx::work work(*connection_);
    store::Tx tx(work);
    const auto send = text(first_, "ann", "prepares the statements", "c-1");
    const SendMessage* inputs[] = {&send};
    writer_.write(tx, inputs);  // libpqxx prepares a statement when it first runs it
    const auto plan = [&](const std::string& execute) {
        std::string text;
        for (const auto& row : tx.exec("EXPLAIN " + execute)) text += row[0].as<std::string>() + "\n";
        return text;
    };
    const auto ann = users_["ann"];
    const auto lookup = plan("EXECUTE messages_lock_for_sends('{" + first_ + "}', '{" + ann + "}', '{c-1}')");
    EXPECT_NE(lookup.find("Scan using messages_sender_client_id"), std::string::npos) << lookup;
    EXPECT_EQ(lookup.find("Seq Scan on messages"), std::string::npos) << lookup;
    const auto insert =
        plan("EXECUTE messages_insert('{" + first_ + "}', '{" + ann +
             "}', '{text}', '{hi}', '{NULL}', '{\"{}\"}', '{NULL}', '{NULL}', '{false}', '{NULL}', '{\"[]\"}')");
    EXPECT_EQ(insert.find("Seq Scan on chat_members"), std::string::npos) << insert;
}

}  // namespace
}  // namespace confab::domain
