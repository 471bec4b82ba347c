#include "confab/media/inspect.hpp"

#include <magic.h>
#include <sodium.h>
#include <vips/vips.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace confab::media {
namespace {

// A libmagic handle is not thread-safe; each worker thread keeps its own.
magic_t thread_magic() {
    struct Handle {
        magic_t cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
        Handle() {
            if (!cookie || magic_load(cookie, nullptr) != 0) throw std::runtime_error("libmagic failed to load");
        }
        ~Handle() { magic_close(cookie); }
    };
    thread_local Handle handle;
    return handle.cookie;
}

std::string hex(const unsigned char* bytes, std::size_t size) {
    std::string out(size * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes, size);
    out.pop_back();
    return out;
}

}  // namespace

Inspection inspect(const std::filesystem::path& file) {
    Inspection result;
    const char* mime = magic_file(thread_magic(), file.c_str());
    if (!mime) throw std::runtime_error(std::string("libmagic: ") + magic_error(thread_magic()));
    // libmagic may append a remark even when asked for the type alone ("application/x-executable,
    // no program header"): the type is what comes before it.
    result.mime_type = std::string(mime).substr(0, std::string_view(mime).find_first_of(",; "));

    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    std::ifstream in(file, std::ios::binary);
    std::array<char, 64 * 1024> chunk{};
    std::string head;
    while (in) {
        in.read(chunk.data(), chunk.size());
        const auto got = in.gcount();
        if (got <= 0) break;
        if (head.empty()) head.assign(chunk.data(), std::min<std::size_t>(2, static_cast<std::size_t>(got)));
        crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(chunk.data()),
                                  static_cast<unsigned long long>(got));
        result.size_bytes += got;
    }
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256_final(&state, digest.data());
    result.sha256 = hex(digest.data(), digest.size());
    // A DOS .COM program has no header, so libmagic names one from its first instruction: one
    // in a few hundred random or encrypted files. Only an MZ header is a DOS or Windows program.
    if (result.mime_type == "application/x-dosexec" && head != "MZ") result.mime_type = "application/octet-stream";
    return result;
}

namespace {

// The loaders of the image types uploads may have (PROTOCOL.md: JPEG, PNG, GIF, WebP, HEIC).
// Every other libvips loader (SVG, PDF, TIFF, FITS, Matlab, ImageMagick, ...) is blocked:
// each is attack surface for bytes a client chose, and none can serve an allowed upload.
constexpr std::array<const char*, 5> allowed_loaders = {"VipsForeignLoadJpeg", "VipsForeignLoadPng",
                                                        "VipsForeignLoadNsgif", "VipsForeignLoadWebp",
                                                        "VipsForeignLoadHeif"};

// `loader` is a class name as vips_foreign_find_load gives it, e.g. "VipsForeignLoadPngFile".
bool is_allowed_loader(std::string_view loader) {
    return std::any_of(allowed_loaders.begin(), allowed_loaders.end(),
                       [loader](std::string_view allowed) { return loader.starts_with(allowed); });
}

[[noreturn]] void vips_failed() {
    const std::string error = vips_error_buffer();
    vips_error_clear();
    throw std::runtime_error("thumbnail: " + error);
}

// libvips is initialised once per process; its operation cache would only hold memory. Its
// warnings go nowhere: a loader warns once per row it cannot read (a header declaring
// 40,000,000 rows, in 80 bytes, printed gigabytes to stderr), and what fails is reported by the
// error that fails it (fail_on below).
void init_vips() {
    static const bool ready = [] {
        if (VIPS_INIT("confab") != 0) return false;
        g_log_set_handler(
            "VIPS", G_LOG_LEVEL_WARNING, [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
        vips_cache_set_max(0);
        vips_block_untrusted_set(TRUE);
        vips_operation_block_set("VipsForeignLoad", TRUE);
        for (const char* loader : allowed_loaders) vips_operation_block_set(loader, FALSE);
        return true;
    }();
    if (!ready) throw std::runtime_error("libvips failed to initialise");
}

}  // namespace

void make_thumbnail(const std::filesystem::path& image, const std::filesystem::path& jpeg, int max_side,
                    std::uint64_t max_pixels) {
    init_vips();
    const char* loader = vips_foreign_find_load(image.c_str());
    if (loader == nullptr) vips_failed();
    if (!is_allowed_loader(loader))
        throw std::runtime_error(std::string("thumbnail: ") + loader + " is not an allowed image loader");
    // Opening reads the header only; the pixels are decoded by the thumbnail below, so an
    // image too large to decode safely is refused before any memory is spent on it.
    VipsImage* header = vips_image_new_from_file(image.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, nullptr);
    if (header == nullptr) vips_failed();
    const auto pixels = static_cast<std::uint64_t>(vips_image_get_width(header)) *
                        static_cast<std::uint64_t>(vips_image_get_height(header));
    g_object_unref(header);
    if (pixels > max_pixels)
        throw std::runtime_error("thumbnail: " + std::to_string(pixels) + " pixels, more than the limit of " +
                                 std::to_string(max_pixels));
    VipsImage* thumbnail = nullptr;
    // An image cut short fails rather than being padded into a thumbnail of what is not there.
    if (vips_thumbnail(image.c_str(), &thumbnail, max_side, "height", max_side, "size", VIPS_SIZE_DOWN, "fail_on",
                       VIPS_FAIL_ON_TRUNCATED, nullptr) != 0)
        vips_failed();
    const int saved = vips_jpegsave(thumbnail, jpeg.c_str(), "Q", 80, "strip", TRUE, nullptr);
    g_object_unref(thumbnail);
    if (saved != 0) vips_failed();
}

void write_jpeg(const unsigned char* rgb, int width, int height, const std::filesystem::path& jpeg) {
    init_vips();
    VipsImage* image = vips_image_new_from_memory(rgb, static_cast<std::size_t>(width) * height * 3, width, height, 3,
                                                  VIPS_FORMAT_UCHAR);
    if (image == nullptr) vips_failed();
    const int saved = vips_jpegsave(image, jpeg.c_str(), "Q", 80, "strip", TRUE, nullptr);
    g_object_unref(image);
    if (saved != 0) vips_failed();
}

Animation gif_animation(const std::filesystem::path& gif) {
    init_vips();
    VipsImage* header = nullptr;
    if (vips_gifload(gif.c_str(), &header, "access", VIPS_ACCESS_SEQUENTIAL, nullptr) != 0) vips_failed();
    Animation animation{vips_image_get_n_pages(header), static_cast<std::uint64_t>(vips_image_get_width(header)) *
                                                            static_cast<std::uint64_t>(vips_image_get_height(header))};
    g_object_unref(header);
    return animation;
}

bool allowed(model::MediaKind kind, std::string_view mime) {
    using K = model::MediaKind;
    auto one_of = [mime](std::initializer_list<std::string_view> list) {
        return std::find(list.begin(), list.end(), mime) != list.end();
    };
    switch (kind) {
        case K::image:
            return one_of({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"});
        case K::voice:
            return one_of({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/x-hx-aac-adts",
                           "audio/wav", "audio/x-wav", "audio/webm", "video/webm"});
        case K::video: return one_of({"video/mp4", "video/quicktime", "video/webm"});
        case K::file:
            return !one_of({"application/x-executable", "application/x-sharedlib", "application/x-pie-executable",
                            "application/x-dosexec", "application/x-mach-binary",
                            "application/vnd.microsoft.portable-executable", "text/x-shellscript",
                            "application/x-elf"});
    }
    return false;
}

}  // namespace confab::media
