#include "confab/net/push_crypto.hpp"

#include "confab/model/base64url.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace confab::net {
namespace {

constexpr std::size_t p256_public_bytes = 65;
constexpr std::size_t p256_scalar_bytes = 32;
constexpr std::size_t auth_secret_bytes = 16;
constexpr std::size_t salt_bytes = 16;
constexpr std::size_t gcm_tag_bytes = 16;
constexpr std::uint32_t record_size = 4096;

template <class T, void (*Free)(T*)>
struct Freer {
    void operator()(T* object) const { Free(object); }
};
using Bignum = std::unique_ptr<BIGNUM, Freer<BIGNUM, BN_free>>;
using EcGroup = std::unique_ptr<EC_GROUP, Freer<EC_GROUP, EC_GROUP_free>>;
using EcPoint = std::unique_ptr<EC_POINT, Freer<EC_POINT, EC_POINT_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Freer<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Freer<OSSL_PARAM, OSSL_PARAM_free>>;
using KeyContext = std::unique_ptr<EVP_PKEY_CTX, Freer<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using DigestContext = std::unique_ptr<EVP_MD_CTX, Freer<EVP_MD_CTX, EVP_MD_CTX_free>>;
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, Freer<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using Signature = std::unique_ptr<ECDSA_SIG, Freer<ECDSA_SIG, ECDSA_SIG_free>>;
using Bio = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;

std::shared_ptr<evp_pkey_st> owned(EVP_PKEY* key) {
    if (!key) throw CryptoError("the key could not be made");
    return {key, EVP_PKEY_free};
}

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

void require(bool ok, const char* what) {
    if (!ok) throw CryptoError(what);
}

// A P-256 key from OpenSSL parameters: the group and `public_point`, with `scalar` when set.
std::shared_ptr<evp_pkey_st> p256_key(std::string_view public_point, const BIGNUM* scalar) {
    const ParamBuilder builder(OSSL_PARAM_BLD_new());
    require(builder && OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
                OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, public_point.data(),
                                                 public_point.size()) &&
                (!scalar || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar)),
            "the key parameters could not be built");
    const Params params(OSSL_PARAM_BLD_to_param(builder.get()));
    const KeyContext context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    require(params && context && EVP_PKEY_fromdata_init(context.get()) > 0 &&
                EVP_PKEY_fromdata(context.get(), &key, scalar ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) >
                    0,
            "not a P-256 key");
    return owned(key);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::string out(EVP_MAX_MD_SIZE, '\0');
    unsigned int length = 0;
    require(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(),
                 reinterpret_cast<unsigned char*>(out.data()), &length) != nullptr,
            "HMAC failed");
    out.resize(length);
    return out;
}

// HKDF (RFC 5869) with SHA-256 for at most one block of output, all RFC 8291 asks for.
std::string hkdf(std::string_view salt, std::string_view input, std::string_view info, std::size_t length) {
    const auto pseudo_random_key = hmac_sha256(salt, input);
    std::string block(info);
    block.push_back('\x01');
    return hmac_sha256(pseudo_random_key, block).substr(0, length);
}

std::string aes128gcm_seal(std::string_view key, std::string_view nonce, std::string_view plaintext) {
    const CipherContext context(EVP_CIPHER_CTX_new());
    std::string sealed(plaintext.size() + gcm_tag_bytes, '\0');
    auto* out = reinterpret_cast<unsigned char*>(sealed.data());
    int written = 0;
    int finished = 0;
    require(context && EVP_EncryptInit_ex(context.get(), EVP_aes_128_gcm(), nullptr, bytes_of(key), bytes_of(nonce)) &&
                EVP_EncryptUpdate(context.get(), out, &written, bytes_of(plaintext),
                                  static_cast<int>(plaintext.size())) &&
                EVP_EncryptFinal_ex(context.get(), out + written, &finished) &&
                EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, gcm_tag_bytes, out + plaintext.size()),
            "AES-GCM failed");
    return sealed;
}

std::string signed_with(EVP_PKEY* key, std::string_view data) {
    const DigestContext context(EVP_MD_CTX_new());
    std::size_t length = 0;
    require(context && EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) > 0 &&
                EVP_DigestSign(context.get(), nullptr, &length, bytes_of(data), data.size()) > 0,
            "signing failed");
    std::string signature(length, '\0');
    require(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes_of(data),
                           data.size()) > 0,
            "signing failed");
    signature.resize(length);
    return signature;
}

// JOSE writes an ECDSA signature as r || s, each 32 bytes, where OpenSSL gives DER.
std::string jose_signature(const std::string& der) {
    const auto* cursor = bytes_of(der);
    const Signature signature(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
    require(signature != nullptr, "signing failed");
    std::string raw(2 * p256_scalar_bytes, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    require(BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), out, p256_scalar_bytes) > 0 &&
                BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), out + p256_scalar_bytes, p256_scalar_bytes) > 0,
            "signing failed");
    return raw;
}

std::string big_endian(std::uint32_t value) {
    return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
            static_cast<char>(value)};
}

}  // namespace

std::optional<std::string> key_file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

PrivateKey PrivateKey::from_pem(std::string_view pem) {
    const Bio input(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EVP_PKEY* key = input ? PEM_read_bio_PrivateKey(input.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!key) throw CryptoError("not a PEM private key");
    PrivateKey read(owned(key));
    if (!read.is_p256() && !read.is_rsa()) throw CryptoError("the key is neither P-256 nor RSA");
    return read;
}

PrivateKey PrivateKey::p256_from_scalar(std::string_view scalar) {
    if (scalar.size() != p256_scalar_bytes) throw CryptoError("a P-256 private key is 32 bytes");
    const EcGroup group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    const Bignum secret(BN_bin2bn(bytes_of(scalar), static_cast<int>(scalar.size()), nullptr));
    require(group && secret, "the key could not be read");
    if (BN_is_zero(secret.get()) || BN_cmp(secret.get(), EC_GROUP_get0_order(group.get())) >= 0)
        throw CryptoError("not a P-256 private key");
    const EcPoint point(EC_POINT_new(group.get()));
    std::string public_point(p256_public_bytes, '\0');
    require(point && EC_POINT_mul(group.get(), point.get(), secret.get(), nullptr, nullptr, nullptr) &&
                EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED,
                                   reinterpret_cast<unsigned char*>(public_point.data()), public_point.size(),
                                   nullptr) == p256_public_bytes,
            "the public key could not be derived");
    return PrivateKey(p256_key(public_point, secret.get()));
}

PrivateKey PrivateKey::generate_p256() { return PrivateKey(owned(EVP_EC_gen("P-256"))); }

bool PrivateKey::is_p256() const {
    if (EVP_PKEY_is_a(key_.get(), "EC") != 1) return false;
    std::array<char, 64> group{};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key_.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &length) !=
        1)
        return false;
    const std::string_view name(group.data(), length);
    return name == "prime256v1" || name == "P-256";
}

bool PrivateKey::is_rsa() const { return EVP_PKEY_is_a(key_.get(), "RSA") == 1; }

std::string PrivateKey::p256_public() const {
    std::string point(p256_public_bytes, '\0');
    std::size_t length = 0;
    require(EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                            reinterpret_cast<unsigned char*>(point.data()), point.size(),
                                            &length) == 1 &&
                length == p256_public_bytes,
            "the key has no P-256 public point");
    return point;
}

std::string PrivateKey::shared_secret_with(std::string_view peer_public) const {
    const auto peer = p256_key(peer_public, nullptr);
    const KeyContext context(EVP_PKEY_CTX_new(key_.get(), nullptr));
    std::size_t length = 0;
    require(context && EVP_PKEY_derive_init(context.get()) > 0 &&
                EVP_PKEY_derive_set_peer(context.get(), peer.get()) > 0 &&
                EVP_PKEY_derive(context.get(), nullptr, &length) > 0,
            "ECDH failed");
    std::string secret(length, '\0');
    require(EVP_PKEY_derive(context.get(), reinterpret_cast<unsigned char*>(secret.data()), &length) > 0,
            "ECDH failed");
    secret.resize(length);
    return secret;
}

std::string PrivateKey::sign(std::string_view data) const {
    auto signature = signed_with(key_.get(), data);
    return is_rsa() ? signature : jose_signature(signature);
}

std::string signed_jwt(const PrivateKey& key, std::string_view header_fields, std::string_view claims) {
    std::string header = key.is_rsa() ? R"({"alg":"RS256","typ":"JWT")" : R"({"alg":"ES256","typ":"JWT")";
    const auto fields = header_fields.substr(1);  // past its "{"
    if (fields != "}") header += ",";
    header += fields;
    auto signing_input = model::to_base64url(header) + "." + model::to_base64url(claims);
    const auto signature = key.sign(signing_input);
    return signing_input + "." + model::to_base64url(signature);
}

std::string encrypt_web_push(std::string_view plaintext, std::string_view receiver_public, std::string_view auth_secret,
                             const PrivateKey& sender, std::string_view salt) {
    if (receiver_public.size() != p256_public_bytes) throw CryptoError("p256dh is not a 65-byte P-256 point");
    if (auth_secret.size() != auth_secret_bytes) throw CryptoError("auth is not 16 bytes");
    if (salt.size() != salt_bytes) throw CryptoError("the salt is not 16 bytes");
    if (plaintext.size() + 1 + gcm_tag_bytes > record_size) throw CryptoError("the payload is too long for one record");
    const auto sender_public = sender.p256_public();
    std::string key_info("WebPush: info\0", 14);
    key_info.append(receiver_public).append(sender_public);
    const auto input_key = hkdf(auth_secret, sender.shared_secret_with(receiver_public), key_info, 32);
    const auto content_key = hkdf(salt, input_key, std::string("Content-Encoding: aes128gcm\0", 28), 16);
    const auto nonce = hkdf(salt, input_key, std::string("Content-Encoding: nonce\0", 24), 12);
    std::string record(plaintext);
    record.push_back('\x02');  // the last (and only) record's delimiter, no padding
    std::string body(salt);
    body += big_endian(record_size);
    body.push_back(static_cast<char>(sender_public.size()));
    body += sender_public;
    body += aes128gcm_seal(content_key, nonce, record);
    return body;
}

std::string random_salt() {
    std::string salt(salt_bytes, '\0');
    require(RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) == 1,
            "no random bytes");
    return salt;
}

}  // namespace confab::net
