#pragma once

// The domain speaks in the plain models that every layer shares (confab/model).
#include "confab/model/chat.hpp"
#include "confab/model/error.hpp"
#include "confab/model/export.hpp"
#include "confab/model/list_page.hpp"
#include "confab/model/stats.hpp"
#include "confab/model/session.hpp"
#include "confab/model/user.hpp"

namespace confab::domain {
using namespace confab::model;
}
