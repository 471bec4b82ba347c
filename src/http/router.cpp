#include "confab/http/router.hpp"

namespace confab::http {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    if (path.empty() || path.front() != '/') return segments;
    path.remove_prefix(1);
    for (;;) {
        const auto slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return segments;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    auto hex_value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string decoded;
    decoded.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            decoded.push_back(static_cast<char>(high * 16 + low));
            i += 2;
        } else {
            decoded.push_back(plus_is_space && text[i] == '+' ? ' ' : text[i]);
        }
    }
    return decoded;
}

void Router::add(Method method, std::string pattern, Handler handler) {
    std::vector<std::string> segments;
    for (auto segment : split_path(pattern)) segments.emplace_back(segment);
    entries_.push_back(Entry{method, std::move(pattern), std::move(segments), std::move(handler)});
}

void Router::set_fallback(Handler handler) { fallback_ = std::move(handler); }

Router::Match Router::match(Method method, std::string_view path) const {
    const auto segments = split_path(path);
    MethodNotAllowed wrong_method;
    for (const auto& entry : entries_) {
        if (entry.segments.size() != segments.size()) continue;
        std::map<std::string, std::string> params;
        std::optional<std::string> malformed;
        bool matches = true;
        for (std::size_t i = 0; i < segments.size() && matches; ++i) {
            const auto& expected = entry.segments[i];
            if (expected.size() > 2 && expected.front() == '{' && expected.back() == '}') {
                auto name = expected.substr(1, expected.size() - 2);
                auto value = percent_decode(segments[i]);
                matches = !segments[i].empty();
                if (!value) {
                    if (!malformed) malformed = std::move(name);
                } else {
                    params.emplace(std::move(name), std::move(*value));
                }
            } else {
                matches = expected == segments[i];
            }
        }
        if (!matches) continue;
        if (entry.method == method && malformed) return Malformed{entry.pattern, std::move(*malformed)};
        if (entry.method == method) return Found{&entry.handler, entry.pattern, std::move(params)};
        // Two patterns may match one path (/users/me and /users/{id}): each method once.
        if (std::find(wrong_method.allowed.begin(), wrong_method.allowed.end(), entry.method) ==
            wrong_method.allowed.end())
            wrong_method.allowed.push_back(entry.method);
    }
    if (!wrong_method.allowed.empty()) return wrong_method;
    if (fallback_ && (method == Method::get || method == Method::head))
        return Found{&fallback_, std::string(fallback_pattern), {}};
    return NotFound{};
}

std::vector<Router::Route> Router::routes() const {
    std::vector<Route> all;
    all.reserve(entries_.size());
    for (const auto& entry : entries_) all.push_back(Route{entry.method, entry.pattern});
    return all;
}

}  // namespace confab::http
