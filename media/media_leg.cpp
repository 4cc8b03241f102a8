#include "media/media_leg.hpp"

#include <cstring>

#include "media/rtp_packet.hpp"

namespace huijian::media {

namespace {

// RFC 1982 distance from b forward to a, for 16-bit sequence numbers.
std::uint16_t forward_distance(std::uint16_t a, std::uint16_t b) noexcept { return static_cast<std::uint16_t>(a - b); }

constexpr std::uint16_t kMaxNackedGap = 16;  // a longer gap is a restart or a burst: ask for a keyframe instead

}  // namespace

MediaLeg::MediaLeg(RelayCounterSet& counters, DatagramSink& sink, std::uint32_t video_bitrate_kbps)
    : counters_(counters), sink_(sink), video_bitrate_kbps_(video_bitrate_kbps) {}

MediaLeg::~MediaLeg() = default;

void MediaLeg::add_section(SectionConfig config) {
  const bool video = config.kind == MediaKind::Video;
  Section section{std::move(config), std::nullopt, StreamRewriter(video ? 3000 : 960), nullptr};
  if (video) section.retransmissions = std::make_unique<RetransmissionBuffer>();
  sections_.push_back(std::move(section));
}

void MediaLeg::set_srtp(SrtpSession session) { srtp_ = std::make_unique<SrtpSession>(std::move(session)); }

PacketKind MediaLeg::receive(std::span<const std::uint8_t> datagram) noexcept {
  const PacketKind kind = classify_datagram(datagram);
  switch (kind) {
    case PacketKind::Dtls:
      return kind;
    case PacketKind::Rtp:
    case PacketKind::Rtcp: {
      if (!srtp_) {
        RelayCounterSet::bump(counters_.dropped_srtp);
        return kind;
      }
      if (datagram.size() > kMaxDatagram) {
        RelayCounterSet::bump(counters_.dropped_malformed);
        return kind;
      }
      std::memcpy(packet_.data(), datagram.data(), datagram.size());
      const bool rtp = kind == PacketKind::Rtp;
      auto length =
          rtp ? srtp_->unprotect_rtp(packet_, datagram.size()) : srtp_->unprotect_rtcp(packet_, datagram.size());
      if (!length) {
        RelayCounterSet::bump(counters_.dropped_srtp);
        return kind;
      }
      if (rtp)
        receive_rtp(*length);
      else
        receive_rtcp(*length);
      return kind;
    }
    case PacketKind::Stun:  // libnice consumes STUN; anything left is not for us
    case PacketKind::Unknown:
      RelayCounterSet::bump(counters_.dropped_unknown);
      return kind;
  }
  return kind;
}

MediaLeg::Section* MediaLeg::incoming_section(std::uint32_t ssrc, std::uint8_t payload_type) noexcept {
  // Only sections the answer let the terminal send on: a picture or an
  // officer-voice section of a terminal is the relay's to send. A known
  // stream must also carry the one payload type the answer chose for it:
  // sound sent with a picture's SSRC would otherwise reach the partner's
  // decoder, the officers and the recorder as if it were video.
  auto chosen = [&](Section& s) -> Section* {
    if (s.config.payload_type == payload_type) return &s;
    RelayCounterSet::bump(counters_.dropped_payload_type);
    return nullptr;
  };
  for (auto& s : sections_)
    if (s.config.relay_receives && s.source_ssrc == ssrc) return chosen(s);
  for (auto& s : sections_) {
    if (!s.config.relay_receives) continue;
    for (auto announced : s.config.announced_ssrcs)
      if (announced == ssrc) {
        if (s.config.payload_type != payload_type) return chosen(s);
        s.source_ssrc = ssrc;
        return &s;
      }
  }
  // Not announced in the offer: learn it by payload type (each section has one).
  for (auto& s : sections_)
    if (s.config.relay_receives && s.config.payload_type == payload_type) {
      s.source_ssrc = ssrc;
      return &s;
    }
  RelayCounterSet::bump(counters_.dropped_unrouted);
  return nullptr;
}

MediaLeg::Section* MediaLeg::section_of_kind(MediaKind kind) noexcept {
  for (auto& s : sections_)
    if (s.config.kind == kind && s.config.role == SectionRole::Conversation) return &s;
  return nullptr;
}

void MediaLeg::receive_rtp(std::size_t length) noexcept {
  auto packet = RtpPacket::parse(std::span<std::uint8_t>(packet_.data(), length));
  if (!packet) {
    RelayCounterSet::bump(counters_.dropped_malformed);
    return;
  }
  Section* in = incoming_section(packet->ssrc(), packet->payload_type());
  if (!in) return;  // counted there
  const MediaKind kind = in->config.kind;
  if (in->config.role == SectionRole::OfficerVoice) {
    // An officer's microphone: to both parties' officer-voice sections, and
    // only while the officer interjects. Never to the partner, never recorded.
    if (!voice_open_) {
      RelayCounterSet::bump(counters_.officer_voice_held);
      return;
    }
    const std::span<const std::uint8_t> plain(packet_.data(), length);
    for (MediaLeg* party : parties_)
      if (party) party->send_officer_voice(plain);
    return;
  }
  if (kind == MediaKind::Video) {
    note_sequence(*in, packet->sequence());
    const std::span<const std::uint8_t> plain(packet_.data(), length);
    if (video_tap_) video_tap_->on_video_rtp(VideoRtpPacket(plain, Clock::now()));
    // Officers watching get the picture before the partner's copy is
    // encrypted in place.
    for (const Watcher& w : watchers_)
      if (w.leg) w.leg->send_picture(w.party, plain);
  }
  MediaLeg* to = partner_;
  Section* out = to && to->srtp_ ? to->section_of_kind(kind) : nullptr;
  if (!out || !out->config.relay_sends) {
    RelayCounterSet::bump(counters_.dropped_unrouted);
    return;
  }
  const auto mapped = out->rewriter.map(packet->ssrc(), packet->sequence(), packet->timestamp());
  packet->set_ssrc(out->config.out_ssrc);
  packet->set_payload_type(out->config.payload_type);
  packet->set_sequence(mapped.sequence);
  packet->set_timestamp(mapped.timestamp);
  auto protected_length = to->srtp_->protect_rtp(packet_, length);
  if (!protected_length) {
    RelayCounterSet::bump(counters_.dropped_srtp);
    return;
  }
  std::span<const std::uint8_t> wire(packet_.data(), *protected_length);
  to->sink_.send(wire);
  if (out->retransmissions) out->retransmissions->store(mapped.sequence, wire);
  RelayCounterSet::bump(counters_.rtp_forwarded);
  RelayCounterSet::bump(kind == MediaKind::Video ? counters_.video_forwarded : counters_.audio_forwarded);
}

bool MediaLeg::send_copy(Section& out, std::span<const std::uint8_t> plain) noexcept {
  if (!srtp_ || !out.config.relay_sends || plain.size() > kMaxDatagram) return false;
  std::memcpy(copy_.data(), plain.data(), plain.size());
  auto packet = RtpPacket::parse(std::span<std::uint8_t>(copy_.data(), plain.size()));
  if (!packet) return false;
  const auto mapped = out.rewriter.map(packet->ssrc(), packet->sequence(), packet->timestamp());
  packet->set_ssrc(out.config.out_ssrc);
  packet->set_payload_type(out.config.payload_type);
  packet->set_sequence(mapped.sequence);
  packet->set_timestamp(mapped.timestamp);
  auto protected_length = srtp_->protect_rtp(copy_, plain.size());
  if (!protected_length) {
    RelayCounterSet::bump(counters_.dropped_srtp);
    return false;
  }
  std::span<const std::uint8_t> wire(copy_.data(), *protected_length);
  if (!sink_.send(wire)) return false;
  if (out.retransmissions) out.retransmissions->store(mapped.sequence, wire);
  return true;
}

void MediaLeg::send_picture(std::uint8_t party, std::span<const std::uint8_t> plain) noexcept {
  for (auto& s : sections_)
    if (s.config.role == SectionRole::Picture && s.config.party == party) {
      if (send_copy(s, plain)) RelayCounterSet::bump(counters_.officer_video_forwarded);
      return;
    }
}

void MediaLeg::send_officer_voice(std::span<const std::uint8_t> plain) noexcept {
  for (auto& s : sections_)
    if (s.config.role == SectionRole::OfficerVoice && s.config.kind == MediaKind::Audio) {
      if (send_copy(s, plain)) RelayCounterSet::bump(counters_.officer_voice_forwarded);
      return;
    }
}

bool MediaLeg::add_watcher(MediaLeg* officer, std::uint8_t party) noexcept {
  for (Watcher& w : watchers_)
    if (w.leg == officer) {
      w.party = party;
      return true;
    }
  for (Watcher& w : watchers_)
    if (!w.leg) {
      w = Watcher{officer, party};
      return true;
    }
  return false;
}

void MediaLeg::set_party(std::uint8_t party, MediaLeg* terminal) noexcept {
  if (party < parties_.size()) parties_[party] = terminal;
}

void MediaLeg::forget(const MediaLeg* other) noexcept {
  for (Watcher& w : watchers_)
    if (w.leg == other) w = Watcher{};
  for (MediaLeg*& p : parties_)
    if (p == other) p = nullptr;
  if (partner_ == other) partner_ = nullptr;
}

void MediaLeg::request_party_keyframes() noexcept {
  for (MediaLeg* p : parties_)
    if (p) p->request_keyframe();
}

bool MediaLeg::sends_picture_ssrc(std::uint32_t ssrc) const noexcept {
  for (const auto& s : sections_)
    if (s.config.role == SectionRole::Picture && s.config.out_ssrc == ssrc) return true;
  return false;
}

// An officer's console asks for a keyframe of one picture (or, naming no
// picture of ours, of both): the request goes to that party's terminal.
void MediaLeg::forward_keyframe_request(std::uint32_t media_ssrc) noexcept {
  for (const auto& s : sections_)
    if (s.config.role == SectionRole::Picture && s.config.out_ssrc == media_ssrc) {
      if (s.config.party < parties_.size() && parties_[s.config.party]) parties_[s.config.party]->request_keyframe();
      return;
    }
  request_party_keyframes();
}

void MediaLeg::note_sequence(Section& section, std::uint16_t sequence) noexcept {
  if (!section.sequence_started) {
    section.sequence_started = true;
    section.highest_sequence = sequence;
    return;
  }
  const std::uint16_t ahead = forward_distance(sequence, section.highest_sequence);
  if (ahead == 0 || ahead >= 0x8000) return;  // duplicate, late or retransmitted
  const std::uint16_t missing = ahead - 1;
  const std::uint16_t first_missing = section.highest_sequence + 1;
  section.highest_sequence = sequence;
  if (missing == 0 || !section.source_ssrc) return;
  if (missing > kMaxNackedGap) {
    request_keyframe();
    return;
  }
  std::array<std::uint16_t, kMaxNackedGap> lost{};
  for (std::uint16_t i = 0; i < missing; ++i) lost[i] = static_cast<std::uint16_t>(first_missing + i);
  std::array<std::uint8_t, 256 + kSrtpMaxTrailer> buffer{};
  const std::size_t n = rtcp::write_nack(buffer, section.config.out_ssrc, *section.source_ssrc,
                                         std::span<const std::uint16_t>(lost.data(), missing));
  if (n) send_own_rtcp(buffer, n);
}

// The SSRC this terminal's video arrives with: learned from its packets, else
// the first one its offer announced; 0 when neither is known yet.
std::uint32_t MediaLeg::incoming_video_ssrc(const Section& video) noexcept {
  if (video.source_ssrc) return *video.source_ssrc;
  return video.config.announced_ssrcs.empty() ? 0 : video.config.announced_ssrcs.front();
}

void MediaLeg::request_keyframe() noexcept {
  Section* video = section_of_kind(MediaKind::Video);
  if (!video || !srtp_) return;
  const std::uint32_t source = incoming_video_ssrc(*video);
  if (source == 0) return;
  std::array<std::uint8_t, 64 + kSrtpMaxTrailer> buffer{};
  const std::size_t n = rtcp::write_pli(buffer, video->config.out_ssrc, source);
  if (n && send_own_rtcp(buffer, n)) RelayCounterSet::bump(counters_.keyframe_requests);
}

bool MediaLeg::send_own_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept {
  if (!srtp_) return false;
  auto protected_length = srtp_->protect_rtcp(buffer, length);
  if (!protected_length) return false;
  return sink_.send(std::span<const std::uint8_t>(buffer.data(), *protected_length));
}

void MediaLeg::answer_nack(const rtcp::Block& nack) noexcept {
  const std::uint32_t media = rtcp::feedback_media_ssrc(nack);
  for (auto& s : sections_) {
    if (s.config.out_ssrc != media || !s.retransmissions) continue;
    rtcp::for_each_nacked_sequence(nack, [&](std::uint16_t sequence) {
      auto stored = s.retransmissions->find(sequence);
      if (!stored.empty() && sink_.send(stored)) RelayCounterSet::bump(counters_.nacks_answered);
    });
  }
}

std::uint32_t MediaLeg::map_ssrc_for_partner(std::uint32_t ssrc) noexcept {
  // What this terminal sends becomes the relay's stream to the partner; what
  // the relay sends this terminal came from the partner's source.
  for (auto& s : sections_) {
    if (s.config.role != SectionRole::Conversation) continue;
    if (s.source_ssrc == ssrc) {
      Section* out = partner_ ? partner_->section_of_kind(s.config.kind) : nullptr;
      return out ? out->config.out_ssrc : ssrc;
    }
    if (s.config.out_ssrc == ssrc) {
      Section* source = partner_ ? partner_->section_of_kind(s.config.kind) : nullptr;
      return source && source->source_ssrc ? *source->source_ssrc : ssrc;
    }
  }
  return ssrc;
}

void MediaLeg::receive_rtcp(std::size_t length) noexcept {
  std::span<std::uint8_t> compound(packet_.data(), length);
  if (!rtcp::validate_compound(compound)) {
    RelayCounterSet::bump(counters_.dropped_malformed);
    return;
  }
  bool watches = false;
  for (MediaLeg* p : parties_) watches = watches || p;
  rtcp::for_each_block(compound, [&](const rtcp::Block& block) {
    if (rtcp::is_nack(block))
      answer_nack(block);
    else if (watches && rtcp::is_keyframe_request(block))
      forward_keyframe_request(rtcp::feedback_media_ssrc(block));
  });
  // An officer's reports and estimates stay here: the parties' senders
  // answer only to each other.
  MediaLeg* to = partner_;
  if (!to || !to->srtp_) return;
  // Reports, keyframe requests and bandwidth estimates (REMB) go on to the
  // partner as if the two were direct; NACKs were answered here.
  const std::size_t kept = rtcp::copy_blocks_if(
      compound, std::span<std::uint8_t>(rtcp_out_.data(), kMaxDatagram), [](const rtcp::Block& block) {
        return block.type == rtcp::kSenderReport || block.type == rtcp::kReceiverReport ||
               rtcp::is_keyframe_request(block) ||
               (block.type == rtcp::kPayloadFeedback && block.count_or_format == rtcp::kFmtApplication);
      });
  if (kept == 0) return;
  std::span<std::uint8_t> out(rtcp_out_.data(), kept);
  bool keyframe = false;
  bool remb = false;
  rtcp::for_each_block(out, [&](const rtcp::Block& block) {
    keyframe = keyframe || rtcp::is_keyframe_request(block);
    remb = remb || rtcp::remb_bitrate(block).has_value();
  });
  if (!rtcp::rewrite_ssrcs(out, [this](std::uint32_t ssrc) { return map_ssrc_for_partner(ssrc); })) {
    RelayCounterSet::bump(counters_.dropped_malformed);
    return;
  }
  if (to->send_own_rtcp(rtcp_out_, kept)) {
    RelayCounterSet::bump(counters_.rtcp_forwarded);
    if (keyframe) RelayCounterSet::bump(counters_.keyframe_requests);
    if (remb) to->last_forwarded_remb_ = Clock::now();
  }
}

void MediaLeg::send_own_remb() noexcept {
  Section* video = section_of_kind(MediaKind::Video);
  if (!video || !srtp_) return;
  const std::uint32_t source = incoming_video_ssrc(*video);
  if (source == 0) return;
  std::array<std::uint8_t, 64 + kSrtpMaxTrailer> buffer{};
  const std::uint32_t ssrcs[] = {source};
  const std::size_t n =
      rtcp::write_remb(buffer, video->config.out_ssrc, std::uint64_t{video_bitrate_kbps_} * 1000, ssrcs);
  if (n) send_own_rtcp(buffer, n);
}

}  // namespace huijian::media
