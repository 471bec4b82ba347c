#pragma once

#include "results.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace confab::bench {

// `value` with `decimals` digits after the point, as the tables print figures.
std::string fixed(double value, int decimals = 1);
// `total` (over the step's window) per persisted message, or per completed read when the step
// made reads.
double per_unit(const StepResult& step, double total);

void print_scenario(std::ostream& out, const ScenarioResult& result);

nlohmann::json to_json(const ScenarioResult& result);

}  // namespace confab::bench
