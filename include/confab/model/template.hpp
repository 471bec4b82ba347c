#pragma once

#include "confab/model/user.hpp"

#include <optional>
#include <string>
#include <vector>

namespace confab::model {

// A saved message with named placeholders ({{name}}), filled when it is sent. A user's own
// (chat_id empty) or a group's, which its admins manage and every member may use.
struct Template {
    std::string id;
    std::optional<std::string> chat_id;
    std::string name;
    std::string content;
    std::vector<std::string> placeholders;  // in order of first appearance
    Timestamp created_at;
    Timestamp updated_at;
};

}  // namespace confab::model
