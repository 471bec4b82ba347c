#include "support/media_fixtures.hpp"

#include "support/api.hpp"
#include "support/source_tree.hpp"

#include <array>
#include <cstdio>
#include <cstring>

namespace confab::test::media {
namespace {

void put_be16(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>((v >> 8) & 0xFF));
    s.push_back(static_cast<char>(v & 0xFF));
}
void put_be32(std::string& s, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_le16(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>(v & 0xFF));
    s.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put_le32(std::string& s, std::uint32_t v) {
    for (int shift = 0; shift <= 24; shift += 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_le64(std::string& s, std::uint64_t v) {
    for (int shift = 0; shift <= 56; shift += 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_u8(std::string& s, unsigned v) { s.push_back(static_cast<char>(v & 0xFF)); }

// ---- PNG ----------------------------------------------------------------------------------

void png_chunk(std::string& out, const char* type, const std::string& data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    std::string td(type, 4);
    td += data;
    out += td;
    put_be32(out, crc32(td));
}

// zlib stream of stored (uncompressed) deflate blocks.
std::string zlib_stored(const std::string& raw) {
    std::string z;
    z.push_back(static_cast<char>(0x78));
    z.push_back(static_cast<char>(0x01));  // (0x78 << 8 | 0x01) % 31 == 0
    std::size_t pos = 0;
    do {
        std::size_t n = std::min<std::size_t>(raw.size() - pos, 65535);
        bool final = pos + n == raw.size();
        put_u8(z, final ? 1 : 0);  // BFINAL, BTYPE=00
        put_le16(z, static_cast<std::uint32_t>(n));
        put_le16(z, static_cast<std::uint32_t>(~n & 0xFFFF));
        z.append(raw, pos, n);
        pos += n;
    } while (pos < raw.size());
    put_be32(z, adler32(raw));
    return z;
}

// ---- Ogg ----------------------------------------------------------------------------------

std::string ogg_page(std::uint8_t header_type, std::uint64_t granule, std::uint32_t serial, std::uint32_t seq,
                     const std::string& packet) {
    std::string p = "OggS";
    put_u8(p, 0);  // version
    put_u8(p, header_type);
    put_le64(p, granule);
    put_le32(p, serial);
    put_le32(p, seq);
    const std::size_t crc_at = p.size();
    put_le32(p, 0);  // CRC, filled below
    // Lacing values: 255s then the remainder (packet < 255*255 here).
    std::string lacing;
    std::size_t left = packet.size();
    while (left >= 255) {
        lacing.push_back(static_cast<char>(255));
        left -= 255;
    }
    lacing.push_back(static_cast<char>(left));
    put_u8(p, static_cast<unsigned>(lacing.size()));
    p += lacing;
    p += packet;
    std::uint32_t crc = ogg_crc32(p);
    for (int i = 0; i < 4; ++i) p[crc_at + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    return p;
}

// ---- EBML ---------------------------------------------------------------------------------

std::string ebml_size(std::size_t n) {
    // 8-byte size form is always valid; use the 1-byte form when it fits (values 0..126).
    std::string s;
    if (n < 127) {
        put_u8(s, 0x80 | static_cast<unsigned>(n));
    } else {
        put_u8(s, 0x01);
        for (int shift = 48; shift >= 0; shift -= 8) put_u8(s, static_cast<unsigned>((n >> shift) & 0xFF));
    }
    return s;
}
std::string ebml_el(const std::string& id, const std::string& payload) {
    return id + ebml_size(payload.size()) + payload;
}
std::string ebml_uint(const std::string& id, unsigned v) {
    std::string p;
    put_u8(p, v);
    return ebml_el(id, p);
}
std::string bytes(std::initializer_list<unsigned> b) {
    std::string s;
    for (unsigned v : b) put_u8(s, v);
    return s;
}

// ---- MP4 ----------------------------------------------------------------------------------

std::string mp4_box(const char* type, const std::string& payload) {
    std::string b;
    put_be32(b, static_cast<std::uint32_t>(payload.size() + 8));
    b.append(type, 4);
    b += payload;
    return b;
}

// ---- SHA-256 ------------------------------------------------------------------------------

constexpr std::array<std::uint32_t, 64> kSha256K = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

std::uint32_t crc32(std::string_view data) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

std::uint32_t adler32(std::string_view data) {
    std::uint32_t a = 1, b = 0;
    for (unsigned char c : data) {
        a = (a + c) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

std::uint32_t ogg_crc32(std::string_view data) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t r = n << 24;
            for (int k = 0; k < 8; ++k) r = (r & 0x80000000u) ? (r << 1) ^ 0x04C11DB7u : r << 1;
            t[n] = r;
        }
        return t;
    }();
    std::uint32_t crc = 0;
    for (unsigned char b : data) crc = (crc << 8) ^ table[((crc >> 24) & 0xFF) ^ b];
    return crc;
}

std::string sha256_hex(std::string_view data) {
    std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::string msg(data);
    const std::uint64_t bit_len = static_cast<std::uint64_t>(data.size()) * 8;
    msg.push_back(static_cast<char>(0x80));
    while (msg.size() % 64 != 56) msg.push_back('\0');
    for (int shift = 56; shift >= 0; shift -= 8) msg.push_back(static_cast<char>((bit_len >> shift) & 0xFF));

    for (std::size_t off = 0; off < msg.size(); off += 64) {
        std::uint32_t w[64];
        for (int i = 0; i < 16; ++i) {
            const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + 4 * i);
            w[i] = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
        }
        for (int i = 16; i < 64; ++i) {
            std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; ++i) {
            std::uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            std::uint32_t ch = (e & f) ^ (~e & g);
            std::uint32_t t1 = hh + S1 + ch + kSha256K[i] + w[i];
            std::uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            std::uint32_t t2 = S0 + maj;
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
    std::string hex;
    char buf[9];
    for (auto v : h) {
        std::snprintf(buf, sizeof buf, "%08x", v);
        hex += buf;
    }
    return hex;
}

std::string png(std::uint32_t width, std::uint32_t height, std::uint8_t seed) {
    std::string out("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    put_be32(ihdr, width);
    put_be32(ihdr, height);
    put_u8(ihdr, 8);  // bit depth
    put_u8(ihdr, 2);  // colour type: RGB
    put_u8(ihdr, 0);  // compression
    put_u8(ihdr, 0);  // filter
    put_u8(ihdr, 0);  // interlace
    png_chunk(out, "IHDR", ihdr);

    std::string raw;
    raw.reserve(static_cast<std::size_t>(height) * (1 + 3 * width));
    for (std::uint32_t y = 0; y < height; ++y) {
        raw.push_back('\0');  // filter: none
        for (std::uint32_t x = 0; x < width; ++x) {
            put_u8(raw, (x * 7 + seed) & 0xFF);
            put_u8(raw, (y * 13 + seed * 3) & 0xFF);
            put_u8(raw, (x + y + seed * 5) & 0xFF);
        }
    }
    png_chunk(out, "IDAT", zlib_stored(raw));
    png_chunk(out, "IEND", "");
    return out;
}

std::string gif(std::uint16_t width, std::uint16_t height, std::uint8_t seed) {
    std::string g = "GIF89a";
    put_le16(g, width);
    put_le16(g, height);
    put_u8(g, 0x80);                                        // global colour table, 2 entries, 1 bit colour resolution
    put_u8(g, 0);                                           // background colour index
    put_u8(g, 0);                                           // pixel aspect ratio
    g += bytes({seed, 0x40u, 0x80u, 0xFFu, 0xFFu, 0xFFu});  // palette
    g += bytes({0x21, 0xF9, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00});  // graphic control extension
    g += bytes({0x2C, 0, 0, 0, 0});                                // image descriptor at 0,0
    put_le16(g, 1);
    put_le16(g, 1);
    put_u8(g, 0);                                // no local colour table
    g += bytes({0x02, 0x02, 0x44, 0x01, 0x00});  // LZW min code size 2, one pixel
    put_u8(g, 0x3B);                             // trailer
    return g;
}

std::string jpeg(std::uint16_t width, std::uint16_t height, std::uint8_t seed) {
    std::string j = bytes({0xFF, 0xD8});  // SOI
    // APP0 JFIF 1.01, no density units, 1:1, no thumbnail.
    j +=
        bytes({0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00});
    // DQT: table 0, 64 entries.
    j += bytes({0xFF, 0xDB, 0x00, 0x43, 0x00});
    for (int i = 0; i < 64; ++i) put_u8(j, 1 + ((i + seed) % 16));
    // SOF0: 8 bit, height, width, 1 component (id 1, 1x1 sampling, table 0).
    j += bytes({0xFF, 0xC0, 0x00, 0x0B, 0x08});
    put_be16(j, height);
    put_be16(j, width);
    j += bytes({0x01, 0x01, 0x11, 0x00});
    // DHT: DC table 0 with one code of length 1 for category 0.
    j += bytes({0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
    // DHT: AC table 0 with one code of length 1 for EOB (0x00).
    j += bytes({0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
    // SOS: 1 component, tables 0/0, spectral 0-63, approx 0.
    j += bytes({0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00});
    // Scan data: DC 0 + EOB per block ("00" bits), padded with 1s.
    const unsigned blocks = ((width + 7u) / 8u) * ((height + 7u) / 8u);
    const unsigned bits = blocks * 2;
    for (unsigned i = 0; i < (bits + 7) / 8; ++i) put_u8(j, 0x00);
    put_u8(j, 0x3F);
    j += bytes({0xFF, 0xD9});  // EOI
    return j;
}

std::string wav(std::uint32_t samples, std::uint8_t seed) {
    const std::uint32_t data_bytes = samples * 2;
    std::string w = "RIFF";
    put_le32(w, 36 + data_bytes);
    w += "WAVE";
    w += "fmt ";
    put_le32(w, 16);
    put_le16(w, 1);      // PCM
    put_le16(w, 1);      // mono
    put_le32(w, 8000);   // sample rate
    put_le32(w, 16000);  // byte rate
    put_le16(w, 2);      // block align
    put_le16(w, 16);     // bits per sample
    w += "data";
    put_le32(w, data_bytes);
    for (std::uint32_t i = 0; i < samples; ++i) put_le16(w, static_cast<std::uint16_t>((i * 97 + seed * 31) & 0xFFFF));
    return w;
}

std::string ogg_opus(std::uint8_t seed) {
    const std::uint32_t serial = 0x1234ABCDu + seed;
    std::string head = "OpusHead";
    put_u8(head, 1);      // version
    put_u8(head, 1);      // channels
    put_le16(head, 312);  // pre-skip
    put_le32(head, 48000);
    put_le16(head, 0);  // output gain
    put_u8(head, 0);    // mapping family
    std::string tags = "OpusTags";
    const std::string vendor = "confab-tests";
    put_le32(tags, static_cast<std::uint32_t>(vendor.size()));
    tags += vendor;
    put_le32(tags, 1);
    const std::string comment = "SEED=" + std::to_string(seed);
    put_le32(tags, static_cast<std::uint32_t>(comment.size()));
    tags += comment;
    return ogg_page(0x02, 0, serial, 0, head) + ogg_page(0x00, 0, serial, 1, tags);
}

std::string mp4(std::uint8_t seed) {
    std::string ftyp = "isom";
    put_be32(ftyp, 0x200);
    ftyp += "isomiso2mp41";
    std::string mvhd;
    put_be32(mvhd, 0);           // version + flags
    put_be32(mvhd, 0);           // creation time
    put_be32(mvhd, 0);           // modification time
    put_be32(mvhd, 1000);        // timescale
    put_be32(mvhd, 1500);        // duration
    put_be32(mvhd, 0x00010000);  // rate 1.0
    put_be16(mvhd, 0x0100);      // volume 1.0
    mvhd.append(10, '\0');       // reserved
    for (std::uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u})
        put_be32(mvhd, v);  // matrix
    mvhd.append(24, '\0');  // pre-defined
    put_be32(mvhd, 2);      // next track id
    std::string mdat;
    for (int i = 0; i < 64; ++i) put_u8(mdat, (i * 11 + seed) & 0xFF);
    return mp4_box("ftyp", ftyp) + mp4_box("moov", mp4_box("mvhd", mvhd)) + mp4_box("mdat", mdat);
}

std::string webm(std::uint8_t seed) {
    std::string header = ebml_uint(bytes({0x42, 0x86}), 1)       // EBMLVersion
                         + ebml_uint(bytes({0x42, 0xF7}), 1)     // EBMLReadVersion
                         + ebml_uint(bytes({0x42, 0xF2}), 4)     // EBMLMaxIDLength
                         + ebml_uint(bytes({0x42, 0xF3}), 8)     // EBMLMaxSizeLength
                         + ebml_el(bytes({0x42, 0x82}), "webm")  // DocType
                         + ebml_uint(bytes({0x42, 0x87}), 4)     // DocTypeVersion
                         + ebml_uint(bytes({0x42, 0x85}), 2);    // DocTypeReadVersion
    std::string ebml = ebml_el(bytes({0x1A, 0x45, 0xDF, 0xA3}), header);
    std::string info = ebml_el(bytes({0x2A, 0xD7, 0xB1}), bytes({0x0F, 0x42, 0x40}))           // TimecodeScale 1e6
                       + ebml_el(bytes({0x4D, 0x80}), "confab-tests-" + std::to_string(seed))  // MuxingApp
                       + ebml_el(bytes({0x57, 0x41}), "confab-tests");                         // WritingApp
    std::string segment = ebml_el(bytes({0x18, 0x53, 0x80, 0x67}), ebml_el(bytes({0x15, 0x49, 0xA9, 0x66}), info));
    return ebml + segment;
}

std::string text(std::uint8_t seed) {
    return "Meeting notes, take " + std::to_string(seed) +
           "\nThe quick brown fox jumps over the lazy dog.\nAction items: none.\n";
}

std::string elf_executable() {
    std::string e = bytes({0x7F, 'E', 'L', 'F', 2 /*64-bit*/, 1 /*LE*/, 1 /*version*/, 0 /*SysV*/});
    e.append(8, '\0');      // padding
    put_le16(e, 2);         // e_type: ET_EXEC
    put_le16(e, 0x3E);      // e_machine: x86-64
    put_le32(e, 1);         // e_version
    put_le64(e, 0x400078);  // e_entry
    put_le64(e, 64);        // e_phoff
    put_le64(e, 0);         // e_shoff
    put_le32(e, 0);         // e_flags
    put_le16(e, 64);        // e_ehsize
    put_le16(e, 56);        // e_phentsize
    put_le16(e, 1);         // e_phnum
    put_le16(e, 64);        // e_shentsize
    put_le16(e, 0);         // e_shnum
    put_le16(e, 0);         // e_shstrndx
    // PT_LOAD, R+X, the whole file at 0x400000.
    put_le32(e, 1);
    put_le32(e, 5);
    put_le64(e, 0);
    put_le64(e, 0x400000);
    put_le64(e, 0x400000);
    put_le64(e, 0x80);
    put_le64(e, 0x80);
    put_le64(e, 0x1000);
    // exit(0): mov eax, 60; xor edi, edi; syscall
    e += bytes({0xB8, 0x3C, 0x00, 0x00, 0x00, 0x31, 0xFF, 0x0F, 0x05});
    e.resize(0x80, '\0');
    return e;
}

std::string shell_script() { return "#!/bin/sh\necho hello\nexit 0\n"; }

std::string env_bash_script() { return "#!/usr/bin/env bash\nset -euo pipefail\necho \"hello $USER\"\n"; }

std::string elf_shared_object() {
    std::string e = elf_executable();
    e[16] = 3;  // e_type: ET_DYN
    e[17] = 0;
    return e;
}

std::string pe_executable() {
    std::string p = "MZ";
    p.resize(0x3C, '\0');
    put_le32(p, 0x80);  // e_lfanew
    p.resize(0x80, '\0');
    p += std::string("PE\0\0", 4);
    put_le16(p, 0x8664);  // machine: x86-64
    put_le16(p, 0);       // number of sections
    put_le32(p, 0);       // time stamp
    put_le32(p, 0);       // symbol table
    put_le32(p, 0);       // number of symbols
    put_le16(p, 240);     // size of optional header
    put_le16(p, 0x0022);  // characteristics: executable, large address aware
    std::string opt;
    put_le16(opt, 0x20B);  // PE32+
    opt.resize(240, '\0');
    opt[68] = 3;  // subsystem: Windows CUI
    p += opt;
    p.resize(0x200, '\0');
    return p;
}

std::string macho_executable() {
    std::string m;
    put_le32(m, 0xFEEDFACF);  // MH_MAGIC_64
    put_le32(m, 0x01000007);  // CPU_TYPE_X86_64
    put_le32(m, 3);           // CPU_SUBTYPE_X86_64_ALL
    put_le32(m, 2);           // MH_EXECUTE
    put_le32(m, 0);           // ncmds
    put_le32(m, 0);           // sizeofcmds
    put_le32(m, 0x00200085);  // flags: NOUNDEFS | DYLDLINK | TWOLEVEL | PIE
    put_le32(m, 0);           // reserved
    m.resize(0x100, '\0');
    return m;
}

std::string text_of_size(std::size_t n) {
    static const std::string pattern = "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.\n";
    std::string s;
    s.reserve(n);
    while (s.size() < n) s += pattern;
    s.resize(n);
    return s;
}

std::string multipart_body(const std::string& boundary, const std::vector<std::pair<std::string, std::string>>& parts) {
    std::string body;
    for (const auto& [disposition, content] : parts) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; ";
        body += disposition;
        body += "\r\nContent-Type: application/octet-stream\r\n\r\n";
        body += content;
        body += "\r\n";
    }
    return body + "--" + boundary + "--\r\n";
}

std::string fixture(const std::string& name) { return source_file("tests/fixtures/media/" + name); }

}  // namespace confab::test::media
