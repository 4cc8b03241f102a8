#pragma once
// SHA-256 of a byte string or of a whole file, as lowercase hex: the digests
// the archive manifest lists for its segments (docs/archive.md).

#include <filesystem>
#include <string>
#include <string_view>

namespace huijian::recorder {

// Lowercase hex SHA-256 of the bytes (64 characters).
std::string sha256_hex(std::string_view bytes);

// Lowercase hex SHA-256 of the file's contents, read in 64 KiB chunks so a
// segment of any size costs no more memory. Throws std::runtime_error naming
// the file when it cannot be opened or read.
std::string sha256_file_hex(const std::filesystem::path& file);

}  // namespace huijian::recorder
