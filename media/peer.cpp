#include "media/peer.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "media/packet_kind.hpp"
#include "media/rtp_packet.hpp"

namespace huijian::media {

namespace {

using Clock = std::chrono::steady_clock;

std::uint32_t random_ssrc() {
  std::uint32_t value = 0;
  while (value == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return value;
}

// RFC 1982 distance from b forward to a, for 16-bit sequence numbers.
std::uint16_t forward_distance(std::uint16_t a, std::uint16_t b) noexcept { return static_cast<std::uint16_t>(a - b); }

constexpr std::uint16_t kMaxNackedGap = 16;  // a longer gap is a restart or a burst: ask for a keyframe instead

}  // namespace

Peer::Peer(std::string id, GMainContext* context, const RelayConfig& config, const Certificate& certificate,
           RelayCounterSet& counters, std::shared_ptr<PeerEvents> events)
    : id_(std::move(id)),
      context_(context),
      config_(config),
      certificate_(certificate),
      counters_(counters),
      events_(std::move(events)) {}

Peer::~Peer() {
  for (GSource* timer : {dtls_timer_, feedback_timer_}) {
    if (timer) {
      g_source_destroy(timer);
      g_source_unref(timer);
    }
  }
}

std::string Peer::accept_offer(const std::string& offer_sdp) {
  if (ice_) throw OfferError("this terminal has already negotiated; renegotiation is not supported");
  SessionDescription offer;
  std::vector<AcceptedSection> accepted;
  try {
    offer = parse_sdp(offer_sdp);
    accepted = choose_sections(offer);
  } catch (const SdpError& e) {
    throw OfferError(e.what());
  }
  if (accepted.empty()) throw OfferError("the offer has no audio or video section the relay can accept");

  const MediaSection& first = offer.media.at(accepted.front().index);
  auto pick = [](const std::string& own, const std::string& session) { return own.empty() ? session : own; };
  const std::string ufrag = pick(first.ice_ufrag, offer.ice_ufrag);
  const std::string password = pick(first.ice_pwd, offer.ice_pwd);
  const std::string fingerprint = pick(first.fingerprint, offer.fingerprint);
  const std::string setup = pick(first.setup, offer.setup);
  if (fingerprint.empty()) throw OfferError("the offer has no a=fingerprint");
  if (setup == "passive") {
    dtls_client_ = true;
  } else if (setup == "actpass" || setup == "active" || setup.empty()) {
    dtls_client_ = false;
  } else {
    throw OfferError("the offer's a=setup:" + setup + " is not one of actpass, active, passive");
  }

  AnswerParams params;
  params.cname = "huijian";
  params.stream_id = "huijian-" + id_;
  params.setup = dtls_client_ ? "active" : "passive";
  params.fingerprint_sha256 = certificate_.fingerprint_sha256();
  for (const auto& a : accepted) {
    Section section{a.kind,
                    a.mid,
                    a.codec.payload_type,
                    random_ssrc(),
                    a.offered == Direction::SendRecv || a.offered == Direction::RecvOnly,
                    a.remote_ssrcs,
                    std::nullopt,
                    StreamRewriter(a.kind == MediaKind::Video ? 3000 : 960),
                    nullptr};
    if (a.kind == MediaKind::Video) section.retransmissions = std::make_unique<RetransmissionBuffer>();
    params.outgoing.push_back({a.mid, section.out_ssrc, a.offered == Direction::SendOnly ? Direction::RecvOnly
                                                       : a.offered == Direction::RecvOnly ? Direction::SendOnly
                                                                                          : Direction::SendRecv});
    sections_.push_back(std::move(section));
  }

  try {
    ice_ = std::make_unique<IceAgent>(context_, config_.addresses, config_.port_min, config_.port_max,
                                      static_cast<IceAgent::Listener&>(*this));
    params.ice_ufrag = ice_->local_ufrag();
    params.ice_pwd = ice_->local_password();
    ice_->set_remote_credentials(ufrag, password);
    dtls_ = std::make_unique<DtlsTransport>(certificate_, dtls_client_ ? DtlsTransport::Role::Client
                                                                        : DtlsTransport::Role::Server,
                                            fingerprint, static_cast<DtlsTransport::Listener&>(*this));
    std::string answer = build_answer(offer, accepted, params);
    for (const auto& candidate : first.candidates) {
      try {
        ice_->add_remote_candidate(candidate);
      } catch (const IceError& e) {
        spdlog::warn("[media] peer {}: ignoring a candidate of the offer: {}", id_, e.what());
      }
    }
    if (!dtls_client_) {
      dtls_->start(Clock::now());
      dtls_started_ = true;
    }
    ice_->gather();
    spdlog::info("[media] peer {}: answered ({} sections, DTLS {})", id_, sections_.size(),
                 dtls_client_ ? "client" : "server");
    return answer;
  } catch (const IceError& e) {
    throw OfferError(e.what());
  } catch (const SdpError& e) {
    throw OfferError(e.what());
  }
}

void Peer::add_remote_candidate(const std::string& candidate) {
  if (!ice_) throw OfferError("send the offer before candidates");
  try {
    ice_->add_remote_candidate(candidate);
  } catch (const IceError& e) {
    throw OfferError(e.what());
  }
}

void Peer::report(PeerState state, const std::string& detail) {
  if (events_) events_->on_peer_state(state, detail);
}

void Peer::on_ice_candidate(const std::string& candidate) {
  if (events_) events_->on_local_candidate(candidate, sections_.empty() ? std::string("0") : sections_.front().mid);
}

void Peer::on_ice_state(IceState state) {
  switch (state) {
    case IceState::Checking:
      report(PeerState::Checking, "ICE checking");
      break;
    case IceState::Connected:
      report(PeerState::Connected, "ICE connected");
      ice_connected_ = true;
      for (const auto& datagram : pending_dtls_) ice_->send(datagram);
      pending_dtls_.clear();
      if (dtls_client_ && !dtls_started_) {
        dtls_started_ = true;
        dtls_->start(Clock::now());
        schedule_dtls_timer();
      }
      break;
    case IceState::Failed:
      report(PeerState::Failed, "ICE failed: no candidate pair works");
      break;
    case IceState::Gathering:
      break;
  }
}

void Peer::on_ice_datagram(std::span<const std::uint8_t> datagram) noexcept {
  switch (classify_datagram(datagram)) {
    case PacketKind::Dtls:
      if (dtls_) {
        const auto refused = [](const DtlsTransport::Counters& c) {
          return c.datagrams_ignored + c.datagrams_malformed + c.read_errors_ignored;
        };
        const auto before = refused(dtls_->counters());
        dtls_->receive(datagram, Clock::now());
        if (refused(dtls_->counters()) != before) RelayCounterSet::bump(counters_.dropped_dtls);
        try {
          schedule_dtls_timer();
        } catch (...) {
        }
      }
      return;
    case PacketKind::Rtp:
    case PacketKind::Rtcp: {
      const bool rtp = classify_datagram(datagram) == PacketKind::Rtp;
      if (!srtp_) {
        RelayCounterSet::bump(counters_.dropped_srtp);
        return;
      }
      if (datagram.size() > 1500) {
        RelayCounterSet::bump(counters_.dropped_malformed);
        return;
      }
      std::memcpy(packet_.data(), datagram.data(), datagram.size());
      auto length = rtp ? srtp_->unprotect_rtp(packet_, datagram.size()) : srtp_->unprotect_rtcp(packet_, datagram.size());
      if (!length) {
        RelayCounterSet::bump(counters_.dropped_srtp);
        return;
      }
      if (rtp)
        receive_rtp(*length);
      else
        receive_rtcp(*length);
      return;
    }
    case PacketKind::Stun:  // libnice consumes STUN; anything left is not for us
    case PacketKind::Unknown:
      RelayCounterSet::bump(counters_.dropped_unknown);
      return;
  }
}

Peer::Section* Peer::incoming_section(std::uint32_t ssrc, std::uint8_t payload_type) noexcept {
  for (auto& s : sections_)
    if (s.source_ssrc == ssrc) return &s;
  for (auto& s : sections_)
    for (auto announced : s.announced_ssrcs)
      if (announced == ssrc) {
        s.source_ssrc = ssrc;
        return &s;
      }
  // Not announced in the offer: learn it by payload type (each section has one).
  for (auto& s : sections_)
    if (s.payload_type == payload_type) {
      s.source_ssrc = ssrc;
      return &s;
    }
  return nullptr;
}

Peer::Section* Peer::section_of_kind(MediaKind kind) noexcept {
  for (auto& s : sections_)
    if (s.kind == kind) return &s;
  return nullptr;
}

void Peer::receive_rtp(std::size_t length) noexcept {
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
  if (in->kind == MediaKind::Video) note_sequence(*in, packet->sequence());
  Peer* to = partner_;
  Section* out = to && to->srtp_ ? to->section_of_kind(in->kind) : nullptr;
  if (!out || !out->relay_sends) {
    RelayCounterSet::bump(counters_.dropped_unrouted);
    return;
  }
  const auto mapped = out->rewriter.map(packet->ssrc(), packet->sequence(), packet->timestamp());
  packet->set_ssrc(out->out_ssrc);
  packet->set_payload_type(out->payload_type);
  packet->set_sequence(mapped.sequence);
  packet->set_timestamp(mapped.timestamp);
  auto protected_length = to->srtp_->protect_rtp(packet_, length);
  if (!protected_length) {
    RelayCounterSet::bump(counters_.dropped_srtp);
    return;
  }
  std::span<const std::uint8_t> wire(packet_.data(), *protected_length);
  to->ice_->send(wire);
  if (out->retransmissions) out->retransmissions->store(mapped.sequence, wire);
  RelayCounterSet::bump(counters_.rtp_forwarded);
  RelayCounterSet::bump(in->kind == MediaKind::Video ? counters_.video_forwarded : counters_.audio_forwarded);
}

void Peer::note_sequence(Section& section, std::uint16_t sequence) noexcept {
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
  const std::size_t n = rtcp::write_nack(buffer, section.out_ssrc, *section.source_ssrc,
                                         std::span<const std::uint16_t>(lost.data(), missing));
  if (n) send_own_rtcp(buffer, n);
}

// The SSRC this peer's video arrives with: learned from its packets, else the
// first one its offer announced; 0 when neither is known yet.
std::uint32_t Peer::incoming_video_ssrc(const Section& video) noexcept {
  if (video.source_ssrc) return *video.source_ssrc;
  return video.announced_ssrcs.empty() ? 0 : video.announced_ssrcs.front();
}

void Peer::request_keyframe() noexcept {
  Section* video = section_of_kind(MediaKind::Video);
  if (!video || !srtp_) return;
  const std::uint32_t source = incoming_video_ssrc(*video);
  if (source == 0) return;
  std::array<std::uint8_t, 64 + kSrtpMaxTrailer> buffer{};
  const std::size_t n = rtcp::write_pli(buffer, video->out_ssrc, source);
  if (n && send_own_rtcp(buffer, n)) RelayCounterSet::bump(counters_.keyframe_requests);
}

bool Peer::send_own_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept {
  if (!srtp_) return false;
  auto protected_length = srtp_->protect_rtcp(buffer, length);
  if (!protected_length) return false;
  return ice_->send(std::span<const std::uint8_t>(buffer.data(), *protected_length));
}

void Peer::answer_nack(const rtcp::Block& nack) noexcept {
  const std::uint32_t media = rtcp::feedback_media_ssrc(nack);
  for (auto& s : sections_) {
    if (s.out_ssrc != media || !s.retransmissions) continue;
    rtcp::for_each_nacked_sequence(nack, [&](std::uint16_t sequence) {
      auto stored = s.retransmissions->find(sequence);
      if (!stored.empty() && ice_->send(stored)) RelayCounterSet::bump(counters_.nacks_answered);
    });
  }
}

std::uint32_t Peer::map_ssrc_for_partner(std::uint32_t ssrc) noexcept {
  // What this terminal sends becomes the relay's stream to the partner; what
  // the relay sends this terminal came from the partner's source.
  for (auto& s : sections_) {
    if (s.source_ssrc == ssrc) {
      Section* out = partner_ ? partner_->section_of_kind(s.kind) : nullptr;
      return out ? out->out_ssrc : ssrc;
    }
    if (s.out_ssrc == ssrc) {
      Section* source = partner_ ? partner_->section_of_kind(s.kind) : nullptr;
      return source && source->source_ssrc ? *source->source_ssrc : ssrc;
    }
  }
  return ssrc;
}

void Peer::receive_rtcp(std::size_t length) noexcept {
  std::span<std::uint8_t> compound(packet_.data(), length);
  if (!rtcp::validate_compound(compound)) {
    RelayCounterSet::bump(counters_.dropped_malformed);
    return;
  }
  rtcp::for_each_block(compound, [&](const rtcp::Block& block) {
    if (rtcp::is_nack(block)) answer_nack(block);
  });
  Peer* to = partner_;
  if (!to || !to->srtp_) return;
  // Reports, keyframe requests and bandwidth estimates (REMB) go on to the
  // partner as if the two were direct; NACKs were answered here.
  const std::size_t kept = rtcp::copy_blocks_if(
      compound, std::span<std::uint8_t>(rtcp_out_.data(), 1500), [](const rtcp::Block& block) {
        return block.type == rtcp::kSenderReport || block.type == rtcp::kReceiverReport ||
               rtcp::is_keyframe_request(block) ||
               (block.type == rtcp::kPayloadFeedback && block.count_or_format == 15);
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

void Peer::send_own_remb() noexcept {
  Section* video = section_of_kind(MediaKind::Video);
  if (!video || !srtp_) return;
  const std::uint32_t source = incoming_video_ssrc(*video);
  if (source == 0) return;
  std::array<std::uint8_t, 64 + kSrtpMaxTrailer> buffer{};
  const std::uint32_t ssrcs[] = {source};
  const std::size_t n = rtcp::write_remb(buffer, video->out_ssrc,
                                         std::uint64_t{config_.video_bitrate_kbps} * 1000, ssrcs);
  if (n) send_own_rtcp(buffer, n);
}

void Peer::start_feedback_timer() {
  if (feedback_timer_) return;
  feedback_timer_ = g_timeout_source_new(1000);
  g_source_set_callback(
      feedback_timer_,
      [](gpointer data) -> gboolean {
        auto* self = static_cast<Peer*>(data);
        if (Clock::now() - self->last_forwarded_remb_ > std::chrono::milliseconds(2500)) self->send_own_remb();
        return G_SOURCE_CONTINUE;
      },
      this, nullptr);
  g_source_attach(feedback_timer_, context_);
}

void Peer::on_dtls_send(std::span<const std::uint8_t> datagram) {
  if (!ice_) return;
  if (ice_->send(datagram) || ice_connected_) return;  // once connected, a lost flight is the DTLS timer's job
  if (pending_dtls_.size() < kMaxPendingDtls) pending_dtls_.emplace_back(datagram.begin(), datagram.end());
}

void Peer::on_dtls_connected(const SrtpKeyMaterial& keys) {
  try {
    srtp_ = std::make_unique<SrtpSession>(keys.profile, keys.local_key_salt, keys.remote_key_salt);
  } catch (const std::exception& e) {
    report(PeerState::Failed, std::string("SRTP setup failed: ") + e.what());
    return;
  }
  spdlog::info("[media] peer {}: DTLS done, SRTP {}", id_,
               keys.profile == SrtpProfile::AeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80");
  report(PeerState::Secure, keys.profile == SrtpProfile::AeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80");
  // A browser takes a receiver estimate at once only before its first loss
  // report: give it ours now, not a second later.
  send_own_remb();
  try {
    start_feedback_timer();
  } catch (...) {
  }
  if (partner_) {
    request_keyframe();
    partner_->request_keyframe();
  }
}

void Peer::on_dtls_failed(const std::string& reason) {
  spdlog::warn("[media] peer {}: DTLS failed: {}", id_, reason);
  report(PeerState::Failed, "DTLS failed: " + reason);
}

void Peer::schedule_dtls_timer() {
  if (dtls_timer_) {
    g_source_destroy(dtls_timer_);
    g_source_unref(dtls_timer_);
    dtls_timer_ = nullptr;
  }
  if (!dtls_) return;
  auto next = dtls_->next_timeout();
  if (!next) return;
  auto now = Clock::now();
  auto delay = *next > now ? std::chrono::duration_cast<std::chrono::milliseconds>(*next - now).count() : 0;
  dtls_timer_ = g_timeout_source_new(static_cast<guint>(delay));
  g_source_set_callback(
      dtls_timer_,
      [](gpointer data) -> gboolean {
        auto* self = static_cast<Peer*>(data);
        self->dtls_->handle_timeout(Clock::now());
        // Re-arming replaces (and destroys) this source; returning REMOVE is then harmless.
        g_source_unref(self->dtls_timer_);
        self->dtls_timer_ = nullptr;
        self->schedule_dtls_timer();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  g_source_attach(dtls_timer_, context_);
}

}  // namespace huijian::media
