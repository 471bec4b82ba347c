#pragma once

#include <jwt.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace confab::test {

// A token as the host application's backend would sign it (docs/api.md, Sign-in with the
// host application), naming the key `kid` if given; JWT_ALG_NONE leaves it unsigned.
std::string sign_host_token(jwt_alg_t algorithm, const std::string& key, const nlohmann::json& claims,
                            const std::optional<std::string>& kid = std::nullopt);

// An HS256 token whose claims are `claims_text` as written, for claims no JSON library writes
// (a key given twice).
std::string sign_hs256_text(const std::string& secret, const std::string& claims_text);

}  // namespace confab::test
