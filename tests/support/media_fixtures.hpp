#pragma once

// Real media bytes made in code for the media tests (nothing fetched, no binary files in the
// repository), and the checksums the server is expected to report. Each generator produces
// bytes that libmagic (file 5.44) identifies as the type named in its comment.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confab::test::media {

// Checksums, computed here so the tests do not trust the server's.
std::uint32_t crc32(std::string_view data);      // zlib / PNG CRC-32
std::uint32_t adler32(std::string_view data);    // zlib Adler-32
std::uint32_t ogg_crc32(std::string_view data);  // Ogg page CRC (poly 0x04c11db7, not reflected)
std::string sha256_hex(std::string_view data);   // lower-case hex

// image/png: signature, IHDR (8-bit RGB), one IDAT holding zlib data made of stored deflate
// blocks (each scanline: filter byte 0 + RGB pixels, seeded so different seeds give
// different bytes), IEND; every CRC and the Adler-32 correct.
std::string png(std::uint32_t width, std::uint32_t height, std::uint8_t seed = 0);
// image/gif: a GIF89a with a global colour table, a graphic control extension, one image
// (LZW data for a single-colour frame) and the trailer. `seed` varies the palette.
std::string gif(std::uint16_t width, std::uint16_t height, std::uint8_t seed = 0);
// image/jpeg: SOI, APP0 JFIF, DQT, SOF0, DHT, SOS, a few scan bytes, EOI.
std::string jpeg(std::uint16_t width, std::uint16_t height, std::uint8_t seed = 0);
// audio/x-wav: RIFF/WAVE with a PCM fmt chunk (mono, 8 kHz, 16 bit) and `samples` samples.
std::string wav(std::uint32_t samples, std::uint8_t seed = 0);
// audio/ogg: an Ogg page (BOS) carrying an OpusHead packet, then a page with OpusTags.
std::string ogg_opus(std::uint8_t seed = 0);
// video/mp4: ftyp (isom, compatible isom/iso2/mp41), a moov with an mvhd, and an mdat.
std::string mp4(std::uint8_t seed = 0);
// video/webm: an EBML header with DocType "webm", then a Segment with an Info element.
std::string webm(std::uint8_t seed = 0);
// text/plain.
std::string text(std::uint8_t seed = 0);
// application/x-executable: a 64-bit little-endian ELF header (ET_EXEC, x86-64) + program header.
std::string elf_executable();
// text/x-shellscript: "#!/bin/sh" script.
std::string shell_script();
// text/x-shellscript: "#!/usr/bin/env bash" script.
std::string env_bash_script();
// application/x-sharedlib: the ELF header of a shared object (ET_DYN).
std::string elf_shared_object();
// application/vnd.microsoft.portable-executable: an MZ stub + PE32+ header (x86-64).
std::string pe_executable();
// application/x-mach-binary: a 64-bit Mach-O executable header (x86-64).
std::string macho_executable();

// The bytes of tests/fixtures/media/<name> (under $CONFAB_SOURCE_DIR, else the working
// directory); throws when the file is missing or empty.
std::string fixture(const std::string& name);

// A multipart/form-data body of `parts`, each (the Content-Disposition parameters after
// "form-data; ", the content), closed by the final delimiter.
std::string multipart_body(const std::string& boundary, const std::vector<std::pair<std::string, std::string>>& parts);

// Convenience: `n` bytes of a repeating pattern (for range tests on known offsets), made to
// look like text so libmagic calls it text/plain.
std::string text_of_size(std::size_t n);

}  // namespace confab::test::media
