#include "media/sdp.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace huijian::media {

namespace {

constexpr std::size_t kMaxSsrcsPerSection = 64;
constexpr std::size_t kMaxSsrcGroupsPerSection = 32;
constexpr std::size_t kMaxFeedbackPerCodec = 32;
constexpr std::size_t kMaxExcerpt = 40;

constexpr std::uint32_t kH264PreferredProfileLevelId = 0x42E01F;
constexpr std::uint32_t kH264DefaultProfileLevelId = 0x42000A;  // RFC 6184 8.1: baseline, level 1.0

// ---- small text helpers ----

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = lower(c);
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits on runs of spaces/tabs.
std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
      ++i;
    }
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(s.substr(start, i - start));
    }
  }
  return out;
}

// Splits at the first space: ("96", "nack pli").
std::pair<std::string_view, std::string_view> split_first(std::string_view s) noexcept {
  s = trim(s);
  const std::size_t space = s.find_first_of(" \t");
  if (space == std::string_view::npos) {
    return {s, {}};
  }
  return {s.substr(0, space), trim(s.substr(space + 1))};
}

template <class T>
std::optional<T> parse_number(std::string_view s, T max) noexcept {
  if (s.empty() || s.size() > 10) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value > max) {
    return std::nullopt;
  }
  return static_cast<T>(value);
}

bool is_single_token(std::string_view s) noexcept {
  return !s.empty() && s.find_first_of(" \t") == std::string_view::npos;
}

// A printable excerpt of hostile text for an error message.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxExcerpt)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F ? c : '?');
  }
  if (s.size() > kMaxExcerpt) {
    out += "...";
  }
  return out;
}

// ---- parsing ----

class Parser {
 public:
  SessionDescription run(std::string_view text) {
    if (text.size() > kSdpMaxBytes) {
      throw SdpError("the SDP is " + std::to_string(text.size()) + " bytes; at most " + std::to_string(kSdpMaxBytes) +
                     " are accepted");
    }
    std::size_t start = 0;
    bool seen_version = false;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) {
        end = text.size();
      }
      std::string_view line = text.substr(start, end - start);
      start = end + 1;
      ++line_number_;
      if (line_number_ > kSdpMaxLines) {
        throw SdpError("the SDP has more than " + std::to_string(kSdpMaxLines) + " lines");
      }
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      if (line.empty()) {
        continue;  // tolerated, e.g. a trailing blank line
      }
      for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) {
          fail("contains a control character");
        }
      }
      if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
        fail("expected '<letter>=<value>', got '" + excerpt(line) + "'");
      }
      const char type = line[0];
      const std::string_view value = line.substr(2);
      if (!seen_version) {
        if (type != 'v' || trim(value) != "0") {
          fail("an SDP must start with v=0");
        }
        seen_version = true;
        continue;
      }
      if (type == 'm') {
        media_line(value);
      } else if (type == 'a') {
        attribute(value);
      }
      // o, s, t, c, b and the rest carry nothing the relay uses.
    }
    if (!seen_version) {
      throw SdpError("the SDP is empty");
    }
    finish_section();
    inherit_session_values();
    return std::move(description_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw SdpError("line " + std::to_string(line_number_) + ": " + what);
  }

  MediaSection* section() noexcept { return description_.media.empty() ? nullptr : &description_.media.back(); }

  Codec* codec(std::uint8_t payload_type) noexcept {
    MediaSection* m = section();
    if (m == nullptr) {
      return nullptr;
    }
    for (Codec& c : m->codecs) {
      if (c.payload_type == payload_type) {
        return &c;
      }
    }
    return nullptr;
  }

  void media_line(std::string_view value) {
    finish_section();
    if (description_.media.size() >= kSdpMaxMediaSections) {
      fail("more than " + std::to_string(kSdpMaxMediaSections) + " media sections");
    }
    const auto parts = tokens(value);
    if (parts.size() < 4) {
      fail("an m-line needs '<media> <port> <protocol> <format>...'");
    }
    MediaSection m;
    m.media_type = std::string(parts[0]);
    m.kind = parts[0] == "audio" ? MediaKind::Audio : parts[0] == "video" ? MediaKind::Video : MediaKind::Other;
    std::string_view port = parts[1];
    if (const auto slash = port.find('/'); slash != std::string_view::npos) {
      port = port.substr(0, slash);  // "<port>/<number of ports>"
    }
    const auto port_number = parse_number<std::uint16_t>(port, 65535);
    if (!port_number) {
      fail("m-line port '" + excerpt(parts[1]) + "' is not a number 0-65535");
    }
    m.port = *port_number;
    m.protocol = std::string(parts[2]);
    const bool rtp = m.protocol.find("RTP/") != std::string::npos;
    if (parts.size() - 3 > kSdpMaxCodecsPerSection) {
      fail("more than " + std::to_string(kSdpMaxCodecsPerSection) + " formats in one m-line");
    }
    for (std::size_t i = 3; i < parts.size(); ++i) {
      m.formats.emplace_back(parts[i]);
      if (!rtp) {
        continue;
      }
      const auto payload_type = parse_number<std::uint8_t>(parts[i], 127);
      if (!payload_type) {
        fail("m-line payload type '" + excerpt(parts[i]) + "' is not a number 0-127");
      }
      for (const Codec& c : m.codecs) {
        if (c.payload_type == *payload_type) {
          fail("payload type " + std::to_string(*payload_type) + " appears twice in the m-line");
        }
      }
      Codec c;
      c.payload_type = *payload_type;
      m.codecs.push_back(std::move(c));
    }
    description_.media.push_back(std::move(m));
    wildcard_feedback_.clear();
  }

  void attribute(std::string_view value) {
    const std::size_t colon = value.find(':');
    const std::string_view name = colon == std::string_view::npos ? value : value.substr(0, colon);
    const std::string_view arg = colon == std::string_view::npos ? std::string_view{} : trim(value.substr(colon + 1));
    MediaSection* m = section();

    if (name == "ice-ufrag" || name == "ice-pwd" || name == "setup") {
      if (!is_single_token(arg)) {
        fail("a=" + std::string(name) + " needs one value");
      }
      std::string& target = name == "ice-ufrag" ? (m ? m->ice_ufrag : description_.ice_ufrag)
                            : name == "ice-pwd" ? (m ? m->ice_pwd : description_.ice_pwd)
                                                : (m ? m->setup : description_.setup);
      target = std::string(arg);
      return;
    }
    if (name == "fingerprint") {
      const auto [algorithm, fingerprint] = split_first(arg);
      if (algorithm.empty() || !is_single_token(fingerprint)) {
        fail("a=fingerprint needs '<hash function> <fingerprint>'");
      }
      std::string& current_algorithm = m ? m->fingerprint_algorithm : description_.fingerprint_algorithm;
      std::string& current = m ? m->fingerprint : description_.fingerprint;
      // Several fingerprints are allowed (RFC 8122); keep sha-256 when one is offered.
      if (current.empty() || (current_algorithm != "sha-256" && iequals(algorithm, "sha-256"))) {
        current_algorithm = to_lower(algorithm);
        current = std::string(fingerprint);
      }
      return;
    }
    if (name == "group") {
      if (m != nullptr) {
        return;  // not a media-level attribute
      }
      const auto parts = tokens(arg);
      if (!parts.empty() && parts[0] == "BUNDLE") {
        if (bundle_seen_) {
          fail("more than one BUNDLE group; the relay supports one");
        }
        bundle_seen_ = true;
        for (std::size_t i = 1; i < parts.size(); ++i) {
          description_.bundle_mids.emplace_back(parts[i]);
        }
      }
      return;
    }
    if (m == nullptr) {
      return;  // other session-level attributes: ice-options, msid-semantic, extmap-allow-mixed, ...
    }

    if (name == "mid") {
      if (!is_single_token(arg)) {
        fail("a=mid needs one token");
      }
      for (const MediaSection& other : description_.media) {
        if (&other != m && other.mid == arg) {
          fail("mid '" + excerpt(arg) + "' is used by two m-lines");
        }
      }
      m->mid = std::string(arg);
    } else if (name == "sendrecv") {
      m->direction = Direction::SendRecv;
    } else if (name == "sendonly") {
      m->direction = Direction::SendOnly;
    } else if (name == "recvonly") {
      m->direction = Direction::RecvOnly;
    } else if (name == "inactive") {
      m->direction = Direction::Inactive;
    } else if (name == "rtcp-mux") {
      m->rtcp_mux = true;
    } else if (name == "rtcp-rsize") {
      m->rtcp_rsize = true;
    } else if (name == "bundle-only") {
      m->bundle_only = true;
    } else if (name == "msid") {
      m->msid = std::string(arg);
    } else if (name == "candidate") {
      m->candidates.push_back("candidate:" + std::string(arg));
    } else if (name == "rtpmap") {
      rtpmap(*m, arg);
    } else if (name == "fmtp") {
      const auto [pt, parameters] = split_first(arg);
      const auto payload_type = parse_number<std::uint8_t>(pt, 127);
      if (!payload_type) {
        fail("a=fmtp payload type '" + excerpt(pt) + "' is not a number 0-127");
      }
      if (Codec* c = codec(*payload_type)) {
        c->fmtp = std::string(parameters);
      }
    } else if (name == "rtcp-fb") {
      const auto [pt, feedback_value] = split_first(arg);
      if (feedback_value.empty()) {
        fail("a=rtcp-fb needs '<payload type> <feedback>'");
      }
      std::string normalized;
      for (std::string_view part : tokens(feedback_value)) {
        if (!normalized.empty()) {
          normalized += ' ';
        }
        normalized += part;
      }
      if (pt == "*") {
        if (wildcard_feedback_.size() >= kMaxFeedbackPerCodec) {
          fail("too many a=rtcp-fb lines");
        }
        wildcard_feedback_.push_back(std::move(normalized));
        return;
      }
      const auto payload_type = parse_number<std::uint8_t>(pt, 127);
      if (!payload_type) {
        fail("a=rtcp-fb payload type '" + excerpt(pt) + "' is not a number 0-127 or *");
      }
      if (Codec* c = codec(*payload_type)) {
        if (c->feedback.size() >= kMaxFeedbackPerCodec) {
          fail("too many a=rtcp-fb lines for payload type " + std::to_string(*payload_type));
        }
        c->feedback.push_back(std::move(normalized));
      }
    } else if (name == "ssrc") {
      ssrc(*m, arg);
    } else if (name == "ssrc-group") {
      const auto parts = tokens(arg);
      if (parts.size() < 2) {
        fail("a=ssrc-group needs '<semantics> <ssrc>...'");
      }
      if (m->ssrc_groups.size() >= kMaxSsrcGroupsPerSection) {
        fail("more than " + std::to_string(kMaxSsrcGroupsPerSection) + " a=ssrc-group lines in one m-line");
      }
      std::vector<std::uint32_t> members;
      for (std::size_t i = 1; i < parts.size(); ++i) {
        const auto id = parse_number<std::uint32_t>(parts[i], 0xFFFFFFFF);
        if (!id) {
          fail("a=ssrc-group SSRC '" + excerpt(parts[i]) + "' is not a 32-bit number");
        }
        members.push_back(*id);
      }
      if (members.size() > kMaxSsrcsPerSection) {
        fail("an a=ssrc-group lists more than " + std::to_string(kMaxSsrcsPerSection) + " SSRCs");
      }
      m->ssrc_groups.emplace_back(std::string(parts[0]), std::move(members));
    }
    // Everything else (extmap, rtcp, ice-options, end-of-candidates, ...) is not used.
  }

  void rtpmap(MediaSection& m, std::string_view arg) {
    const auto [pt, encoding] = split_first(arg);
    const auto payload_type = parse_number<std::uint8_t>(pt, 127);
    if (!payload_type) {
      fail("a=rtpmap payload type '" + excerpt(pt) + "' is not a number 0-127");
    }
    // <encoding name>/<clock rate>[/<channels>]
    const std::size_t slash = encoding.find('/');
    if (slash == std::string_view::npos || slash == 0 || !is_single_token(encoding)) {
      fail("a=rtpmap needs '<payload type> <name>/<clock rate>[/<channels>]'");
    }
    std::string_view rate = encoding.substr(slash + 1);
    std::string_view channels;
    if (const std::size_t second = rate.find('/'); second != std::string_view::npos) {
      channels = rate.substr(second + 1);
      rate = rate.substr(0, second);
    }
    const auto clock_rate = parse_number<std::uint32_t>(rate, 0xFFFFFFFF);
    if (!clock_rate || *clock_rate == 0) {
      fail("a=rtpmap clock rate '" + excerpt(rate) + "' is not a positive number");
    }
    std::optional<std::uint8_t> channel_count;
    if (!channels.empty()) {
      channel_count = parse_number<std::uint8_t>(channels, 255);
      if (!channel_count || *channel_count == 0) {
        fail("a=rtpmap channel count '" + excerpt(channels) + "' is not a number 1-255");
      }
    }
    Codec* c = codec(*payload_type);
    if (c == nullptr) {
      return;  // a payload type the m-line does not list; ignored like the offerer's peers do
    }
    c->name = std::string(encoding.substr(0, slash));
    c->clock_rate = *clock_rate;
    c->channels = channel_count ? *channel_count : (m.kind == MediaKind::Audio ? 1 : 0);
  }

  void ssrc(MediaSection& m, std::string_view arg) {
    const auto [id_text, attribute_text] = split_first(arg);
    const auto id = parse_number<std::uint32_t>(id_text, 0xFFFFFFFF);
    if (!id) {
      fail("a=ssrc '" + excerpt(id_text) + "' is not a 32-bit number");
    }
    auto it = std::find_if(m.ssrcs.begin(), m.ssrcs.end(), [&](const SsrcInfo& s) { return s.ssrc == *id; });
    if (it == m.ssrcs.end()) {
      if (m.ssrcs.size() >= kMaxSsrcsPerSection) {
        fail("more than " + std::to_string(kMaxSsrcsPerSection) + " SSRCs in one m-line");
      }
      m.ssrcs.push_back(SsrcInfo{*id, {}, {}});
      it = m.ssrcs.end() - 1;
    }
    const std::size_t colon = attribute_text.find(':');
    const std::string_view attribute_name = attribute_text.substr(0, colon);
    const std::string_view attribute_value =
        colon == std::string_view::npos ? std::string_view{} : trim(attribute_text.substr(colon + 1));
    if (attribute_name == "cname") {
      it->cname = std::string(attribute_value);
    } else if (attribute_name == "msid") {
      it->msid = std::string(attribute_value);
    }
  }

  void finish_section() {
    MediaSection* m = section();
    if (m == nullptr) {
      return;
    }
    m->rejected = m->port == 0 && !m->bundle_only;
    for (Codec& c : m->codecs) {
      for (const std::string& feedback : wildcard_feedback_) {
        if (c.feedback.size() < kMaxFeedbackPerCodec) {
          c.feedback.push_back(feedback);
        }
      }
      if (c.name.empty()) {
        static_payload_type(*m, c);
      }
    }
    wildcard_feedback_.clear();
  }

  // RFC 3551 static payload types a peer may list without a=rtpmap.
  static void static_payload_type(const MediaSection& m, Codec& c) {
    if (m.kind != MediaKind::Audio) {
      return;
    }
    switch (c.payload_type) {
      case 0:
        c.name = "PCMU";
        break;
      case 8:
        c.name = "PCMA";
        break;
      case 9:
        c.name = "G722";
        break;
      case 13:
        c.name = "CN";
        break;
      default:
        return;
    }
    c.clock_rate = 8000;
    c.channels = 1;
  }

  void inherit_session_values() {
    for (MediaSection& m : description_.media) {
      if (m.ice_ufrag.empty()) {
        m.ice_ufrag = description_.ice_ufrag;
      }
      if (m.ice_pwd.empty()) {
        m.ice_pwd = description_.ice_pwd;
      }
      if (m.fingerprint.empty()) {
        m.fingerprint_algorithm = description_.fingerprint_algorithm;
        m.fingerprint = description_.fingerprint;
      }
      if (m.setup.empty()) {
        m.setup = description_.setup;
      }
    }
  }

  SessionDescription description_;
  std::size_t line_number_ = 0;
  bool bundle_seen_ = false;
  std::vector<std::string> wildcard_feedback_;  // a=rtcp-fb:* of the current section
};

// ---- choosing ----

std::optional<std::string_view> fmtp_value(std::string_view fmtp, std::string_view key) noexcept {
  while (!fmtp.empty()) {
    const std::size_t semicolon = fmtp.find(';');
    const std::string_view item = trim(fmtp.substr(0, semicolon));
    fmtp = semicolon == std::string_view::npos ? std::string_view{} : fmtp.substr(semicolon + 1);
    const std::size_t equals = item.find('=');
    if (equals != std::string_view::npos && iequals(trim(item.substr(0, equals)), key)) {
      return trim(item.substr(equals + 1));
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> h264_profile_level_id(const Codec& c) noexcept {
  const auto text = fmtp_value(c.fmtp, "profile-level-id");
  if (!text) {
    return kH264DefaultProfileLevelId;
  }
  if (text->size() != 6) {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value, 16);
  if (ec != std::errc{} || end != text->data() + text->size()) {
    return std::nullopt;
  }
  return value;
}

// 0 best; nullopt when not acceptable.
std::optional<int> h264_rank(const Codec& c) noexcept {
  if (!iequals(c.name, "H264") || c.clock_rate != 90000) {
    return std::nullopt;
  }
  const auto mode = fmtp_value(c.fmtp, "packetization-mode");
  if (!mode || *mode != "1") {
    return std::nullopt;
  }
  const auto id = h264_profile_level_id(c);
  if (!id) {
    return std::nullopt;
  }
  const std::uint32_t profile_idc = *id >> 16;
  const std::uint32_t profile_iop = (*id >> 8) & 0xFF;
  if (*id == kH264PreferredProfileLevelId) {
    return 0;
  }
  if (profile_idc == 0x42 && (profile_iop & 0x40) != 0) {  // constraint_set1: constrained baseline
    return 1;
  }
  if (profile_idc == 0x42 && profile_iop == 0) {  // plain baseline
    return 2;
  }
  return std::nullopt;
}

bool is_opus(const Codec& c) noexcept {
  return iequals(c.name, "opus") && c.clock_rate == 48000 && c.channels == 2;
}

std::string section_label(std::size_t index, const MediaSection& m) {
  return "m-line " + std::to_string(index) + " (mid " + (m.mid.empty() ? std::string("none") : m.mid) + ", " +
         to_string(m.kind) + ")";
}

std::vector<std::uint32_t> primary_ssrcs(const MediaSection& m) {
  std::vector<std::uint32_t> secondary;
  for (const auto& [semantics, members] : m.ssrc_groups) {
    if (semantics == "FID" || semantics == "FEC-FR" || semantics == "FEC") {
      secondary.insert(secondary.end(), members.begin() + (members.empty() ? 0 : 1), members.end());
    }
  }
  std::vector<std::uint32_t> primary;
  for (const SsrcInfo& s : m.ssrcs) {
    if (std::find(secondary.begin(), secondary.end(), s.ssrc) == secondary.end()) {
      primary.push_back(s.ssrc);
    }
  }
  return primary;
}

// ---- writing ----

void check_answer_token(std::string_view what, std::string_view value) {
  const bool bad = value.empty() || std::any_of(value.begin(), value.end(), [](char c) {
                     const auto u = static_cast<unsigned char>(c);
                     return u <= 0x20 || u == 0x7F;
                   });
  if (bad) {
    throw SdpError("answer " + std::string(what) + " '" + excerpt(value) +
                   "' must be one non-empty token without spaces or control characters");
  }
}

bool has_feedback(const Codec& c, std::string_view feedback) noexcept {
  return std::any_of(c.feedback.begin(), c.feedback.end(), [&](const std::string& f) { return iequals(f, feedback); });
}

std::uint64_t session_id(const AnswerParams& params) noexcept {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a over the ICE credentials: stable per answer
  for (std::string_view part : {std::string_view(params.ice_ufrag), std::string_view(params.fingerprint_sha256)}) {
    for (char c : part) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
  }
  return hash & 0x7FFFFFFFFFFFFFFFULL;
}

bool sends(Direction d) noexcept { return d == Direction::SendRecv || d == Direction::SendOnly; }
bool receives(Direction d) noexcept { return d == Direction::SendRecv || d == Direction::RecvOnly; }

}  // namespace

const char* to_string(MediaKind kind) noexcept {
  switch (kind) {
    case MediaKind::Audio:
      return "audio";
    case MediaKind::Video:
      return "video";
    case MediaKind::Other:
      break;
  }
  return "other";
}

const char* to_string(Direction direction) noexcept {
  switch (direction) {
    case Direction::SendRecv:
      return "sendrecv";
    case Direction::SendOnly:
      return "sendonly";
    case Direction::RecvOnly:
      return "recvonly";
    case Direction::Inactive:
      break;
  }
  return "inactive";
}

SessionDescription parse_sdp(std::string_view text) { return Parser().run(text); }

std::vector<AcceptedSection> choose_sections(const SessionDescription& offer) {
  if (offer.bundle_mids.empty()) {
    throw SdpError("the offer has no a=group:BUNDLE; the relay requires all media bundled on one transport");
  }
  std::vector<AcceptedSection> accepted;
  for (std::size_t index = 0; index < offer.media.size(); ++index) {
    const MediaSection& m = offer.media[index];
    if (m.kind == MediaKind::Other || m.rejected) {
      continue;
    }
    const std::string label = section_label(index, m);
    if (m.protocol.find("TLS/RTP/SAVP") == std::string::npos) {
      throw SdpError(label + ": protocol " + m.protocol + " is not DTLS-SRTP (UDP/TLS/RTP/SAVPF)");
    }
    if (m.mid.empty()) {
      throw SdpError(label + ": no a=mid; BUNDLE needs one");
    }
    if (std::find(offer.bundle_mids.begin(), offer.bundle_mids.end(), m.mid) == offer.bundle_mids.end()) {
      throw SdpError(label + ": not in the BUNDLE group; the relay requires all media bundled on one transport");
    }
    if (!m.rtcp_mux) {
      throw SdpError(label + ": no a=rtcp-mux; the relay requires RTP and RTCP on one port");
    }
    if (m.fingerprint.empty()) {
      throw SdpError(label + ": no a=fingerprint for DTLS");
    }
    if (m.fingerprint_algorithm != "sha-256") {
      throw SdpError(label + ": the DTLS fingerprint uses " + m.fingerprint_algorithm +
                     "; the relay requires sha-256");
    }
    if (m.ice_ufrag.empty() || m.ice_pwd.empty()) {
      throw SdpError(label + ": no a=ice-ufrag / a=ice-pwd");
    }

    const Codec* chosen = nullptr;
    if (m.kind == MediaKind::Audio) {
      const auto it = std::find_if(m.codecs.begin(), m.codecs.end(), is_opus);
      if (it == m.codecs.end()) {
        throw SdpError(label + ": no Opus/48000/2 offered");
      }
      chosen = &*it;
    } else {
      int best_rank = 0;
      for (const Codec& c : m.codecs) {
        const auto rank = h264_rank(c);
        if (rank && (chosen == nullptr || *rank < best_rank)) {
          chosen = &c;
          best_rank = *rank;
        }
      }
      if (chosen == nullptr) {
        throw SdpError(label + ": no H.264 constrained baseline with packetization-mode=1 offered");
      }
    }
    AcceptedSection section;
    section.index = index;
    section.kind = m.kind;
    section.mid = m.mid;
    section.offered = m.direction;
    section.codec = *chosen;
    section.remote_ssrcs = primary_ssrcs(m);
    accepted.push_back(std::move(section));
  }
  if (accepted.empty()) {
    throw SdpError("the offer has no audio or video m-line the relay can accept");
  }
  return accepted;
}

Direction answer_direction(Direction offered, Direction wanted) noexcept {
  switch (offered) {
    case Direction::SendRecv:
      return wanted;
    case Direction::RecvOnly:  // the peer only receives: the relay may only send
      return sends(wanted) ? Direction::SendOnly : Direction::Inactive;
    case Direction::SendOnly:  // the peer only sends: the relay may only receive
      return receives(wanted) ? Direction::RecvOnly : Direction::Inactive;
    case Direction::Inactive:
      break;
  }
  return Direction::Inactive;
}

std::string build_answer(const SessionDescription& offer, const std::vector<AcceptedSection>& accepted,
                         const AnswerParams& params) {
  check_answer_token("ice-ufrag", params.ice_ufrag);
  check_answer_token("ice-pwd", params.ice_pwd);
  check_answer_token("fingerprint", params.fingerprint_sha256);
  check_answer_token("setup", params.setup);
  for (const AcceptedSection& a : accepted) {
    if (a.index >= offer.media.size() || offer.media[a.index].mid != a.mid) {
      throw SdpError("accepted section " + std::to_string(a.index) + " (mid " + a.mid + ") does not match the offer");
    }
  }
  const auto find_accepted = [&](std::size_t index) -> const AcceptedSection* {
    for (const AcceptedSection& a : accepted) {
      if (a.index == index) {
        return &a;
      }
    }
    return nullptr;
  };

  std::string out;
  out.reserve(1024 + 1024 * offer.media.size());
  const auto line = [&out](std::string_view text) {
    out += text;
    out += "\r\n";
  };

  line("v=0");
  line("o=- " + std::to_string(session_id(params)) + " 2 IN IP4 127.0.0.1");
  line("s=-");
  line("t=0 0");
  std::string bundle = "a=group:BUNDLE";
  for (std::size_t index = 0; index < offer.media.size(); ++index) {
    if (const AcceptedSection* a = find_accepted(index)) {
      bundle += ' ';
      bundle += a->mid;
    }
  }
  line(bundle);
  line(params.stream_id.empty() ? std::string("a=msid-semantic: WMS") : "a=msid-semantic: WMS " + params.stream_id);
  line("a=ice-options:trickle");

  for (std::size_t index = 0; index < offer.media.size(); ++index) {
    const MediaSection& m = offer.media[index];
    const AcceptedSection* a = find_accepted(index);
    if (a == nullptr) {
      std::string rejected = "m=" + m.media_type + " 0 " + m.protocol;
      for (const std::string& format : m.formats) {
        rejected += ' ';
        rejected += format;
      }
      line(rejected);
      line("c=IN IP4 0.0.0.0");
      if (!m.mid.empty()) {
        line("a=mid:" + m.mid);
      }
      continue;
    }

    const auto outgoing = std::find_if(params.outgoing.begin(), params.outgoing.end(),
                                       [&](const AnswerParams::Outgoing& o) { return o.mid == a->mid; });
    const Direction wanted = outgoing != params.outgoing.end() ? outgoing->direction : Direction::SendRecv;
    const Direction direction = answer_direction(a->offered, wanted);
    const bool sending = sends(direction);
    if (sending && outgoing == params.outgoing.end()) {
      throw SdpError("no outgoing SSRC for mid " + a->mid + ", on which the answer sends");
    }
    const std::string pt = std::to_string(a->codec.payload_type);
    const std::string track = a->mid + "-track";

    line("m=" + m.media_type + " 9 " + m.protocol + " " + pt);
    line("c=IN IP4 0.0.0.0");
    line("a=ice-ufrag:" + params.ice_ufrag);
    line("a=ice-pwd:" + params.ice_pwd);
    line("a=fingerprint:sha-256 " + params.fingerprint_sha256);
    line("a=setup:" + params.setup);
    line("a=mid:" + a->mid);
    line(std::string("a=") + to_string(direction));
    if (sending) {
      check_answer_token("stream id", params.stream_id);
      check_answer_token("cname", params.cname);
      line("a=msid:" + params.stream_id + " " + track);
    }
    line("a=rtcp-mux");
    if (m.rtcp_rsize) {
      line("a=rtcp-rsize");
    }
    std::string rtpmap = "a=rtpmap:" + pt + " " + a->codec.name + "/" + std::to_string(a->codec.clock_rate);
    if (a->kind == MediaKind::Audio && a->codec.channels > 1) {
      rtpmap += "/" + std::to_string(a->codec.channels);
    }
    line(rtpmap);
    if (a->kind == MediaKind::Audio) {
      line("a=fmtp:" + pt + " minptime=10;useinbandfec=1");
    } else {
      std::string fmtp = "a=fmtp:" + pt + " level-asymmetry-allowed=1;packetization-mode=1";
      if (const auto id = fmtp_value(a->codec.fmtp, "profile-level-id")) {
        fmtp += ";profile-level-id=" + to_lower(*id);
      }
      line(fmtp);
      for (const char* feedback : {"nack", "nack pli", "ccm fir", "goog-remb"}) {
        if (has_feedback(a->codec, feedback)) {
          line("a=rtcp-fb:" + pt + " " + feedback);
        }
      }
    }
    if (sending) {
      const std::string ssrc = std::to_string(outgoing->ssrc);
      line("a=ssrc:" + ssrc + " cname:" + params.cname);
      line("a=ssrc:" + ssrc + " msid:" + params.stream_id + " " + track);
    }
  }
  return out;
}

}  // namespace huijian::media
