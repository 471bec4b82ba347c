// Media (docs/api.md "Media", PROTOCOL.md MediaModel): uploads (sniffed type per kind, size
// limit, file name and metadata headers, idempotent re-upload), media messages, downloads
// (headers, conditional and range requests, membership), media removal and the gallery.
//
// Every payload is made in code by support/media_fixtures (a real PNG, GIF, JPEG, WAV,
// Ogg/Opus, MP4, WebM, text, ELF executable, shell script) and checked against its own SHA-256.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/chat_api.hpp"
#include "support/media_fixtures.hpp"

namespace confab::test {
namespace {

namespace fs = std::filesystem;
using MediaTest = ChatTest;
using media::multipart_body;

// ---------------------------------------------------------------------------------------------
// Paths and requests

std::string upload_target(const std::string& chat_id, const std::string& kind) {
    return "/api/v1/messages/upload?chat_id=" + url_encode(chat_id) + "&kind=" + url_encode(kind);
}
std::string media_url(const std::string& message_id) { return "/api/v1/messages/" + message_id + "/media"; }
std::string gallery_url(const std::string& chat_id) { return "/api/v1/chats/" + chat_id + "/media"; }

// POST /messages/upload with the raw bytes. `content_type` is what the client claims; the
// server is supposed to sniff the bytes instead.
HttpResponse upload(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& kind,
                    const std::string& bytes, std::map<std::string, std::string> headers = {},
                    const std::string& content_type = "application/octet-stream") {
    headers["Authorization"] = "Bearer " + u.token;
    if (!headers.count("Content-Type")) headers["Content-Type"] = content_type;
    return http(port, "POST", upload_target(chat_id, kind), bytes, headers, 30s);
}

// Uploads and returns the MediaModel; throws unless 201.
json upload_ok(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& kind,
               const std::string& bytes, std::map<std::string, std::string> headers = {}) {
    return expect_json(upload(port, u, chat_id, kind, bytes, std::move(headers)), 201,
                       "upload " + kind + " as " + u.username);
}

// Sends a media message; throws unless 201.
json send_media(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& type,
                const std::string& media_id, json extra = json::object()) {
    json body = {{"type", type}, {"media_id", media_id}};
    for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
    return expect_json(send_message(port, u, chat_id, body), 201, "send " + type + " message as " + u.username);
}

// Uploads `bytes` and sends them as a message of `kind`; returns the message.
json post_media(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& kind,
                const std::string& bytes, std::map<std::string, std::string> headers = {}) {
    auto media = upload_ok(port, u, chat_id, kind, bytes, std::move(headers));
    return send_media(port, u, chat_id, kind, media.at("id"));
}

HttpResponse download(std::uint16_t port, const TestUser& u, const std::string& message_id,
                      std::map<std::string, std::string> headers = {}) {
    headers["Authorization"] = "Bearer " + u.token;
    return http(port, "GET", media_url(message_id), std::nullopt, headers, 30s);
}

// ---------------------------------------------------------------------------------------------
// Shapes

bool is_int(const json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

bool is_sha256_hex(const json& j) {
    if (!j.is_string()) return false;
    const auto& s = j.get_ref<const std::string&>();
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// MediaModel: {"id", "kind", "mime_type", "size_bytes", "sha256", "file_name", "url",
// "width"?, "height"?, "duration_ms"?}. `url` is absent (or null) on an upload response and
// equal to `expected_url` on a message.
::testing::AssertionResult IsMediaModel(const json& j, const std::optional<std::string>& expected_url) {
    auto fail = [&](const std::string& what) { return ::testing::AssertionFailure() << what << ": " << j.dump(); };
    if (!j.is_object()) return fail("MediaModel is not an object");
    static const std::set<std::string> required = {"id", "kind", "mime_type", "size_bytes", "sha256", "file_name"};
    // "thumbnail_url" (image thumbnails, video posters), "waveform" (voice) and "animated"
    // (images) are additions to PROTOCOL.md's fields, documented in docs/api.md (Media) and
    // checked by media_metadata_test.cpp.
    static const std::set<std::string> optional = {"url",           "width",    "height",  "duration_ms",
                                                   "thumbnail_url", "waveform", "animated"};
    for (const auto& k : required)
        if (!j.contains(k)) return fail("MediaModel lacks \"" + k + "\"");
    for (auto it = j.begin(); it != j.end(); ++it)
        if (!required.count(it.key()) && !optional.count(it.key()))
            return fail("MediaModel has undocumented key \"" + it.key() + "\"");
    if (!is_uuid(j["id"])) return fail("MediaModel.id is not a UUID");
    static const std::set<std::string> kinds = {"image", "voice", "video", "file"};
    if (!j["kind"].is_string() || !kinds.count(j["kind"].get<std::string>())) return fail("MediaModel.kind");
    if (!j["mime_type"].is_string() || j["mime_type"].get<std::string>().empty()) return fail("MediaModel.mime_type");
    if (!is_int(j["size_bytes"]) || j["size_bytes"].get<std::int64_t>() < 1) return fail("MediaModel.size_bytes");
    if (!is_sha256_hex(j["sha256"])) return fail("MediaModel.sha256 is not 64 lower-case hex digits");
    if (!j["file_name"].is_null() && !j["file_name"].is_string()) return fail("MediaModel.file_name");
    for (const char* k : {"width", "height", "duration_ms"})
        if (j.contains(k) && !j[k].is_null() && !is_int(j[k])) return fail(std::string("MediaModel.") + k);
    if (j.contains("thumbnail_url") && !j["thumbnail_url"].is_null() && !j["thumbnail_url"].is_string())
        return fail("MediaModel.thumbnail_url");
    if (j.contains("waveform") && !j["waveform"].is_array()) return fail("MediaModel.waveform");
    if (j.contains("animated") && !j["animated"].is_boolean()) return fail("MediaModel.animated");
    if (expected_url) {
        if (!j.contains("url") || j["url"] != *expected_url) return fail("MediaModel.url is not " + *expected_url);
    } else if (j.contains("url") && !j["url"].is_null()) {
        return fail("an upload's MediaModel has a url before it is attached");
    }
    return ::testing::AssertionSuccess();
}

// A message of a media type whose media is the given upload.
::testing::AssertionResult IsMediaMessage(const json& m, const json& upload, const std::string& type) {
    auto msg = IsMessageModel(m);
    if (!msg) return msg;
    if (m["type"] != type) return ::testing::AssertionFailure() << "type is not " << type << ": " << m.dump();
    if (!m["media"].is_object()) return ::testing::AssertionFailure() << "media is not an object: " << m.dump();
    auto media = IsMediaModel(m["media"], media_url(m["id"].get<std::string>()));
    if (!media) return media;
    for (const char* k : {"id", "kind", "mime_type", "size_bytes", "sha256", "file_name"})
        if (m["media"][k] != upload[k])
            return ::testing::AssertionFailure()
                   << "media." << k << " differs from the upload's: " << m.dump() << " vs upload " << upload.dump();
    return ::testing::AssertionSuccess();
}

// Absent or null (for optional MediaModel fields that were not given).
bool absent_or_null(const json& j, const char* key) { return !j.contains(key) || j[key].is_null(); }

std::vector<std::string> message_ids(const json& page) {
    std::vector<std::string> out;
    for (const auto& m : page.at("messages")) out.push_back(m.at("id"));
    return out;
}

// The regular files under `dir` whose content equals `bytes` (layout-independent check that
// stored bytes exist or were removed).
std::vector<fs::path> files_with_content(const fs::path& dir, const std::string& bytes) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        std::error_code fec;
        if (!it->is_regular_file(fec) || it->file_size(fec) != bytes.size()) continue;
        std::ifstream in(it->path(), std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (content == bytes) out.push_back(it->path());
    }
    return out;
}

std::vector<fs::path> all_files(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec)) out.push_back(it->path());
    }
    return out;
}

// Polls `pred` for up to `timeout` (file removal may trail the 204 slightly).
std::string first_line(const std::string& raw) { return raw.substr(0, raw.find("\r\n")); }

// ---------------------------------------------------------------------------------------------
// Upload

struct Sample {
    std::string kind;
    std::string bytes;
    std::string mime;
    std::string file_name;
    json metadata;  // null: no X-Media-Metadata header
};

std::vector<Sample> samples_of_every_kind() {
    return {
        {"image", media::png(4, 3, 1), "image/png", "photo.png", {{"width", 4}, {"height", 3}}},
        {"image", media::gif(2, 2, 1), "image/gif", "wave.gif", {{"width", 2}, {"height", 2}}},
        {"image", media::jpeg(16, 8, 1), "image/jpeg", "holiday.jpg", {{"width", 16}, {"height", 8}}},
        {"voice", media::wav(400, 1), "audio/x-wav", "note.wav", {{"duration_ms", 50}}},
        {"voice", media::ogg_opus(1), "audio/ogg", "note.ogg", {{"duration_ms", 1500}}},
        {"voice", media::webm(1), "video/webm", "note.webm", {{"duration_ms", 900}}},
        {"video", media::mp4(1), "video/mp4", "clip.mp4", {{"width", 640}, {"height", 360}, {"duration_ms", 1500}}},
        {"video", media::webm(2), "video/webm", "clip.webm", {{"width", 320}, {"height", 240}, {"duration_ms", 0}}},
        {"file", media::text(1), "text/plain", "notes.txt", nullptr},
        {"file", media::png(5, 5, 2), "image/png", "scan.png", nullptr},
    };
}

TEST_F(MediaTest, UploadOfEveryKindReturnsTheMediaModel) {
    auto a = register_user(port(), "mu");
    auto b = register_user(port(), "mu");
    std::string chat = create_direct(port(), a, b)["id"];

    std::set<std::string> ids;
    for (const auto& s : samples_of_every_kind()) {
        SCOPED_TRACE(s.kind + " " + s.mime + " " + s.file_name);
        std::map<std::string, std::string> headers = {{"X-File-Name", s.file_name}};
        if (!s.metadata.is_null()) headers["X-Media-Metadata"] = s.metadata.dump();
        auto r = upload(port(), a, chat, s.kind, s.bytes, headers, s.mime);
        ASSERT_TRUE(IsJson(r, 201));
        auto m = r.json();
        EXPECT_TRUE(IsMediaModel(m, std::nullopt));
        EXPECT_EQ(m["kind"], s.kind);
        EXPECT_EQ(m["mime_type"], s.mime);
        EXPECT_EQ(m["size_bytes"], s.bytes.size());
        EXPECT_EQ(m["sha256"], media::sha256_hex(s.bytes));
        EXPECT_EQ(m["file_name"], s.file_name);
        for (const char* k : {"width", "height", "duration_ms"}) {
            if (!s.metadata.is_null() && s.metadata.contains(k)) EXPECT_EQ(m.value(k, json()), s.metadata[k]) << k;
            else EXPECT_TRUE(absent_or_null(m, k)) << k << " was not given: " << m.dump();
        }
        EXPECT_TRUE(ids.insert(m["id"].get<std::string>()).second) << "media id reused: " << m.dump();
    }
}

TEST_F(MediaTest, TheTypeIsSniffedFromTheBytesNotTheContentTypeHeader) {
    auto a = register_user(port(), "ms");
    auto b = register_user(port(), "ms");
    std::string chat = create_direct(port(), a, b)["id"];

    // A JPEG that claims to be a PNG, a GIF with no claim at all, a WAV claimed as Ogg.
    auto jpg = media::jpeg(8, 8, 2);
    auto r1 = upload(port(), a, chat, "image", jpg, {}, "image/png");
    ASSERT_TRUE(IsJson(r1, 201));
    EXPECT_EQ(r1.json()["mime_type"], "image/jpeg");

    auto gif = media::gif(3, 3, 2);
    auto r2 = upload(port(), a, chat, "image", gif, {}, "application/octet-stream");
    ASSERT_TRUE(IsJson(r2, 201));
    EXPECT_EQ(r2.json()["mime_type"], "image/gif");

    auto wav = media::wav(100, 2);
    auto r3 = upload(port(), a, chat, "voice", wav, {}, "audio/ogg");
    ASSERT_TRUE(IsJson(r3, 201));
    EXPECT_EQ(r3.json()["mime_type"], "audio/x-wav");

    // A text file claiming to be an image is still text: refused as an image.
    EXPECT_TRUE(
        IsError(upload(port(), a, chat, "image", media::text(2), {}, "image/png"), 415, "unsupported_media_type"));
}

TEST_F(MediaTest, UploadWithoutOptionalHeadersHasNoNameOrMetadata) {
    auto a = register_user(port(), "mo");
    auto b = register_user(port(), "mo");
    std::string chat = create_direct(port(), a, b)["id"];
    auto bytes = media::png(2, 2, 3);
    auto r = upload(port(), a, chat, "image", bytes);
    ASSERT_TRUE(IsJson(r, 201));
    auto m = r.json();
    EXPECT_TRUE(IsMediaModel(m, std::nullopt));
    EXPECT_EQ(m["sha256"], media::sha256_hex(bytes));
    EXPECT_EQ(m["size_bytes"], bytes.size());
    EXPECT_TRUE(absent_or_null(m, "width")) << m.dump();
    EXPECT_TRUE(absent_or_null(m, "height")) << m.dump();
    EXPECT_TRUE(absent_or_null(m, "duration_ms")) << m.dump();
    // No X-File-Name: the contract lists file_name without "?"; null is the natural value.
    EXPECT_TRUE(m.contains("file_name") && (m["file_name"].is_null() || m["file_name"].is_string())) << m.dump();
}

TEST_F(MediaTest, FileNameKeepsOnlyItsLastPathComponent) {
    auto a = register_user(port(), "mf");
    auto b = register_user(port(), "mf");
    std::string chat = create_direct(port(), a, b)["id"];

    const std::vector<std::pair<std::string, std::string>> cases = {
        {"report.txt", "report.txt"},
        {"dir/sub/report.txt", "report.txt"},
        {"../../etc/passwd", "passwd"},
        {"/absolute/path/to/x.txt", "x.txt"},
        {"name with spaces.txt", "name with spaces.txt"},
        {"C:\\Users\\ana\\Documents\\budget.txt", "budget.txt"},
        {"..\\..\\boot.ini", "boot.ini"},
    };
    std::uint8_t seed = 10;
    for (const auto& [given, kept] : cases) {
        auto r = upload(port(), a, chat, "file", media::text(seed++), {{"X-File-Name", given}});
        ASSERT_TRUE(IsJson(r, 201)) << given;
        EXPECT_EQ(r.json()["file_name"], kept) << "X-File-Name: " << given;
    }

    // At most 255 bytes: a longer name is cut to 255 or refused with 400 (the docs do not say which).
    auto r = upload(port(), a, chat, "file", media::text(seed++), {{"X-File-Name", std::string(300, 'n') + ".txt"}});
    if (r.status == 201) {
        ASSERT_TRUE(r.json()["file_name"].is_string()) << r.describe();
        EXPECT_LE(r.json()["file_name"].get<std::string>().size(), 255u) << r.describe();
    } else {
        EXPECT_TRUE(IsError(r, 400, "bad_request"));
    }
}

TEST_F(MediaTest, MediaMetadataHeaderIsValidated) {
    auto a = register_user(port(), "mm");
    auto b = register_user(port(), "mm");
    std::string chat = create_direct(port(), a, b)["id"];

    std::uint8_t seed = 20;
    const std::vector<std::string> bad = {
        "not json",
        "[1, 2]",
        "42",
        R"({"width": 0, "height": 10})",
        R"({"width": 100001, "height": 10})",
        R"({"width": 10, "height": -1})",
        R"({"width": "10", "height": 10})",
        R"({"width": 10.5, "height": 10})",
        R"({"duration_ms": -1})",
        R"({"duration_ms": "5"})",
        R"({"width": 10, "height": 10, "colour": "red"})",
    };
    for (const auto& header : bad)
        EXPECT_TRUE(IsError(upload(port(), a, chat, "image", media::png(3, 3, seed++), {{"X-Media-Metadata", header}}),
                            400, "bad_request"))
            << "X-Media-Metadata: " << header;

    // The edges are accepted and echoed.
    auto r = upload(port(), a, chat, "video", media::mp4(seed++),
                    {{"X-Media-Metadata", R"({"width": 1, "height": 100000, "duration_ms": 0})"}});
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json().value("width", json()), 1);
    EXPECT_EQ(r.json().value("height", json()), 100000);
    EXPECT_EQ(r.json().value("duration_ms", json()), 0);
}

TEST_F(MediaTest, WrongTypeForTheKindIs415) {
    auto a = register_user(port(), "mw");
    auto b = register_user(port(), "mw");
    std::string chat = create_direct(port(), a, b)["id"];

    // libmagic names this "application/x-executable, no program header" even asked for the type
    // alone; the suffix once let it through as a file (and was served as its Content-Type).
    auto without_program_headers = media::elf_executable();
    without_program_headers[56] = 0;  // e_phnum
    const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
        {"voice", media::png(3, 3, 30), "PNG as voice"},
        {"video", media::png(3, 3, 31), "PNG as video"},
        {"image", media::text(30), "text as image"},
        {"voice", media::text(31), "text as voice"},
        {"video", media::text(32), "text as video"},
        {"image", media::wav(50, 30), "WAV as image"},
        {"image", media::mp4(30), "MP4 as image"},
        {"video", media::wav(50, 31), "WAV as video"},
        {"file", media::elf_executable(), "ELF executable as file"},
        {"image", media::elf_executable(), "ELF executable as image"},
        {"file", media::shell_script(), "shell script as file"},
        {"file", media::env_bash_script(), "#!/usr/bin/env bash script as file"},
        {"file", media::elf_shared_object(), "ELF shared object as file"},
        {"file", media::pe_executable(), "Windows PE executable as file"},
        {"file", media::macho_executable(), "Mach-O executable as file"},
        {"file", without_program_headers, "ELF executable without program headers as file"},
    };
    for (const auto& [kind, bytes, what] : cases)
        EXPECT_TRUE(IsError(upload(port(), a, chat, kind, bytes), 415, "unsupported_media_type")) << what;

    // Nothing refused can be attached: the chat has no media.
    auto g = get(port(), a.token, gallery_url(chat));
    ASSERT_TRUE(IsJson(g, 200));
    EXPECT_EQ(g.json()["messages"], json::array());
}

TEST_F(MediaTest, BadParametersEmptyBodyAndNonMembers) {
    auto a = register_user(port(), "mp");
    auto b = register_user(port(), "mp");
    auto c = register_user(port(), "mp");
    std::string chat = create_direct(port(), a, b)["id"];
    auto png = media::png(3, 3, 40);
    std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + a.token}, {"Content-Type", "image/png"}};

    auto post_to = [&](const std::string& target, const std::string& body, std::map<std::string, std::string> headers) {
        return http(port(), "POST", target, body, headers);
    };

    EXPECT_TRUE(IsError(post_to("/api/v1/messages/upload?kind=image", png, auth), 400, "bad_request")) << "no chat_id";
    EXPECT_TRUE(
        IsError(post_to("/api/v1/messages/upload?chat_id=not-a-uuid&kind=image", png, auth), 400, "bad_request"))
        << "chat_id not a UUID";
    EXPECT_TRUE(IsError(post_to("/api/v1/messages/upload?chat_id=" + chat, png, auth), 400, "bad_request"))
        << "no kind";
    for (const std::string kind : {"audio", "photo", "text", "location", ""})
        EXPECT_TRUE(IsError(upload(port(), a, chat, kind, png), 400, "bad_request")) << "kind=" << kind;
    EXPECT_TRUE(IsError(upload(port(), a, chat, "image", ""), 400, "bad_request")) << "empty body";
    EXPECT_TRUE(IsError(upload(port(), a, chat, "file", ""), 400, "bad_request")) << "empty body as file";

    // Not a member, or no such chat: 404, never a hint that the chat exists.
    EXPECT_TRUE(IsError(upload(port(), c, chat, "image", png), 404, "not_found")) << "non-member";
    EXPECT_TRUE(IsError(upload(port(), a, random_uuid(), "image", png), 404, "not_found")) << "unknown chat";

    // No token.
    EXPECT_TRUE(
        IsError(post_to(upload_target(chat, "image"), png, {{"Content-Type", "image/png"}}), 401, "unauthorized"));

    // Wrong method on the upload path: 405, or the GET /messages/{id} route refusing "upload"
    // as a message id (400) -- either way an error, never a 2xx.
    auto g = http(port(), "GET", upload_target(chat, "image"), std::nullopt, {{"Authorization", "Bearer " + a.token}});
    EXPECT_TRUE(g.status == 405 || g.status == 404 || g.status == 400) << g.describe();
}

TEST_F(MediaTest, UploadLargerThanTheJsonBodyLimitIsAccepted) {
    // limits.body_bytes (256 KiB) is for JSON bodies; uploads have their own 25 MiB limit.
    auto a = register_user(port(), "ml");
    auto b = register_user(port(), "ml");
    std::string chat = create_direct(port(), a, b)["id"];
    auto bytes = media::png(320, 300, 41);
    ASSERT_GT(bytes.size(), 256u * 1024u);
    auto r = upload(port(), a, chat, "image", bytes, {{"X-File-Name", "big.png"}});
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json()["size_bytes"], bytes.size());
    EXPECT_EQ(r.json()["sha256"], media::sha256_hex(bytes));

    auto m = send_media(port(), a, chat, "image", r.json()["id"]);
    auto d = download(port(), b, m["id"]);
    ASSERT_EQ(d.status, 200) << d.describe().substr(0, 300);
    EXPECT_EQ(d.body.size(), bytes.size());
    EXPECT_TRUE(d.body == bytes) << "downloaded bytes differ";
}

TEST_F(MediaTest, MultipartFormDataWithOneFilePartIsAccepted) {
    // PROTOCOL.md: "Also accepted as multipart/form-data with one file part."
    auto a = register_user(port(), "mx");
    auto b = register_user(port(), "mx");
    std::string chat = create_direct(port(), a, b)["id"];
    auto bytes = media::png(6, 4, 42);
    const std::string boundary = "confabBoundary7MA4YWxkTrZu0gW";
    std::string body = "--" + boundary +
                       "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"form.png\"\r\n"
                       "Content-Type: image/png\r\n\r\n" +
                       bytes + "\r\n--" + boundary + "--\r\n";
    auto r =
        http(port(), "POST", upload_target(chat, "image"), body,
             {{"Authorization", "Bearer " + a.token}, {"Content-Type", "multipart/form-data; boundary=" + boundary}});
    ASSERT_TRUE(IsJson(r, 201));
    auto m = r.json();
    EXPECT_TRUE(IsMediaModel(m, std::nullopt));
    EXPECT_EQ(m["mime_type"], "image/png");
    EXPECT_EQ(m["size_bytes"], bytes.size()) << "the part's bytes, not the whole form";
    EXPECT_EQ(m["sha256"], media::sha256_hex(bytes));

    auto msg = send_media(port(), a, chat, "image", m["id"]);
    auto d = download(port(), b, msg["id"]);
    ASSERT_EQ(d.status, 200);
    EXPECT_TRUE(d.body == bytes) << "downloaded bytes differ from the file part";
}

TEST_F(MediaTest, MultipartFileNameKeepsOnlyItsLastPathComponentAndBadFormsAre400) {
    auto a = register_user(port(), "mx");
    auto b = register_user(port(), "mx");
    std::string chat = create_direct(port(), a, b)["id"];
    const std::string boundary = "xYzBoundary42";
    const std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + a.token},
                                                        {"Content-Type", "multipart/form-data; boundary=" + boundary}};

    // The part's filename is used when there is no X-File-Name, with the same rule: the
    // last path component only.
    auto named =
        http(port(), "POST", upload_target(chat, "image"),
             multipart_body(boundary, {{"name=\"file\"; filename=\"plain.png\"", media::png(3, 3, 43)}}), headers);
    ASSERT_TRUE(IsJson(named, 201));
    EXPECT_EQ(named.json()["file_name"], "plain.png");
    auto pathy =
        http(port(), "POST", upload_target(chat, "image"),
             multipart_body(boundary, {{"name=\"file\"; filename=\"../../etc/evil.png\"", media::png(3, 3, 44)}}),
             headers);
    ASSERT_TRUE(IsJson(pathy, 201));
    EXPECT_EQ(pathy.json()["file_name"], "evil.png") << "a multipart filename must lose its path like X-File-Name";

    // No part named "file", an unterminated body, no boundary: 400.
    EXPECT_TRUE(
        IsError(http(port(), "POST", upload_target(chat, "image"),
                     multipart_body(boundary, {{"name=\"photo\"; filename=\"a.png\"", media::png(3, 3, 45)}}), headers),
                400, "bad_request"))
        << "no part named file";
    EXPECT_TRUE(IsError(http(port(), "POST", upload_target(chat, "image"),
                             "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" +
                                 media::png(3, 3, 46),
                             headers),
                        400, "bad_request"))
        << "unterminated multipart body";
    EXPECT_TRUE(IsError(http(port(), "POST", upload_target(chat, "image"), media::png(3, 3, 47),
                             {{"Authorization", "Bearer " + a.token}, {"Content-Type", "multipart/form-data"}}),
                        400, "bad_request"))
        << "multipart without a boundary";
}

// Older curl escapes a quote in a file name with a backslash (filename="a\"b.png"). The parser
// ended the value at that quote and refused what was left, "a\" (400, field file_name). The
// backslash is a path separator (docs/api.md, Media), so the name is what follows it. And text
// inside quotes is never a parameter: a filename holding ";name=file;" does not name the part.
TEST_F(MediaTest, AMultipartFileNameWithABackslashEscapedQuoteKeepsWhatFollowsTheBackslash) {
    auto a = register_user(port(), "mq");
    auto b = register_user(port(), "mq");
    std::string chat = create_direct(port(), a, b)["id"];
    const std::string boundary = "curlBoundary7e1";
    const std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + a.token},
                                                        {"Content-Type", "multipart/form-data; boundary=" + boundary}};
    const auto bytes = media::png(5, 3, 48);

    auto escaped = http(port(), "POST", upload_target(chat, "image"),
                        multipart_body(boundary, {{R"(name="file"; filename="a\"b.png")", bytes}}), headers);
    ASSERT_TRUE(IsJson(escaped, 201)) << escaped.describe();
    EXPECT_EQ(escaped.json()["file_name"], "\"b.png");
    const auto message = send_media(port(), a, chat, "image", escaped.json()["id"]);
    EXPECT_EQ(download(port(), b, message["id"]).header("content-disposition"),
              "inline; filename=\"_b.png\"; filename*=UTF-8''%22b.png");

    auto smuggled =
        http(port(), "POST", upload_target(chat, "image"),
             multipart_body(boundary, {{R"(filename="a;name=file;"; name="photo")", media::png(5, 3, 49)}}), headers);
    EXPECT_TRUE(IsError(smuggled, 400, "bad_request")) << "the only part is named photo: " << smuggled.describe();
    auto quoted =
        http(port(), "POST", upload_target(chat, "image"),
             multipart_body(boundary, {{R"(filename="x; name=photo;.png"; name="file")", media::png(5, 3, 50)}}),
             headers);
    ASSERT_TRUE(IsJson(quoted, 201)) << quoted.describe();
    EXPECT_EQ(quoted.json()["file_name"], "x; name=photo;.png");
}

TEST(MediaLimitTest, UploadLimitIsEnforcedFromContentLengthAndWhileReadingChunks) {
    CONFAB_REQUIRE_DATABASE();
    ServerProcess server(chat_database_url(), ServerProcess::Options{{{"CONFAB_LIMIT_UPLOAD_BYTES", "4096"}},
                                                                     true,
                                                                     30s,
                                                                     "4 KiB upload confab"});
    const auto port = server.port();
    auto a = register_user(port, "mz");
    auto b = register_user(port, "mz");
    std::string chat = create_direct(port, a, b)["id"];

    // At the limit: accepted.
    auto at_limit = media::text_of_size(4096);
    auto ok = upload(port, a, chat, "file", at_limit);
    EXPECT_TRUE(IsJson(ok, 201));

    // One byte over, with Content-Length: 413.
    EXPECT_TRUE(IsError(upload(port, a, chat, "file", media::text_of_size(4097)), 413, "payload_too_large"));

    const std::string head = "POST " + upload_target(chat, "file") +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + a.token +
                             "\r\nContent-Type: text/plain\r\nConnection: close\r\n";

    // A huge Content-Length is refused before the body is read: the answer comes although
    // no body byte is ever sent.
    auto early = raw_exchange(port, head + "Content-Length: 104857600\r\n\r\n", 3s);
    EXPECT_EQ(first_line(early).rfind("HTTP/1.1 413", 0), 0u) << early.substr(0, 500);
    EXPECT_NE(early.find("payload_too_large"), std::string::npos) << early.substr(0, 500);

    // A chunked body is cut off with 413 as soon as it passes the limit.
    {
        std::ostringstream req;
        req << head << "Transfer-Encoding: chunked\r\n\r\n";
        auto chunk = media::text_of_size(1500);
        for (int i = 0; i < 4; ++i) req << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";
        req << "0\r\n\r\n";
        auto out = raw_exchange(port, req.str(), 5s);
        EXPECT_EQ(first_line(out).rfind("HTTP/1.1 413", 0), 0u) << out.substr(0, 500);
        EXPECT_NE(out.find("payload_too_large"), std::string::npos) << out.substr(0, 500);
    }
    // ... also when the rest of the body never comes (the limit is checked as bytes arrive).
    {
        std::ostringstream req;
        req << head << "Transfer-Encoding: chunked\r\n\r\n";
        auto chunk = media::text_of_size(5000);
        req << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";  // no terminating chunk
        auto out = raw_exchange(port, req.str(), 3s);
        EXPECT_EQ(first_line(out).rfind("HTTP/1.1 413", 0), 0u) << out.substr(0, 500);
    }
    // A chunked body under the limit is a normal upload.
    auto small = media::text_of_size(2000);
    {
        std::ostringstream req;
        req << head << "Transfer-Encoding: chunked\r\n\r\n";
        req << std::hex << 1000 << "\r\n" << small.substr(0, 1000) << "\r\n";
        req << std::hex << 1000 << "\r\n" << small.substr(1000) << "\r\n0\r\n\r\n";
        auto out = raw_exchange(port, req.str(), 5s);
        EXPECT_EQ(first_line(out).rfind("HTTP/1.1 201", 0), 0u) << out.substr(0, 500);
        EXPECT_NE(out.find(media::sha256_hex(small)), std::string::npos) << out.substr(0, 800);
    }

    // Refused bodies leave no temporary files behind: only the two accepted uploads are stored.
    EXPECT_TRUE(eventually([&] {
        for (const auto& p : all_files(server.media_dir())) {
            std::ifstream in(p, std::ios::binary);
            std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (content != at_limit && content != small) return false;
        }
        return true;
    })) << "unexpected files under "
        << server.media_dir();

    auto health = http(port, "GET", "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(server.terminate(10s), 0);
}

// ---------------------------------------------------------------------------------------------
// Idempotent re-upload

TEST_F(MediaTest, SameBytesBySameUserToSameChatReturnTheStoredMedia) {
    auto a = register_user(port(), "mi");
    auto b = register_user(port(), "mi");
    auto c = register_user(port(), "mi");
    std::string chat = create_group(port(), a, {b.id, c.id})["id"];
    std::string other_chat = create_direct(port(), a, b)["id"];
    auto bytes = media::png(7, 7, 50);

    auto first = upload(port(), a, chat, "image", bytes, {{"X-File-Name", "x.png"}});
    ASSERT_TRUE(IsJson(first, 201));
    auto again = upload(port(), a, chat, "image", bytes, {{"X-File-Name", "x.png"}});
    ASSERT_TRUE(IsJson(again, 200)) << "a blind retry returns the stored media with 200";
    EXPECT_EQ(again.json()["id"], first.json()["id"]);
    EXPECT_EQ(again.json(), first.json());

    // Another chat, or another user: a new media.
    auto elsewhere = upload(port(), a, other_chat, "image", bytes, {{"X-File-Name", "x.png"}});
    ASSERT_TRUE(IsJson(elsewhere, 201));
    EXPECT_NE(elsewhere.json()["id"], first.json()["id"]);
    auto by_b = upload(port(), b, chat, "image", bytes, {{"X-File-Name", "x.png"}});
    ASSERT_TRUE(IsJson(by_b, 201));
    EXPECT_NE(by_b.json()["id"], first.json()["id"]);
    EXPECT_NE(by_b.json()["id"], elsewhere.json()["id"]);
    for (const auto& r : {elsewhere, by_b}) {
        EXPECT_EQ(r.json()["sha256"], media::sha256_hex(bytes));
        EXPECT_EQ(r.json()["size_bytes"], bytes.size());
    }

    // Each is usable by its own uploader in its own chat.
    EXPECT_TRUE(IsMediaMessage(send_media(port(), a, chat, "image", first.json()["id"]), first.json(), "image"));
    EXPECT_TRUE(IsMediaMessage(send_media(port(), b, chat, "image", by_b.json()["id"]), by_b.json(), "image"));
    EXPECT_TRUE(
        IsMediaMessage(send_media(port(), a, other_chat, "image", elsewhere.json()["id"]), elsewhere.json(), "image"));

    // The bytes are stored once per content.
    EXPECT_EQ(files_with_content(server().media_dir(), bytes).size(), 1u);
}

TEST_F(MediaTest, SameBytesCanBeSentAgainAfterTheirFirstMessage) {
    // Posting the same photo twice in a chat is ordinary; the idempotent re-upload must not
    // turn the second post into "409 already attached".
    auto a = register_user(port(), "ma");
    auto b = register_user(port(), "ma");
    std::string chat = create_direct(port(), a, b)["id"];
    auto bytes = media::png(8, 8, 52);
    auto first = post_media(port(), a, chat, "image", bytes);

    auto again = upload(port(), a, chat, "image", bytes);
    ASSERT_TRUE(again.status == 200 || again.status == 201) << again.describe();
    auto r = send_message(port(), a, chat, {{"type", "image"}, {"media_id", again.json()["id"]}});
    ASSERT_TRUE(IsJson(r, 201)) << "re-uploading an already sent photo and sending it again: upload gave "
                                << again.describe();
    auto second = r.json();
    EXPECT_NE(second["id"], first["id"]);
    for (const auto& m : {first, second}) {
        auto d = download(port(), b, m["id"]);
        ASSERT_EQ(d.status, 200) << d.describe().substr(0, 300);
        EXPECT_TRUE(d.body == bytes);
    }
}

TEST_F(MediaTest, SameBytesCanBeUploadedAndSentAgainAfterTheirMediaWasRemoved) {
    auto a = register_user(port(), "ma");
    auto b = register_user(port(), "ma");
    std::string chat = create_direct(port(), a, b)["id"];
    auto bytes = media::png(8, 8, 53);
    auto first = post_media(port(), a, chat, "image", bytes);
    ASSERT_EQ(del(port(), a.token, media_url(first["id"])).status, 204);

    auto again = upload(port(), a, chat, "image", bytes);
    ASSERT_TRUE(again.status == 200 || again.status == 201) << again.describe();
    auto r = send_message(port(), a, chat, {{"type", "image"}, {"media_id", again.json()["id"]}});
    ASSERT_TRUE(IsJson(r, 201)) << "upload after removal gave " << again.describe();
    auto d = download(port(), b, r.json()["id"]);
    ASSERT_EQ(d.status, 200) << "the re-uploaded bytes must be stored again: " << d.describe().substr(0, 300);
    EXPECT_TRUE(d.body == bytes);
    EXPECT_EQ(files_with_content(server().media_dir(), bytes).size(), 1u);
}

TEST_F(MediaTest, SameBytesUploadedAsAnotherKindCanBeSentAsThatKind) {
    // A WebM is valid as voice and as video; a PNG as image and as file. Re-uploading the same
    // bytes with another kind must give media of the requested kind, not the earlier one.
    auto a = register_user(port(), "ma");
    auto b = register_user(port(), "ma");
    std::string chat = create_direct(port(), a, b)["id"];
    auto webm = media::webm(54);
    auto as_voice = upload_ok(port(), a, chat, "voice", webm);
    EXPECT_EQ(as_voice["kind"], "voice");
    auto as_video = upload(port(), a, chat, "video", webm);
    ASSERT_TRUE(as_video.status == 200 || as_video.status == 201) << as_video.describe();
    EXPECT_EQ(as_video.json()["kind"], "video") << as_video.describe();
    EXPECT_TRUE(IsJson(send_message(port(), a, chat, {{"type", "video"}, {"media_id", as_video.json()["id"]}}), 201));
    EXPECT_TRUE(IsJson(send_message(port(), a, chat, {{"type", "voice"}, {"media_id", as_voice["id"]}}), 201));

    auto png = media::png(4, 4, 54);
    upload_ok(port(), a, chat, "file", png);
    auto as_image = upload(port(), a, chat, "image", png);
    ASSERT_TRUE(as_image.status == 200 || as_image.status == 201) << as_image.describe();
    EXPECT_EQ(as_image.json()["kind"], "image") << as_image.describe();
}

TEST_F(MediaTest, ConcurrentIdenticalUploadsEndWithOneMedia) {
    auto a = register_user(port(), "mc");
    auto b = register_user(port(), "mc");
    std::string chat = create_direct(port(), a, b)["id"];
    auto bytes = media::png(120, 100, 51);  // ~36 KB, so the uploads overlap
    const int n = 8;

    std::vector<HttpResponse> results(n);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            ++ready;
            while (ready.load() < n) std::this_thread::yield();
            results[i] = guarded([&] {
                return upload(port(), a, chat, "image", bytes, {{"X-File-Name", "same.png"}});
            });
        });
    for (auto& t : threads) t.join();

    std::set<std::string> ids;
    int created = 0;
    for (const auto& r : results) {
        ASSERT_TRUE(r.status == 200 || r.status == 201) << r.describe();
        if (r.status == 201) ++created;
        auto j = r.json();
        ids.insert(j["id"].get<std::string>());
        EXPECT_EQ(j["sha256"], media::sha256_hex(bytes));
    }
    EXPECT_EQ(ids.size(), 1u) << "concurrent identical uploads made several media";
    EXPECT_EQ(created, 1) << "exactly one upload creates the media, the others get it back with 200";

    // That one media can be attached once.
    auto id = *ids.begin();
    auto m = send_media(port(), a, chat, "image", id);
    EXPECT_EQ(m["media"]["id"], id);
    EXPECT_TRUE(IsError(send_message(port(), a, chat, {{"type", "image"}, {"media_id", id}}), 409, "conflict"));
    EXPECT_EQ(files_with_content(server().media_dir(), bytes).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Media messages

TEST_F(MediaTest, SendImageVoiceVideoAndFileMessages) {
    auto a = register_user(port(), "mt");
    auto b = register_user(port(), "mt");
    std::string chat = create_direct(port(), a, b)["id"];
    auto ws_b = ws_connect(port(), b.token);

    struct Case {
        std::string type;
        std::string bytes;
        std::map<std::string, std::string> headers;
    };
    const std::vector<Case> cases = {
        {"image", media::png(8, 6, 60), {{"X-File-Name", "p.png"}, {"X-Media-Metadata", R"({"width":8,"height":6})"}}},
        {"voice", media::ogg_opus(60), {{"X-File-Name", "v.ogg"}, {"X-Media-Metadata", R"({"duration_ms":3000})"}}},
        {"video", media::mp4(60), {{"X-Media-Metadata", R"({"width":640,"height":480,"duration_ms":1500})"}}},
        {"file", media::text(60), {{"X-File-Name", "minutes.txt"}}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.type);
        auto up = upload_ok(port(), a, chat, c.type, c.bytes, c.headers);
        auto r =
            send_message(port(), a, chat, {{"type", c.type}, {"media_id", up["id"]}, {"content", "caption " + c.type}});
        ASSERT_TRUE(IsJson(r, 201));
        auto m = r.json();
        EXPECT_TRUE(IsMediaMessage(m, up, c.type));
        EXPECT_EQ(m["content"], "caption " + c.type);
        EXPECT_EQ(m["media"]["url"], "/api/v1/messages/" + m["id"].get<std::string>() + "/media");
        for (const char* k : {"width", "height", "duration_ms"})
            EXPECT_EQ(m["media"].value(k, json()), up.value(k, json())) << k;

        // Stored as sent, and announced with the media.
        EXPECT_EQ(get_message(port(), b, m["id"]), m);
        auto ev = wait_for(*ws_b, "message.new", about_message(m["id"]));
        ASSERT_TRUE(ev.has_value()) << "no message.new for the " << c.type << " message";
        EXPECT_EQ((*ev)["data"]["message"], m);
    }

    // A media message without media_id, or with one that is not a UUID: 400.
    for (const std::string type : {"image", "voice", "video", "file"}) {
        EXPECT_TRUE(
            IsError(send_message(port(), a, chat, {{"type", type}, {"content", "no media"}}), 400, "bad_request"))
            << type;
        EXPECT_TRUE(IsError(send_message(port(), a, chat, {{"type", type}, {"media_id", "nope"}}), 400, "bad_request"))
            << type;
    }
    // Nor on any other message: a text or a place with a media_id that is no UUID was a 500
    // (the database refused it), now sent scheduled too.
    const json place = {{"location", {{"latitude", 1.5}, {"longitude", 2.5}}}};
    for (const auto& body : {json{{"type", "text"}, {"content", "hi"}, {"media_id", "x"}},
                             json{{"type", "location"}, {"metadata", place}, {"media_id", ""}}}) {
        const auto sent = send_message(port(), a, chat, body);
        EXPECT_TRUE(IsError(sent, 400, "bad_request")) << body.dump();
        EXPECT_EQ(sent.json()["error"]["details"].value("field", ""), "media_id") << sent.body;
        auto scheduled = body;
        scheduled["send_at"] = timestamp_from_now(std::chrono::hours(1));
        EXPECT_TRUE(
            IsError(post(port(), a.token, chat_url(chat) + "/scheduled-messages", scheduled), 400, "bad_request"))
            << scheduled.dump();
    }
}

TEST_F(MediaTest, SendMediaMessageOverWebSocket) {
    auto a = register_user(port(), "mv");
    auto b = register_user(port(), "mv");
    std::string chat = create_direct(port(), a, b)["id"];
    auto up =
        upload_ok(port(), a, chat, "voice", media::wav(800, 61), {{"X-Media-Metadata", R"({"duration_ms":100})"}});

    auto ws = ws_connect(port(), a.token);
    auto ack = ws->request("message.send", {{"chat_id", chat}, {"type", "voice"}, {"media_id", up["id"]}});
    ASSERT_TRUE(IsAck(ack)) << ack.dump();
    EXPECT_TRUE(IsMediaMessage(ack["data"]["message"], up, "voice"));

    // Re-using the attached upload over the WebSocket is a conflict too.
    auto again = ws->request("message.send", {{"chat_id", chat}, {"type", "voice"}, {"media_id", up["id"]}});
    EXPECT_TRUE(IsWsError(again, "conflict")) << again.dump();
}

TEST_F(MediaTest, MediaIdMustBeTheSendersUploadToThatChatOfTheSameKind) {
    auto a = register_user(port(), "mk");
    auto b = register_user(port(), "mk");
    auto c = register_user(port(), "mk");
    std::string chat = create_group(port(), a, {b.id})["id"];
    std::string other = create_direct(port(), a, c)["id"];

    auto bs_upload = upload_ok(port(), b, chat, "image", media::png(3, 3, 70));
    auto other_chat_upload = upload_ok(port(), a, other, "image", media::png(3, 3, 71));
    auto image_upload = upload_ok(port(), a, chat, "image", media::png(3, 3, 72));
    auto file_upload = upload_ok(port(), a, chat, "file", media::text(72));

    // Another user's upload to the same chat.
    EXPECT_TRUE(
        IsError(send_message(port(), a, chat, {{"type", "image"}, {"media_id", bs_upload["id"]}}), 400, "bad_request"));
    // The sender's own upload, but to another chat.
    EXPECT_TRUE(IsError(send_message(port(), a, chat, {{"type", "image"}, {"media_id", other_chat_upload["id"]}}), 400,
                        "bad_request"));
    // Kind and message type differ.
    EXPECT_TRUE(IsError(send_message(port(), a, chat, {{"type", "voice"}, {"media_id", image_upload["id"]}}), 400,
                        "bad_request"));
    EXPECT_TRUE(IsError(send_message(port(), a, chat, {{"type", "video"}, {"media_id", image_upload["id"]}}), 400,
                        "bad_request"));
    EXPECT_TRUE(IsError(send_message(port(), a, chat, {{"type", "image"}, {"media_id", file_upload["id"]}}), 400,
                        "bad_request"));
    // No such upload.
    EXPECT_TRUE(
        IsError(send_message(port(), a, chat, {{"type", "image"}, {"media_id", random_uuid()}}), 400, "bad_request"));
    // Nothing was stored by the refused sends.
    {
        auto history = all_messages(port(), a, chat);
        EXPECT_TRUE(std::none_of(history.begin(), history.end(), [](const json& m) { return m["type"] != "system"; }))
            << "a refused send stored a message";
    }

    // The right combination works once; a second message with the same upload is 409.
    auto m = send_media(port(), a, chat, "image", image_upload["id"]);
    EXPECT_TRUE(IsMediaMessage(m, image_upload, "image"));
    EXPECT_TRUE(
        IsError(send_message(port(), a, chat, {{"type", "image"}, {"media_id", image_upload["id"]}}), 409, "conflict"));
    // b can still use their own upload; the other chat's upload works in its chat.
    EXPECT_TRUE(IsMediaMessage(send_media(port(), b, chat, "image", bs_upload["id"]), bs_upload, "image"));
    EXPECT_TRUE(
        IsMediaMessage(send_media(port(), a, other, "image", other_chat_upload["id"]), other_chat_upload, "image"));
}

TEST_F(MediaTest, CaptionOfAMediaMessageCanBeEdited) {
    auto a = register_user(port(), "me");
    auto b = register_user(port(), "me");
    std::string chat = create_direct(port(), a, b)["id"];
    auto up = upload_ok(port(), a, chat, "image", media::png(4, 4, 80));
    auto m = send_media(port(), a, chat, "image", up["id"], {{"content", "before"}});

    auto r = put(port(), a.token, message_url(m["id"]), {{"content", "after"}});
    ASSERT_TRUE(IsJson(r, 200));
    auto edited = r.json();
    EXPECT_EQ(edited["content"], "after");
    EXPECT_EQ(edited["is_edited"], true);
    EXPECT_EQ(edited["media"], m["media"]);
    EXPECT_GT(edited["version"].get<std::int64_t>(), m["version"].get<std::int64_t>());
}

// ---------------------------------------------------------------------------------------------
// Download

TEST_F(MediaTest, DownloadReturnsTheBytesWithTheDocumentedHeaders) {
    auto a = register_user(port(), "md");
    auto b = register_user(port(), "md");
    std::string chat = create_direct(port(), a, b)["id"];

    auto png = media::png(9, 9, 90);
    auto img = post_media(port(), a, chat, "image", png, {{"X-File-Name", "holiday.png"}});
    for (const auto* u : {&a, &b}) {
        SCOPED_TRACE(u->username);
        auto d = download(port(), *u, img["id"]);
        ASSERT_EQ(d.status, 200) << d.describe().substr(0, 300);
        EXPECT_TRUE(d.body == png) << "downloaded bytes differ";
        EXPECT_EQ(d.header("content-type"), "image/png");
        EXPECT_EQ(d.header("content-length"), std::to_string(png.size()));
        EXPECT_EQ(d.header("etag"), "\"" + media::sha256_hex(png) + "\"");
        EXPECT_NE(d.header("cache-control").find("private"), std::string::npos) << d.header("cache-control");
        EXPECT_EQ(d.header("x-content-type-options"), "nosniff");
        EXPECT_EQ(d.header("accept-ranges"), "bytes");
        auto cd = d.header("content-disposition");
        EXPECT_EQ(cd.rfind("inline", 0), 0u) << cd;
        EXPECT_NE(cd.find("holiday.png"), std::string::npos) << cd;
    }

    // A file is an attachment, and its type is the sniffed one.
    auto txt = media::text(90);
    auto file = post_media(port(), a, chat, "file", txt, {{"X-File-Name", "minutes.txt"}});
    auto d = download(port(), b, file["id"]);
    ASSERT_EQ(d.status, 200) << d.describe();
    EXPECT_EQ(d.body, txt);
    EXPECT_EQ(d.header("content-type").rfind("text/plain", 0), 0u) << d.header("content-type");
    auto cd = d.header("content-disposition");
    EXPECT_EQ(cd.rfind("attachment", 0), 0u) << cd;
    EXPECT_NE(cd.find("minutes.txt"), std::string::npos) << cd;
    EXPECT_EQ(d.header("x-content-type-options"), "nosniff");

    // A name that is not plain ASCII also travels percent-encoded (RFC 6266 filename*).
    auto accented =
        post_media(port(), a, chat, "file", media::text(91), {{"X-File-Name", "r\xC3\xA9sum\xC3\xA9 1.txt"}});
    EXPECT_EQ(download(port(), b, accented["id"]).header("content-disposition"),
              "attachment; filename=\"r__sum__ 1.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.txt");

    // Voice and video are inline too.
    auto ogg = media::ogg_opus(90);
    auto voice = post_media(port(), a, chat, "voice", ogg);
    auto dv = download(port(), a, voice["id"]);
    ASSERT_EQ(dv.status, 200);
    EXPECT_TRUE(dv.body == ogg);
    EXPECT_EQ(dv.header("content-type"), "audio/ogg");
    EXPECT_EQ(dv.header("content-disposition").rfind("inline", 0), 0u) << dv.header("content-disposition");
    auto mp4 = media::mp4(90);
    auto video = post_media(port(), a, chat, "video", mp4);
    auto dm = download(port(), b, video["id"]);
    ASSERT_EQ(dm.status, 200);
    EXPECT_TRUE(dm.body == mp4);
    EXPECT_EQ(dm.header("content-type"), "video/mp4");
    EXPECT_EQ(dm.header("content-disposition").rfind("inline", 0), 0u) << dm.header("content-disposition");
}

TEST_F(MediaTest, IfNoneMatchWithTheETagIs304) {
    auto a = register_user(port(), "mn");
    auto b = register_user(port(), "mn");
    std::string chat = create_direct(port(), a, b)["id"];
    auto png = media::png(5, 5, 91);
    auto m = post_media(port(), a, chat, "image", png);
    const std::string etag = "\"" + media::sha256_hex(png) + "\"";

    auto not_modified = download(port(), b, m["id"], {{"If-None-Match", etag}});
    EXPECT_EQ(not_modified.status, 304) << not_modified.describe().substr(0, 300);
    EXPECT_TRUE(not_modified.body.empty());
    EXPECT_EQ(not_modified.header("etag"), etag);
    EXPECT_FALSE(not_modified.has_header("content-length")) << "a 304's length would be its 200's (RFC 9110 8.6)";
    EXPECT_FALSE(not_modified.has_header("content-type"));

    auto other_etag = download(port(), b, m["id"], {{"If-None-Match", "\"" + std::string(64, '0') + "\""}});
    EXPECT_EQ(other_etag.status, 200);
    EXPECT_TRUE(other_etag.body == png);

    auto star = download(port(), b, m["id"], {{"If-None-Match", "*"}});
    EXPECT_EQ(star.status, 304) << star.describe().substr(0, 200);
}

TEST_F(MediaTest, IfNoneMatchAcceptsAListAndWeakTags) {
    // Beyond docs/api.md ("If-None-Match with the ETag is 304"): RFC 9110 makes the header a
    // list of entity tags compared weakly, which is what caches send.
    auto a = register_user(port(), "mn");
    auto b = register_user(port(), "mn");
    std::string chat = create_direct(port(), a, b)["id"];
    auto png = media::png(5, 5, 94);
    auto m = post_media(port(), a, chat, "image", png);
    const std::string etag = "\"" + media::sha256_hex(png) + "\"";

    auto list = download(port(), b, m["id"], {{"If-None-Match", "\"abc\", " + etag}});
    EXPECT_EQ(list.status, 304) << "the ETag in a list of candidates matches: " << list.describe().substr(0, 200);
    auto weak = download(port(), b, m["id"], {{"If-None-Match", "W/" + etag}});
    EXPECT_EQ(weak.status, 304) << "If-None-Match uses the weak comparison: " << weak.describe().substr(0, 200);

    // The list given as repeated lines is the same list (RFC 9110 5.3); a Range given twice
    // is no single range, and gets the whole file.
    const auto raw_download = [&](const std::string& fields) {
        return raw_exchange(port(),
                            "GET " + media_url(m["id"]) +
                                " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                "Authorization: Bearer " +
                                b.token + "\r\n" + fields + "\r\n",
                            5s);
    };
    const auto lines = raw_download("If-None-Match: \"abc\"\r\nIf-None-Match: " + etag + "\r\n");
    EXPECT_EQ(raw_status(lines), 304) << lines.substr(0, 300);
    const auto ranges = raw_download("Range: bytes=0-1\r\nRange: bytes=2-3\r\n");
    EXPECT_EQ(raw_status(ranges), 200) << ranges.substr(0, 300);
    EXPECT_EQ(raw_body(ranges), png);
}

TEST_F(MediaTest, SingleRangeRequestsAre206AndPastTheEndIs416) {
    auto a = register_user(port(), "mr");
    auto b = register_user(port(), "mr");
    std::string chat = create_direct(port(), a, b)["id"];
    auto wav = media::wav(600, 92);
    const std::size_t size = wav.size();
    const std::string total = std::to_string(size);
    auto m = post_media(port(), a, chat, "voice", wav);
    const std::string id = m["id"];

    struct Case {
        std::string range;
        std::size_t first, last;
    };
    const std::vector<Case> ok = {
        {"bytes=0-0", 0, 0},
        {"bytes=10-19", 10, 19},
        {"bytes=-5", size - 5, size - 1},
        {"bytes=5-", 5, size - 1},
        {"bytes=0-" + std::to_string(size - 1), 0, size - 1},
        {"bytes=" + std::to_string(size - 4) + "-" + std::to_string(size + 1000), size - 4, size - 1},  // end clamped
    };
    for (const auto& c : ok) {
        SCOPED_TRACE(c.range);
        auto r = download(port(), b, id, {{"Range", c.range}});
        ASSERT_EQ(r.status, 206) << r.describe().substr(0, 300);
        EXPECT_EQ(r.body, wav.substr(c.first, c.last - c.first + 1));
        EXPECT_EQ(r.header("content-range"),
                  "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + "/" + total);
        EXPECT_EQ(r.header("content-length"), std::to_string(c.last - c.first + 1));
        EXPECT_EQ(r.header("content-type"), "audio/x-wav");
    }

    for (const std::string& range :
         {"bytes=" + total + "-", "bytes=" + std::to_string(size + 10) + "-" + std::to_string(size + 20)}) {
        auto r = download(port(), b, id, {{"Range", range}});
        EXPECT_EQ(r.status, 416) << range << ": " << r.describe().substr(0, 300);
        EXPECT_EQ(r.header("content-range"), "bytes */" + total) << range;
    }

    // Several ranges, or a header that is not a byte range: the whole file with 200.
    for (const std::string range : {"bytes=0-1,5-6", "bytes=abc", "items=0-5", "bytes=9-3"}) {
        auto r = download(port(), b, id, {{"Range", range}});
        EXPECT_EQ(r.status, 200) << range << ": " << r.describe().substr(0, 300);
        EXPECT_TRUE(r.body == wav) << range;
        EXPECT_FALSE(r.has_header("content-range")) << range;
    }

    // If-Range: the range only while the client's copy is this one (its strong entity tag).
    const auto etag = download(port(), b, id).header("etag");
    EXPECT_EQ(download(port(), b, id, {{"Range", "bytes=0-9"}, {"If-Range", etag}}).status, 206);
    for (const std::string& validator :
         {std::string("\"stale\""), "W/" + etag, std::string("Sat, 01 Jan 2000 00:00:00 GMT")}) {
        auto r = download(port(), b, id, {{"Range", "bytes=0-9"}, {"If-Range", validator}});
        EXPECT_EQ(r.status, 200) << validator;
        EXPECT_TRUE(r.body == wav) << validator;
    }
}

TEST_F(MediaTest, OnlyMembersCanDownload) {
    auto a = register_user(port(), "mb");
    auto b = register_user(port(), "mb");
    auto c = register_user(port(), "mb");
    std::string chat = create_group(port(), a, {b.id, c.id})["id"];
    auto png = media::png(4, 4, 93);
    auto m = post_media(port(), a, chat, "image", png);
    auto stranger = register_user(port(), "mb");

    EXPECT_TRUE(IsError(download(port(), stranger, m["id"]), 404, "not_found"));
    // Conditional and range requests reveal nothing either.
    EXPECT_TRUE(IsError(download(port(), stranger, m["id"], {{"If-None-Match", "\"" + media::sha256_hex(png) + "\""}}),
                        404, "not_found"));
    EXPECT_TRUE(IsError(download(port(), stranger, m["id"], {{"Range", "bytes=0-3"}}), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), stranger.token, gallery_url(chat)), 404, "not_found"));
    auto no_token = http(port(), "GET", media_url(m["id"]));
    EXPECT_TRUE(IsError(no_token, 401, "unauthorized"));
    EXPECT_TRUE(IsError(download(port(), a, random_uuid()), 404, "not_found")) << "unknown message";
    auto text = send_text(port(), a, chat, "no media here");
    EXPECT_TRUE(IsError(download(port(), a, text["id"]), 404, "not_found")) << "a text message has no media";

    // A member who is removed loses access at once.
    EXPECT_EQ(download(port(), c, m["id"]).status, 200);
    ASSERT_EQ(del(port(), a.token, member_url(chat, c.id)).status, 204);
    EXPECT_TRUE(IsError(download(port(), c, m["id"]), 404, "not_found"));
    EXPECT_EQ(download(port(), b, m["id"]).status, 200);
}

// ---------------------------------------------------------------------------------------------
// Removal

TEST_F(MediaTest, SenderRemovesMediaTheMessageStaysWithMediaNull) {
    auto a = register_user(port(), "mr");
    auto b = register_user(port(), "mr");
    std::string chat = create_direct(port(), a, b)["id"];
    auto png = media::png(6, 6, 100);
    auto m = post_media(port(), a, chat, "image", png);
    const std::string id = m["id"];
    ASSERT_EQ(files_with_content(server().media_dir(), png).size(), 1u);

    auto ws_a = ws_connect(port(), a.token);
    auto ws_b = ws_connect(port(), b.token);
    auto r = del(port(), a.token, media_url(id));
    ASSERT_EQ(r.status, 204) << r.describe();

    for (auto* ws : {ws_a.get(), ws_b.get()}) {
        auto ev = wait_for(*ws, "message.updated", about_message(id));
        ASSERT_TRUE(ev.has_value()) << "no message.updated after the media removal";
        const auto& em = (*ev)["data"]["message"];
        EXPECT_TRUE(IsMessageModel(em));
        EXPECT_TRUE(em["media"].is_null()) << em.dump();
        EXPECT_EQ(em["type"], "image");
        EXPECT_EQ(em["is_deleted"], false);
    }

    auto after = get_message(port(), b, id);
    EXPECT_TRUE(after["media"].is_null()) << after.dump();
    EXPECT_EQ(after["is_deleted"], false);
    EXPECT_EQ(after["seq"], m["seq"]);
    EXPECT_GT(after["version"].get<std::int64_t>(), m["version"].get<std::int64_t>());
    EXPECT_EQ(get_chat(port(), a, chat)["version"], after["version"]) << "the removal took the chat's latest version";

    EXPECT_TRUE(IsError(download(port(), a, id), 404, "not_found"));
    EXPECT_TRUE(IsError(download(port(), b, id), 404, "not_found"));
    EXPECT_TRUE(eventually([&] { return files_with_content(server().media_dir(), png).empty(); }))
        << "the bytes are still in storage";

    // The removal is in the state sync.
    auto sync = get(port(), b.token, chat_messages_url(chat) + "?since_version=" + m["version"].dump());
    ASSERT_TRUE(IsJson(sync, 200));
    auto msgs = sync.json()["messages"];
    ASSERT_FALSE(msgs.empty());
    EXPECT_EQ(msgs.back()["id"], id);
    EXPECT_TRUE(msgs.back()["media"].is_null());
}

TEST_F(MediaTest, OnlyTheSenderOrAGroupAdminRemovesMedia) {
    auto owner = register_user(port(), "mg");
    auto sender = register_user(port(), "mg");
    auto member = register_user(port(), "mg");
    auto admin = register_user(port(), "mg");
    auto stranger = register_user(port(), "mg");
    std::string chat = create_group(port(), owner, {sender.id, member.id, admin.id})["id"];
    set_role(port(), owner, chat, admin.id, "admin");

    auto m1 = post_media(port(), sender, chat, "image", media::png(3, 3, 110));
    auto m2 = post_media(port(), sender, chat, "file", media::text(110));
    auto m3 = post_media(port(), sender, chat, "voice", media::wav(10, 110));

    EXPECT_TRUE(IsError(del(port(), member.token, media_url(m1["id"])), 403, "forbidden"));
    EXPECT_TRUE(IsError(del(port(), stranger.token, media_url(m1["id"])), 404, "not_found"));
    EXPECT_FALSE(get_message(port(), member, m1["id"])["media"].is_null()) << "a refused removal changed nothing";
    EXPECT_EQ(download(port(), member, m1["id"]).status, 200);

    EXPECT_EQ(del(port(), admin.token, media_url(m1["id"])).status, 204);
    EXPECT_EQ(del(port(), owner.token, media_url(m2["id"])).status, 204);
    EXPECT_EQ(del(port(), sender.token, media_url(m3["id"])).status, 204);
    for (const auto& m : {m1, m2, m3}) {
        EXPECT_TRUE(get_message(port(), member, m["id"])["media"].is_null());
        EXPECT_TRUE(IsError(download(port(), sender, m["id"]), 404, "not_found"));
    }

    // In a direct chat, the other member cannot remove the sender's media.
    std::string direct = create_direct(port(), sender, member)["id"];
    auto d = post_media(port(), sender, direct, "image", media::png(3, 3, 111));
    EXPECT_TRUE(IsError(del(port(), member.token, media_url(d["id"])), 403, "forbidden"));
    EXPECT_EQ(download(port(), member, d["id"]).status, 200);
}

TEST_F(MediaTest, DeletingTheMessageRemovesItsMedia) {
    auto a = register_user(port(), "mq");
    auto b = register_user(port(), "mq");
    std::string chat = create_direct(port(), a, b)["id"];
    auto mp4 = media::mp4(120);
    auto m = post_media(port(), a, chat, "video", mp4);
    ASSERT_EQ(download(port(), b, m["id"]).status, 200);

    ASSERT_EQ(del(port(), a.token, message_url(m["id"])).status, 204);
    auto after = get_message(port(), b, m["id"]);
    EXPECT_EQ(after["is_deleted"], true);
    EXPECT_TRUE(after["media"].is_null());
    EXPECT_TRUE(IsError(download(port(), a, m["id"]), 404, "not_found"));
    EXPECT_TRUE(IsError(download(port(), b, m["id"]), 404, "not_found"));
    // Nothing left to remove on a deleted message: 404 (its media is gone) or 409 (the message
    // is deleted, as for edits and reactions) -- the docs do not say which.
    auto again = del(port(), a.token, media_url(m["id"]));
    EXPECT_TRUE(again.status == 404 ? IsError(again, 404, "not_found") : IsError(again, 409, "conflict"));
    EXPECT_TRUE(eventually([&] { return files_with_content(server().media_dir(), mp4).empty(); }))
        << "the bytes of a deleted message are still in storage";
}

TEST_F(MediaTest, SharedBytesStayUntilTheLastUseIsRemoved) {
    auto a = register_user(port(), "mh");
    auto b = register_user(port(), "mh");
    std::string chat = create_direct(port(), a, b)["id"];
    auto png = media::png(10, 10, 130);
    auto ma = post_media(port(), a, chat, "image", png);
    auto mb = post_media(port(), b, chat, "image", png);
    EXPECT_NE(ma["media"]["id"], mb["media"]["id"]);
    EXPECT_EQ(files_with_content(server().media_dir(), png).size(), 1u) << "stored once per content";

    ASSERT_EQ(del(port(), a.token, media_url(ma["id"])).status, 204);
    auto d = download(port(), a, mb["id"]);
    ASSERT_EQ(d.status, 200) << "b's media must survive the removal of a's: " << d.describe().substr(0, 300);
    EXPECT_TRUE(d.body == png);

    ASSERT_EQ(del(port(), b.token, message_url(mb["id"])).status, 204);
    EXPECT_TRUE(eventually([&] { return files_with_content(server().media_dir(), png).empty(); }))
        << "the bytes are still in storage after their last use was removed";
}

TEST_F(MediaTest, RemovalRacingAReuploadOfTheSameBytesKeepsTheNewUpload) {
    // a removes their media while b uploads the same bytes: whichever order the server sees,
    // b's upload must end up with its bytes in storage.
    auto a = register_user(port(), "mj");
    auto b = register_user(port(), "mj");
    std::string chat = create_direct(port(), a, b)["id"];
    for (int i = 0; i < 15; ++i) {
        SCOPED_TRACE("round " + std::to_string(i));
        auto bytes = media::png(64, 64, static_cast<std::uint8_t>(160 + i));
        auto ma = post_media(port(), a, chat, "image", bytes);
        HttpResponse removed, uploaded;
        std::atomic<int> ready{0};
        std::thread t1([&] {
            ++ready;
            while (ready.load() < 2) std::this_thread::yield();
            removed = guarded([&] { return del(port(), a.token, media_url(ma["id"])); });
        });
        std::thread t2([&] {
            ++ready;
            while (ready.load() < 2) std::this_thread::yield();
            uploaded = guarded([&] { return upload(port(), b, chat, "image", bytes); });
        });
        t1.join();
        t2.join();
        ASSERT_EQ(removed.status, 204) << removed.describe();
        ASSERT_EQ(uploaded.status, 201) << uploaded.describe();
        auto mb = send_media(port(), b, chat, "image", uploaded.json()["id"]);
        auto d = download(port(), a, mb["id"]);
        ASSERT_EQ(d.status, 200) << "b's bytes were lost to a's concurrent removal: " << d.describe().substr(0, 300);
        EXPECT_TRUE(d.body == bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// Gallery

TEST_F(MediaTest, GalleryIsNewestFirstFilteredByKindAndPaginated) {
    auto a = register_user(port(), "my");
    auto b = register_user(port(), "my");
    auto c = register_user(port(), "my");
    std::string chat = create_group(port(), a, {b.id})["id"];

    auto m1 = post_media(port(), a, chat, "image", media::png(3, 3, 140));
    send_text(port(), b, chat, "nice");
    auto m3 = post_media(port(), b, chat, "voice", media::wav(20, 140));
    auto m4 = post_media(port(), b, chat, "image", media::gif(2, 2, 140));
    auto m5 = post_media(port(), a, chat, "file", media::text(140));
    auto m6 = post_media(port(), a, chat, "image", media::jpeg(8, 8, 140));  // deleted below
    auto m7 = post_media(port(), a, chat, "video", media::mp4(140));
    auto m8 = post_media(port(), a, chat, "image", media::png(3, 3, 141));  // media removed below
    send_text(port(), a, chat, "that's all");
    auto m9 = post_media(port(), b, chat, "image", media::png(3, 3, 142));
    ASSERT_EQ(del(port(), a.token, message_url(m6["id"])).status, 204);
    ASSERT_EQ(del(port(), a.token, media_url(m8["id"])).status, 204);

    auto page = [&](const TestUser& u, const std::string& query) {
        return expect_json(get(port(), u.token, gallery_url(chat) + query), 200, "GET gallery " + query);
    };
    auto ids = [](std::initializer_list<json> ms) {
        std::vector<std::string> out;
        for (const auto& m : ms) out.push_back(m["id"]);
        return out;
    };

    auto all = page(b, "");
    ASSERT_TRUE(all.contains("messages") && all["messages"].is_array() && all.contains("next_cursor")) << all.dump();
    EXPECT_EQ(message_ids(all), ids({m9, m7, m5, m4, m3, m1}));
    EXPECT_TRUE(all["next_cursor"].is_null()) << all.dump();
    for (const auto& m : all["messages"]) {
        EXPECT_TRUE(IsMessageModel(m));
        EXPECT_TRUE(m["media"].is_object() && IsMediaModel(m["media"], media_url(m["id"].get<std::string>())))
            << m.dump();
    }
    EXPECT_EQ(all["messages"][0], get_message(port(), a, m9["id"]));

    EXPECT_EQ(message_ids(page(a, "?kind=image")), ids({m9, m4, m1}));
    EXPECT_EQ(message_ids(page(a, "?kind=voice")), ids({m3}));
    EXPECT_EQ(message_ids(page(a, "?kind=video")), ids({m7}));
    EXPECT_EQ(message_ids(page(a, "?kind=file")), ids({m5}));

    // Pages of two: next_cursor is the smallest seq returned, null when nothing older exists.
    auto p1 = page(a, "?limit=2");
    EXPECT_EQ(message_ids(p1), ids({m9, m7}));
    EXPECT_EQ(p1["next_cursor"], m7["seq"]);
    auto p2 = page(a, "?limit=2&before_seq=" + p1["next_cursor"].dump());
    EXPECT_EQ(message_ids(p2), ids({m5, m4}));
    EXPECT_EQ(p2["next_cursor"], m4["seq"]);
    auto p3 = page(a, "?limit=2&before_seq=" + p2["next_cursor"].dump());
    EXPECT_EQ(message_ids(p3), ids({m3, m1}));
    EXPECT_TRUE(p3["next_cursor"].is_null()) << "nothing older than the last page: " << p3.dump();

    auto i1 = page(a, "?kind=image&limit=2");
    EXPECT_EQ(message_ids(i1), ids({m9, m4}));
    EXPECT_EQ(i1["next_cursor"], m4["seq"]);
    auto i2 = page(a, "?kind=image&limit=2&before_seq=" + i1["next_cursor"].dump());
    EXPECT_EQ(message_ids(i2), ids({m1}));
    EXPECT_TRUE(i2["next_cursor"].is_null()) << i2.dump();

    auto older = page(a, "?before_seq=" + m1["seq"].dump());
    EXPECT_EQ(older["messages"], json::array());
    EXPECT_TRUE(older["next_cursor"].is_null());

    // Bad parameters and non-members.
    for (const std::string q :
         {"?kind=text", "?kind=bogus", "?limit=0", "?limit=201", "?limit=x", "?before_seq=abc", "?before_seq=-1"})
        EXPECT_TRUE(IsError(get(port(), a.token, gallery_url(chat) + q), 400, "bad_request")) << q;
    EXPECT_TRUE(IsError(get(port(), c.token, gallery_url(chat)), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), a.token, gallery_url(random_uuid())), 404, "not_found"));
}

// Delete for me (POST /messages/{id}/hide) takes a message out of the hider's gallery only.
TEST_F(MediaTest, AHiddenMessageLeavesTheHidersGalleryOnly) {
    auto a = register_user(port(), "my");
    auto b = register_user(port(), "my");
    std::string chat = create_direct(port(), a, b)["id"];
    auto kept = post_media(port(), a, chat, "image", media::png(3, 3, 151));
    auto hidden = post_media(port(), a, chat, "image", media::png(3, 3, 152));
    ASSERT_EQ(post(port(), b.token, message_url(hidden["id"]) + "/hide").status, 204);

    auto gallery_of = [&](const TestUser& u) {
        return message_ids(expect_json(get(port(), u.token, gallery_url(chat)), 200, "GET gallery"));
    };
    EXPECT_EQ(gallery_of(b), std::vector<std::string>{kept["id"].get<std::string>()});
    EXPECT_EQ(gallery_of(a), (std::vector<std::string>{hidden["id"], kept["id"]})) << "the sender did not hide it";
}

TEST_F(MediaTest, GalleryOfAChatWithoutMediaIsEmpty) {
    auto a = register_user(port(), "my");
    auto b = register_user(port(), "my");
    std::string chat = create_direct(port(), a, b)["id"];
    send_text(port(), a, chat, "just text");
    upload_ok(port(), a, chat, "image", media::png(3, 3, 150));  // uploaded, never attached
    auto r = get(port(), b.token, gallery_url(chat));
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json()["messages"], json::array());
    EXPECT_TRUE(r.json()["next_cursor"].is_null());
}

// docs/api.md, Messages: a media message's caption is optional, so an edit may remove it as a
// send may leave it out; a text message still needs content.
TEST_F(MediaTest, AnEditRemovesAMediaCaptionButATextNeedsContent) {
    auto a = register_user(port(), "cap");
    auto b = register_user(port(), "cap");
    const std::string chat = create_direct(port(), a, b)["id"];
    auto media = upload_ok(port(), a, chat, "image", media::png(16, 16, 3));
    auto image = send_media(port(), a, chat, "image", media.at("id"), {{"content", ""}});
    auto captioned = put(port(), a.token, message_url(image["id"]), {{"content", "a caption"}});
    ASSERT_TRUE(IsJson(captioned, 200)) << captioned.body;
    EXPECT_EQ(captioned.json()["content"], "a caption");
    auto removed = put(port(), a.token, message_url(image["id"]), {{"content", ""}});
    ASSERT_TRUE(IsJson(removed, 200)) << removed.body;
    EXPECT_EQ(removed.json()["content"], "");
    EXPECT_EQ(get_message(port(), b, image["id"])["content"], "");
    auto ws = ws_connect(port(), a.token);
    auto over_ws = ws_request(*ws, "message.edit", {{"message_id", image["id"]}, {"content", ""}});
    EXPECT_TRUE(IsAck(over_ws)) << over_ws.dump();

    auto text = send_text(port(), a, chat, "words");
    EXPECT_TRUE(IsError(put(port(), a.token, message_url(text["id"]), {{"content", ""}}), 400, "bad_request"));
}

}  // namespace
}  // namespace confab::test
