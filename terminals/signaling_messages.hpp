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

// "a=candidate:..." or "candidate:..." -> "candidate:..."; other text unchanged.
std::string normalize_candidate(std::string_view candidate);

}  // namespace huijian::terminals
