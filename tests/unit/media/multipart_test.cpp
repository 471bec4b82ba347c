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
