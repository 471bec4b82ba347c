#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct evp_pkey_st;

// The cryptography the push providers need (OpenSSL stays inside push_crypto.cpp): JWTs signed with ES256 (VAPID, APNs) or RS256 (FCM service accounts), and Web Push payload
// encryption (RFC 8291, aes128gcm).
namespace confab::net {

// A key that cannot be read or used: the message says why, never the key.
class CryptoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A private key: an EC P-256 key (ES256, ECDH) or an RSA key (RS256).
class PrivateKey {
public:
    // A PEM "PRIVATE KEY" (PKCS #8) or "EC PRIVATE KEY" text. Throws CryptoError.
    static PrivateKey from_pem(std::string_view pem);
    // A P-256 private scalar of 32 bytes (a VAPID key as web-push tools print it). Throws CryptoError.
    static PrivateKey p256_from_scalar(std::string_view scalar);
    // A fresh P-256 key (the sender's key of one Web Push message).
    static PrivateKey generate_p256();

    bool is_p256() const;
    bool is_rsa() const;
    // The 65-byte uncompressed public point of a P-256 key.
    std::string p256_public() const;
    // ECDH (P-256) with a peer's 65-byte uncompressed public point. Throws CryptoError.
    std::string shared_secret_with(std::string_view peer_public) const;
    // ES256: the 64-byte r || s signature (RFC 7518 §3.4); RS256: PKCS #1 v1.5 with SHA-256.
    std::string sign(std::string_view data) const;

private:
    explicit PrivateKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
    std::shared_ptr<evp_pkey_st> key_;
};

// The whole text of a key or credentials file read at startup; nullopt when unreadable.
std::optional<std::string> key_file_text(const std::string& path);

// "<header>.<claims>.<signature>" signed with `key`: ES256 for a P-256 key, RS256 for RSA.
// `header_fields` and `claims` are JSON object texts; "alg" and "typ" are added to the header.
std::string signed_jwt(const PrivateKey& key, std::string_view header_fields, std::string_view claims);

// The RFC 8291 aes128gcm body of one Web Push message for the subscription whose keys are
// `receiver_public` (p256dh, 65 bytes) and `auth_secret` (16 bytes): one record, from the
// ephemeral `sender` key with `salt` (16 random bytes). Throws CryptoError on a bad key.
std::string encrypt_web_push(std::string_view plaintext, std::string_view receiver_public, std::string_view auth_secret,
                             const PrivateKey& sender, std::string_view salt);
// 16 random bytes for a salt.
std::string random_salt();

}  // namespace confab::net
