#pragma once
// The JSON messages between a terminal and huijiand: building what the
// terminal sends and checking what the server sends. Text in, values out; no
// sockets, so every rule here is unit-tested.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace huijian::terminals {

// A message from the server that is not what the protocol allows.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kMaxSignalingMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxSdpBytes = 60 * 1024;
inline constexpr std::size_t kMaxCandidateBytes = 1024;
inline constexpr unsigned kMaxMLineIndex = 63;

// One trickled ICE candidate. An empty `candidate` means end of candidates.
struct IceCandidate {
  std::string candidate;  // "candidate:..." (no "a=")
  std::string sdp_mid;
  unsigned mline_index = 0;
};

struct Peer {
  std::string device;
  std::string name;
};

struct WelcomeMessage {
  std::string device;
  std::string name;
  std::string role;  // "lawyer-terminal" | "detainee-terminal"
  std::string meeting_id;
  std::string meeting_state;
  std::string case_id;
  Peer peer;
};
struct AnswerMessage {
  std::string sdp;
};
struct CandidateMessage {
  IceCandidate candidate;
};
struct StateMessage {
  std::string meeting;
  std::string state;  // waiting | detainee_ready | connected | ended | (others kept verbatim)
  std::string at;
  std::string by;
  std::string text;
};
struct PeerReadyMessage {
  std::string text;
  std::string action;
};
struct EndedMessage {
  std::string by;
  std::string reason;
  // For a coded end (an officer's termination, the call time running out):
  std::string code;     // "time_over", "violation_phone", ...; empty otherwise
  std::string text_zh;
  std::string text_en;
  std::string detail;   // the officer's words, if any
};
// The end time of the meeting, at connect and whenever an officer changes it.
struct TimeMessage {
  std::string ends_at;  // server time, ISO 8601
  std::string now;      // the server's clock when it sent this
  long long remaining_seconds = 0;
  std::optional<long long> length_seconds;
  std::string by;       // "server" or "officer"
  std::string text;     // set when an officer changed the time
};
struct TimeWarningMessage {
  long long remaining_seconds = 0;
  std::string text;
  std::string text_en;
};
// A text notice from the supervising officer.
struct NoticeMessage {
  std::string text;
  std::string from;
  std::string at;
};
struct OfficerSpeakingMessage {
  bool speaking = false;
  std::string text;
  std::string at;
};
struct MediaStateMessage {
  std::string state;  // connected | secure | failed | closed
};
struct ErrorMessage {
  std::string code;
  std::string message;
};
// A well-formed message of a type this terminal does not act on (notices,
// time warnings, ...); `text` carries a human-readable field if it had one.
struct OtherMessage {
  std::string type;
  std::string text;
};

using ServerMessage = std::variant<WelcomeMessage, AnswerMessage, CandidateMessage, StateMessage,
                                   PeerReadyMessage, EndedMessage, MediaStateMessage, ErrorMessage,
                                   TimeMessage, TimeWarningMessage, NoticeMessage, OfficerSpeakingMessage,
                                   OtherMessage>;

// Parses one text frame from the server. Throws ProtocolError if it is too
// large, not JSON, not an object, has no string "type", or a known type lacks
// a required field or has one of the wrong kind or size.
ServerMessage parse_server_message(std::string_view text);

// Messages the terminal sends (compact JSON).
std::string make_hello(const std::string& device, const std::string& secret);
std::string make_offer(const std::string& sdp);
std::string make_candidate(const IceCandidate& candidate);
std::string make_ready();
std::string make_connect();
std::string make_end(const std::string& reason);

// The a=mid values of an SDP, one per m-line in order ("" when an m-line has none).
std::vector<std::string> sdp_mids(std::string_view sdp);

// Milliseconds since 1970 of "2026-11-23T09:00:00.123Z" (or without the
// fraction); nullopt for anything else.
std::optional<long long> unix_ms_of_iso(std::string_view text);

// "a=candidate:..." or "candidate:..." -> "candidate:..."; other text unchanged.
std::string normalize_candidate(std::string_view candidate);

}  // namespace huijian::terminals
