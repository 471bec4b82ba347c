#include "confab/http/message.hpp"

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

}  // namespace confab::http
