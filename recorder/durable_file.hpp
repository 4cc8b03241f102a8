#pragma once
// Files that must survive a crash whole or not at all: the signing keys, the
// manifest and its signature, the recording journal. Written to a temporary
// file beside the target, synced, renamed into place, and the folder synced.

#include <sys/types.h>

#include <filesystem>
#include <stdexcept>
#include <string_view>

namespace huijian::recorder {

// what() names the file and the system's reason.
class FileWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `content` to `file` with exactly `mode`. With no_replace, an existing
// `file` (made meanwhile by another process) wins: returns false and leaves
// it. Throws FileWriteError; a failed write leaves no temporary file.
bool write_file_atomically(const std::filesystem::path& file, std::string_view content, mode_t mode,
                           bool no_replace = false);

// Flushes a folder's entries (a rename into it) to disk; errors are ignored.
void sync_directory(const std::filesystem::path& dir) noexcept;

}  // namespace huijian::recorder
