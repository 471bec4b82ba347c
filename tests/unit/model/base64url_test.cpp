#include "confab/model/base64url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using confab::model::from_base64url;
using confab::model::to_base64url;

// RFC 4648 §10's vectors, written unpadded, and bytes that use both of base64url's own letters.
const std::vector<std::pair<std::string, std::string>> vectors = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff\xbf", "-_-_"},
};

TEST(Base64url, EncodesTheRfcVectorsWithoutPadding) {
    for (const auto& [bytes, text] : vectors) EXPECT_EQ(to_base64url(bytes), text) << text;
}

TEST(Base64url, DecodesWhatItEncodesAndPaddedText) {
    for (const auto& [bytes, text] : vectors) {
        EXPECT_EQ(from_base64url(text), bytes) << text;
        EXPECT_EQ(from_base64url(text + std::string((4 - text.size() % 4) % 4, '=')), bytes) << text;
    }
    const std::string every_byte = [] {
        std::string all;
        for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
        return all;
    }();
    EXPECT_EQ(from_base64url(to_base64url(every_byte)), every_byte);
}

TEST(Base64url, RefusesWhatNoEncoderWrites) {
    EXPECT_EQ(from_base64url("Zm9v+g"), std::nullopt);  // '+' is base64, not base64url
    EXPECT_EQ(from_base64url("Zm9v/g"), std::nullopt);
    EXPECT_EQ(from_base64url("Zm 9v"), std::nullopt);
    EXPECT_EQ(from_base64url("Zh"), std::nullopt);     // leftover bits not zero
    EXPECT_EQ(from_base64url("Zm9vY"), std::nullopt);  // one character cannot end a group
    EXPECT_EQ(from_base64url("Zg=a"), std::nullopt);
}

}  // namespace
