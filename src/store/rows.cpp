#include "confab/store/rows.hpp"

#include <chrono>
#include <stdexcept>

namespace confab::store {
namespace {

// Reads `width` digits at `at` into `value`; false when they are not all digits.
bool digits(std::string_view text, std::size_t at, std::size_t width, int& value) {
    if (at + width > text.size()) return false;
    value = 0;
    for (std::size_t i = at; i < at + width; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

}  // namespace

model::Timestamp utc_timestamp(std::string_view text) {
    // YYYY-MM-DD HH:MM:SS, then an optional fraction of 1-6 digits.
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    const bool shaped = text.size() >= 19 && text[4] == '-' && text[7] == '-' && text[10] == ' ' && text[13] == ':' &&
                        text[16] == ':' && digits(text, 0, 4, year) && digits(text, 5, 2, month) &&
                        digits(text, 8, 2, day) && digits(text, 11, 2, hour) && digits(text, 14, 2, minute) &&
                        digits(text, 17, 2, second);
    int millis = 0;
    bool fraction_ok = text.size() == 19;
    if (shaped && text.size() > 20 && text.size() <= 26 && text[19] == '.') {
        fraction_ok = true;
        for (std::size_t i = 20; i < text.size() && fraction_ok; ++i) {
            fraction_ok = text[i] >= '0' && text[i] <= '9';
            if (i < 23) millis += (text[i] - '0') * (i == 20 ? 100 : i == 21 ? 10 : 1);
        }
    }
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!shaped || !fraction_ok || !date.ok() || hour > 23 || minute > 59 || second > 59)
        throw std::invalid_argument("not a UTC timestamp in the ISO style: " + std::string(text));
    return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second) + std::chrono::milliseconds(millis);
}

}  // namespace confab::store
