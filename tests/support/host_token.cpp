#include "support/host_token.hpp"

#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace confab::test {

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

}  // namespace confab::test
