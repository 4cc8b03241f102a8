#include "terminals/signaling_messages.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

namespace huijian::terminals {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxFieldBytes = 4096;

std::string required_string(const json& j, const char* key, std::size_t max = kMaxFieldBytes) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    throw ProtocolError(std::string("message lacks string field '") + key + "'");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) throw ProtocolError(std::string("field '") + key + "' is too long");
  return s;
}

std::string optional_string(const json& j, const char* key, std::size_t max = kMaxFieldBytes) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw ProtocolError(std::string("field '") + key + "' is not a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) throw ProtocolError(std::string("field '") + key + "' is too long");
  return s;
}

const json& optional_object(const json& j, const char* key) {
  static const json empty = json::object();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return empty;
  if (!it->is_object()) throw ProtocolError(std::string("field '") + key + "' is not an object");
  return *it;
}

// Codes may come as strings or numbers; keep them as text.
std::string code_text(const json& j) {
  auto it = j.find("code");
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > kMaxFieldBytes) throw ProtocolError("field 'code' is too long");
    return s;
  }
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  throw ProtocolError("field 'code' is neither a string nor an integer");
}

IceCandidate parse_candidate(const json& j) {
  IceCandidate c;
  c.candidate = required_string(j, "candidate", kMaxCandidateBytes);
  c.sdp_mid = optional_string(j, "sdpMid", 64);
  auto it = j.find("sdpMLineIndex");
  if (it == j.end() || it->is_null()) {
    c.mline_index = 0;
  } else if (it->is_number_unsigned() || (it->is_number_integer() && it->get<long long>() >= 0)) {
    auto v = it->get<long long>();
    if (v > static_cast<long long>(kMaxMLineIndex)) throw ProtocolError("sdpMLineIndex is out of range");
    c.mline_index = static_cast<unsigned>(v);
  } else {
    throw ProtocolError("sdpMLineIndex is not a non-negative integer");
  }
  if (!c.candidate.empty()) {
    c.candidate = normalize_candidate(c.candidate);
    if (c.candidate.rfind("candidate:", 0) != 0) throw ProtocolError("candidate does not start with 'candidate:'");
    for (char ch : c.candidate)
      if (ch == '\r' || ch == '\n' || ch == '\0') throw ProtocolError("candidate contains a line break");
  }
  return c;
}

long long required_seconds(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) throw ProtocolError(std::string("message lacks whole-number field '") + key + "'");
  auto v = it->get<long long>();
  if (v < 0 || v > 7LL * 24 * 3600) throw ProtocolError(std::string("field '") + key + "' is out of range");
  return v;
}

// Text from the command line may not be valid UTF-8: replace, never throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

ServerMessage parse_server_message(std::string_view text) {
  if (text.size() > kMaxSignalingMessageBytes) throw ProtocolError("message is larger than 64 KiB");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw ProtocolError("message is not valid JSON");
  if (!j.is_object()) throw ProtocolError("message is not a JSON object");
  const std::string type = required_string(j, "type", 64);

  if (type == "welcome") {
    WelcomeMessage m;
    m.device = required_string(j, "device");
    m.name = optional_string(j, "name");
    m.role = optional_string(j, "role");
    const json& meeting = optional_object(j, "meeting");
    m.meeting_id = optional_string(meeting, "id");
    m.meeting_state = optional_string(meeting, "state");
    m.case_id = optional_string(meeting, "case_id");
    const json& peer = optional_object(meeting, "peer");
    m.peer.device = optional_string(peer, "device");
    m.peer.name = optional_string(peer, "name");
    return m;
  }
  if (type == "answer") {
    AnswerMessage m{required_string(j, "sdp", kMaxSdpBytes)};
    if (m.sdp.rfind("v=0", 0) != 0) throw ProtocolError("answer SDP does not start with v=0");
    return m;
  }
  if (type == "candidate") return CandidateMessage{parse_candidate(j)};
  if (type == "state") {
    StateMessage m;
    m.meeting = optional_string(j, "meeting");
    m.state = required_string(j, "state", 64);
    m.at = optional_string(j, "at", 64);
    m.by = optional_string(j, "by");
    m.text = optional_string(j, "text");
    return m;
  }
  if (type == "peer_ready") return PeerReadyMessage{optional_string(j, "text"), optional_string(j, "action")};
  if (type == "ended")
    return EndedMessage{optional_string(j, "by"),      optional_string(j, "reason"),  optional_string(j, "code", 64),
                        optional_string(j, "text_zh"), optional_string(j, "text_en"), optional_string(j, "detail")};
  if (type == "time") {
    TimeMessage m;
    m.ends_at = required_string(j, "ends_at", 64);
    if (!unix_ms_of_iso(m.ends_at)) throw ProtocolError("field 'ends_at' is not an ISO 8601 UTC time");
    m.now = optional_string(j, "now", 64);
    m.remaining_seconds = required_seconds(j, "remaining_seconds");
    if (j.contains("length_seconds") && !j["length_seconds"].is_null()) m.length_seconds = required_seconds(j, "length_seconds");
    m.by = optional_string(j, "by", 64);
    m.text = optional_string(j, "text");
    return m;
  }
  if (type == "time_warning")
    return TimeWarningMessage{required_seconds(j, "remaining_seconds"), optional_string(j, "text"),
                              optional_string(j, "text_en")};
  if (type == "notice")
    return NoticeMessage{required_string(j, "text"), optional_string(j, "from"), optional_string(j, "at", 64)};
  if (type == "officer_speaking") {
    auto it = j.find("speaking");
    if (it == j.end() || !it->is_boolean()) throw ProtocolError("officer_speaking lacks boolean field 'speaking'");
    return OfficerSpeakingMessage{it->get<bool>(), optional_string(j, "text"), optional_string(j, "at", 64)};
  }
  if (type == "media") return MediaStateMessage{required_string(j, "state", 64)};
  if (type == "error") return ErrorMessage{code_text(j), optional_string(j, "message")};

  OtherMessage other{type, {}};
  for (const char* key : {"text", "message", "reason"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string() && it->get_ref<const std::string&>().size() <= kMaxFieldBytes) {
      other.text = it->get<std::string>();
      break;
    }
  }
  return other;
}

std::string make_hello(const std::string& device, const std::string& secret) {
  return dump(json{{"type", "hello"}, {"device", device}, {"secret", secret}});
}

std::string make_offer(const std::string& sdp) { return dump(json{{"type", "offer"}, {"sdp", sdp}}); }

std::string make_candidate(const IceCandidate& c) {
  return dump(json{{"type", "candidate"},
                   {"candidate", c.candidate},
                   {"sdpMid", c.sdp_mid},
                   {"sdpMLineIndex", c.mline_index}});
}

std::string make_ready() { return dump(json{{"type", "ready"}}); }
std::string make_connect() { return dump(json{{"type", "connect"}}); }
std::string make_end(const std::string& reason) { return dump(json{{"type", "end"}, {"reason", reason}}); }

std::vector<std::string> sdp_mids(std::string_view sdp) {
  std::vector<std::string> mids;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t eol = sdp.find('\n', pos);
    std::string_view line = sdp.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("m=", 0) == 0) {
      mids.emplace_back();
    } else if (line.rfind("a=mid:", 0) == 0 && !mids.empty() && mids.back().empty()) {
      mids.back() = std::string(line.substr(6));
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return mids;
}

std::optional<long long> unix_ms_of_iso(std::string_view t) {
  using namespace std::chrono;
  if (t.size() != 20 && t.size() != 24) return std::nullopt;
  if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t.back() != 'Z') return std::nullopt;
  if (t.size() == 24 && t[19] != '.') return std::nullopt;
  auto number = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  int y = number(0, 4), mo = number(5, 2), d = number(8, 2), h = number(11, 2), mi = number(14, 2), s = number(17, 2);
  int ms = t.size() == 24 ? number(20, 3) : 0;
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || ms < 0)
    return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
  return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

std::string normalize_candidate(std::string_view candidate) {
  if (candidate.rfind("a=", 0) == 0) candidate.remove_prefix(2);
  return std::string(candidate);
}

}  // namespace huijian::terminals
