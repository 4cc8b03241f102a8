#pragma once
// WebRTC session descriptions (RFC 8866 syntax, JSEP / RFC 8829 usage): parses
// an offer from Chromium or GStreamer webrtcbin, chooses what the relay
// accepts (BUNDLE, rtcp-mux, DTLS sha-256, Opus, H.264 constrained baseline
// with packetization-mode=1) and writes the relay's answer. Control plane: the
// text is hostile, bounded and every problem throws SdpError naming the line.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huijian::media {

struct Codec {
  std::uint8_t payload_type = 0;
  std::string name;              // as written, e.g. "H264", "opus", "OPUS", "rtx"
  std::uint32_t clock_rate = 0;
  std::uint8_t channels = 0;     // 1 for audio without a channel count, 0 for video
  std::string fmtp;              // the parameters after "a=fmtp:<pt> "
  std::vector<std::string> feedback;  // a=rtcp-fb values: "nack", "nack pli", "ccm fir", "goog-remb", ...
};

// Other: an m-line that is neither audio nor video (application / data channels, ...).
enum class MediaKind { Audio, Video, Other };
enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };

struct SsrcInfo {
  std::uint32_t ssrc = 0;
  std::string cname;
  std::string msid;  // "<stream id> <track id>"
};

struct MediaSection {
  MediaKind kind = MediaKind::Other;
  std::string mid;
  Direction direction = Direction::SendRecv;
  bool rtcp_mux = false;
  std::vector<Codec> codecs;  // in m-line order
  std::vector<SsrcInfo> ssrcs;  // in order of first appearance
  std::vector<std::pair<std::string, std::vector<std::uint32_t>>> ssrc_groups;  // semantics ("FID", "SIM", ...), SSRCs
  std::vector<std::string> candidates;  // raw "candidate:..." values
  std::string ice_ufrag, ice_pwd;
  std::string fingerprint_algorithm, fingerprint;  // algorithm lower case; sha-256 preferred when several
  std::string setup;
  std::uint16_t port = 0;
  bool rejected = false;  // port 0 without a=bundle-only
  // Beyond the brief's fields:
  std::string media_type;  // the m-line's media token: "audio", "video", "application", ...
  std::string protocol;    // e.g. "UDP/TLS/RTP/SAVPF"
  std::vector<std::string> formats;  // the m-line's format tokens as written
  bool rtcp_rsize = false;
  bool bundle_only = false;  // a=bundle-only (webrtcbin max-bundle: port 0 but not rejected)
  std::string msid;          // a=msid value
};

struct SessionDescription {
  std::string ice_ufrag, ice_pwd;
  std::string fingerprint_algorithm, fingerprint;
  std::string setup;
  std::vector<std::string> bundle_mids;
  std::vector<MediaSection> media;
};

class SdpError : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

inline constexpr std::size_t kSdpMaxBytes = 64 * 1024;
inline constexpr std::size_t kSdpMaxLines = 2000;
inline constexpr std::size_t kSdpMaxMediaSections = 16;
inline constexpr std::size_t kSdpMaxCodecsPerSection = 64;

// Throws SdpError with a message naming the line number and what is wrong.
// Limits: 64 KiB text, 2000 lines, 16 media sections, 64 codecs per section,
// 64 SSRCs per section; CRLF or LF line ends. Session-level ice-ufrag/pwd,
// fingerprint and setup are copied into sections without their own.
SessionDescription parse_sdp(std::string_view text);

// What the relay accepts of an offer: one entry per accepted audio/video
// m-line, in m-line order.
struct AcceptedSection {
  std::size_t index = 0;  // m-line index (0-based, as sdpMLineIndex)
  MediaKind kind = MediaKind::Audio;
  std::string mid;
  Direction offered = Direction::SendRecv;
  Codec codec;  // the offered codec chosen, with the offerer's payload type
  std::vector<std::uint32_t> remote_ssrcs;  // primary SSRCs the peer will send for this mid (rtx/fec excluded)
};

// Rules: BUNDLE of all accepted sections and rtcp-mux are required; the
// fingerprint must be sha-256; audio: Opus/48000/2; video: H.264 with
// packetization-mode=1 and profile-level-id 42e01f preferred, else any
// constrained baseline (42e0xx / 42c0xx / 4240xx) or baseline (4200xx) with
// packetization-mode=1. Sections offered with port 0 (not bundle-only) and
// non-audio/video sections are skipped (rejected in the answer). Throws
// SdpError, e.g. "m-line 1 (mid 1, video): no H.264 constrained baseline with
// packetization-mode=1 offered", or when nothing is acceptable.
std::vector<AcceptedSection> choose_sections(const SessionDescription& offer);

struct AnswerParams {
  std::string ice_ufrag, ice_pwd, fingerprint_sha256 /* "AB:CD:..." */;
  std::string setup = "passive";
  std::string cname, stream_id;
  struct Outgoing {
    std::string mid;
    std::uint32_t ssrc = 0;
    Direction direction = Direction::SendRecv;
  };  // per accepted section
  std::vector<Outgoing> outgoing;
};

// The answer direction for an offered one: sendrecv -> `wanted` (the relay's
// Outgoing direction), recvonly -> sendonly, sendonly -> recvonly, inactive -> inactive.
Direction answer_direction(Direction offered, Direction wanted) noexcept;

// Builds the answer text (CRLF line ends): one m-line per offered m-line, in
// order; accepted ones with port 9 and only the chosen payload type, the rest
// with port 0. Sending sections (sendrecv/sendonly) carry a=msid and
// a=ssrc cname/msid lines with the Outgoing SSRC; the track id is "<mid>-track".
// No header extensions, no rtx. A section without an Outgoing entry is treated
// as wanting sendrecv. Throws SdpError if a sending section has no Outgoing
// entry, an accepted index does not fit the offer, or a parameter is not a
// single token.
std::string build_answer(const SessionDescription& offer, const std::vector<AcceptedSection>& accepted,
                         const AnswerParams& params);

const char* to_string(MediaKind kind) noexcept;
const char* to_string(Direction direction) noexcept;  // "sendrecv", "sendonly", "recvonly", "inactive"

}  // namespace huijian::media
