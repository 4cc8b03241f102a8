#pragma once
// Messages a terminal sends to huijiand over /ws (docs/protocol.md): text in,
// a validated value out. Every refusal is a ProtocolError whose code is the
// one sent back to the client.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace huijian::signaling {

inline constexpr std::size_t kMaxSdpBytes = 60 * 1024;
inline constexpr std::size_t kMaxCandidateBytes = 1024;
inline constexpr std::size_t kMaxSecretBytes = 256;
inline constexpr std::size_t kMaxEndReasonChars = 200;
inline constexpr unsigned kMaxMLineIndex = 63;
inline constexpr std::size_t kMaxTokenBytes = 128;
inline constexpr std::size_t kMaxNoticeChars = 200;
inline constexpr int kMaxRemainingSeconds = 8 * 3600;

struct HelloMessage {
  std::string device;
  std::string secret;
  std::optional<std::string> meeting;
};
struct OfferMessage {
  std::string sdp;
};
struct CandidateMessage {
  std::string candidate;  // "candidate:..." or "" (end of candidates)
  std::string sdp_mid;
  std::optional<unsigned> mline_index;
};
struct ReadyMessage {};
struct ConnectMessage {};
struct EndMessage {
  std::string reason;
};
struct PingMessage {};

// Officer console messages (docs/protocol.md, "Supervision").
struct OfficerHelloMessage {
  std::string token;
};
// Exactly one of minutes (the whole call time, counted from connected) and
// remaining_seconds (the meeting ends that long from now).
struct SetTimeMessage {
  std::string meeting;
  std::optional<int> minutes;
  std::optional<int> remaining_seconds;
};
struct NoticeMessage {
  std::string meeting;
  std::string text;
};
struct InterjectionStartMessage {
  std::string meeting;
};
struct InterjectionStopMessage {
  std::string meeting;
};
struct TerminateMessage {
  std::string meeting;
  std::string code;  // a TerminationReason code
  std::string text;  // required for violation_other
};

// The picture of one meeting for the console (its offer), its candidates, and the end of it.
struct WatchMessage {
  std::string meeting;
  std::string sdp;
};
struct WatchCandidateMessage {
  std::string meeting;
  CandidateMessage candidate;
};
struct UnwatchMessage {
  std::string meeting;
};

using ClientMessage =
    std::variant<HelloMessage, OfferMessage, CandidateMessage, ReadyMessage, ConnectMessage, EndMessage,
                 PingMessage, OfficerHelloMessage, SetTimeMessage, NoticeMessage, InterjectionStartMessage,
                 InterjectionStopMessage, TerminateMessage, WatchMessage, WatchCandidateMessage, UnwatchMessage>;

// True for the messages only an officer's connection may send.
bool is_officer_message(const ClientMessage& message) noexcept;

// Parses one text message. On success and on failure after the type was read,
// *type_out (if given) holds the message's "type" for the error's "ref".
// Throws ProtocolError: too_large, bad_json, missing_field, bad_field,
// unknown_type, bad_sdp, bad_candidate.
ClientMessage parse_client_message(std::string_view text, std::size_t max_bytes,
                                   std::string* type_out = nullptr);

// Number of Unicode code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view text) noexcept;

}  // namespace huijian::signaling
