#pragma once

#include "results.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <vector>

namespace confab::bench {

void print_scenario(std::ostream& out, const ScenarioResult& result);

nlohmann::json to_json(const ScenarioResult& result);

}  // namespace confab::bench
