#pragma once
// The archive index, built from the archive folders themselves: each
// <archive_dir>/<meeting>/manifest.json (docs/archive.md) is read with
// recorder::manifest_from_json and stored as an ArchiveRecord. The same
// functions serve the start-up scan, POST /api/archives/reindex, and the
// recorder when a recording ends.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "recorder/archive_manifest.hpp"
#include "signaling/archive_repository.hpp"

namespace huijian::signaling {

// A manifest larger than this is not read (a real one is a few hundred KiB).
inline constexpr std::uintmax_t kMaxManifestBytes = 16 * 1024 * 1024;

// One archive folder's manifest.json as stored: its exact bytes, their
// SHA-256 (lowercase hex), and what they say.
struct StoredManifest {
  std::string text;
  std::string sha256;
  recorder::Manifest manifest;
};

// Reads <folder>/manifest.json. Throws recorder::ManifestError naming the
// problem: missing or unreadable, over kMaxManifestBytes, not JSON, a field
// missing or mistyped.
StoredManifest read_stored_manifest(const std::filesystem::path& folder);

// The index row of a manifest: devices and names of both parties, times,
// duration (recording end minus start, or the end of the last segment when a
// time does not parse), the segments' bytes together, faults.
ArchiveRecord archive_record_of(const recorder::Manifest& manifest, const std::string& manifest_sha256,
                                const std::string& indexed_at);

struct ReindexResult {
  std::size_t indexed = 0;
  std::vector<std::string> skipped;  // "<folder name>: why", one per folder that has a manifest.json but
                                     // could not be indexed
};

// Upserts the index row of every folder of `archive_dir` whose name is a
// meeting id and that holds a manifest.json naming that meeting. Folders
// without a manifest (a recording still running: recording.json) are left
// out silently; broken ones are listed in `skipped`. A missing archive_dir
// indexes nothing. Throws StoreError when the repository fails.
ReindexResult reindex_archives(ArchiveRepository& repository, const std::filesystem::path& archive_dir);

}  // namespace huijian::signaling
