#include "signaling/client_message.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "signaling/config.hpp"
#include "signaling/errors.hpp"
#include "signaling/termination_reason.hpp"

namespace huijian::signaling {
namespace {

using nlohmann::json;

const json* field(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::string required_string(const json& object, const char* type, const char* name,
                            std::size_t max_bytes) {
  const json* v = field(object, name);
  if (!v)
    throw ProtocolError("missing_field",
                        fmt::format("\"{}\" needs the field \"{}\" (a string)", type, name));
  if (!v->is_string())
    throw ProtocolError("bad_field", fmt::format("field \"{}\" of \"{}\" must be a string", name, type));
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    throw ProtocolError("bad_field", fmt::format("field \"{}\" of \"{}\" is longer than {} bytes",
                                                 name, type, max_bytes));
  return s;
}

bool has_control_chars(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ') return false;
  return true;
}

std::string meeting_field(const json& object, const char* type) {
  auto id = required_string(object, type, "meeting", 64);
  if (id.empty() || has_control_chars(id))
    throw ProtocolError("bad_field", fmt::format("field \"meeting\" of \"{}\" must be a meeting id", type));
  return id;
}

// An optional text of at most `max_chars` characters, one line.
std::string short_text(const json& object, const char* type, const char* name, std::size_t max_chars) {
  const json* v = field(object, name);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) throw ProtocolError("bad_field", fmt::format("field \"{}\" of \"{}\" must be a string", name, type));
  auto text = v->get<std::string>();
  if (utf8_length(text) > max_chars)
    throw ProtocolError("bad_field", fmt::format("field \"{}\" of \"{}\" is longer than {} characters", name,
                                                 type, max_chars));
  if (has_control_chars(text))
    throw ProtocolError("bad_field", fmt::format("field \"{}\" of \"{}\" must be one line without control characters",
                                                 name, type));
  return text;
}

std::optional<int> optional_int(const json& object, const char* type, const char* name, int min, int max) {
  const json* v = field(object, name);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number_integer() || v->get<std::int64_t>() < min || v->get<std::int64_t>() > max)
    throw ProtocolError("bad_field", fmt::format("field \"{}\" of \"{}\" must be a whole number from {} to {}",
                                                 name, type, min, max));
  return static_cast<int>(v->get<std::int64_t>());
}

// The SDP of an offer ("offer" from a terminal, "watch" from a console).
std::string sdp_field(const json& doc, const char* type) {
  const json* v = field(doc, "sdp");
  if (!v) throw ProtocolError("missing_field", fmt::format("\"{}\" needs the field \"sdp\" (a string)", type));
  if (!v->is_string()) throw ProtocolError("bad_field", fmt::format("field \"sdp\" of \"{}\" must be a string", type));
  const auto& sdp = v->get_ref<const std::string&>();
  if (sdp.size() > kMaxSdpBytes)
    throw ProtocolError("bad_sdp", fmt::format("the offer SDP is longer than {} bytes", kMaxSdpBytes));
  if (sdp.rfind("v=0", 0) != 0)
    throw ProtocolError("bad_sdp", "the offer is not an SDP session description: it must start with \"v=0\"");
  if (sdp.find('\0') != std::string::npos)
    throw ProtocolError("bad_sdp", "the offer SDP contains a NUL character");
  return sdp;
}

// The fields of a trickled candidate ("candidate", "watch_candidate").
CandidateMessage candidate_fields(const json& doc, const char* type) {
  CandidateMessage m;
  m.candidate = required_string(doc, type, "candidate", kMaxCandidateBytes);
  if (!m.candidate.empty() &&
      (m.candidate.rfind("candidate:", 0) != 0 || has_control_chars(m.candidate)))
    throw ProtocolError("bad_candidate",
                        "field \"candidate\" must start with \"candidate:\" (or be \"\" for end of candidates) and be one line");
  const json* mid = field(doc, "sdpMid");
  if (mid && !mid->is_null()) {
    if (!mid->is_string())
      throw ProtocolError("bad_field", fmt::format("field \"sdpMid\" of \"{}\" must be a string", type));
    m.sdp_mid = mid->get<std::string>();
    if (m.sdp_mid.size() > 32 || has_control_chars(m.sdp_mid))
      throw ProtocolError("bad_field", fmt::format("field \"sdpMid\" of \"{}\" must be a short printable string", type));
  }
  const json* index = field(doc, "sdpMLineIndex");
  if (index && !index->is_null()) {
    if (!index->is_number_unsigned() || index->get<std::uint64_t>() > kMaxMLineIndex)
      throw ProtocolError("bad_field", fmt::format(
          "field \"sdpMLineIndex\" of \"{}\" must be an integer from 0 to {}", type, kMaxMLineIndex));
    m.mline_index = index->get<unsigned>();
  }
  if (m.sdp_mid.empty() && !m.mline_index)
    throw ProtocolError("missing_field", fmt::format("\"{}\" needs \"sdpMid\" or \"sdpMLineIndex\"", type));
  return m;
}

}  // namespace

bool is_officer_message(const ClientMessage& message) noexcept {
  return std::holds_alternative<SetTimeMessage>(message) || std::holds_alternative<NoticeMessage>(message) ||
         std::holds_alternative<InterjectionStartMessage>(message) ||
         std::holds_alternative<InterjectionStopMessage>(message) ||
         std::holds_alternative<TerminateMessage>(message) || std::holds_alternative<WatchMessage>(message) ||
         std::holds_alternative<WatchCandidateMessage>(message) || std::holds_alternative<UnwatchMessage>(message);
}

std::size_t utf8_length(std::string_view text) noexcept {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

ClientMessage parse_client_message(std::string_view text, std::size_t max_bytes,
                                   std::string* type_out) {
  if (text.size() > max_bytes)
    throw ProtocolError("too_large", fmt::format("the message has {} bytes; the limit is {} bytes",
                                                 text.size(), max_bytes));
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    throw ProtocolError("bad_json", "the message is not valid JSON (UTF-8 text expected)");
  if (!doc.is_object())
    throw ProtocolError("bad_json", "the message must be a JSON object with a \"type\" field");
  const json* type_field = field(doc, "type");
  if (!type_field)
    throw ProtocolError("missing_field", "the message has no \"type\" field");
  if (!type_field->is_string())
    throw ProtocolError("bad_field", "field \"type\" must be a string");
  const std::string type = type_field->get<std::string>();
  if (type.size() > 64 || has_control_chars(type))
    throw ProtocolError("unknown_type", "unknown message type (too long or not printable)");
  if (type_out) *type_out = type;

  if (type == "hello") {
    HelloMessage m;
    m.device = required_string(doc, "hello", "device", 64);
    m.secret = required_string(doc, "hello", "secret", kMaxSecretBytes);
    if (const json* meeting = field(doc, "meeting"); meeting && !meeting->is_null()) {
      if (!meeting->is_string())
        throw ProtocolError("bad_field", "field \"meeting\" of \"hello\" must be a string or null");
      const auto& id = meeting->get_ref<const std::string&>();
      if (id.empty() || id.size() > 64)
        throw ProtocolError("bad_field", "field \"meeting\" of \"hello\" must be a meeting id of 1 to 64 characters");
      m.meeting = id;
    }
    return m;
  }
  if (type == "offer") return OfferMessage{sdp_field(doc, "offer")};
  if (type == "candidate") return candidate_fields(doc, "candidate");
  if (type == "ready") return ReadyMessage{};
  if (type == "connect") return ConnectMessage{};
  if (type == "end") {
    EndMessage m;
    if (const json* reason = field(doc, "reason"); reason && !reason->is_null()) {
      if (!reason->is_string())
        throw ProtocolError("bad_field", "field \"reason\" of \"end\" must be a string");
      m.reason = reason->get<std::string>();
      if (utf8_length(m.reason) > kMaxEndReasonChars)
        throw ProtocolError("bad_field", fmt::format("field \"reason\" of \"end\" is longer than {} characters",
                                                     kMaxEndReasonChars));
      if (has_control_chars(m.reason))
        throw ProtocolError("bad_field", "field \"reason\" of \"end\" must not contain control characters");
    }
    return m;
  }
  if (type == "ping") return PingMessage{};
  if (type == "officer_hello") return OfficerHelloMessage{required_string(doc, "officer_hello", "token", kMaxTokenBytes)};
  if (type == "set_time") {
    SetTimeMessage m;
    m.meeting = meeting_field(doc, "set_time");
    m.minutes = optional_int(doc, "set_time", "minutes", 1, kMaxMeetingMinutes);
    m.remaining_seconds = optional_int(doc, "set_time", "remaining_seconds", 1, kMaxRemainingSeconds);
    if (m.minutes && m.remaining_seconds)
      throw ProtocolError("bad_field", "\"set_time\" takes either \"minutes\" or \"remaining_seconds\", not both");
    if (!m.minutes && !m.remaining_seconds)
      throw ProtocolError("missing_field",
                          "\"set_time\" needs \"minutes\" (the whole call time) or \"remaining_seconds\" (end that long from now)");
    return m;
  }
  if (type == "notice") {
    NoticeMessage m;
    m.meeting = meeting_field(doc, "notice");
    if (!field(doc, "text")) throw ProtocolError("missing_field", "\"notice\" needs the field \"text\" (a string)");
    m.text = short_text(doc, "notice", "text", kMaxNoticeChars);
    if (is_blank(m.text)) throw ProtocolError("bad_field", "field \"text\" of \"notice\" must not be empty");
    return m;
  }
  if (type == "interjection_start") return InterjectionStartMessage{meeting_field(doc, "interjection_start")};
  if (type == "interjection_stop") return InterjectionStopMessage{meeting_field(doc, "interjection_stop")};
  if (type == "terminate") {
    TerminateMessage m;
    m.meeting = meeting_field(doc, "terminate");
    m.code = required_string(doc, "terminate", "code", 64);
    const auto* reason = TerminationReason::find(m.code);
    if (!reason)
      throw ProtocolError("bad_field", fmt::format("field \"code\" of \"terminate\" must be one of {}",
                                                   TerminationReason::codes_list()));
    m.text = short_text(doc, "terminate", "text", kMaxReasonTextChars);
    if (reason->needs_text && is_blank(m.text))
      throw ProtocolError("missing_field", fmt::format("\"terminate\" with code {} needs \"text\" saying what happened",
                                                       m.code));
    return m;
  }
  if (type == "watch") return WatchMessage{meeting_field(doc, "watch"), sdp_field(doc, "watch")};
  if (type == "watch_candidate")
    return WatchCandidateMessage{meeting_field(doc, "watch_candidate"), candidate_fields(doc, "watch_candidate")};
  if (type == "unwatch") return UnwatchMessage{meeting_field(doc, "unwatch")};
  throw ProtocolError("unknown_type",
                      fmt::format("unknown message type \"{}\"; expected one of hello, offer, candidate, ready, connect, end, ping, "
                                  "officer_hello, set_time, notice, interjection_start, interjection_stop, terminate, watch, "
                                  "watch_candidate, unwatch",
                                  type));
}

}  // namespace huijian::signaling
