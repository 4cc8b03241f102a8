#include "recorder/archive_verifier.hpp"

#include "recorder/archive_manifest.hpp"
#include "recorder/file_digest.hpp"
#include "recorder/media_probe.hpp"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <system_error>

namespace huijian::recorder {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxManifestBytes = 64ull << 20;  // a long meeting's manifest is tens of KiB
constexpr std::uintmax_t kMaxSignatureBytes = 4096;        // one line of base64
constexpr std::string_view kH264Caps = "video/x-h264";

std::string seconds(std::int64_t ms) { return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0); }

// The whole file, or nullopt with `error` set.
std::optional<std::string> read_small_file(const fs::path& file, std::uintmax_t limit, std::string& error) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) {
    error = ec.message();
    return std::nullopt;
  }
  if (size > limit) {
    error = fmt::format("{} bytes, more than the {} a genuine one can have", size, limit);
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot open";
    return std::nullopt;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    error = "read error";
    return std::nullopt;
  }
  return bytes;
}

// A segment's file must be a plain name inside the folder.
bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

class Checker {
 public:
  Checker(const fs::path& folder, const ManifestVerifierKey& key) : folder_(folder), key_(key) {}

  VerifyReport run() {
    std::error_code ec;
    if (!fs::is_directory(folder_, ec))
      throw ArchiveAccessError(folder_.string() + ": no such archive folder");
    list_folder();
    if (present_.count(std::string(kJournalFile)) != 0)
      problem(std::string(kJournalFile) +
              ": the recording was never finalised (its journal is still there; the recorder stopped before "
              "writing the manifest)");
    const std::optional<Manifest> manifest = read_manifest();
    if (manifest) {
      check_meeting_id(*manifest);
      check_signature(*manifest);
      check_segments(*manifest);
      check_parties(*manifest);
      add_notes(*manifest);
    }
    check_unlisted(manifest);
    return std::move(report_);
  }

 private:
  void problem(std::string text) { report_.problems.push_back(std::move(text)); }
  void note(std::string text) { report_.notes.push_back(std::move(text)); }

  void list_folder() {
    std::error_code ec;
    fs::directory_iterator it(folder_, ec);
    if (ec) throw ArchiveAccessError(folder_.string() + ": cannot list the folder (" + ec.message() + ")");
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) throw ArchiveAccessError(folder_.string() + ": cannot list the folder (" + ec.message() + ")");
      present_.insert(it->path().filename().string());
    }
  }

  std::optional<Manifest> read_manifest() {
    const std::string name(kManifestFile);
    if (present_.count(name) == 0) {
      problem(name + ": missing (the archive has no manifest)");
      return std::nullopt;
    }
    std::string error;
    auto bytes = read_small_file(folder_ / name, kMaxManifestBytes, error);
    if (!bytes) {
      problem(name + ": cannot be read (" + error + ")");
      return std::nullopt;
    }
    manifest_bytes_ = std::move(*bytes);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(manifest_bytes_);
    } catch (const nlohmann::json::exception& e) {
      problem(name + ": not valid JSON (" + e.what() + ")");
      check_signature_bytes_only();
      return std::nullopt;
    }
    try {
      return manifest_from_json(j);
    } catch (const ManifestError& e) {
      problem(name + ": " + e.what());
    } catch (const nlohmann::json::exception& e) {
      problem(name + ": " + e.what());
    }
    check_signature_bytes_only();
    return std::nullopt;
  }

  void check_meeting_id(const Manifest& m) {
    const std::string folder_name = folder_.filename().string();
    if (m.meeting_id != folder_name)
      problem(fmt::format("{}: meeting_id \"{}\" does not match the folder name \"{}\"", kManifestFile, m.meeting_id,
                          folder_name));
  }

  // Whether manifest.json.sig is a valid signature of manifest.json's bytes; reports what is wrong.
  void check_signature_bytes_only() {
    const std::string name(kSignatureFile);
    if (present_.count(name) == 0) {
      problem(name + ": missing (the manifest is not signed)");
      return;
    }
    std::string error;
    const auto signature = read_small_file(folder_ / name, kMaxSignatureBytes, error);
    if (!signature) {
      problem(name + ": cannot be read (" + error + ")");
      return;
    }
    if (!key_.verify(manifest_bytes_, *signature))
      problem(fmt::format("{}: signature does not match (edited after signing?)", kManifestFile));
  }

  void check_signature(const Manifest& m) {
    if (m.signing_key_id != key_.key_id())
      problem(fmt::format("{}: signing_key_id {} is not the id of the given public key ({}); signed with another key?",
                          kManifestFile, m.signing_key_id.empty() ? "(empty)" : m.signing_key_id, key_.key_id()));
    check_signature_bytes_only();
  }

  void check_segments(const Manifest& m) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < m.segments.size(); ++i) {
      const SegmentEntry& s = m.segments[i];
      if (!plain_file_name(s.file)) {
        problem(fmt::format("{}: segments[{}].file \"{}\" is not a file name inside the archive folder",
                            kManifestFile, i, s.file));
        continue;
      }
      if (!seen.insert(s.file).second) {
        problem(fmt::format("{}: segments[{}] lists {} a second time", kManifestFile, i, s.file));
        continue;
      }
      listed_.insert(s.file);
      const std::string prefix = std::string(to_string(s.party)) + "-";
      if (s.file.rfind(prefix, 0) != 0)
        problem(fmt::format("{}: listed as the {}'s video, but the name says otherwise", s.file, to_string(s.party)));
      if (s.truncated)
        note(fmt::format("{}: truncated (cut short by a crash or a write error, kept as written)", s.file));
      check_segment_file(s);
    }
  }

  void check_segment_file(const SegmentEntry& s) {
    const fs::path file = folder_ / s.file;
    std::error_code ec;
    if (present_.count(s.file) == 0) {
      problem(s.file + ": listed in the manifest but missing");
      return;
    }
    if (!fs::is_regular_file(file, ec)) {
      problem(s.file + ": listed in the manifest but is not a regular file");
      return;
    }
    const auto size = fs::file_size(file, ec);
    if (ec) {
      problem(s.file + ": cannot read its size (" + ec.message() + ")");
      return;
    }
    if (size != s.bytes)
      problem(fmt::format("{}: {} bytes, the manifest lists {}", s.file, size, s.bytes));
    try {
      const std::string digest = sha256_file_hex(file);
      if (digest != s.sha256)
        problem(fmt::format("{}: SHA-256 differs from the manifest (manifest {}, file {})", s.file,
                            s.sha256.empty() ? "(empty)" : s.sha256, digest));
    } catch (const std::exception& e) {
      problem(s.file + ": cannot be read (" + e.what() + ")");
      return;
    }
    MediaInfo info;
    try {
      info = probe_media(file);
    } catch (const ProbeError& e) {
      problem(fmt::format("{}: not a readable video file ({})", s.file, e.what()));
      return;
    }
    if (info.audio_streams > 0)
      problem(fmt::format("{}: holds {} audio stream{}; an archive must hold picture only", s.file, info.audio_streams,
                          info.audio_streams == 1 ? "" : "s"));
    if (info.video_streams == 0)
      problem(s.file + ": holds no video stream");
    else if (info.video_codec != kH264Caps)
      problem(fmt::format("{}: video is {}, not H.264 ({})", s.file, info.video_codec, kH264Caps));
    if (info.video_streams > 1)
      problem(fmt::format("{}: holds {} video streams; a segment holds one party's picture", s.file,
                          info.video_streams));
    if (info.other_streams > 0)
      problem(fmt::format("{}: holds {} stream{} that {} neither video nor audio; a segment holds picture only",
                          s.file, info.other_streams, info.other_streams == 1 ? "" : "s",
                          info.other_streams == 1 ? "is" : "are"));
    if (info.duration_ms >= 0 && !s.truncated) {
      const std::int64_t difference = info.duration_ms > s.duration_ms ? info.duration_ms - s.duration_ms
                                                                        : s.duration_ms - info.duration_ms;
      if (difference > 2000)
        note(fmt::format("{}: plays {} while the manifest lists {}", s.file, seconds(info.duration_ms),
                         seconds(s.duration_ms)));
    }
  }

  void check_parties(const Manifest& m) {
    for (Party party : {Party::Lawyer, Party::Detainee}) {
      const char* name = to_string(party);
      if (m.party(party) == nullptr) problem(fmt::format("{}: parties has no {} entry", kManifestFile, name));
      bool has_segment = false;
      for (const auto& s : m.segments) has_segment = has_segment || s.party == party;
      if (has_segment) continue;
      std::vector<std::string> reasons;
      for (const auto& g : m.gaps)
        if (g.party == party) reasons.push_back(g.reason);
      if (!reasons.empty())
        note(fmt::format("{}: no footage at all; the gaps explain it ({})", name, fmt::join(reasons, ", ")));
      else if (!m.recorder_faults.empty())
        note(fmt::format("{}: no footage at all; the recorder faults explain it", name));
      else if (!m.ended_normally)
        note(fmt::format("{}: no footage at all; the recording ended abnormally", name));
      else
        problem(fmt::format("{}: no segment of the {} and no gap or recorder fault that explains it", kManifestFile,
                            name));
    }
  }

  void add_notes(const Manifest& m) {
    if (!m.ended_normally)
      note(fmt::format("the recording ended abnormally ({})", m.end_reason.empty() ? "no reason given" : m.end_reason));
    if (!m.recorder_faults.empty()) note("recorder faults: " + m.recorder_faults);
    for (const auto& g : m.gaps) {
      std::string text = fmt::format("gap: {} {} – {} ({})", to_string(g.party), seconds(g.from_ms), seconds(g.to_ms),
                                     g.reason);
      if (!g.detail.empty()) text += ": " + g.detail;
      note(std::move(text));
    }
  }

  void check_unlisted(const std::optional<Manifest>& manifest) {
    for (const auto& name : present_) {
      if (name == kManifestFile || name == kSignatureFile || name == kJournalFile) continue;
      if (listed_.count(name) != 0) continue;
      std::error_code ec;
      const bool directory = fs::is_directory(folder_ / name, ec);
      if (!manifest)
        problem(fmt::format("{}{}: cannot be checked without a valid manifest", name, directory ? "/" : ""));
      else
        problem(fmt::format("{}{}: not listed in the manifest (nothing else belongs in an archive folder)", name,
                            directory ? "/" : ""));
    }
  }

  fs::path folder_;
  const ManifestVerifierKey& key_;
  VerifyReport report_;
  std::set<std::string> present_;
  std::set<std::string> listed_;
  std::string manifest_bytes_;
};

}  // namespace

VerifyReport verify_archive(const fs::path& folder, const ManifestVerifierKey& key) {
  return Checker(folder, key).run();
}

VerifyReport verify_archive(const fs::path& folder, const fs::path& public_key_pem) {
  const ManifestVerifierKey key = ManifestVerifierKey::load(public_key_pem);
  return verify_archive(folder, key);
}

}  // namespace huijian::recorder
