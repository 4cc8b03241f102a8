#include "signaling/archive_index.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "recorder/file_digest.hpp"
#include "signaling/component_logger.hpp"
#include "signaling/config.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

StoredManifest read_stored_manifest(const std::filesystem::path& folder) {
  const auto file = folder / std::string(recorder::kManifestFile);
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec) throw recorder::ManifestError(fmt::format("{}: {}", file.string(), ec.message()));
  if (size > kMaxManifestBytes)
    throw recorder::ManifestError(
        fmt::format("{} is {} bytes, more than the limit of {}", file.string(), size, kMaxManifestBytes));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw recorder::ManifestError(fmt::format("{} cannot be opened", file.string()));
  StoredManifest out;
  out.text.resize(static_cast<std::size_t>(size));
  in.read(out.text.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size)
    throw recorder::ManifestError(fmt::format("{} could not be read whole", file.string()));
  auto j = nlohmann::json::parse(out.text, nullptr, false);
  if (j.is_discarded()) throw recorder::ManifestError(fmt::format("{} is not JSON", file.string()));
  out.manifest = recorder::manifest_from_json(j);
  out.sha256 = recorder::sha256_hex(out.text);
  return out;
}

ArchiveRecord archive_record_of(const recorder::Manifest& m, const std::string& manifest_sha256,
                                const std::string& indexed_at) {
  ArchiveRecord r;
  r.meeting_id = m.meeting_id;
  r.case_id = m.case_id;
  if (const auto* lawyer = m.party(recorder::Party::Lawyer)) r.lawyer_device = lawyer->device_id;
  if (const auto* detainee = m.party(recorder::Party::Detainee)) r.detainee_device = detainee->device_id;
  if (m.case_info) {
    r.lawyer_name = m.case_info->lawyer_name;
    r.detainee_name = m.case_info->detainee_name;
    if (r.case_id.empty()) r.case_id = m.case_info->case_id;
  }
  r.started_at = m.recording_started_at;
  r.ended_at = m.recording_ended_at;
  r.ended_normally = m.ended_normally;
  r.faults = m.recorder_faults;
  std::int64_t last_frame_ms = 0;
  for (const auto& s : m.segments) {
    r.bytes += s.bytes;
    last_frame_ms = std::max(last_frame_ms, s.start_ms + s.duration_ms);
  }
  auto start = parse_utc_ms(m.recording_started_at);
  auto end = parse_utc_ms(m.recording_ended_at);
  if (start && end && *end >= *start)
    r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*end - *start).count();
  else
    r.duration_ms = last_frame_ms;
  r.manifest_sha256 = manifest_sha256;
  r.indexed_at = indexed_at;
  return r;
}

ReindexResult reindex_archives(ArchiveRepository& repository, const std::filesystem::path& archive_dir) {
  auto log = component_logger("archive");
  ReindexResult result;
  std::error_code ec;
  if (!std::filesystem::is_directory(archive_dir, ec)) {
    log->info("archive folder {} does not exist yet: nothing to index", archive_dir.string());
    return result;
  }
  std::vector<std::filesystem::path> folders;
  for (auto it = std::filesystem::directory_iterator(archive_dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) folders.push_back(it->path());
  }
  if (ec) throw std::runtime_error(fmt::format("cannot list the archive folder {}: {}", archive_dir.string(), ec.message()));
  std::sort(folders.begin(), folders.end());
  const std::string now = format_utc_ms(std::chrono::system_clock::now());
  for (const auto& folder : folders) {
    const std::string name = folder.filename().string();
    if (!std::filesystem::exists(folder / std::string(recorder::kManifestFile), ec)) continue;
    if (!is_valid_id(name)) {
      result.skipped.push_back(fmt::format("{}: the folder name is not a meeting id", name));
      continue;
    }
    try {
      auto stored = read_stored_manifest(folder);
      if (stored.manifest.meeting_id != name) {
        result.skipped.push_back(
            fmt::format("{}: the manifest is of meeting {}", name, stored.manifest.meeting_id));
        continue;
      }
      repository.put_archive(archive_record_of(stored.manifest, stored.sha256, now));
      ++result.indexed;
    } catch (const recorder::ManifestError& e) {
      result.skipped.push_back(fmt::format("{}: {}", name, e.what()));
    }
  }
  for (const auto& s : result.skipped) log->warn("archive not indexed: {}", s);
  log->info("archive index: {} folder(s) of {} indexed, {} skipped", result.indexed, archive_dir.string(),
            result.skipped.size());
  return result;
}

}  // namespace huijian::signaling
