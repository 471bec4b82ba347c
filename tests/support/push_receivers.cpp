#include "support/push_receivers.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace confab::test {
namespace {

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("push receiver: ") + what);
}

std::shared_ptr<evp_pkey_st> owned(EVP_PKEY* key) {
    require(key != nullptr, "no key");
    return {key, EVP_PKEY_free};
}

std::shared_ptr<evp_pkey_st> p256_public_key(std::string_view point) {
    OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    EVP_PKEY* key = nullptr;
    const bool made =
        EVP_PKEY_fromdata_init(context) > 0 && EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, params) > 0;
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    if (!made) return nullptr;
    return owned(key);
}

// HKDF-SHA256 through OpenSSL's KDF (the server computes it by hand from HMAC).
std::string hkdf(std::string_view salt, std::string_view secret, std::string_view info, std::size_t length) {
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
    std::string out(length, '\0');
    std::size_t written = length;
    const bool ok = EVP_PKEY_derive_init(context) > 0 && EVP_PKEY_CTX_set_hkdf_md(context, EVP_sha256()) > 0 &&
                    EVP_PKEY_CTX_set1_hkdf_salt(context, bytes_of(salt), static_cast<int>(salt.size())) > 0 &&
                    EVP_PKEY_CTX_set1_hkdf_key(context, bytes_of(secret), static_cast<int>(secret.size())) > 0 &&
                    EVP_PKEY_CTX_add1_hkdf_info(context, bytes_of(info), static_cast<int>(info.size())) > 0 &&
                    EVP_PKEY_derive(context, reinterpret_cast<unsigned char*>(out.data()), &written) > 0;
    EVP_PKEY_CTX_free(context);
    require(ok, "HKDF failed");
    return out;
}

std::optional<std::string> ecdh(evp_pkey_st* own, std::string_view peer_point) {
    const auto peer = p256_public_key(peer_point);
    if (!peer) return std::nullopt;
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new(own, nullptr);
    std::string secret(32, '\0');
    std::size_t length = secret.size();
    const bool ok = EVP_PKEY_derive_init(context) > 0 && EVP_PKEY_derive_set_peer(context, peer.get()) > 0 &&
                    EVP_PKEY_derive(context, reinterpret_cast<unsigned char*>(secret.data()), &length) > 0;
    EVP_PKEY_CTX_free(context);
    if (!ok) return std::nullopt;
    return secret;
}

std::optional<std::string> aes128gcm_open(std::string_view key, std::string_view nonce, std::string_view sealed) {
    if (sealed.size() < 16) return std::nullopt;
    const auto ciphertext = sealed.substr(0, sealed.size() - 16);
    std::string tag(sealed.substr(sealed.size() - 16));
    EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
    std::string plain(ciphertext.size(), '\0');
    int written = 0;
    int finished = 0;
    const bool ok =
        EVP_DecryptInit_ex(context, EVP_aes_128_gcm(), nullptr, bytes_of(key), bytes_of(nonce)) &&
        EVP_DecryptUpdate(context, reinterpret_cast<unsigned char*>(plain.data()), &written, bytes_of(ciphertext),
                          static_cast<int>(ciphertext.size())) &&
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) &&
        EVP_DecryptFinal_ex(context, reinterpret_cast<unsigned char*>(plain.data()) + written, &finished) > 0;
    EVP_CIPHER_CTX_free(context);
    if (!ok) return std::nullopt;
    return plain;
}

bool verified(evp_pkey_st* key, std::string_view data, std::string_view signature) {
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, key) > 0 &&
                    EVP_DigestVerify(context, bytes_of(signature), signature.size(), bytes_of(data), data.size()) == 1;
    EVP_MD_CTX_free(context);
    return ok;
}

// JOSE's r || s as the DER OpenSSL verifies.
std::string der_signature(std::string_view raw) {
    if (raw.size() != 64) return {};
    ECDSA_SIG* signature = ECDSA_SIG_new();
    ECDSA_SIG_set0(signature, BN_bin2bn(bytes_of(raw), 32, nullptr), BN_bin2bn(bytes_of(raw) + 32, 32, nullptr));
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(signature, &der);
    std::string out(reinterpret_cast<char*>(der), length > 0 ? length : 0);
    OPENSSL_free(der);
    ECDSA_SIG_free(signature);
    return out;
}

struct JwtParts {
    std::string signing_input;
    nlohmann::json header;
    nlohmann::json claims;
    std::string signature;
};

std::optional<JwtParts> jwt_parts(std::string_view jwt) {
    const auto first = jwt.find('.');
    const auto second = jwt.find('.', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) return std::nullopt;
    JwtParts parts{std::string(jwt.substr(0, second)),
                   nlohmann::json::parse(from_base64url_text(jwt.substr(0, first)), nullptr, false),
                   nlohmann::json::parse(from_base64url_text(jwt.substr(first + 1, second - first - 1)), nullptr,
                                         false),
                   from_base64url_text(jwt.substr(second + 1))};
    if (!parts.header.is_object() || !parts.claims.is_object()) return std::nullopt;
    return parts;
}

}  // namespace

std::string to_base64url(std::string_view bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), bytes_of(bytes), static_cast<int>(bytes.size()));
    text.resize(length);
    while (!text.empty() && text.back() == '=') text.pop_back();
    for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return text;
}

std::string from_base64url_text(std::string_view text) {
    std::string standard(text);
    for (auto& c : standard) {
        if (c == '+' || c == '/') return {};
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    const std::size_t padding = (4 - standard.size() % 4) % 4;
    standard.append(padding, '=');
    std::string bytes(standard.size() / 4 * 3 + 3, '\0');
    const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()), bytes_of(standard),
                                       static_cast<int>(standard.size()));
    if (length < 0) return {};
    bytes.resize(static_cast<std::size_t>(length) - padding);
    return bytes;
}

WebPushSubscriber::WebPushSubscriber()
    : key_(owned(EVP_EC_gen("P-256"))), public_point_(65, '\0'), auth_secret_(16, '\0') {
    std::size_t length = 0;
    require(EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                            reinterpret_cast<unsigned char*>(public_point_.data()), 65, &length) == 1,
            "no public key");
    require(RAND_bytes(reinterpret_cast<unsigned char*>(auth_secret_.data()), 16) == 1, "no random bytes");
    p256dh_ = to_base64url(public_point_);
    auth_ = to_base64url(auth_secret_);
}

std::optional<std::string> WebPushSubscriber::decrypt(std::string_view body) const {
    // RFC 8188 header: salt (16), record size (4), key id length (1), key id (the sender's key).
    if (body.size() < 21) return std::nullopt;
    const auto salt = body.substr(0, 16);
    const auto id_length = static_cast<unsigned char>(body[20]);
    if (id_length != 65 || body.size() < 21 + id_length) return std::nullopt;
    const auto sender_point = body.substr(21, id_length);
    const auto shared = ecdh(key_.get(), sender_point);
    if (!shared) return std::nullopt;
    std::string key_info("WebPush: info\0", 14);
    key_info.append(public_point_).append(sender_point);
    const auto input_key = hkdf(auth_secret_, *shared, key_info, 32);
    const auto content_key = hkdf(salt, input_key, std::string("Content-Encoding: aes128gcm\0", 28), 16);
    const auto nonce = hkdf(salt, input_key, std::string("Content-Encoding: nonce\0", 24), 12);
    auto record = aes128gcm_open(content_key, nonce, body.substr(21 + id_length));
    if (!record) return std::nullopt;
    while (!record->empty() && record->back() == '\0') record->pop_back();  // padding
    if (record->empty() || record->back() != '\x02') return std::nullopt;   // the last record's delimiter
    record->pop_back();
    return record;
}

std::optional<nlohmann::json> vapid_claims(std::string_view authorization, std::string* why) {
    const auto fail = [why](const char* reason) -> std::optional<nlohmann::json> {
        *why = reason;
        return std::nullopt;
    };
    constexpr std::string_view scheme = "vapid t=";
    const auto key_at = authorization.find(", k=");
    if (!authorization.starts_with(scheme) || key_at == std::string_view::npos) return fail("not a vapid header");
    const auto jwt = authorization.substr(scheme.size(), key_at - scheme.size());
    const auto key = p256_public_key(from_base64url_text(authorization.substr(key_at + 4)));
    if (!key) return fail("k is not a P-256 public key");
    const auto parts = jwt_parts(jwt);
    if (!parts) return fail("t is not a JWT");
    if (parts->header.value("alg", "") != "ES256") return fail("alg is not ES256");
    if (!verified(key.get(), parts->signing_input, der_signature(parts->signature)))
        return fail("the signature does not verify with k");
    return parts->claims;
}

namespace {

std::string pem_of(evp_pkey_st* key) {
    BIO* out = BIO_new(BIO_s_mem());
    require(PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "no PEM");
    char* data = nullptr;
    const long length = BIO_get_mem_data(out, &data);
    std::string pem(data, static_cast<std::size_t>(length));
    BIO_free(out);
    return pem;
}

}  // namespace

std::string new_p256_private_pem() { return pem_of(owned(EVP_EC_gen("P-256")).get()); }

ServiceAccountKey::ServiceAccountKey() : key_(owned(EVP_RSA_gen(2048))), private_pem_(pem_of(key_.get())) {}

std::optional<nlohmann::json> ServiceAccountKey::verified_claims(std::string_view jwt) const {
    const auto parts = jwt_parts(jwt);
    if (!parts || parts->header.value("alg", "") != "RS256") return std::nullopt;
    if (!verified(key_.get(), parts->signing_input, parts->signature)) return std::nullopt;
    return parts->claims;
}

Es256Key::Es256Key() : key_(owned(EVP_EC_gen("P-256"))), private_pem_(pem_of(key_.get())) {}

std::optional<VerifiedJwt> Es256Key::verified(std::string_view jwt) const {
    const auto parts = jwt_parts(jwt);
    if (!parts || parts->header.value("alg", "") != "ES256") return std::nullopt;
    if (!confab::test::verified(key_.get(), parts->signing_input, der_signature(parts->signature))) return std::nullopt;
    return VerifiedJwt{parts->header, parts->claims};
}

}  // namespace confab::test
