#include "confab/domain/auth_service.hpp"
#include "confab/domain/validation.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace confab::domain {
namespace {

TEST(CodePoints, CountsCharactersNotBytes) {
    EXPECT_EQ(code_points(""), 0u);
    EXPECT_EQ(code_points("abc"), 3u);
    EXPECT_EQ(code_points("h\xC3\xA9llo"), 5u);                      // é is 2 bytes
    EXPECT_EQ(code_points("\xF0\x9F\x91\x8D\xF0\x9F\x91\x8D"), 2u);  // two 4-byte emoji
}

std::string repeated(std::string_view piece, int times) {
    std::string text;
    for (int i = 0; i < times; ++i) text += piece;
    return text;
}

TEST(ClientId, IsOneToSixtyFourCharactersNotBytes) {
    const std::string thumbs_up = "\xF0\x9F\x91\x8D";
    EXPECT_NO_THROW(require_client_id(std::nullopt));
    EXPECT_NO_THROW(require_client_id("k"));
    EXPECT_NO_THROW(require_client_id(std::string(64, 'k')));
    EXPECT_NO_THROW(require_client_id(repeated(thumbs_up, 64))) << "256 bytes, 64 characters";
    for (const auto& bad : {std::string(), std::string(65, 'k'), repeated(thumbs_up, 65)}) {
        try {
            require_client_id(bad);
            ADD_FAILURE() << "accepted a client_id of " << bad.size() << " bytes";
        } catch (const Error& error) {
            EXPECT_EQ(error.code(), ErrorCode::bad_request);
            EXPECT_EQ(error.field(), "client_id");
        }
    }
}

TEST(AvatarUrl, IsAnHttpUrlOrAPathOnThisServer) {
    for (const auto* good : {"https://cdn.example/a.png", "http://x.example/a", "HTTPS://X.EXAMPLE/A", "/api/v1/x"})
        EXPECT_NO_THROW(require_avatar_url(std::string(good))) << good;
    EXPECT_NO_THROW(require_avatar_url(std::nullopt));
    EXPECT_NO_THROW(require_avatar_url("https://e.x/" + std::string(2036, 'p'))) << "2048 characters";
    for (const auto& bad :
         {std::string(), std::string("javascript:alert(1)"), std::string("data:image/png;base64,AA"),
          std::string("//tracker.example/p"), std::string("/"), std::string("https://"),
          std::string("ftp://x.example/a"), std::string("a.png"), "https://e.x/" + std::string(2037, 'p'),
          std::string("http://x\ny"), std::string("http://x\u202ey"), std::string("http://x\x07"),
          std::string("http://x\ty"), std::string("http://x y"), std::string("/a b.png")}) {
        try {
            require_avatar_url(bad);
            ADD_FAILURE() << "accepted " << bad.substr(0, 40);
        } catch (const Error& error) {
            EXPECT_EQ(error.field(), "avatar_url");
        }
    }
}

TEST(Uuid, AcceptsOnlyCanonicalLowercase) {
    EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
    EXPECT_FALSE(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
    EXPECT_FALSE(is_uuid("123e4567e89b12d3a456426614174000"));
    EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400"));
    EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-4266141740000"));
    EXPECT_FALSE(is_uuid("g23e4567-e89b-12d3-a456-426614174000"));
    EXPECT_FALSE(is_uuid("' OR 1=1 --"));
}

TEST(Username, ThreeToThirtyTwoOfTheAllowedCharacters) {
    EXPECT_TRUE(is_valid_username("ana"));
    EXPECT_TRUE(is_valid_username("a.b_c9"));
    EXPECT_TRUE(is_valid_username(std::string(32, 'a')));
    EXPECT_FALSE(is_valid_username("ab"));
    EXPECT_FALSE(is_valid_username(std::string(33, 'a')));
    EXPECT_FALSE(is_valid_username("Ana"));
    EXPECT_FALSE(is_valid_username("an a"));
    EXPECT_FALSE(is_valid_username("ana-b"));
    EXPECT_FALSE(is_valid_username("\xC3\xA9t\xC3\xA9"));
}

TEST(Token, IsRandomUrlSafeAndRecognisable) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const auto token = new_token();
        EXPECT_EQ(token.size(), 43u);  // 256 bits in unpadded base64url
        EXPECT_TRUE(looks_like_token(token)) << token;
        seen.insert(token);
    }
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_FALSE(looks_like_token("short"));
    EXPECT_FALSE(looks_like_token(std::string(43, '+')));
}

TEST(Token, HashIsStableHexAndDiffersPerToken) {
    const auto hash = token_hash("abc");
    EXPECT_EQ(hash.size(), 64u);
    EXPECT_EQ(hash, token_hash("abc"));
    EXPECT_NE(hash, token_hash("abd"));
    EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(PlainText, AcceptsTextOfAnyScript) {
    EXPECT_TRUE(is_plain_text("Zo\xC3\xAB"));
    EXPECT_TRUE(is_plain_text("\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A"));  // Arabic letters are not bidi controls
    EXPECT_TRUE(is_plain_text("\xE6\x9D\x8E \xF0\x9F\x91\x8D"));
    EXPECT_TRUE(
        is_plain_text("a\xE2\x80\x8D"
                      "b"));  // U+200D, the joiner of emoji sequences
    EXPECT_TRUE(is_plain_text(""));
}

TEST(PlainText, RefusesControlsAndBidirectionalFormatting) {
    for (const std::string& text :
         {std::string("a\nb"), std::string("tab\t"), std::string("nul\0x", 5), std::string("del\x7F"),
          std::string("c1\xC2\x85"), std::string("c1\xC2\x9F"), std::string("bell\x07"),
          std::string("\xD8\x9C"),      // U+061C arabic letter mark
          std::string("\xE2\x80\x8E"),  // U+200E left-to-right mark
          std::string("\xE2\x80\x8F"),  // U+200F
          std::string("\xE2\x80\xAA"),  // U+202A
          std::string("\xE2\x80\xAE"),  // U+202E right-to-left override
          std::string("\xE2\x81\xA6"),  // U+2066
          std::string("\xE2\x81\xA9"),  // U+2069
          std::string("\xFF")})         // not UTF-8 at all
        EXPECT_FALSE(is_plain_text(text)) << text;
    EXPECT_TRUE(is_plain_text("\xC2\xA0"));  // U+00A0, just past C1
}

}  // namespace
}  // namespace confab::domain

namespace confab::domain {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain"));
    EXPECT_TRUE(is_valid_utf8("h\xC3\xA9"));
    EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x91\x8D"));
    EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8, RejectsMalformedText) {
    EXPECT_FALSE(is_valid_utf8("\xFF\xFE"));
    EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
    EXPECT_FALSE(is_valid_utf8("\xE2\x28\xA1"));      // bad continuation
}

}  // namespace
}  // namespace confab::domain
