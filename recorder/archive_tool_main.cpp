// huijian-archive: list, show, verify and export the meeting archives
// (docs/archive.md, "Checking and exporting an archive").
//
// Exit status: 0 done (verify: no problem), 1 the archive has problems,
// 2 usage error, or a file or folder that cannot be read or written.

#include "common/utc_time.hpp"
#include "recorder/archive_manifest.hpp"
#include "recorder/archive_verifier.hpp"
#include "recorder/beijing_time.hpp"
#include "recorder/composite_exporter.hpp"
#include "recorder/manifest_signer.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace huijian::recorder;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitProblems = 1;
constexpr int kExitUsage = 2;

// Fails the command with exit status 2 and the message.
struct UsageOrIoError {
  std::string message;
};

struct Paths {
  fs::path data_dir = "./huijian-data";
  std::string archive_dir;  // empty: <data_dir>/archive
  std::string public_key;   // empty: <data_dir>/keys/archive-ed25519.pub.pem

  fs::path archive() const { return archive_dir.empty() ? data_dir / "archive" : fs::path(archive_dir); }
  fs::path key() const {
    return public_key.empty() ? data_dir / "keys" / std::string(kPublicKeyFile) : fs::path(public_key);
  }
};

fs::path meeting_folder(const Paths& paths, const std::string& meeting) {
  if (meeting.empty() || meeting == "." || meeting == ".." || meeting.find('/') != std::string::npos)
    throw UsageOrIoError{fmt::format("\"{}\" is not a meeting id", meeting)};
  const fs::path folder = paths.archive() / meeting;
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw UsageOrIoError{fmt::format("meeting {}: no archive folder {}", meeting, folder.string())};
  return folder;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageOrIoError{file.string() + ": cannot be read"};
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Manifest read_manifest(const fs::path& folder) {
  const fs::path file = folder / std::string(kManifestFile);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (fs::exists(folder / std::string(kJournalFile), ec))
      throw UsageOrIoError{file.string() + ": missing; the recording was never finalised (recording.json is there)"};
    throw UsageOrIoError{file.string() + ": missing"};
  }
  try {
    return manifest_from_json(nlohmann::json::parse(read_file(file)));
  } catch (const nlohmann::json::exception& e) {
    throw UsageOrIoError{file.string() + ": not valid JSON (" + e.what() + ")"};
  } catch (const ManifestError& e) {
    throw UsageOrIoError{file.string() + ": " + e.what()};
  }
}

// "2026-11-23 18:00:00 (Beijing)", or the text as stored when it is not a time.
std::string when(const std::string& iso) {
  if (iso.empty()) return "-";
  const auto at = huijian::common::parse_utc_ms(iso);
  return at ? format_beijing_time(*at) + " 北京时间" : iso;
}

std::string clock_length(std::int64_t ms) {
  if (ms < 0) return "?";
  const std::int64_t s = ms / 1000;
  return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

std::optional<std::int64_t> recording_ms(const Manifest& m) {
  const auto from = huijian::common::parse_utc_ms(m.recording_started_at);
  const auto to = huijian::common::parse_utc_ms(m.recording_ended_at);
  if (!from || !to) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*to - *from).count();
}

std::string seconds(std::int64_t ms) { return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0); }

// ------------------------------------------------------------ list

int run_list(const Paths& paths) {
  const fs::path dir = paths.archive();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UsageOrIoError{dir.string() + ": no such archive directory"};
  std::vector<fs::path> folders;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) folders.push_back(it->path());
  if (ec) throw UsageOrIoError{dir.string() + ": cannot list (" + ec.message() + ")"};
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) {
    const std::string id = folder.filename().string();
    const bool journal = fs::exists(folder / std::string(kJournalFile), ec);
    if (!fs::exists(folder / std::string(kManifestFile), ec)) {
      fmt::print("{}  -  -  -  {}\n", id, journal ? "not finalised" : "no manifest");
      continue;
    }
    try {
      const Manifest m = read_manifest(folder);
      std::vector<std::string> parties;
      for (Party p : {Party::Lawyer, Party::Detainee}) {
        const PartyEntry* entry = m.party(p);
        const bool footage = std::any_of(m.segments.begin(), m.segments.end(),
                                         [&](const SegmentEntry& s) { return s.party == p; });
        std::string text = to_string(p);
        if (entry != nullptr && !entry->device_name.empty()) text += " " + entry->device_name;
        if (!footage) text += " (no footage)";
        parties.push_back(std::move(text));
      }
      std::vector<std::string> flags;
      if (!m.ended_normally) flags.push_back("abnormal end");
      if (journal) flags.push_back("not finalised");
      if (!m.gaps.empty()) flags.push_back(fmt::format("{} gap{}", m.gaps.size(), m.gaps.size() == 1 ? "" : "s"));
      const auto length = recording_ms(m);
      fmt::print("{}  {}  {}  {}{}\n", id, when(m.recording_started_at), clock_length(length.value_or(-1)),
                 fmt::join(parties, ", "), flags.empty() ? "" : fmt::format("  [{}]", fmt::join(flags, ", ")));
    } catch (const UsageOrIoError& e) {
      fmt::print("{}  -  -  -  bad manifest: {}\n", id, e.message);
    }
  }
  return kExitOk;
}

// ------------------------------------------------------------ show

int run_show(const Paths& paths, const std::string& meeting, bool json) {
  const fs::path folder = meeting_folder(paths, meeting);
  if (json) {
    read_manifest(folder);  // says what is wrong with a bad one
    std::fputs(read_file(folder / std::string(kManifestFile)).c_str(), stdout);
    return kExitOk;
  }
  const Manifest m = read_manifest(folder);
  fmt::print("meeting        {}\n", m.meeting_id);
  fmt::print("case           {}\n", m.case_id.empty() ? "-" : m.case_id);
  if (m.case_info) {
    const CaseEntry& c = *m.case_info;
    fmt::print("  lawyer       {} ({}, licence {})\n", c.lawyer_name, c.lawyer_firm, c.lawyer_license);
    fmt::print("  detainee     {} (id {})\n", c.detainee_name, c.detainee_id_number);
    fmt::print("  letter       {} {} sha256 {}\n", c.letter_kind, c.letter_file, c.letter_sha256);
  }
  for (const auto& p : m.parties)
    fmt::print("{:<15}{} ({})\n", to_string(p.party), p.device_name, p.device_id);
  fmt::print("connected      {}\n", when(m.connected_at));
  fmt::print("recording      {} to {} ({})\n", when(m.recording_started_at), when(m.recording_ended_at),
             clock_length(recording_ms(m).value_or(-1)));
  fmt::print("meeting ended  {}: {} by {}{}\n", when(m.ended_at), m.end_reason.empty() ? "-" : m.end_reason,
             m.ended_by.empty() ? "-" : m.ended_by, m.ended_normally ? "" : "  (ABNORMAL END)");
  fmt::print("segments       {}\n", m.segments.size());
  for (const auto& s : m.segments)
    fmt::print("  {:<20} {:<8} from {:>9} for {:>9} {:>12} bytes  sha256 {}{}\n", s.file, to_string(s.party),
               seconds(s.start_ms), seconds(s.duration_ms), s.bytes, s.sha256, s.truncated ? "  truncated" : "");
  fmt::print("gaps           {}\n", m.gaps.size());
  for (const auto& g : m.gaps)
    fmt::print("  {:<8} {} – {} ({}){}\n", to_string(g.party), seconds(g.from_ms), seconds(g.to_ms), g.reason,
               g.detail.empty() ? "" : ": " + g.detail);
  fmt::print("events         {}\n", m.events.size());
  for (const auto& e : m.events)
    fmt::print("  {}  {:<20} {}{}\n", when(e.at), e.kind, e.actor, e.detail.empty() ? "" : "  " + e.detail);
  fmt::print("recorder faults {}\n", m.recorder_faults.empty() ? "none" : m.recorder_faults);
  fmt::print("signing key    {}\n", m.signing_key_id);
  fmt::print("(times in Beijing time, UTC+8; the manifest stores UTC; `show --json` prints it as signed)\n");
  return kExitOk;
}

// ------------------------------------------------------------ verify

VerifyReport verify_or_fail(const Paths& paths, const fs::path& folder) {
  try {
    return verify_archive(folder, paths.key());
  } catch (const SigningError& e) {
    throw UsageOrIoError{fmt::format("public key: {} (give it with --public-key)", e.what())};
  } catch (const ArchiveAccessError& e) {
    throw UsageOrIoError{e.what()};
  }
}

void print_report(const std::string& meeting, const VerifyReport& report) {
  for (const auto& p : report.problems) fmt::print("problem: {}\n", p);
  for (const auto& n : report.notes) fmt::print("note: {}\n", n);
  if (report.ok())
    fmt::print("meeting {}: archive OK{}\n", meeting,
               report.notes.empty() ? "" : fmt::format(" ({} note{})", report.notes.size(),
                                                       report.notes.size() == 1 ? "" : "s"));
  else
    fmt::print("meeting {}: {} problem{}; the archive does not match its signed manifest or holds what it must not\n",
               meeting, report.problems.size(), report.problems.size() == 1 ? "" : "s");
}

int run_verify(const Paths& paths, const std::string& meeting) {
  const fs::path folder = meeting_folder(paths, meeting);
  const VerifyReport report = verify_or_fail(paths, folder);
  print_report(meeting, report);
  return report.ok() ? kExitOk : kExitProblems;
}

// ------------------------------------------------------------ export

int run_export(const Paths& paths, const std::string& meeting, const std::string& out, bool unverified) {
  const fs::path folder = meeting_folder(paths, meeting);
  if (!unverified) {
    const VerifyReport report = verify_or_fail(paths, folder);
    if (!report.ok()) {
      for (const auto& p : report.problems) fmt::print(stderr, "problem: {}\n", p);
      fmt::print(stderr, "meeting {}: not exported, the archive fails its check (--unverified exports anyway)\n",
                 meeting);
      return kExitProblems;
    }
  }
  ExportResult result;
  try {
    result = export_composite(folder, out);
  } catch (const ExportError& e) {
    throw UsageOrIoError{e.what()};  // names the meeting or the file
  }
  const double media_s = static_cast<double>(result.media_ms) / 1000.0;
  fmt::print("wrote {}\n", result.file.string());
  fmt::print("media length {:.1f} s, wall time {:.1f} s, {:.2f} × real time\n", media_s, result.seconds,
             media_s > 0 ? result.seconds / media_s : 0.0);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"huijian-archive: list, show, verify and export meeting archives (picture only, signed manifests)"};
  app.require_subcommand(1);
  app.fallthrough();
  Paths paths;
  std::string data_dir = paths.data_dir.string();
  app.add_option("--data-dir", data_dir, "huijiand's data directory (archive/ and keys/ in it)")
      ->capture_default_str();
  app.add_option("--archive-dir", paths.archive_dir, "the archive directory (default DATA_DIR/archive)");
  app.add_option("--public-key", paths.public_key,
                 "the archive's public key PEM (default DATA_DIR/keys/archive-ed25519.pub.pem)");
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "log what the tool does");

  std::string meeting;
  bool json = false;
  std::string composite;
  bool unverified = false;
  CLI::App* list = app.add_subcommand("list", "one line per archive folder");
  CLI::App* show = app.add_subcommand("show", "the manifest in human form");
  show->add_option("meeting", meeting, "meeting id")->required();
  show->add_flag("--json", json, "print manifest.json exactly as signed");
  CLI::App* verify = app.add_subcommand("verify", "check signature, files, digests and that no audio is archived");
  verify->add_option("meeting", meeting, "meeting id")->required();
  CLI::App* exporter = app.add_subcommand("export", "write a side-by-side MP4 of both parties");
  exporter->add_option("meeting", meeting, "meeting id")->required();
  exporter->add_option("--composite", composite, "the MP4 to write")->required();
  exporter->add_flag("--unverified", unverified, "export even when the archive fails its check");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  paths.data_dir = data_dir;
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);

  try {
    if (*list) return run_list(paths);
    if (*show) return run_show(paths, meeting, json);
    if (*verify) return run_verify(paths, meeting);
    if (*exporter) return run_export(paths, meeting, composite, unverified);
  } catch (const UsageOrIoError& e) {
    fmt::print(stderr, "huijian-archive: {}\n", e.message);
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "huijian-archive: {}\n", e.what());
    return kExitUsage;
  }
  return kExitUsage;
}
