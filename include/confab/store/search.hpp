#pragma once

#include "confab/model/search.hpp"

#include "confab/store/tx.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::store::search {

// Where a page of results ended: results are ordered by rank, then newest first, then id.
struct Position {
    std::string rank;  // a float4 as text (model::SearchHit::rank)
    std::int64_t created_us = 0;
    std::string message_id;
};

struct Query {
    std::string viewer;
    std::string text;                    // websearch_to_tsquery syntax
    std::optional<std::string> chat_id;  // one chat, or every chat of the viewer
    std::optional<Position> after;
    int limit = 50;
};

struct Hit {
    model::SearchHit hit;
    Position position;
};

void prepare(Tx& tx);

// The messages holding the query's words in the chats the viewer is a member of as the
// transaction sees them: the membership is part of the statement, never checked apart from it.
std::vector<Hit> messages(Tx& tx, const Query& query);

// ts_headline's output, with its highlight markers (U+0001, U+0002: the text's own were
// turned into spaces first) turned into parts.
std::vector<model::SnippetPart> snippet_from_headline(std::string_view headline);

}  // namespace confab::store::search
