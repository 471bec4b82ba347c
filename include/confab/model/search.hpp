#pragma once

#include "confab/model/chat.hpp"

#include <string>
#include <vector>

namespace confab::model {

// A piece of a search result's excerpt: plain text, to be shown highlighted or not. Clients
// render the pieces in order and never read markup out of them.
struct SnippetPart {
    std::string text;
    bool highlighted = false;
};

struct SearchHit {
    Message message;
    std::vector<SnippetPart> snippet;
    // ts_rank's float4 in PostgreSQL's shortest exact text, so a cursor holding it finds the
    // same float again.
    std::string rank;
};

}  // namespace confab::model
