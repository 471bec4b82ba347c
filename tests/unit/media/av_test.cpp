// Video and voice analysis (media/av.hpp) on the files of tests/fixtures/media (README there),
// and the waveform reduction on its own.

#include "confab/media/av.hpp"
#include "support/source_tree.hpp"
#include "confab/media/inspect.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <vector>

#include <jpeglib.h>

namespace confab::media {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
    auto path = test::source_dir() / "tests/fixtures/media" / name;
    if (!fs::exists(path)) throw std::runtime_error("missing fixture " + path.string());
    return path;
}

std::string refusal_reason(const std::function<void()>& work) {
    try {
        work();
    } catch (const Refused& refused) {
        return refused.reason;
    }
    return "accepted";
}

// A poster as decoded, and the colour of its corners: the rotated fixtures show a red mark
// in the top-left corner of an otherwise blue picture when upright.
struct Poster {
    int width = 0;
    int height = 0;
    bool red_top_left = false;
    bool blue_bottom_right = false;
};

// libjpeg's default reaction to a broken file is exit(); a test fails instead.
[[noreturn]] void jpeg_failed(j_common_ptr /*decoder*/) {
    throw std::runtime_error("libjpeg cannot decode the poster");
}

// Packed RGB pixels of a JPEG file.
struct Decoded {
    int width = 0;
    int height = 0;
    std::vector<unsigned char> rgb;
};

Decoded decode_jpeg(const fs::path& jpeg) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(jpeg.c_str(), "rb"), &std::fclose);
    if (!file) throw std::runtime_error("no poster at " + jpeg.string());
    jpeg_decompress_struct decoder{};
    jpeg_error_mgr errors{};
    decoder.err = jpeg_std_error(&errors);
    errors.error_exit = jpeg_failed;
    jpeg_create_decompress(&decoder);
    std::unique_ptr<jpeg_decompress_struct, void (*)(jpeg_decompress_struct*)> destroy(&decoder,
                                                                                       &jpeg_destroy_decompress);
    jpeg_stdio_src(&decoder, file.get());
    jpeg_read_header(&decoder, TRUE);
    decoder.out_color_space = JCS_RGB;
    jpeg_start_decompress(&decoder);
    Decoded decoded{static_cast<int>(decoder.output_width), static_cast<int>(decoder.output_height), {}};
    decoded.rgb.resize(static_cast<std::size_t>(decoded.width) * decoded.height * 3);
    while (decoder.output_scanline < decoder.output_height) {
        JSAMPROW row = decoded.rgb.data() + static_cast<std::size_t>(decoder.output_scanline) * decoded.width * 3;
        jpeg_read_scanlines(&decoder, &row, 1);
    }
    jpeg_finish_decompress(&decoder);
    return decoded;
}

Poster poster_of(const fs::path& video, int max_side) {
    const auto jpeg = fs::temp_directory_path() / ("confab-poster-" + std::to_string(::getpid()) + ".jpg");
    make_video_poster(video, jpeg, max_side, DecodeBounds{});
    const auto decoded = decode_jpeg(jpeg);
    fs::remove(jpeg);
    const auto colour_at = [&decoded](int x, int y) {
        return decoded.rgb.data() + (static_cast<std::size_t>(y) * decoded.width + x) * 3;
    };
    const unsigned char* top_left = colour_at(2, 2);
    const unsigned char* bottom_right = colour_at(decoded.width - 3, decoded.height - 3);
    return Poster{decoded.width, decoded.height,
                  top_left[0] > 200 && top_left[2]<60, bottom_right[2]> 200 && bottom_right[0] < 60};
}

TEST(Waveform, FewerSamplesThanPointsGiveOnePeakEach) {
    WaveformBuilder builder(64);
    for (const float amplitude : {0.0F, 0.5F, 1.0F}) builder.add(amplitude);
    EXPECT_EQ(builder.peaks(), (std::vector<int>{0, 50, 100}));
    EXPECT_TRUE(WaveformBuilder(64).peaks().empty());
}

TEST(Waveform, ManySamplesReduceToThePointsKeepingEachSpansLoudest) {
    WaveformBuilder builder(4);
    // 4096 samples, silent but for one loud sample in each of the first three quarters and
    // a ramp to full scale in the last.
    for (int i = 0; i < 4096; ++i) {
        float amplitude = 0.0F;
        if (i == 500) amplitude = 0.2F;
        if (i == 1500) amplitude = 0.4F;
        if (i == 2500) amplitude = 0.6F;
        if (i >= 3072) amplitude = static_cast<float>(i - 3072) / 1023.0F;
        builder.add(amplitude);
    }
    EXPECT_EQ(builder.peaks(), (std::vector<int>{20, 40, 60, 100}));
}

TEST(Waveform, AmplitudesOutsideZeroToOneAreClamped) {
    WaveformBuilder builder(2);
    builder.add(-1.0F);
    builder.add(3.0F);
    EXPECT_EQ(builder.peaks(), (std::vector<int>{0, 100}));
}

TEST(Waveform, MemoryStaysWithinTwicePointsForAnyLength) {
    WaveformBuilder builder(64);
    for (int i = 0; i < 1'000'003; ++i) builder.add(i % 1000 == 0 ? 1.0F : 0.1F);
    const auto peaks = builder.peaks();
    ASSERT_EQ(peaks.size(), 64U);
    for (const int peak : peaks) EXPECT_EQ(peak, 100);
}

TEST(VideoProbe, ReadsSizeDurationAndMakesAPosterOfWebmAndMp4) {
    for (const char* name : {"clip.webm", "clip.mp4"}) {
        SCOPED_TRACE(name);
        const auto video = probe_video(fixture(name), DecodeBounds{});
        ASSERT_TRUE(video);
        EXPECT_EQ(video->width, 64);
        EXPECT_EQ(video->height, 48);
        EXPECT_EQ(video->duration_ms, 1000);
        const auto poster = fs::temp_directory_path() / ("confab-poster-" + std::to_string(::getpid()) + ".jpg");
        make_video_poster(fixture(name), poster, 32, DecodeBounds{});
        EXPECT_EQ(inspect(poster).mime_type, "image/jpeg");
        fs::remove(poster);
    }
}

// A phone's portrait video: landscape frames and a display rotation (tests/fixtures/media/README.md).
TEST(VideoProbe, ARotatedVideoReportsItsSizeAsDisplayed) {
    for (const char* name : {"rotated90.mp4", "rotated270.mp4", "rotate_tag90.webm", "rotated100.mp4"}) {
        SCOPED_TRACE(name);
        const auto video = probe_video(fixture(name), DecodeBounds{});
        ASSERT_TRUE(video);
        EXPECT_EQ(video->width, 90);
        EXPECT_EQ(video->height, 160);
        EXPECT_EQ(video->duration_ms, 1000);
    }
    const auto upside_down = probe_video(fixture("rotated180.mp4"), DecodeBounds{});
    ASSERT_TRUE(upside_down);
    EXPECT_EQ(upside_down->width, 160);
    EXPECT_EQ(upside_down->height, 90);
}

TEST(VideoPoster, IsTurnedUprightByTheNearestQuarterTurn) {
    for (const char* name : {"rotated90.mp4", "rotated270.mp4", "rotate_tag90.webm", "rotated100.mp4"}) {
        SCOPED_TRACE(name);
        const auto poster = poster_of(fixture(name), 320);
        EXPECT_EQ(poster.width, 90);
        EXPECT_EQ(poster.height, 160);
        EXPECT_TRUE(poster.red_top_left) << "the mark is not where the upright picture has it";
        EXPECT_TRUE(poster.blue_bottom_right);
    }
    const auto upside_down = poster_of(fixture("rotated180.mp4"), 320);
    EXPECT_EQ(upside_down.width, 160);
    EXPECT_EQ(upside_down.height, 90);
    EXPECT_TRUE(upside_down.red_top_left);
    EXPECT_TRUE(upside_down.blue_bottom_right);
}

TEST(VideoPoster, IsScaledToTheBoundAsDisplayed) {
    const auto portrait = poster_of(fixture("rotated90.mp4"), 80);
    EXPECT_EQ(portrait.width, 45);
    EXPECT_EQ(portrait.height, 80);
    EXPECT_TRUE(portrait.red_top_left);
    const auto unrotated = poster_of(fixture("clip.mp4"), 32);
    EXPECT_EQ(unrotated.width, 32);
    EXPECT_EQ(unrotated.height, 24);
}

TEST(VideoProbe, HostileVideosAreRefusedWithAReason) {
    EXPECT_EQ(refusal_reason([] { probe_video(fixture("huge.webm"), DecodeBounds{}); }), "too_large");
    EXPECT_EQ(refusal_reason([] { probe_video(fixture("truncated.webm"), DecodeBounds{}); }), "unreadable");
    DecodeBounds no_time;
    no_time.deadline = std::chrono::milliseconds(0);
    EXPECT_EQ(refusal_reason([&] { probe_video(fixture("clip.webm"), no_time); }), "too_slow");
    DecodeBounds small;
    small.max_pixels = 64 * 48 - 1;
    EXPECT_EQ(refusal_reason([&] { probe_video(fixture("clip.webm"), small); }), "too_large");
}

TEST(VideoProbe, FilesWithoutAVideoStreamHaveNoVideoInfo) {
    EXPECT_FALSE(probe_video(fixture("voice.ogg"), DecodeBounds{}));
    EXPECT_FALSE(probe_video(fixture("wave.gif"), DecodeBounds{})) << "GIF is not an allowed video container";
}

TEST(VoiceProbe, ReadsDurationAndARisingWaveform) {
    const auto voice = probe_voice(fixture("voice.ogg"), DecodeBounds{});
    ASSERT_TRUE(voice);
    EXPECT_EQ(voice->duration_ms, 1500);
    ASSERT_EQ(voice->waveform.size(), waveform_points);
    // The fixture is a tone whose amplitude rises from silence to full scale.
    EXPECT_LT(voice->waveform.front(), 10);
    EXPECT_GT(voice->waveform.back(), 90);
    EXPECT_LT(voice->waveform[10], voice->waveform[50]);
    DecodeBounds no_time;
    no_time.deadline = std::chrono::milliseconds(0);
    EXPECT_EQ(refusal_reason([&] { probe_voice(fixture("voice.ogg"), no_time); }), "too_slow");
}

TEST(GifAnimation, CountsFramesWithoutDecodingThem) {
    EXPECT_EQ(gif_animation(fixture("wave.gif")).frames, 3);
    EXPECT_EQ(gif_animation(fixture("wave.gif")).frame_pixels, 16U * 16U);
    EXPECT_EQ(gif_animation(fixture("frames.gif")).frames, 2000);
    EXPECT_EQ(gif_animation(fixture("bomb.gif")).frame_pixels, 65535ULL * 65535ULL);
}

}  // namespace
}  // namespace confab::media
