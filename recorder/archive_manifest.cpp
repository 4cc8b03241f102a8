#include "recorder/archive_manifest.hpp"

namespace huijian::recorder {

using nlohmann::json;

const char* to_string(Party party) noexcept { return party == Party::Lawyer ? "lawyer" : "detainee"; }

std::optional<Party> party_from_string(std::string_view text) noexcept {
  if (text == "lawyer") return Party::Lawyer;
  if (text == "detainee") return Party::Detainee;
  return std::nullopt;
}

const PartyEntry* Manifest::party(Party p) const noexcept {
  for (const auto& entry : parties)
    if (entry.party == p) return &entry;
  return nullptr;
}

namespace {

// Field readers that name what is wrong.
const json& field(const json& j, const char* name, const std::string& where) {
  if (!j.is_object()) throw ManifestError(where + " is not an object");
  auto it = j.find(name);
  if (it == j.end()) throw ManifestError(where + ": field \"" + name + "\" is missing");
  return *it;
}

std::string text(const json& j, const char* name, const std::string& where) {
  const json& v = field(j, name, where);
  if (!v.is_string()) throw ManifestError(where + ": field \"" + name + "\" must be a string");
  return v.get<std::string>();
}

std::int64_t integer(const json& j, const char* name, const std::string& where) {
  const json& v = field(j, name, where);
  if (!v.is_number_integer()) throw ManifestError(where + ": field \"" + name + "\" must be an integer");
  return v.get<std::int64_t>();
}

bool boolean(const json& j, const char* name, const std::string& where) {
  const json& v = field(j, name, where);
  if (!v.is_boolean()) throw ManifestError(where + ": field \"" + name + "\" must be true or false");
  return v.get<bool>();
}

const json& array(const json& j, const char* name, const std::string& where) {
  const json& v = field(j, name, where);
  if (!v.is_array()) throw ManifestError(where + ": field \"" + name + "\" must be an array");
  return v;
}

Party party_field(const json& j, const std::string& where) {
  auto p = party_from_string(text(j, "party", where));
  if (!p) throw ManifestError(where + ": field \"party\" must be \"lawyer\" or \"detainee\"");
  return *p;
}

std::string at(const char* list, std::size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; }

}  // namespace

json to_json(const Manifest& m) {
  json j;
  j["format"] = m.format;
  j["meeting_id"] = m.meeting_id;
  j["case_id"] = m.case_id;
  if (m.case_info) {
    const CaseEntry& c = *m.case_info;
    j["case"] = {{"case_id", c.case_id},
                 {"lawyer_name", c.lawyer_name},
                 {"lawyer_license", c.lawyer_license},
                 {"lawyer_firm", c.lawyer_firm},
                 {"detainee_name", c.detainee_name},
                 {"detainee_id_number", c.detainee_id_number},
                 {"letter_kind", c.letter_kind},
                 {"letter_file", c.letter_file},
                 {"letter_sha256", c.letter_sha256}};
  } else {
    j["case"] = nullptr;
  }
  j["parties"] = json::array();
  for (const auto& p : m.parties)
    j["parties"].push_back({{"party", to_string(p.party)}, {"device_id", p.device_id}, {"device_name", p.device_name}});
  j["connected_at"] = m.connected_at;
  j["recording_started_at"] = m.recording_started_at;
  j["recording_ended_at"] = m.recording_ended_at;
  j["ended_at"] = m.ended_at;
  j["ended_normally"] = m.ended_normally;
  j["end_reason"] = m.end_reason;
  j["ended_by"] = m.ended_by;
  j["segments"] = json::array();
  for (const auto& s : m.segments)
    j["segments"].push_back({{"party", to_string(s.party)},
                             {"file", s.file},
                             {"bytes", s.bytes},
                             {"sha256", s.sha256},
                             {"start_ms", s.start_ms},
                             {"duration_ms", s.duration_ms},
                             {"truncated", s.truncated}});
  j["gaps"] = json::array();
  for (const auto& g : m.gaps)
    j["gaps"].push_back({{"party", to_string(g.party)},
                         {"from_ms", g.from_ms},
                         {"to_ms", g.to_ms},
                         {"from", g.from},
                         {"to", g.to},
                         {"reason", g.reason},
                         {"detail", g.detail}});
  j["events"] = json::array();
  for (const auto& e : m.events)
    j["events"].push_back({{"at", e.at}, {"kind", e.kind}, {"actor", e.actor}, {"detail", e.detail}});
  j["recorder_faults"] = m.recorder_faults;
  j["signing_key_id"] = m.signing_key_id;
  return j;
}

Manifest manifest_from_json(const json& j) {
  const std::string top = "manifest";
  Manifest m;
  m.format = text(j, "format", top);
  if (m.format != kManifestFormat)
    throw ManifestError("manifest: format \"" + m.format + "\" is not " + std::string(kManifestFormat));
  m.meeting_id = text(j, "meeting_id", top);
  m.case_id = text(j, "case_id", top);
  const json& c = field(j, "case", top);
  if (!c.is_null()) {
    CaseEntry e;
    e.case_id = text(c, "case_id", "case");
    e.lawyer_name = text(c, "lawyer_name", "case");
    e.lawyer_license = text(c, "lawyer_license", "case");
    e.lawyer_firm = text(c, "lawyer_firm", "case");
    e.detainee_name = text(c, "detainee_name", "case");
    e.detainee_id_number = text(c, "detainee_id_number", "case");
    e.letter_kind = text(c, "letter_kind", "case");
    e.letter_file = text(c, "letter_file", "case");
    e.letter_sha256 = text(c, "letter_sha256", "case");
    m.case_info = e;
  }
  const json& parties = array(j, "parties", top);
  for (std::size_t i = 0; i < parties.size(); ++i) {
    const std::string where = at("parties", i);
    m.parties.push_back({party_field(parties[i], where), text(parties[i], "device_id", where),
                         text(parties[i], "device_name", where)});
  }
  m.connected_at = text(j, "connected_at", top);
  m.recording_started_at = text(j, "recording_started_at", top);
  m.recording_ended_at = text(j, "recording_ended_at", top);
  m.ended_at = text(j, "ended_at", top);
  m.ended_normally = boolean(j, "ended_normally", top);
  m.end_reason = text(j, "end_reason", top);
  m.ended_by = text(j, "ended_by", top);
  const json& segments = array(j, "segments", top);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string where = at("segments", i);
    const json& s = segments[i];
    SegmentEntry e;
    e.party = party_field(s, where);
    e.file = text(s, "file", where);
    const std::int64_t bytes = integer(s, "bytes", where);
    if (bytes < 0) throw ManifestError(where + ": field \"bytes\" is negative");
    e.bytes = static_cast<std::uint64_t>(bytes);
    e.sha256 = text(s, "sha256", where);
    e.start_ms = integer(s, "start_ms", where);
    e.duration_ms = integer(s, "duration_ms", where);
    e.truncated = boolean(s, "truncated", where);
    m.segments.push_back(std::move(e));
  }
  const json& gaps = array(j, "gaps", top);
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    const std::string where = at("gaps", i);
    const json& g = gaps[i];
    m.gaps.push_back({party_field(g, where), integer(g, "from_ms", where), integer(g, "to_ms", where),
                      text(g, "from", where), text(g, "to", where), text(g, "reason", where),
                      text(g, "detail", where)});
  }
  const json& events = array(j, "events", top);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string where = at("events", i);
    const json& e = events[i];
    m.events.push_back({text(e, "at", where), text(e, "kind", where), text(e, "actor", where),
                        text(e, "detail", where)});
  }
  m.recorder_faults = text(j, "recorder_faults", top);
  m.signing_key_id = text(j, "signing_key_id", top);
  return m;
}

std::string manifest_text(const Manifest& manifest) { return to_json(manifest).dump(2) + "\n"; }

}  // namespace huijian::recorder
