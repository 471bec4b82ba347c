// Video and voice analysis (media/av.hpp) on the files of tests/fixtures/media (README there),
// and the waveform reduction on its own.

#include "confab/media/av.hpp"
#include "confab/media/inspect.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace confab::media {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
    const char* dir = std::getenv("CONFAB_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
    auto path = fs::path(dir ? dir : ".") / "tests/fixtures/media" / name;
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
