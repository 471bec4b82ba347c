#include "confab/http/message.hpp"

#include <cctype>

namespace confab::http {

std::string_view method_name(Method method) {
    switch (method) {
        case Method::get: return "GET";
        case Method::head: return "HEAD";
        case Method::post: return "POST";
        case Method::put: return "PUT";
        case Method::patch: return "PATCH";
        case Method::del: return "DELETE";
        case Method::options: return "OPTIONS";
        case Method::other: break;
    }
    return "OTHER";
}

const std::string* Request::header(const std::string& lowercase_name) const {
    const auto found = headers.find(lowercase_name);
    return found == headers.end() ? nullptr : &found->second;
}

std::vector<std::string_view> list_elements(std::string_view value) {
    const auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
    std::vector<std::string_view> elements;
    while (!value.empty()) {
        const auto comma = value.find(',');
        auto element = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        while (!element.empty() && is_blank(element.front())) element.remove_prefix(1);
        while (!element.empty() && is_blank(element.back())) element.remove_suffix(1);
        if (!element.empty()) elements.push_back(element);
    }
    return elements;
}

Response json_response(int status, std::string body) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

Response json_response(int status, std::shared_ptr<const std::string> body) {
    Response response;
    response.status = status;
    response.shared_body = std::move(body);
    return response;
}

Response no_content() {
    Response response;
    response.status = 204;
    response.content_type.clear();
    return response;
}

std::string content_disposition(std::string_view disposition, std::string_view file_name) {
    const auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; };
    // RFC 8187 attr-char: what a filename* value carries unencoded.
    const auto attr_char = [](unsigned char c) {
        return std::isalnum(c) != 0 ||
               std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    };
    std::string value(disposition);
    value += "; filename=\"";
    bool all_plain = true;
    for (const unsigned char c : file_name) {
        all_plain = all_plain && plain(c);
        value += plain(c) ? static_cast<char>(c) : '_';
    }
    value += '"';
    if (all_plain) return value;
    value += "; filename*=UTF-8''";
    constexpr std::string_view hex = "0123456789ABCDEF";
    for (const unsigned char c : file_name) {
        if (attr_char(c)) {
            value += static_cast<char>(c);
        } else {
            value += '%';
            value += hex[c >> 4];
            value += hex[c & 0xF];
        }
    }
    return value;
}

}  // namespace confab::http
