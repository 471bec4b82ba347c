// The web client served beside the API (docs/configuration.md, Serving the web client):
// files of web.root with long-lived caching for hashed assets, index.html for app routes,
// a strict Content-Security-Policy on HTML, and nothing outside the listed files.

#include "support/chat_api.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>

namespace confab::test {
namespace {

namespace fs = std::filesystem;

const std::string index_html =
    "<!doctype html><title>Confab</title><script type=module src=/assets/app-4F2A9C.js></script>";
const std::string app_js = "console.log('confab');\n";

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// A server whose web.root is a small built client, with a secret beside it and hidden files in it.
class WebClientTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!TestDatabase::configured()) return;
        dir_ = fs::temp_directory_path() / ("confab-web-" + std::to_string(::getpid()));
        const auto root = dir_ / "dist";
        write_file(root / "index.html", index_html);
        write_file(root / "assets/app-4F2A9C.js", app_js);
        write_file(root / "assets/app-7B1D.css", "body{margin:0}");
        write_file(root / "favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
        write_file(root / ".env", "SECRET=1");
        write_file(root / ".git/config", "[core]");
        write_file(dir_ / "secret.txt", "outside the root");
        fs::create_symlink(dir_ / "secret.txt", root / "linked.txt");
        server_ =
            std::make_unique<ServerProcess>(shared_database().url(),
                                            std::map<std::string, std::string>{{"CONFAB_WEB_ROOT", root.string()}});
    }
    static void TearDownTestSuite() {
        server_.reset();
        if (!dir_.empty()) fs::remove_all(dir_);
    }
    void SetUp() override { CONFAB_REQUIRE_DATABASE(); }
    static std::uint16_t port() { return server_->port(); }

    static HttpResponse fetch(const std::string& target, std::map<std::string, std::string> headers = {}) {
        return http(port(), "GET", target, std::nullopt, std::move(headers));
    }

    static ::testing::AssertionResult IsIndex(const HttpResponse& r) {
        if (r.status != 200) return ::testing::AssertionFailure() << "status " << r.status << ": " << r.body;
        if (r.body != index_html) return ::testing::AssertionFailure() << "not index.html: " << r.body;
        if (r.header("Content-Type") != "text/html; charset=utf-8")
            return ::testing::AssertionFailure() << "Content-Type " << r.header("Content-Type");
        if (r.header("Cache-Control") != "no-cache")
            return ::testing::AssertionFailure() << "Cache-Control " << r.header("Cache-Control");
        return ::testing::AssertionSuccess();
    }

    static fs::path dir_;
    static std::unique_ptr<ServerProcess> server_;
};
fs::path WebClientTest::dir_;
std::unique_ptr<ServerProcess> WebClientTest::server_;

TEST_F(WebClientTest, TheRootIsIndexHtmlNeverCached) {
    EXPECT_TRUE(IsIndex(fetch("/")));
    EXPECT_TRUE(IsIndex(fetch("/index.html")));
}

TEST_F(WebClientTest, HashedAssetsAreCachedForAYearAsImmutable) {
    const auto js = fetch("/assets/app-4F2A9C.js");
    ASSERT_EQ(js.status, 200) << js.describe();
    EXPECT_EQ(js.body, app_js);
    EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(js.header("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(js.header("X-Content-Type-Options"), "nosniff");
    EXPECT_FALSE(js.has_header("Content-Security-Policy"));
    const auto css = fetch("/assets/app-7B1D.css");
    EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
    EXPECT_EQ(css.header("Cache-Control"), "public, max-age=31536000, immutable");
}

TEST_F(WebClientTest, OtherFilesAreRevalidatedWithTheirEntityTag) {
    const auto icon = fetch("/favicon.svg");
    ASSERT_EQ(icon.status, 200) << icon.describe();
    EXPECT_EQ(icon.header("Content-Type"), "image/svg+xml");
    EXPECT_EQ(icon.header("Cache-Control"), "no-cache");
    ASSERT_FALSE(icon.header("ETag").empty());
    const auto again = fetch("/favicon.svg", {{"If-None-Match", icon.header("ETag")}});
    EXPECT_EQ(again.status, 304) << again.describe();
    EXPECT_TRUE(again.body.empty());
}

TEST_F(WebClientTest, AnAppRouteFallsBackToIndexHtml) {
    EXPECT_TRUE(IsIndex(fetch("/chats/0b7e5f3c-1d2a-4c1e-9a55-0d1f2e3a4b5c")));
    EXPECT_TRUE(IsIndex(fetch("/sign-in?next=%2Fchats")));
    EXPECT_TRUE(IsIndex(fetch("/chats/")));
}

TEST_F(WebClientTest, HtmlCarriesAStrictContentSecurityPolicy) {
    const auto page = fetch("/chats/x", {{"Host", "chat.example:8080"}});
    ASSERT_TRUE(IsIndex(page));
    const auto policy = page.header("Content-Security-Policy");
    for (const std::string directive :
         {"default-src 'none'", "script-src 'self';",
          "connect-src 'self' ws://chat.example:8080 wss://chat.example:8080;", "img-src 'self' blob: data:;",
          "media-src 'self' blob: data:;", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"})
        EXPECT_NE(policy.find(directive), std::string::npos) << directive << " not in " << policy;
    EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
    EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
}

TEST_F(WebClientTest, AHostThatCouldBendThePolicyIsLeftOutOfIt) {
    const auto policy = fetch("/", {{"Host", "evil.example; script-src *"}}).header("Content-Security-Policy");
    EXPECT_NE(policy.find("connect-src 'self';"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("evil"), std::string::npos) << policy;
}

TEST_F(WebClientTest, HeadAnswersTheHeadersOfGetWithoutTheBody) {
    const auto head = http(port(), "HEAD", "/assets/app-4F2A9C.js");
    ASSERT_EQ(head.status, 200) << head.describe();
    EXPECT_EQ(head.header("Content-Length"), std::to_string(app_js.size()));
    EXPECT_EQ(head.header("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_TRUE(head.body.empty());
    EXPECT_TRUE(IsIndex(fetch("/")));  // the connection's next request is read from the right place
}

TEST_F(WebClientTest, TraversalAndHiddenFilesAreNotFound) {
    for (const std::string target :
         {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/%2E%2E/%2e%2e/secret.txt",
          "/..%2fsecret.txt", "/.env", "/.git/config", "/.git/", "/assets/..", "/linked.txt", "/a%00b",
          "/assets\\..\\..\\secret.txt", "//etc/passwd", "/%zz"}) {
        const auto r = fetch(target);
        EXPECT_TRUE(IsError(r, 404, "not_found")) << target << ": " << r.describe();
        EXPECT_EQ(r.body.find("outside the root"), std::string::npos) << target;
        EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << target;
    }
}

TEST_F(WebClientTest, AMissingFileWithAnExtensionIsNotFoundNotTheApp) {
    EXPECT_TRUE(IsError(fetch("/assets/app-0000.js"), 404, "not_found"));
    EXPECT_TRUE(IsError(fetch("/robots.txt"), 404, "not_found"));
}

TEST_F(WebClientTest, TheApiKeepsItsOwnAnswers) {
    EXPECT_TRUE(IsError(fetch("/api/v1/nothing-here"), 404, "not_found"));
    EXPECT_TRUE(IsError(fetch("/api"), 404, "not_found"));
    EXPECT_TRUE(IsError(fetch("/api/v1/users/me"), 401, "unauthorized"));
    EXPECT_EQ(fetch("/healthz").status, 200);
    EXPECT_TRUE(IsError(http(port(), "POST", "/chats/x", std::string("{}")), 404, "not_found"));
}

TEST_F(WebClientTest, WithoutARootNothingIsServedOutsideTheApi) {
    EXPECT_TRUE(IsError(http(shared_server().port(), "GET", "/"), 404, "not_found"));
    EXPECT_TRUE(IsError(http(shared_server().port(), "GET", "/chats/x"), 404, "not_found"));
}

TEST(WebClientRoot, ARootThatCannotBeListedStopsTheServer) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(shared_database().url(),
                         {.env = {{"CONFAB_WEB_ROOT", "/nonexistent/confab-web"}}, .wait_healthy = false});
    const auto status = server.wait_exit(30s);
    ASSERT_TRUE(status.has_value()) << "the server started without its web client";
    EXPECT_NE(*status, 0);
    EXPECT_NE(server.log_contents().find("web.root /nonexistent/confab-web cannot be listed"), std::string::npos)
        << server.log_tail();
}

}  // namespace
}  // namespace confab::test
