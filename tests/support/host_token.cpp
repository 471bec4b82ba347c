#include "support/host_token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace confab::test {
namespace {

std::string base64url(const std::string& bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3), '\0');
    const int written =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(written));
    while (!text.empty() && text.back() == '=') text.pop_back();
    std::replace(text.begin(), text.end(), '+', '-');
    std::replace(text.begin(), text.end(), '/', '_');
    return text;
}

}  // namespace

std::string sign_host_token(jwt_alg_t algorithm, const std::string& key, const nlohmann::json& claims,
                            const std::optional<std::string>& kid) {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
    const std::unique_ptr<jwt_t, decltype(&jwt_free)> token(raw, &jwt_free);
    if (jwt_add_grants_json(raw, claims.dump().c_str()) != 0) throw std::runtime_error("jwt_add_grants_json failed");
    if (kid && jwt_add_header(raw, "kid", kid->c_str()) != 0) throw std::runtime_error("jwt_add_header failed");
    const auto* bytes = reinterpret_cast<const unsigned char*>(key.data());
    if (jwt_set_alg(raw, algorithm, algorithm == JWT_ALG_NONE ? nullptr : bytes,
                    algorithm == JWT_ALG_NONE ? 0 : static_cast<int>(key.size())) != 0)
        throw std::runtime_error("jwt_set_alg failed");
    const std::unique_ptr<char, decltype(&free)> encoded(jwt_encode_str(raw), &free);
    if (!encoded) throw std::runtime_error("jwt_encode_str failed");
    return encoded.get();
}

std::string sign_hs256_text(const std::string& secret, const std::string& claims_text) {
    const auto signed_part = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims_text);
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac.data(), &mac_size);
    return signed_part + "." + base64url(std::string(reinterpret_cast<const char*>(mac.data()), mac_size));
}

}  // namespace confab::test
