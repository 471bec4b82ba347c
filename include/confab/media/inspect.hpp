#pragma once

#include "confab/model/chat.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace confab::media {

struct Inspection {
    std::string mime_type;  // what libmagic finds in the bytes
    std::string sha256;     // lowercase hex
    std::int64_t size_bytes = 0;
};

// Reads the whole file once (blocking: run off the I/O threads).
Inspection inspect(const std::filesystem::path& file);

// Writes a JPEG of at most max_side x max_side pixels of an image file (libvips; blocking).
// Throws std::runtime_error when the image cannot be decoded, is not JPEG, PNG, GIF, WebP or
// HEIF (libvips's other loaders are blocked for the whole process), or its header declares
// more than max_pixels pixels (then it is never decoded).
void make_thumbnail(const std::filesystem::path& image, const std::filesystem::path& jpeg, int max_side,
                    std::uint64_t max_pixels);

// Writes packed 8-bit RGB pixels as a JPEG (libvips; blocking).
void write_jpeg(const unsigned char* rgb, int width, int height, const std::filesystem::path& jpeg);

struct Animation {
    std::int64_t frames = 1;
    std::uint64_t frame_pixels = 0;  // of each frame
};

// A GIF's frame count and frame size, from its header and frame descriptors (libvips's GIF
// loader only; no pixel is decoded). Throws std::runtime_error when libvips cannot read it.
Animation gif_animation(const std::filesystem::path& gif);

// The allow-list of PROTOCOL.md's Media section, per kind.
bool allowed(model::MediaKind kind, std::string_view mime_type);

}  // namespace confab::media
