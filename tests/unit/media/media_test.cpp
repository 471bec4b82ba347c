#include "confab/media/inspect.hpp"
#include "confab/media/storage.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace confab::media {
namespace {

namespace fs = std::filesystem;

class MediaFiles : public ::testing::Test {
protected:
    void SetUp() override {
        root = fs::temp_directory_path() / ("confab-media-test-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root);
    }
    void TearDown() override { fs::remove_all(root); }

    fs::path write(const fs::path& path, const std::string& bytes) {
        fs::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }
    fs::path root;
};

const std::string gif =
    std::string("GIF89a\x01\x00\x01\x00\x80\x00\x00", 13) + std::string(6, '\0') +
    std::string("\x21\xf9\x04\x00\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b", 24);

TEST_F(MediaFiles, InspectSniffsTheBytesAndHashesThem) {
    const auto file = write(root / "a.bin", gif);
    const auto found = inspect(file);
    EXPECT_EQ(found.mime_type, "image/gif");
    EXPECT_EQ(found.size_bytes, static_cast<std::int64_t>(gif.size()));
    EXPECT_EQ(found.sha256.size(), 64u);
    EXPECT_EQ(inspect(write(root / "b.txt", "hello world\n")).mime_type, "text/plain");
    // The SHA-256 of "abc" (FIPS 180-2 test vector).
    EXPECT_EQ(inspect(write(root / "abc", "abc")).sha256,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// libmagic takes bytes starting with a plausible x86 instruction for a DOS .COM program (it
// has no header): random or encrypted files are not programs; an MZ header is one.
TEST_F(MediaFiles, OnlyAnMzHeaderIsADosProgram) {
    const std::string noise("\xb8\x3e\x01\x2c\x0a\xe7\x08\x1d\x93\x51\xc4\x7f\x00\x21\x9e\x42", 16);
    EXPECT_EQ(inspect(write(root / "noise.bin", noise + noise)).mime_type, "application/octet-stream");
    EXPECT_EQ(inspect(write(root / "dos.exe", "MZ" + std::string(62, '\0'))).mime_type, "application/x-dosexec");
    EXPECT_FALSE(allowed(model::MediaKind::file, inspect(root / "dos.exe").mime_type));
}

TEST_F(MediaFiles, ThumbnailsAreMadeOfAllowedImagesWithinThePixelLimit) {
    const auto image = write(root / "tiny.gif", gif);
    make_thumbnail(image, root / "tiny.jpg", 320, 1);
    EXPECT_TRUE(fs::exists(root / "tiny.jpg"));
}

// libvips would decode a PPM (and SVG, PDF, TIFF, ...) it finds in an upload's bytes; only
// the loaders of the allowed image types may run.
TEST_F(MediaFiles, ThumbnailsRefuseEveryOtherImageFormat) {
    const auto ppm = write(root / "image.gif", "P6\n2 2\n255\n" + std::string(12, '\x7f'));
    EXPECT_THROW(make_thumbnail(ppm, root / "ppm.jpg", 320, 40'000'000), std::runtime_error);
    const auto svg = write(root / "image.png",
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\">"
                           "<rect width=\"8\" height=\"8\"/></svg>");
    EXPECT_THROW(make_thumbnail(svg, root / "svg.jpg", 320, 40'000'000), std::runtime_error);
    EXPECT_FALSE(fs::exists(root / "ppm.jpg"));
    EXPECT_FALSE(fs::exists(root / "svg.jpg"));
}

TEST_F(MediaFiles, ThumbnailsRefuseImagesOverThePixelLimitBeforeDecoding) {
    // A GIF whose screen and frame declare 30000 x 30000 pixels; decoded, 3.6 GB of RGBA.
    std::string huge = gif;
    huge[6] = huge[8] = '\x30';
    huge[7] = huge[9] = '\x75';
    huge[13 + 6 + 8 + 5] = huge[13 + 6 + 8 + 7] = '\x30';
    huge[13 + 6 + 8 + 6] = huge[13 + 6 + 8 + 8] = '\x75';
    const auto image = write(root / "huge.gif", huge);
    try {
        make_thumbnail(image, root / "huge.jpg", 320, 40'000'000);
        FAIL() << "a 900 megapixel image was thumbnailed";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("900000000 pixels"), std::string::npos) << e.what();
    }
}

TEST(AllowList, EachKindTakesItsTypesOnly) {
    using model::MediaKind;
    EXPECT_TRUE(allowed(MediaKind::image, "image/png"));
    EXPECT_TRUE(allowed(MediaKind::image, "image/heic"));
    EXPECT_FALSE(allowed(MediaKind::image, "text/plain"));
    EXPECT_TRUE(allowed(MediaKind::voice, "audio/ogg"));
    EXPECT_FALSE(allowed(MediaKind::voice, "image/png"));
    EXPECT_TRUE(allowed(MediaKind::video, "video/mp4"));
    EXPECT_FALSE(allowed(MediaKind::video, "audio/mpeg"));
    EXPECT_TRUE(allowed(MediaKind::file, "application/pdf"));
    EXPECT_TRUE(allowed(MediaKind::file, "text/plain"));
    EXPECT_FALSE(allowed(MediaKind::file, "application/x-executable"));
    EXPECT_FALSE(allowed(MediaKind::file, "application/x-dosexec"));
}

TEST_F(MediaFiles, StoreIsContentAddressedAndConsumesTheTemporary) {
    LocalStorage storage(root);
    const auto first = write(storage.temporary_path(), "same bytes");
    const auto sha = inspect(first).sha256;
    const auto key = storage.store(first, sha);
    EXPECT_EQ(key, sha);
    EXPECT_FALSE(fs::exists(first));
    const auto stored = storage.path_of(key);
    EXPECT_TRUE(fs::exists(stored));
    EXPECT_EQ(stored.parent_path().filename(), sha.substr(0, 2));

    const auto second = write(storage.temporary_path(), "same bytes");
    EXPECT_EQ(storage.store(second, sha), key);
    EXPECT_FALSE(fs::exists(second));  // already stored: the duplicate is dropped

    storage.remove(key);
    EXPECT_FALSE(fs::exists(stored));
    storage.remove(key);  // removing twice is harmless
}

TEST_F(MediaFiles, KeysNeverComeFromUserInput) {
    LocalStorage storage(root);
    EXPECT_THROW(storage.path_of("../../etc/passwd"), std::invalid_argument);
    EXPECT_THROW(storage.path_of(std::string(64, 'g')), std::invalid_argument);
    EXPECT_NE(storage.temporary_path(), storage.temporary_path());
}

}  // namespace
}  // namespace confab::media
