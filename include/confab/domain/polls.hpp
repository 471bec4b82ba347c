#pragma once

#include "confab/domain/model.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// What a poll may be and what a vote may choose (docs/api.md, Polls). Pure: no I/O.
namespace confab::domain::polls {

constexpr std::size_t max_question_chars = 300;
constexpr std::size_t max_option_chars = 100;
constexpr std::size_t min_options = 2;
constexpr std::size_t max_options = 12;
constexpr auto max_open = std::chrono::days(366);

// A poll as sent (its question is the message's content): bad_request naming the field
// (`poll.question`, `poll.options`, `poll.closes_at`) unless the question is 1-300
// characters, there are 2-12 distinct options of 1-100 characters each, and closes_at, if
// any, is after `now` and at most a year ahead.
void check_new(const std::string& question, const Poll& poll, Timestamp now);

// The choice a vote makes, as stored: distinct option indices, ascending; empty retracts.
// bad_request (field `options`) for an index out of range, a repeated one, or more than one
// in a single-choice poll.
std::vector<int> choice(const Poll& poll, const std::vector<std::int64_t>& options);

}  // namespace confab::domain::polls
