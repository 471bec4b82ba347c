#pragma once

#include "confab/model/user.hpp"

#include <string>
#include <vector>

namespace confab::model {

// A user's named list of recipients (docs/api.md, Broadcast lists); only its owner sees it.
struct BroadcastList {
    std::string id;
    std::string owner_id;
    std::string name;
    std::vector<std::string> recipient_ids;  // in the order added
    Timestamp created_at;
    Timestamp updated_at;
};

}  // namespace confab::model
