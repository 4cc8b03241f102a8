#pragma once
// The manifest of one meeting's archive (docs/archive.md): what was recorded,
// of whom, when, in which files with which SHA-256, where footage is missing,
// and what happened in the meeting. Written as manifest.json next to the
// segments and signed (manifest.json.sig). Plain data plus JSON both ways.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace huijian::recorder {

inline constexpr std::string_view kManifestFormat = "huijian-archive/1";
inline constexpr std::string_view kManifestFile = "manifest.json";
inline constexpr std::string_view kSignatureFile = "manifest.json.sig";
inline constexpr std::string_view kJournalFile = "recording.json";

// Which party a track shows. There is no third value: an archive holds the
// two parties' pictures and nothing else.
enum class Party { Lawyer, Detainee };
const char* to_string(Party party) noexcept;
std::optional<Party> party_from_string(std::string_view text) noexcept;

// Thrown for a manifest or journal that does not parse or lacks a field;
// what() names the field.
class ManifestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PartyEntry {
  Party party = Party::Lawyer;
  std::string device_id;
  std::string device_name;
};

// One Matroska file of one party's video.
struct SegmentEntry {
  Party party = Party::Lawyer;
  std::string file;            // name inside the archive folder, e.g. "lawyer-00000.mkv"
  std::uint64_t bytes = 0;
  std::string sha256;          // lowercase hex of the whole file
  std::int64_t start_ms = 0;   // first frame, from the recording's origin (recording_started_at)
  std::int64_t duration_ms = 0;
  bool truncated = false;      // cut short by a crash or a write error, then repaired or kept as written
};

// Footage of one party that is missing, with its reason:
// "packet_loss"    the network lost packets the sender could not replace in time
// "no_video"       no picture arrived (the terminal stopped sending or reconnected)
// "recording_fault" the recorder could not write (disk full, write error)
// "server_stopped" the server stopped (crash) before the meeting ended
struct GapEntry {
  Party party = Party::Lawyer;
  std::int64_t from_ms = 0;  // from the recording's origin
  std::int64_t to_ms = 0;
  std::string from;          // the same instants in ISO-8601 UTC with ms
  std::string to;
  std::string reason;
  std::string detail;
};

// One event of the meeting, from the server's store.
struct EventEntry {
  std::string at;      // ISO-8601 UTC with ms
  std::string kind;    // "created", "state:connected", "interjection", "notice", "termination", ...
  std::string actor;   // device id, officer username, "server", ...
  std::string detail;
};

// Case metadata as the server's database holds it (signaling stores it; the
// manifest copies it so an archive reads on its own). Every field may be empty.
struct CaseEntry {
  std::string case_id;
  std::string lawyer_name;
  std::string lawyer_license;   // 执业证号
  std::string lawyer_firm;
  std::string detainee_name;
  std::string detainee_id_number;
  std::string letter_kind;      // "commission" (委托书) or "legal_aid" (法律援助公函)
  std::string letter_file;      // stored name under the data directory's documents/
  std::string letter_sha256;
};

struct Manifest {
  std::string format{kManifestFormat};
  std::string meeting_id;
  std::string case_id;
  std::optional<CaseEntry> case_info;
  std::vector<PartyEntry> parties;   // lawyer first, then detainee
  std::string connected_at;          // the meeting reached "connected"
  std::string recording_started_at;  // origin of every *_ms field
  std::string recording_ended_at;
  std::string ended_at;              // the meeting ended (empty when it never did: crash)
  bool ended_normally = true;
  std::string end_reason;            // the meeting's end reason, or why the recording ended abnormally
  std::string ended_by;
  std::vector<SegmentEntry> segments;  // per party in time order
  std::vector<GapEntry> gaps;
  std::vector<EventEntry> events;
  std::string recorder_faults;       // empty, or what went wrong while writing (human text)
  std::string signing_key_id;        // SHA-256 hex of the public key's DER

  const PartyEntry* party(Party p) const noexcept;
};

nlohmann::json to_json(const Manifest& manifest);
// Throws ManifestError naming the first missing or mistyped field.
Manifest manifest_from_json(const nlohmann::json& j);
// The exact bytes written to manifest.json (and signed): pretty, UTF-8, final newline.
std::string manifest_text(const Manifest& manifest);

}  // namespace huijian::recorder
