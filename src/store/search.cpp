#include "confab/store/search.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/messages.hpp"
#include "confab/store/rows.hpp"

namespace confab::store::search {
namespace {

constexpr char start_mark = '\x01', stop_mark = '\x02';

// Ranked by ts_rank (the more often the words occur, the higher), ties newest first, then by
// id, which makes the order total, so a page ends at one exact Position. ts_headline runs on
// the page alone: it parses the whole text again, far dearer than the match itself.
std::string statement(bool one_chat) {
    return "WITH q AS MATERIALIZED (SELECT websearch_to_tsquery('simple', $2) AS query), "
           "hits AS (SELECT m.id, m.created_at, ts_rank(m.search, q.query) AS rank FROM q "
           "  JOIN chat_members cm ON cm.user_id = $1::uuid" +
           std::string(one_chat ? " AND cm.chat_id = $7::uuid" : "") +
           "  JOIN messages m ON m.chat_id = cm.chat_id AND m.search @@ q.query "
           "  WHERE NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.message_id = m.id AND h.user_id = $1::uuid)), "
           "page AS (SELECT * FROM hits WHERE $3::real IS NULL OR (rank, created_at, id) < ($3::real, "
           "  'epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid) "
           "  ORDER BY rank DESC, created_at DESC, id DESC LIMIT $6) "
           "SELECT p.rank::text, (extract(epoch FROM p.created_at) * 1000000)::bigint, "
           "  ts_headline('simple', translate(m.content, E'\\x01\\x02', '  '), q.query, "
           "  E'StartSel=\\x01, StopSel=\\x02, MaxWords=35, MinWords=15'), " +
           std::string(message_columns) +
           " FROM page p CROSS JOIN q JOIN " CONFAB_WITH_MEDIA(
               "messages m ON m.id = p.id") " ORDER BY p.rank DESC, p.created_at DESC, p.id DESC";
}

}  // namespace

void prepare(Tx& tx) {
    tx.prepare("search_messages", statement(false));
    tx.prepare("search_chat_messages", statement(true));
}

std::vector<Hit> messages(Tx& tx, const Query& query) {
    std::optional<std::string> rank, after_id;
    std::optional<std::int64_t> created_us;
    if (query.after) {
        rank = query.after->rank;
        created_us = query.after->created_us;
        after_id = query.after->message_id;
    }
    const auto result = query.chat_id ? tx.exec_prepared("search_chat_messages", query.viewer, query.text, rank,
                                                         created_us, after_id, query.limit, *query.chat_id)
                                      : tx.exec_prepared("search_messages", query.viewer, query.text, rank, created_us,
                                                         after_id, query.limit);
    std::vector<Hit> hits;
    hits.reserve(result.size());
    for (const auto& row : result) {
        Hit found;
        found.hit.rank = row[0].as<std::string>();
        found.hit.snippet = snippet_from_headline(row[2].as<std::string>());
        found.hit.message = message_from(row, 3);
        found.position = {found.hit.rank, row[1].as<std::int64_t>(), found.hit.message.id};
        hits.push_back(std::move(found));
    }
    // Reactions as the viewer reads them, like every other read of messages.
    std::vector<model::Message> messages;
    messages.reserve(hits.size());
    for (auto& found : hits) messages.push_back(std::move(found.hit.message));
    store::messages::attach_live(tx, messages, {}, query.viewer);
    for (std::size_t i = 0; i < hits.size(); ++i) hits[i].hit.message = std::move(messages[i]);
    return hits;
}

std::vector<model::SnippetPart> snippet_from_headline(std::string_view headline) {
    std::vector<model::SnippetPart> parts;
    bool highlighted = false;
    std::size_t start = 0;
    const auto flush = [&](std::size_t end) {
        if (end > start) parts.push_back({std::string(headline.substr(start, end - start)), highlighted});
        start = end + 1;
    };
    for (std::size_t i = 0; i < headline.size(); ++i) {
        if (headline[i] != start_mark && headline[i] != stop_mark) continue;
        flush(i);
        highlighted = headline[i] == start_mark;
    }
    flush(headline.size());
    return parts;
}

}  // namespace confab::store::search
