#include "confab/store/polls.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

#include <algorithm>
#include <unordered_map>

namespace confab::store {

void attach_polls(Tx& tx, std::vector<model::Message>& messages, const std::string& viewer) {
    std::vector<std::string> ids;
    std::unordered_map<std::string, model::Poll*> by_id;
    for (auto& message : messages) {
        if (!has_poll_to_read(message)) continue;
        ids.push_back(message.id);
        auto& poll = message.poll.emplace();
        poll.question = message.content;
        if (!viewer.empty()) poll.my_votes.emplace();
        by_id.emplace(message.id, &poll);
    }
    if (ids.empty()) return;
    const auto id_array = uuid_array(ids);
    for (const auto& row : tx.exec_prepared("polls_options", id_array)) {
        auto& poll = *by_id.at(row[0].as<std::string>());
        poll.options.push_back({row[1].as<std::string>(), row[2].as<std::int64_t>(), {}});
        poll.multiple_choice = row[3].as<bool>();
        poll.anonymous = row[4].as<bool>();
        if (!row[5].is_null()) poll.closes_at = timestamp(row[5]);
        if (!row[6].is_null()) poll.closed_at = timestamp(row[6]);
        poll.total_voters = row[7].as<std::int64_t>();
    }
    // Rows in voting order, so each option's voters keep theirs.
    const auto rows = tx.exec_prepared("polls_voters", id_array, poll_voters_named,
                                       viewer.empty() ? std::nullopt : std::optional<std::string>(viewer));
    for (const auto& row : rows) {
        auto& poll = *by_id.at(row[0].as<std::string>());
        const auto option = row[1].as<int>();
        auto user_id = row[2].as<std::string>();
        if (poll.my_votes && user_id == viewer) poll.my_votes->push_back(option);
        if (!poll.anonymous) poll.options.at(static_cast<std::size_t>(option)).voter_ids.push_back(std::move(user_id));
    }
    for (auto& [id, poll] : by_id)
        if (poll->my_votes) std::sort(poll->my_votes->begin(), poll->my_votes->end());
}

}  // namespace confab::store

namespace confab::store::polls {

void prepare(Tx& tx) {
    tx.prepare("polls_insert",
               "INSERT INTO polls (message_id, options, multiple_choice, anonymous, closes_at) "
               "VALUES ($1::uuid, $2::text[], $3, $4, CASE WHEN $5::bigint IS NULL THEN NULL ELSE "
               "'epoch'::timestamptz + $5::bigint * interval '1 millisecond' END)");
    // One row per option, in order; a poll past its closes_at reads as closed at that time.
    tx.prepare("polls_options",
               "SELECT p.message_id::text, o.text, "
               " (SELECT count(*) FROM poll_votes v WHERE v.message_id = p.message_id "
               "  AND v.option_index = o.ord - 1), "
               " p.multiple_choice, p.anonymous, " CONFAB_TIME("p.closes_at") ", " CONFAB_TIME(
                   "coalesce(p.closed_at, CASE WHEN p.closes_at <= now() THEN p.closes_at END)") ", t.voters "
               "FROM polls p CROSS JOIN LATERAL (SELECT count(DISTINCT user_id) AS voters FROM poll_votes v "
               " WHERE v.message_id = p.message_id) t, unnest(p.options) WITH ORDINALITY AS o(text, ord) "
               "WHERE p.message_id = ANY($1::uuid[]) ORDER BY p.message_id, o.ord");
    tx.prepare("polls_voters",
               "SELECT r.message_id::text, r.option_index, r.user_id::text FROM ("
               " SELECT v.message_id, v.option_index, v.user_id, v.voted_at, p.anonymous, "
               "  c.type = 'channel' AS in_channel, "
               "  row_number() OVER (PARTITION BY v.message_id, v.option_index ORDER BY v.voted_at, v.user_id) "
               "   AS rank "
               " FROM poll_votes v JOIN polls p ON p.message_id = v.message_id "
               " JOIN messages m ON m.id = v.message_id JOIN chats c ON c.id = m.chat_id "
               " WHERE v.message_id = ANY($1::uuid[])) r "
               // A channel names the reader alone, as for reactions (domain::rules::names_reactors).
               "WHERE (r.rank <= $2 AND NOT r.anonymous AND NOT r.in_channel) OR r.user_id = $3::uuid "
               "ORDER BY r.voted_at, r.user_id, r.option_index");
    tx.prepare("polls_votes_of",
               "SELECT option_index FROM poll_votes WHERE message_id = $1::uuid AND user_id = $2::uuid "
               "ORDER BY option_index");
    // An option chosen before and again keeps its place among its voters.
    tx.prepare("polls_drop_votes",
               "DELETE FROM poll_votes WHERE message_id = $1::uuid AND user_id = $2::uuid "
               "AND option_index <> ALL($3::smallint[])");
    tx.prepare("polls_add_votes",
               "INSERT INTO poll_votes (message_id, user_id, option_index) "
               "SELECT $1::uuid, $2::uuid, o FROM unnest($3::smallint[]) AS o ON CONFLICT DO NOTHING");
    tx.prepare("polls_close", "UPDATE polls SET closed_at = now() WHERE message_id = $1::uuid AND closed_at IS NULL");
}

model::Poll insert(Tx& tx, const std::string& message_id, const std::string& question, const model::Poll& poll) {
    std::vector<std::optional<std::string>> options;
    for (const auto& option : poll.options) options.emplace_back(option.text);
    tx.exec_prepared("polls_insert", message_id, text_array(options), poll.multiple_choice, poll.anonymous,
                     epoch_ms(poll.closes_at));
    model::Poll stored;
    stored.question = question;
    for (const auto& option : poll.options) stored.options.push_back({option.text, 0, {}});
    stored.multiple_choice = poll.multiple_choice;
    stored.anonymous = poll.anonymous;
    stored.closes_at = poll.closes_at;
    stored.my_votes.emplace();
    return stored;
}

std::vector<int> votes_of(Tx& tx, const std::string& message_id, const std::string& user_id) {
    std::vector<int> options;
    for (const auto& row : tx.exec_prepared("polls_votes_of", message_id, user_id)) options.push_back(row[0].as<int>());
    return options;
}

void set_votes(Tx& tx, const std::string& message_id, const std::string& user_id, const std::vector<int>& options) {
    std::string literal = "{";
    for (const auto option : options) {
        if (literal.size() > 1) literal += ',';
        literal += std::to_string(option);
    }
    literal += '}';
    tx.exec_prepared("polls_drop_votes", message_id, user_id, literal);
    tx.exec_prepared("polls_add_votes", message_id, user_id, literal);
}

void close(Tx& tx, const std::string& message_id) { tx.exec_prepared("polls_close", message_id); }

}  // namespace confab::store::polls
