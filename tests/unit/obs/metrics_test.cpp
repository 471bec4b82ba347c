// The exposition: every family once, with its type, and every metric the operator's docs name.
#include "confab/obs/metrics.hpp"
#include "support/source_tree.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace confab::obs {
namespace {

// name -> type of each "# TYPE" line; a name seen twice fails the test.
std::map<std::string, std::string> types_in(const std::string& exposition) {
    std::map<std::string, std::string> types;
    std::istringstream lines(exposition);
    const std::regex type_line(R"(# TYPE (\S+) (\S+))");
    std::smatch match;
    for (std::string line; std::getline(lines, line);)
        if (std::regex_match(line, match, type_line))
            EXPECT_TRUE(types.emplace(match[1], match[2]).second) << match[1] << " is exposed twice";
    return types;
}

TEST(Metrics, EveryFamilyIsExposedOnceWithItsType) {
    Metrics metrics;
    metrics.scheduled_done.with({"sent"}).inc(3);
    const auto text = metrics.expose();
    const auto types = types_in(text);
    // Declared once and written by the scheduled-message loop; missing from /metrics until
    // the families entered themselves in the exposition.
    EXPECT_EQ(types.at("confab_scheduled_messages_due"), "gauge");
    EXPECT_EQ(types.at("confab_scheduled_messages_total"), "counter");
    EXPECT_NE(text.find("confab_scheduled_messages_total{outcome=\"sent\"} 3\n"), std::string::npos);
    EXPECT_EQ(types.at("confab_http_request_duration_seconds"), "histogram");
    EXPECT_EQ(types.at("process_cpu_seconds_total"), "counter");
}

TEST(Metrics, EveryMetricTheDocsNameIsExposed) {
    const auto types = types_in(Metrics().expose());
    const std::regex named(R"(\bconfab_[a-z_]+)");
    for (const auto* doc : {"docs/operations.md", "docs/api.md"}) {
        const auto text = test::source_file(doc);
        std::set<std::string> names;
        for (std::sregex_iterator it(text.begin(), text.end(), named), end; it != end; ++it) names.insert(it->str());
        EXPECT_FALSE(names.empty()) << doc;
        for (const auto& name : names) EXPECT_TRUE(types.contains(name)) << doc << " names " << name;
    }
}

}  // namespace
}  // namespace confab::obs
