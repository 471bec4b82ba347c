#pragma once

// What a push service checks and what a browser does with a push, for tests with fake push
// providers (support/fake_http_server): a Web Push subscriber with its own P-256 key pair and
// auth secret that decrypts RFC 8291 bodies, a VAPID (RFC 8292) check of an Authorization
// header, an RSA key for a fake FCM service account whose JWT assertions it verifies, and a
// P-256 key for a fake APNs team whose provider tokens it verifies.
// OpenSSL is used directly, apart from the server's own code.

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace confab::test {

std::string to_base64url(std::string_view bytes);
std::string from_base64url_text(std::string_view text);  // empty when it is not base64url

class WebPushSubscriber {
public:
    WebPushSubscriber();                                   // a fresh key pair and auth secret
    const std::string& p256dh() const { return p256dh_; }  // base64url, as PushSubscription.toJSON()
    const std::string& auth() const { return auth_; }
    // The plaintext of an aes128gcm body; nullopt when it does not decrypt.
    std::optional<std::string> decrypt(std::string_view body) const;

private:
    std::shared_ptr<evp_pkey_st> key_;
    std::string public_point_;
    std::string auth_secret_;
    std::string p256dh_;
    std::string auth_;
};

// The claims of a valid "vapid t=<jwt>, k=<key>" header: an ES256 JWT signed by the key k
// names. nullopt when it is not one (the reason written to `why`).
std::optional<nlohmann::json> vapid_claims(std::string_view authorization, std::string* why);

// A fresh P-256 private key in PEM, as `openssl ecparam -name prime256v1 -genkey` makes one.
std::string new_p256_private_pem();

// An RSA key for a service account: its PEM, and the claims of a valid RS256 JWT it signed.
class ServiceAccountKey {
public:
    ServiceAccountKey();
    const std::string& private_pem() const { return private_pem_; }
    std::optional<nlohmann::json> verified_claims(std::string_view jwt) const;

private:
    std::shared_ptr<evp_pkey_st> key_;
    std::string private_pem_;
};

// A P-256 key like an APNs .p8 key (PKCS #8 PEM), and the header and claims of a valid ES256
// JWT it signed.
struct VerifiedJwt {
    nlohmann::json header;
    nlohmann::json claims;
};
class Es256Key {
public:
    Es256Key();
    const std::string& private_pem() const { return private_pem_; }
    std::optional<VerifiedJwt> verified(std::string_view jwt) const;

private:
    std::shared_ptr<evp_pkey_st> key_;
    std::string private_pem_;
};

}  // namespace confab::test
