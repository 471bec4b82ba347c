#include "confab/http/cors.hpp"

#include <gtest/gtest.h>

namespace confab::http {
namespace {

Request from(std::string origin, Method method = Method::get, bool asks_preflight = false) {
    Request request;
    request.method = method;
    request.headers["origin"] = std::move(origin);
    if (asks_preflight) request.headers["access-control-request-method"] = "POST";
    return request;
}

std::string header(const Response& response, const std::string& name) {
    for (const auto& [key, value] : response.headers)
        if (key == name) return value;
    return {};
}

TEST(Cors, AnyOriginWhenTheListIsEmpty) {
    Cors cors({});
    Response response;
    cors.decorate(from("https://app.example"), response);
    EXPECT_EQ(header(response, "Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_NE(header(response, "Access-Control-Expose-Headers").find("X-Request-Id"), std::string::npos);
}

TEST(Cors, ListedOriginsOnly) {
    Cors cors({"https://app.example"});
    Response allowed, refused;
    cors.decorate(from("https://app.example"), allowed);
    cors.decorate(from("https://evil.example"), refused);
    EXPECT_EQ(header(allowed, "Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_TRUE(refused.headers.empty());
}

TEST(Cors, PreflightOnlyForOptionsWithARequestMethod) {
    Cors cors({});
    const auto answer = cors.preflight(from("https://app.example", Method::options, true));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 204);
    EXPECT_NE(header(*answer, "Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
    EXPECT_NE(header(*answer, "Access-Control-Allow-Methods").find("PATCH"), std::string::npos);
    EXPECT_FALSE(cors.preflight(from("https://app.example", Method::options, false)));
    EXPECT_FALSE(cors.preflight(from("https://app.example", Method::get, true)));
}

TEST(Cors, NoOriginNoHeaders) {
    Cors cors({});
    Response response;
    cors.decorate(Request{}, response);
    EXPECT_TRUE(response.headers.empty());
}

}  // namespace
}  // namespace confab::http
