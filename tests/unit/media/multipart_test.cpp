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

TEST_F(Multipart, CopiesTheFilePartOnly) {
    const std::string content("\x89PNG\r\n\x1a\n--not-the-boundary\r\n\0binary", 35);
    const std::string text =
        "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\n"
        "Content-Type: image/png\r\n\r\n" +
        content + "\r\n--XyZ--\r\n";
    const auto part = extract_file_part(body(text), "XyZ", dir / "out");
    EXPECT_EQ(part.file_name, "cat.png");
    EXPECT_EQ(read(dir / "out"), content);
}

TEST_F(Multipart, RefusesBodiesWithoutAFilePart) {
    EXPECT_THROW(extract_file_part(body("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n"), "b",
                                   dir / "out"),
                 std::invalid_argument);
    EXPECT_THROW(extract_file_part(body("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end"), "b",
                                   dir / "out"),
                 std::invalid_argument);
    EXPECT_THROW(extract_file_part(body("garbage"), "b", dir / "out"), std::invalid_argument);
    EXPECT_THROW(extract_file_part(body(""), "b", dir / "out"), std::invalid_argument);
}

}  // namespace
}  // namespace confab::media
