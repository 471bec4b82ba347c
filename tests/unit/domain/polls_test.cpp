// What a poll may be when sent and what a vote may choose (domain/polls), as tables.

#include "confab/domain/polls.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain::polls {
namespace {

const Timestamp now{std::chrono::milliseconds(1'800'000'000'000)};

Poll poll_of(std::vector<std::string> options, bool multiple_choice = false,
             std::optional<Timestamp> closes_at = std::nullopt) {
    Poll poll;
    for (auto& text : options) poll.options.push_back({std::move(text), 0, {}});
    poll.multiple_choice = multiple_choice;
    poll.closes_at = closes_at;
    return poll;
}

std::string repeat(const std::string& unit, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += unit;
    return out;
}

// The refused field, or "" when the call passes.
std::string refused_field(const std::function<void()>& call) {
    try {
        call();
        return "";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::bad_request);
        return error.field().value_or("?");
    }
}

TEST(Polls, ANewPollIsCheckedFieldByField) {
    struct Row {
        const char* what;
        std::string question;
        Poll poll;
        const char* field;
    };
    std::vector<std::string> twelve, thirteen;
    for (int i = 0; i < 13; ++i) thirteen.push_back(std::to_string(i));
    twelve.assign(thirteen.begin(), thirteen.end() - 1);
    using std::chrono::hours;
    using std::chrono::milliseconds;
    const std::vector<Row> rows{
        {"two options", "Lunch?", poll_of({"a", "b"}), ""},
        {"twelve options", "Lunch?", poll_of(twelve), ""},
        {"300 code points", repeat("é", 300), poll_of({"a", "b"}), ""},
        {"options of 100 code points", "Lunch?", poll_of({repeat("ß", 100), "b"}), ""},
        {"closing soon", "Lunch?", poll_of({"a", "b"}, false, now + milliseconds(1)), ""},
        {"closing in 366 days", "Lunch?", poll_of({"a", "b"}, false, now + max_open), ""},
        {"an empty question", "", poll_of({"a", "b"}), "poll.question"},
        {"301 code points", repeat("é", 301), poll_of({"a", "b"}), "poll.question"},
        {"a question of bad UTF-8", "\xff", poll_of({"a", "b"}), "poll.question"},
        {"one option", "Lunch?", poll_of({"a"}), "poll.options"},
        {"no option", "Lunch?", poll_of({}), "poll.options"},
        {"thirteen options", "Lunch?", poll_of(thirteen), "poll.options"},
        {"an empty option", "Lunch?", poll_of({"a", ""}), "poll.options"},
        {"an option of 101", "Lunch?", poll_of({repeat("ß", 101), "b"}), "poll.options"},
        {"an option twice", "Lunch?", poll_of({"a", "b", "a"}), "poll.options"},
        {"closing now", "Lunch?", poll_of({"a", "b"}, false, now), "poll.closes_at"},
        {"closed already", "Lunch?", poll_of({"a", "b"}, false, now - hours(1)), "poll.closes_at"},
        {"closing past a year", "Lunch?", poll_of({"a", "b"}, false, now + max_open + milliseconds(1)),
         "poll.closes_at"},
    };
    for (const auto& row : rows)
        EXPECT_EQ(refused_field([&] { check_new(row.question, row.poll, now); }), row.field) << row.what;
}

TEST(Polls, AVoteIsTheDistinctIndicesInOrder) {
    const auto single = poll_of({"a", "b", "c"});
    const auto multiple = poll_of({"a", "b", "c"}, true);
    EXPECT_EQ(choice(single, {}), std::vector<int>{}) << "a retraction";
    EXPECT_EQ(choice(single, {2}), std::vector<int>{2});
    EXPECT_EQ(choice(multiple, {2, 0}), (std::vector<int>{0, 2}));
    EXPECT_EQ(choice(multiple, {0, 1, 2}), (std::vector<int>{0, 1, 2}));

    struct Row {
        const char* what;
        const Poll& poll;
        std::vector<std::int64_t> options;
    };
    const std::vector<Row> refused{
        {"two in a single-choice poll", single, {0, 1}},
        {"an index past the options", single, {3}},
        {"a negative index", multiple, {-1}},
        {"a huge index", multiple, {std::int64_t{1} << 40}},
        {"an index twice", multiple, {1, 1}},
    };
    for (const auto& row : refused)
        EXPECT_EQ(refused_field([&] { choice(row.poll, row.options); }), "options") << row.what;
}

}  // namespace
}  // namespace confab::domain::polls
