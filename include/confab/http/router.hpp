#pragma once

#include "confab/http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confab::http {

using Handler = std::function<boost::asio::awaitable<Response>(Context&)>;

// Method + path pattern -> handler. Patterns are literal segments and `{name}` captures
// of one whole segment, e.g. /api/v1/chats/{id}/members/{user_id}. Captures are
// percent-decoded; one that cannot be makes the request malformed (400), not of no route.
class Router {
public:
    struct Found {
        const Handler* handler;
        std::string pattern;
        std::map<std::string, std::string> params;
    };
    struct NotFound {};
    // The path has a route's shape, but a capture's percent-encoding is malformed ("%zz").
    struct Malformed {
        std::string pattern;
        std::string param;
    };
    struct MethodNotAllowed {
        std::vector<Method> allowed;
    };
    using Match = std::variant<Found, NotFound, MethodNotAllowed, Malformed>;

    struct Route {
        Method method;
        std::string pattern;
    };

    void add(Method method, std::string pattern, Handler handler);
    // Answers a GET or HEAD that no route matches (the web client), as route `fallback_pattern`.
    void set_fallback(Handler handler);
    static constexpr std::string_view fallback_pattern = "/{web client}";
    Match match(Method method, std::string_view path) const;
    std::vector<Route> routes() const;

private:
    struct Entry {
        Method method;
        std::string pattern;
        std::vector<std::string> segments;
        Handler handler;
    };
    std::vector<Entry> entries_;
    Handler fallback_;
};

// Splits "/a/b/c" into {"a","b","c"}; a trailing slash yields a final empty segment.
std::vector<std::string_view> split_path(std::string_view path);
// Percent-decoding of one path segment or query component; nullopt when malformed.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

}  // namespace confab::http
