#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

// The text of message templates: placeholders are {{name}}, a name being a lowercase letter
// then up to 31 of [a-z0-9_]. Any other braces are literal text. Pure: no I/O.
namespace confab::domain::templates {

// Each placeholder's name once, in order of first appearance.
std::vector<std::string> placeholders(std::string_view content);

// The content with each placeholder replaced by its value, inserted as is (a value that looks
// like a placeholder is not filled again). bad_request (field `values`) naming the first
// placeholder without a value, or a value for a name the template does not have.
std::string fill(std::string_view content, const std::map<std::string, std::string>& values);

// How many code points fill(content, values) would give, found without building it (a short
// template repeating a long value fills to far more than either holds); the same bad_request.
std::size_t filled_chars(std::string_view content, const std::map<std::string, std::string>& values);

}  // namespace confab::domain::templates
