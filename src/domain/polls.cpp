#include "confab/domain/polls.hpp"

#include "confab/domain/validation.hpp"

#include <algorithm>
#include <set>

namespace confab::domain::polls {
namespace {

bool is_text_of(const std::string& text, std::size_t max_chars) {
    const auto length = code_points(text);
    return is_valid_utf8(text) && length >= 1 && length <= max_chars;
}

}  // namespace

void check_new(const std::string& question, const Poll& poll, Timestamp now) {
    if (!is_text_of(question, max_question_chars))
        throw bad_request("poll.question must be 1-300 characters", "poll.question");
    if (poll.options.size() < min_options || poll.options.size() > max_options)
        throw bad_request("a poll has 2-12 options", "poll.options");
    std::set<std::string> seen;
    for (const auto& option : poll.options) {
        if (!is_text_of(option.text, max_option_chars))
            throw bad_request("each of poll.options must be 1-100 characters", "poll.options");
        if (!seen.insert(option.text).second) throw bad_request("poll.options must be distinct", "poll.options");
    }
    if (!poll.closes_at) return;
    if (*poll.closes_at <= now) throw bad_request("poll.closes_at must be in the future", "poll.closes_at");
    if (*poll.closes_at > now + max_open)
        throw bad_request("poll.closes_at must be at most a year ahead", "poll.closes_at");
}

std::vector<int> choice(const Poll& poll, const std::vector<std::int64_t>& options) {
    std::vector<int> chosen;
    chosen.reserve(options.size());
    for (const auto option : options) {
        if (option < 0 || option >= static_cast<std::int64_t>(poll.options.size()))
            throw bad_request("options must be indices of the poll's options", "options");
        chosen.push_back(static_cast<int>(option));
    }
    std::sort(chosen.begin(), chosen.end());
    if (std::adjacent_find(chosen.begin(), chosen.end()) != chosen.end())
        throw bad_request("options must be distinct", "options");
    if (!poll.multiple_choice && chosen.size() > 1) throw bad_request("this poll takes one option at most", "options");
    return chosen;
}

}  // namespace confab::domain::polls
