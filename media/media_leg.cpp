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
  for (auto& s : sections_)
    if (s.source_ssrc == ssrc) return &s;
  for (auto& s : sections_)
    for (auto announced : s.config.announced_ssrcs)
      if (announced == ssrc) {
        s.source_ssrc = ssrc;
        return &s;
      }
  // Not announced in the offer: learn it by payload type (each section has one).
  for (auto& s : sections_)
    if (s.config.payload_type == payload_type) {
      s.source_ssrc = ssrc;
      return &s;
    }
  return nullptr;
}

MediaLeg::Section* MediaLeg::section_of_kind(MediaKind kind) noexcept {
  for (auto& s : sections_)
    if (s.config.kind == kind) return &s;
  return nullptr;
}

void MediaLeg::receive_rtp(std::size_t length) noexcept {
  auto packet = RtpPacket::parse(std::span<std::uint8_t>(packet_.data(), length));
  if (!packet) {
    RelayCounterSet::bump(counters_.dropped_malformed);
    return;
  }
  Section* in = incoming_section(packet->ssrc(), packet->payload_type());
  if (!in) {
    RelayCounterSet::bump(counters_.dropped_unrouted);
    return;
  }
  const MediaKind kind = in->config.kind;
  if (kind == MediaKind::Video) {
    note_sequence(*in, packet->sequence());
    if (video_tap_) video_tap_->on_video_rtp(VideoRtpPacket(std::span<const std::uint8_t>(packet_.data(), length), Clock::now()));
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
  rtcp::for_each_block(compound, [&](const rtcp::Block& block) {
    if (rtcp::is_nack(block)) answer_nack(block);
  });
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
