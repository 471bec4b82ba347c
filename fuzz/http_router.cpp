// The HTTP router with the server's real route table (api::Application, as main() builds
// it; nothing connects to the database): any method and path is found, not found, or a
// method not allowed, and a match is a registered route with every capture filled.
// Input: one byte choosing the method, then the path.

#include "expect.hpp"

#include "confab/api/application.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

namespace {

namespace http = confab::http;

constexpr http::Method methods[] = {http::Method::get,     http::Method::head,  http::Method::post,
                                    http::Method::put,     http::Method::patch, http::Method::del,
                                    http::Method::options, http::Method::other};

// The application with its media directory in a scratch directory, torn down at exit.
class RealRoutes {
public:
    RealRoutes() : media_dir_(make_scratch_dir()), config_(make_config(media_dir_)), app_(config_) {}
    ~RealRoutes() {
        app_.stop();
        std::error_code ignored;
        std::filesystem::remove_all(media_dir_, ignored);
    }
    const http::Router& router() const { return app_.router; }

private:
    static std::filesystem::path make_scratch_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "confab-fuzz-router-XXXXXX").string();
        FUZZ_EXPECT(::mkdtemp(pattern.data()) != nullptr);
        return pattern;
    }
    static confab::config::Config make_config(const std::filesystem::path& media_dir) {
        confab::config::Config config;
        config.database.url = "postgresql://nobody@127.0.0.1:1/none";
        config.database.pool_size = 1;
        config.auth.hash_threads = 1;
        config.media.dir = media_dir.string();
        return config;
    }

    std::filesystem::path media_dir_;
    confab::config::Config config_;
    confab::api::Application app_;
};

std::unique_ptr<RealRoutes> routes;

std::size_t captures_in(std::string_view pattern) {
    return static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '{'));
}

bool is_registered(const http::Router& router, http::Method method, const std::string& pattern) {
    const auto all = router.routes();
    return std::any_of(all.begin(), all.end(),
                       [&](const auto& r) { return r.method == method && r.pattern == pattern; });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    routes = std::make_unique<RealRoutes>();
    // Registered after the application's own statics (metrics, logger) exist, so it runs
    // before they are destroyed.
    std::atexit([] { routes.reset(); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    const auto method = methods[bytes[0] % std::size(methods)];
    const std::string_view path(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    const auto& router = routes->router();
    const auto match = router.match(method, path);
    if (const auto* found = std::get_if<http::Router::Found>(&match)) {
        FUZZ_EXPECT(found->handler != nullptr && *found->handler);
        FUZZ_EXPECT(is_registered(router, method, found->pattern));
        FUZZ_EXPECT(found->params.size() == captures_in(found->pattern));
        for (const auto& [name, value] : found->params) FUZZ_EXPECT(!value.empty());
    } else if (const auto* wrong = std::get_if<http::Router::MethodNotAllowed>(&match)) {
        FUZZ_EXPECT(!wrong->allowed.empty());
        FUZZ_EXPECT(std::find(wrong->allowed.begin(), wrong->allowed.end(), method) == wrong->allowed.end());
    }
    return 0;
}
