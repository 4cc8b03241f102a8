#pragma once
// The check of one meeting's archive folder (docs/archive.md, "Checking and
// exporting an archive"): the manifest parses and is signed by the given key,
// every listed segment is there with its size and SHA-256, nothing else is,
// and every segment is H.264 picture with no sound.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "recorder/manifest_signer.hpp"

namespace huijian::recorder {

// The folder itself cannot be read (missing, not a directory): there is
// nothing to check. Everything found inside the folder is a problem in the
// report instead.
class ArchiveAccessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VerifyReport {
  // Each one makes the archive fail the check; each names the file or field,
  // e.g. "lawyer-00001.mkv: SHA-256 differs from the manifest (manifest …, file …)".
  std::vector<std::string> problems;
  // What a reader should know without the archive failing: gaps, an abnormal
  // end, recorder faults, truncated segments.
  std::vector<std::string> notes;
  bool ok() const noexcept { return problems.empty(); }
};

// Checks the archive folder <archive_dir>/<meeting_id>. Throws SigningError
// when the public key file is unreadable, ArchiveAccessError when the folder is.
VerifyReport verify_archive(const std::filesystem::path& folder, const std::filesystem::path& public_key_pem);
VerifyReport verify_archive(const std::filesystem::path& folder, const ManifestVerifierKey& key);

}  // namespace huijian::recorder
