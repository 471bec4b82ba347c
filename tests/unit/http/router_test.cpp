#include "confab/http/router.hpp"

#include <gtest/gtest.h>

namespace confab::http {
namespace {

Handler named(std::string name) {
    return [name](Context&) -> boost::asio::awaitable<Response> { co_return json_response(200, name); };
}

class RouterTest : public ::testing::Test {
protected:
    void SetUp() override {
        router.add(Method::get, "/api/v1/users/me", named("me"));
        router.add(Method::get, "/api/v1/users/{id}", named("user"));
        router.add(Method::put, "/api/v1/messages/{id}/reactions/{emoji}", named("react"));
        router.add(Method::del, "/api/v1/messages/{id}/reactions/{emoji}", named("unreact"));
    }
    Router router;
};

TEST_F(RouterTest, LiteralRouteWinsWhenRegisteredFirst) {
    auto match = router.match(Method::get, "/api/v1/users/me");
    ASSERT_TRUE(std::holds_alternative<Router::Found>(match));
    EXPECT_EQ(std::get<Router::Found>(match).pattern, "/api/v1/users/me");
    EXPECT_TRUE(std::get<Router::Found>(match).params.empty());
}

TEST_F(RouterTest, CapturesArePercentDecoded) {
    auto match = router.match(Method::put, "/api/v1/messages/abc/reactions/%F0%9F%91%8D");
    ASSERT_TRUE(std::holds_alternative<Router::Found>(match));
    const auto& params = std::get<Router::Found>(match).params;
    EXPECT_EQ(params.at("id"), "abc");
    EXPECT_EQ(params.at("emoji"), "\xF0\x9F\x91\x8D");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
    EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router.match(Method::get, "/api/v1/nope")));
    EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router.match(Method::get, "/api/v1/users/1/extra")));
    EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router.match(Method::get, "")));
    EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router.match(Method::get, "relative/path")));
}

TEST_F(RouterTest, EmptyCaptureDoesNotMatch) {
    EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router.match(Method::get, "/api/v1/users/")));
}

TEST_F(RouterTest, MalformedPercentEncodingInACaptureIsMalformedNamingIt) {
    for (const auto* path : {"/api/v1/users/%zz", "/api/v1/users/%4"}) {
        const auto match = router.match(Method::get, path);
        ASSERT_TRUE(std::holds_alternative<Router::Malformed>(match)) << path;
        EXPECT_EQ(std::get<Router::Malformed>(match).pattern, "/api/v1/users/{id}");
        EXPECT_EQ(std::get<Router::Malformed>(match).param, "id");
    }
    const auto second = router.match(Method::put, "/api/v1/messages/m1/reactions/%F0%9");
    ASSERT_TRUE(std::holds_alternative<Router::Malformed>(second));
    EXPECT_EQ(std::get<Router::Malformed>(second).param, "emoji");
}

TEST_F(RouterTest, MalformedPercentEncodingOfNoRoutesShapeIsNotFoundAndOfAnotherMethodNotAllowed) {
    EXPECT_TRUE(std::holds_alternative<Router::NotFound>(router.match(Method::get, "/api/v1/us%zzers/1")));
    EXPECT_TRUE(std::holds_alternative<Router::MethodNotAllowed>(router.match(Method::del, "/api/v1/users/%zz")));
}

TEST_F(RouterTest, WrongMethodListsTheAllowedOnes) {
    auto match = router.match(Method::post, "/api/v1/messages/m1/reactions/x");
    ASSERT_TRUE(std::holds_alternative<Router::MethodNotAllowed>(match));
    const auto& allowed = std::get<Router::MethodNotAllowed>(match).allowed;
    EXPECT_EQ(allowed, (std::vector<Method>{Method::put, Method::del}));
}

TEST_F(RouterTest, RoutesListsEveryRegistration) {
    EXPECT_EQ(router.routes().size(), 4u);
    EXPECT_EQ(router.routes()[1].pattern, "/api/v1/users/{id}");
}

TEST(PercentDecode, PlusIsSpaceOnlyInQueries) {
    EXPECT_EQ(percent_decode("a+b%20c", true), "a b c");
    EXPECT_EQ(percent_decode("a+b", false), "a+b");
    EXPECT_EQ(percent_decode("%", false), std::nullopt);
    EXPECT_EQ(percent_decode("%2", false), std::nullopt);
    EXPECT_EQ(percent_decode("%2g", false), std::nullopt);
}

TEST(SplitPath, KeepsEmptySegments) {
    EXPECT_EQ(split_path("/a/b"), (std::vector<std::string_view>{"a", "b"}));
    EXPECT_EQ(split_path("/a/"), (std::vector<std::string_view>{"a", ""}));
    EXPECT_TRUE(split_path("a").empty());
}

}  // namespace
}  // namespace confab::http
