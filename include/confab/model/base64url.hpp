#pragma once

#include <optional>
#include <string>
#include <string_view>

// Unpadded base64url (RFC 4648 §5): what JWTs, JWKs, Web Push keys and the API's opaque
// cursors are written in. Every layer reads and writes it through these two.
namespace confab::model {

std::string to_base64url(std::string_view bytes);
// Padded or not; nullopt when `text` is not base64url (a foreign character, or leftover
// bits that are not zero, which no encoder writes).
std::optional<std::string> from_base64url(std::string_view text);

}  // namespace confab::model
