#include "confab/media/av.hpp"

#include "confab/media/inspect.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/samplefmt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace confab::media {
namespace {

using Clock = std::chrono::steady_clock;

// The demuxers of the container types uploads may have (docs/api.md, Media); every other
// one FFmpeg knows is attack surface a client could choose by the bytes it sends.
constexpr const char* allowed_demuxers = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,ogg,mp3,wav,aac";
constexpr std::int64_t probe_bytes = 5'000'000;

struct Deadline {
    Clock::time_point at;
    bool passed() const { return Clock::now() >= at; }
};

// FFmpeg's blocking reads call this and give up when it returns nonzero.
int deadline_passed(void* deadline) { return static_cast<const Deadline*>(deadline)->passed() ? 1 : 0; }

[[noreturn]] void too_slow() { throw Refused("too_slow", "the file takes too long to decode"); }
[[noreturn]] void unreadable(const std::string& why) {
    throw Refused("unreadable", "the file cannot be decoded: " + why);
}

struct FormatClose {
    void operator()(AVFormatContext* format) const { avformat_close_input(&format); }
};
struct CodecFree {
    void operator()(AVCodecContext* codec) const { avcodec_free_context(&codec); }
};
struct FrameFree {
    void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketFree {
    void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct ScalerFree {
    void operator()(SwsContext* scaler) const { sws_freeContext(scaler); }
};
using Frame = std::unique_ptr<AVFrame, FrameFree>;

// One stream of a file, opened with its decoder under the bounds.
struct Opened {
    std::unique_ptr<Deadline> deadline;  // a stable address for the interrupt callback
    std::unique_ptr<AVFormatContext, FormatClose> format;
    std::unique_ptr<AVCodecContext, CodecFree> codec;
    int stream = -1;
};

void require_within(const AVCodecParameters& video, const DecodeBounds& bounds) {
    const auto pixels = static_cast<std::uint64_t>(video.width) * static_cast<std::uint64_t>(video.height);
    if (video.width > bounds.max_side || video.height > bounds.max_side || pixels > bounds.max_pixels)
        throw Refused("too_large", "the video's frames are " + std::to_string(video.width) + " x " +
                                       std::to_string(video.height) + " pixels, more than allowed");
}

AVDictionary* decoder_options(const DecodeBounds& bounds) {
    AVDictionary* options = nullptr;
    av_dict_set_int(&options, "max_pixels", static_cast<std::int64_t>(bounds.max_pixels), 0);
    av_dict_set(&options, "threads", "1", 0);  // the workers are the parallelism
    return options;
}

// Reads the container's header and finds streams, within the deadline; nullopt when FFmpeg
// cannot read the container or finds no stream of `type` with a decoder.
std::optional<Opened> open(const std::filesystem::path& file, AVMediaType type, const DecodeBounds& bounds) {
    [[maybe_unused]] static const bool quiet = [] {
        av_log_set_level(AV_LOG_QUIET);  // a hostile file's complaints are not the server's log
        return true;
    }();
    Opened opened;
    opened.deadline = std::make_unique<Deadline>(Deadline{Clock::now() + bounds.deadline});
    AVFormatContext* format = avformat_alloc_context();
    if (format == nullptr) throw std::bad_alloc();
    format->interrupt_callback = {deadline_passed, opened.deadline.get()};
    format->probesize = probe_bytes;
    format->max_analyze_duration = 5 * static_cast<std::int64_t>(AV_TIME_BASE);
    AVDictionary* options = nullptr;
    av_dict_set(&options, "format_whitelist", allowed_demuxers, 0);
    av_dict_set(&options, "protocol_whitelist", "file", 0);
    const int input = avformat_open_input(&format, file.c_str(), nullptr, &options);  // frees format on failure
    av_dict_free(&options);
    if (opened.deadline->passed()) too_slow();
    if (input < 0) return std::nullopt;
    opened.format.reset(format);

    // The header's sizes, before any frame is decoded (a decoder refusing a frame for the
    // pixel bound leaves the stream's size zero after this).
    for (unsigned i = 0; i < format->nb_streams; ++i)
        if (format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
            require_within(*format->streams[i]->codecpar, bounds);
    // Finding the streams' parameters may decode frames: under the same pixel bound.
    std::vector<AVDictionary*> stream_options(format->nb_streams, nullptr);
    for (auto& each : stream_options) each = decoder_options(bounds);
    const int found = avformat_find_stream_info(format, stream_options.data());
    for (auto& each : stream_options) av_dict_free(&each);
    if (opened.deadline->passed()) too_slow();
    if (found < 0) return std::nullopt;

    const AVCodec* decoder = nullptr;
    opened.stream = av_find_best_stream(format, type, -1, -1, &decoder, 0);
    if (opened.stream < 0 || decoder == nullptr) return std::nullopt;
    const AVCodecParameters* parameters = format->streams[opened.stream]->codecpar;
    if (type == AVMEDIA_TYPE_VIDEO) require_within(*parameters, bounds);
    opened.codec.reset(avcodec_alloc_context3(decoder));
    if (!opened.codec) throw std::bad_alloc();
    if (avcodec_parameters_to_context(opened.codec.get(), parameters) < 0) unreadable("bad stream parameters");
    AVDictionary* codec_options = decoder_options(bounds);
    const int ready = avcodec_open2(opened.codec.get(), decoder, &codec_options);
    av_dict_free(&codec_options);
    if (ready < 0) unreadable("the decoder refuses the stream");
    return opened;
}

// Feeds the stream's packets to its decoder and hands each frame to `on_frame` until it
// returns false or the stream ends; how many frames it saw. A stream whose first frame does
// not decode is Refused (unreadable); damage after it is ignored. A decoder may hold its first
// frames back until later packets arrive (H.264 reorders them), so a damaged packet after one it
// accepted may come before any frame is out: the decoder is then flushed, and the stream is
// refused only if that brings out no frame either.
template <typename OnFrame>
std::int64_t decode(Opened& opened, int max_packets, OnFrame on_frame) {
    std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
    Frame frame(av_frame_alloc());
    if (!packet || !frame) throw std::bad_alloc();
    AVCodecContext* codec = opened.codec.get();
    std::int64_t frames = 0;
    int packets = 0;
    bool accepted = false;  // the decoder took a packet without an error
    bool damaged = false;   // and then refused one before any frame came out
    bool draining = false;
    const auto drain = [&] {
        draining = true;
        avcodec_send_packet(codec, nullptr);
    };
    for (;;) {
        if (opened.deadline->passed()) too_slow();
        if (!draining) {
            const int read = av_read_frame(opened.format.get(), packet.get());
            if (read < 0) {
                if (opened.deadline->passed()) too_slow();
                drain();
            } else {
                const bool ours = packet->stream_index == opened.stream;
                const int sent = ours ? avcodec_send_packet(codec, packet.get()) : 0;
                av_packet_unref(packet.get());
                if (!ours) continue;
                if (++packets > max_packets) too_slow();
                if (sent >= 0) {
                    accepted = true;
                } else if (frames == 0) {
                    if (!accepted) unreadable("a damaged packet");
                    damaged = true;
                    drain();
                }
            }
        }
        for (;;) {
            const int received = avcodec_receive_frame(codec, frame.get());
            if (received == AVERROR_EOF || (draining && received == AVERROR(EAGAIN))) {
                if (frames == 0 && damaged) unreadable("a damaged packet");
                return frames;
            }
            if (received == AVERROR(EAGAIN)) break;
            if (received < 0) {
                if (frames == 0) unreadable("a damaged frame");
                break;
            }
            ++frames;
            const bool more = on_frame(*frame);
            av_frame_unref(frame.get());
            if (!more) return frames;
        }
    }
}

Frame first_frame(Opened& opened, const DecodeBounds& bounds) {
    Frame first(av_frame_alloc());
    if (!first) throw std::bad_alloc();
    decode(opened, bounds.max_packets, [&first](AVFrame& frame) {
        av_frame_move_ref(first.get(), &frame);
        return false;
    });
    if (first->width <= 0 || first->height <= 0) unreadable("no frame");
    return first;
}

// Degrees clockwise that show a stream's frames upright: its display matrix (how phones
// record portrait video in landscape frames), else the `rotate` tag older FFmpeg versions
// exported and wrote into remuxed files; 0 when neither says a finite angle.
double clockwise_degrees(const AVStream& stream) {
    std::size_t size = 0;
    const std::uint8_t* matrix = av_stream_get_side_data(&stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    double degrees = 0.0;
    if (matrix != nullptr && size >= 9 * sizeof(std::int32_t)) {
        std::int32_t entries[9];
        std::memcpy(entries, matrix, sizeof entries);  // side data carries no alignment promise
        degrees = -av_display_rotation_get(entries);   // FFmpeg's angle is counterclockwise
    } else if (const AVDictionaryEntry* tag = av_dict_get(stream.metadata, "rotate", nullptr, 0)) {
        const std::string_view text = tag->value;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), degrees);
        if (error != std::errc() || end != text.data() + text.size()) degrees = 0.0;
    }
    return std::isfinite(degrees) ? degrees : 0.0;
}

// Clockwise quarter turns (0-3) that show the opened stream upright; an angle between two
// quarter turns counts as the nearest, half way as the next clockwise (docs/api.md, Media).
int upright_quarter_turns(const Opened& opened) {
    const double degrees = std::fmod(clockwise_degrees(*opened.format->streams[opened.stream]), 360.0);
    const auto turns = static_cast<int>(std::floor(degrees / 90.0 + 0.5));
    return ((turns % 4) + 4) % 4;
}

// Packed 8-bit RGB pixels.
struct RgbPicture {
    std::vector<std::uint8_t> pixels;
    int width = 0;
    int height = 0;
};

RgbPicture turned_clockwise(RgbPicture picture, int quarter_turns) {
    if (quarter_turns == 0) return picture;
    const int w = picture.width;
    const int h = picture.height;
    const auto source_of = [&](int x, int y) -> std::pair<int, int> {  // of the turned picture's pixel x, y
        switch (quarter_turns) {
            case 1: return {y, h - 1 - x};
            case 2: return {w - 1 - x, h - 1 - y};
            default: return {w - 1 - y, x};
        }
    };
    RgbPicture turned{std::vector<std::uint8_t>(picture.pixels.size()), quarter_turns == 2 ? w : h,
                      quarter_turns == 2 ? h : w};
    for (int y = 0; y < turned.height; ++y)
        for (int x = 0; x < turned.width; ++x) {
            const auto [from_x, from_y] = source_of(x, y);
            const auto from = (static_cast<std::size_t>(from_y) * w + from_x) * 3;
            const auto to = (static_cast<std::size_t>(y) * turned.width + x) * 3;
            std::copy_n(picture.pixels.begin() + static_cast<std::ptrdiff_t>(from), 3,
                        turned.pixels.begin() + static_cast<std::ptrdiff_t>(to));
        }
    return turned;
}

std::optional<std::int64_t> duration_ms(const Opened& opened) {
    const AVFormatContext* format = opened.format.get();
    if (format->duration != AV_NOPTS_VALUE && format->duration > 0) return format->duration / 1000;
    const AVStream* stream = format->streams[opened.stream];
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0)
        return av_rescale_q(stream->duration, stream->time_base, AVRational{1, 1000});
    return std::nullopt;
}

// The amplitude (0-1) of one sample of one channel, whatever the decoder's sample format.
float amplitude(const AVFrame& frame, int channel, int index) {
    const auto format = static_cast<AVSampleFormat>(frame.format);
    const bool planar = av_sample_fmt_is_planar(format) != 0;
    const uint8_t* data = frame.extended_data[planar ? channel : 0];
    const int at = planar ? index : index * frame.ch_layout.nb_channels + channel;
    switch (av_get_packed_sample_fmt(format)) {
        case AV_SAMPLE_FMT_U8: return std::abs(static_cast<float>(data[at]) - 128.0F) / 128.0F;
        case AV_SAMPLE_FMT_S16:
            return std::abs(static_cast<float>(reinterpret_cast<const std::int16_t*>(data)[at])) / 32768.0F;
        case AV_SAMPLE_FMT_S32:
            return std::abs(static_cast<float>(reinterpret_cast<const std::int32_t*>(data)[at])) / 2147483648.0F;
        case AV_SAMPLE_FMT_S64:
            return std::abs(static_cast<float>(reinterpret_cast<const std::int64_t*>(data)[at])) / 9.2233720e18F;
        case AV_SAMPLE_FMT_FLT: return std::abs(reinterpret_cast<const float*>(data)[at]);
        case AV_SAMPLE_FMT_DBL: return static_cast<float>(std::abs(reinterpret_cast<const double*>(data)[at]));
        default: return 0.0F;
    }
}

}  // namespace

std::optional<VideoInfo> probe_video(const std::filesystem::path& video, const DecodeBounds& bounds) {
    auto opened = open(video, AVMEDIA_TYPE_VIDEO, bounds);
    if (!opened) return std::nullopt;
    const auto frame = first_frame(*opened, bounds);
    const bool sideways = upright_quarter_turns(*opened) % 2 == 1;
    return VideoInfo{duration_ms(*opened), sideways ? frame->height : frame->width,
                     sideways ? frame->width : frame->height};
}

void make_video_poster(const std::filesystem::path& video, const std::filesystem::path& jpeg, int max_side,
                       const DecodeBounds& bounds) {
    auto opened = open(video, AVMEDIA_TYPE_VIDEO, bounds);
    if (!opened) unreadable("no video stream");
    const auto frame = first_frame(*opened, bounds);
    const double scale = std::min(1.0, static_cast<double>(max_side) / std::max(frame->width, frame->height));
    RgbPicture poster;
    poster.width = std::max(1, static_cast<int>(std::lround(frame->width * scale)));
    poster.height = std::max(1, static_cast<int>(std::lround(frame->height * scale)));
    std::unique_ptr<SwsContext, ScalerFree> scaler(
        sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), poster.width,
                       poster.height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!scaler) unreadable("an unsupported pixel format");
    poster.pixels.resize(static_cast<std::size_t>(poster.width) * static_cast<std::size_t>(poster.height) * 3);
    std::uint8_t* planes[] = {poster.pixels.data()};
    const int strides[] = {poster.width * 3};
    sws_scale(scaler.get(), frame->data, frame->linesize, 0, frame->height, planes, strides);
    // Turned after scaling: at most max_side x max_side pixels to move.
    const auto upright = turned_clockwise(std::move(poster), upright_quarter_turns(*opened));
    write_jpeg(upright.pixels.data(), upright.width, upright.height, jpeg);
}

std::optional<VoiceInfo> probe_voice(const std::filesystem::path& voice, const DecodeBounds& bounds) {
    auto opened = open(voice, AVMEDIA_TYPE_AUDIO, bounds);
    if (!opened) return std::nullopt;
    WaveformBuilder waveform;
    std::int64_t samples = 0;
    int sample_rate = opened->codec->sample_rate;
    decode(*opened, INT_MAX, [&](const AVFrame& frame) {
        if (frame.sample_rate > 0) sample_rate = frame.sample_rate;
        const int channels = std::max(1, frame.ch_layout.nb_channels);
        for (int i = 0; i < frame.nb_samples; ++i) {
            float loudest = 0.0F;
            for (int channel = 0; channel < channels; ++channel)
                loudest = std::max(loudest, amplitude(frame, channel, i));
            waveform.add(loudest);
        }
        samples += frame.nb_samples;
        return true;
    });
    if (samples == 0 || sample_rate <= 0) return std::nullopt;
    return VoiceInfo{samples * 1000 / sample_rate, waveform.peaks()};
}

WaveformBuilder::WaveformBuilder(std::size_t points) : points_(std::max<std::size_t>(points, 1)) {
    buckets_.reserve(2 * points_);
}

void WaveformBuilder::add(float amplitude) {
    if (!buckets_.empty() && in_last_ < per_bucket_) {
        buckets_.back() = std::max(buckets_.back(), amplitude);
        ++in_last_;
        return;
    }
    if (buckets_.size() == 2 * points_) {
        for (std::size_t i = 0; i < points_; ++i) buckets_[i] = std::max(buckets_[2 * i], buckets_[2 * i + 1]);
        buckets_.resize(points_);
        per_bucket_ *= 2;
    }
    buckets_.push_back(amplitude);
    in_last_ = 1;
}

std::vector<int> WaveformBuilder::peaks() const {
    const std::size_t count = std::min(points_, buckets_.size());
    std::vector<int> out;
    out.reserve(count);
    for (std::size_t j = 0; j < count; ++j) {
        const auto first = buckets_.begin() + static_cast<std::ptrdiff_t>(j * buckets_.size() / count);
        const auto last = buckets_.begin() + static_cast<std::ptrdiff_t>((j + 1) * buckets_.size() / count);
        const float loudest = std::clamp(*std::max_element(first, last), 0.0F, 1.0F);
        out.push_back(static_cast<int>(std::lround(loudest * 100.0F)));
    }
    return out;
}

}  // namespace confab::media
