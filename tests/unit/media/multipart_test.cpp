#include "confab/media/multipart.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace confab::media {
namespace {

namespace fs = std::filesystem;

class Multipart : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("confab-multipart-" + std::to_string(::getpid()));
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path body(const std::string& bytes) {
        std::ofstream(dir / "body", std::ios::binary) << bytes;
        return dir / "body";
    }
    std::string read(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream all;
        all << in.rdbuf();
        return all.str();
    }
    fs::path dir;
};

TEST(MultipartBoundary, FromTheContentType) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123"), "abc123");
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data; boundary=\"a b\""), "a b");
    EXPECT_EQ(multipart_boundary("image/png"), std::nullopt);
    EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')), std::nullopt);
}

TEST_F(Multipart, CopiesTheNamedPartOnly) {
    const std::string content("\x89PNG\r\n\x1a\n--not-the-boundary\r\n\0binary", 35);
    const std::string video(
        "\0\0\0\x18"
        "ftypmp42",
        12);
    const std::string text =
        "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\n"
        "Content-Type: image/png\r\n\r\n" +
        content + "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"live_video\"; filename=\"cat.mov\"\r\n\r\n" +
        video + "\r\n--XyZ--\r\n";
    const auto part = extract_part(body(text), "XyZ", "file", dir / "out");
    ASSERT_TRUE(part);
    EXPECT_EQ(part->file_name, "cat.png");
    EXPECT_EQ(read(dir / "out"), content);
    const auto motion = extract_part(dir / "body", "XyZ", "live_video", dir / "motion");
    ASSERT_TRUE(motion);
    EXPECT_EQ(motion->file_name, "cat.mov");
    EXPECT_EQ(read(dir / "motion"), video);
}

// A quoted value runs to its closing quote: a backslash escapes the next character and stays
// in the value (the file name rule then reads it as a path separator), and what is inside the
// quotes is never a parameter of its own.
TEST_F(Multipart, QuotedParametersEndAtTheirClosingQuoteOnly) {
    const auto part = [this](const std::string& disposition) {
        return extract_part(body("--b\r\nContent-Disposition: form-data; " + disposition + "\r\n\r\nx\r\n--b--\r\n"),
                            "b", "file", dir / "out");
    };
    const auto escaped = part(R"(name="file"; filename="a\"b.png")");
    ASSERT_TRUE(escaped);
    EXPECT_EQ(escaped->file_name, R"(a\"b.png)");
    const auto trailing = part(R"(name="file"; filename="c:\\dir\\d.png")");
    ASSERT_TRUE(trailing);
    EXPECT_EQ(trailing->file_name, R"(c:\\dir\\d.png)");

    const auto inside = part(R"(filename="a;name=file;"; name="other")");
    EXPECT_FALSE(inside) << "a parameter inside a quoted value was taken for the part's name";
    const auto named_after = part(R"(filename="x; name=other"; name="file")");
    ASSERT_TRUE(named_after);
    EXPECT_EQ(named_after->file_name, "x; name=other");
    const auto unclosed = part(R"(name="file"; filename="open.png)");
    ASSERT_TRUE(unclosed);
    EXPECT_EQ(unclosed->file_name, std::nullopt) << "a quote never closed names nothing";
}

TEST_F(Multipart, FindsNoPartThatIsNotThere) {
    EXPECT_FALSE(extract_part(body("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n"), "b",
                              "file", dir / "out"));
    EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST_F(Multipart, RefusesMalformedBodies) {
    EXPECT_THROW(extract_part(body("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end"), "b", "file",
                              dir / "out"),
                 std::invalid_argument);
    EXPECT_THROW(extract_part(body("garbage"), "b", "file", dir / "out"), std::invalid_argument);
    EXPECT_THROW(extract_part(body(""), "b", "file", dir / "out"), std::invalid_argument);
}

}  // namespace
}  // namespace confab::media
