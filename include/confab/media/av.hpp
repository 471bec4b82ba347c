#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace confab::media {

// What a hostile video or voice file may cost before it is refused (docs/api.md, Media).
struct DecodeBounds {
    std::uint64_t max_pixels = 40'000'000;       // of one video frame, checked before it is decoded
    int max_side = 16384;                        // of one video frame
    std::chrono::milliseconds deadline{10'000};  // for one whole analysis, demuxing and decoding
    int max_packets = 600;                       // read while looking for a video's first frame
};

// A file refused for its content; `reason` is the error's details.reason.
class Refused : public std::runtime_error {
public:
    Refused(std::string reason, const std::string& message) : std::runtime_error(message), reason(std::move(reason)) {}
    std::string reason;  // too_large | too_slow | unreadable
};

struct VideoInfo {
    std::optional<std::int64_t> duration_ms;  // when the container knows it
    std::int64_t width = 0;                   // as displayed: a quarter-turned stream's sides swapped
    std::int64_t height = 0;
};

struct VoiceInfo {
    std::int64_t duration_ms = 0;  // of the samples decoded
    std::vector<int> waveform;     // up to waveform_points peaks, 0-100 of full scale
};

constexpr std::size_t waveform_points = 64;

// Reads a video's header and decodes its first frame (FFmpeg; blocking: run off the I/O
// threads). nullopt when FFmpeg finds no video stream it can open. Throws Refused when the
// frame is larger than the bounds allow, the deadline passes, or the stream cannot be decoded.
std::optional<VideoInfo> probe_video(const std::filesystem::path& video, const DecodeBounds& bounds);

// Writes the first frame of a video as a JPEG of at most max_side x max_side pixels (aspect
// kept, never enlarged), turned upright by the stream's display rotation. Throws Refused as
// probe_video does, and when there is no video stream.
void make_video_poster(const std::filesystem::path& video, const std::filesystem::path& jpeg, int max_side,
                       const DecodeBounds& bounds);

// Decodes a voice note's first audio stream to its duration and waveform (blocking).
// nullopt when FFmpeg finds no audio stream it can open or it holds no samples. Throws Refused
// when the deadline passes or the stream cannot be decoded.
std::optional<VoiceInfo> probe_voice(const std::filesystem::path& voice, const DecodeBounds& bounds);

// Reduces a stream of sample amplitudes (0-1) of unknown length to at most `points` peaks in
// memory of 2 x points: buckets are merged pairwise whenever they fill.
class WaveformBuilder {
public:
    explicit WaveformBuilder(std::size_t points = waveform_points);
    void add(float amplitude);
    // min(points, samples added) peaks, each the largest amplitude of its span as 0-100.
    std::vector<int> peaks() const;

private:
    std::size_t points_;
    std::vector<float> buckets_;
    std::uint64_t per_bucket_ = 1;  // samples in each full bucket
    std::uint64_t in_last_ = 0;     // samples in the last bucket
};

}  // namespace confab::media
