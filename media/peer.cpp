#include "media/peer.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "media/packet_kind.hpp"
#include "media/sdp.hpp"
#include "media/srtp_session.hpp"
#include "media/wire_bytes.hpp"

namespace huijian::media {

namespace {

using Clock = std::chrono::steady_clock;

std::uint32_t random_ssrc() {
  std::uint32_t value = 0;
  while (value == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return value;
}

}  // namespace

Peer::Peer(std::string id, GMainContext* context, const RelayConfig& config, const Certificate& certificate,
           RelayCounterSet& counters, std::shared_ptr<PeerEvents> events, PeerKind kind)
    : id_(std::move(id)),
      kind_(kind),
      context_(context),
      config_(config),
      certificate_(certificate),
      counters_(counters),
      events_(std::move(events)),
      leg_(counters_, static_cast<DatagramSink&>(*this), config_.video_bitrate_kbps) {}

Peer::~Peer() {
  if (dtls_timer_) {
    g_source_destroy(dtls_timer_);
    g_source_unref(dtls_timer_);
  }
  if (feedback_timer_) timers_->cancel(feedback_timer_);
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
  std::vector<MediaLeg::SectionConfig> sections;
  if (kind_ == PeerKind::Officer)
    assign_officer_roles(accepted, sections);
  else
    assign_terminal_roles(accepted, sections);
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
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    MediaLeg::SectionConfig& section = sections[i];
    const Direction wanted = section.relay_sends && section.relay_receives ? Direction::SendRecv
                             : section.relay_sends                          ? Direction::SendOnly
                             : section.relay_receives                       ? Direction::RecvOnly
                                                                            : Direction::Inactive;
    params.outgoing.push_back({accepted[i].mid, section.out_ssrc, wanted});
    leg_.add_section(std::move(section));
  }
  first_mid_ = accepted.front().mid;
  section_count_ = accepted.size();

  try {
    ice_ = std::make_unique<IceAgent>(context_, config_.addresses, config_.port_min, config_.port_max,
                                      static_cast<IceAgent::Listener&>(*this), IceAgent::Role::Controlled,
                                      &counters_.ice);
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
    spdlog::info("[media] peer {}: answered ({} sections, DTLS {})", id_, section_count_,
                 dtls_client_ ? "client" : "server");
    return answer;
  } catch (const IceError& e) {
    throw OfferError(e.what());
  } catch (const SdpError& e) {
    throw OfferError(e.what());
  }
}

void Peer::assign_terminal_roles(const std::vector<AcceptedSection>& accepted,
                                 std::vector<MediaLeg::SectionConfig>& sections) const {
  bool conversation_audio = false;
  bool officer_voice = false;
  for (const auto& a : accepted) {
    MediaLeg::SectionConfig section{a.kind, a.codec.payload_type, random_ssrc(),
                                    a.offered == Direction::SendRecv || a.offered == Direction::RecvOnly,
                                    a.remote_ssrcs};
    section.relay_receives = a.offered == Direction::SendRecv || a.offered == Direction::SendOnly;
    if (a.kind == MediaKind::Audio) {
      // The first audio m-line is the conversation; a later receive-only one
      // is where the terminal hears an interjecting officer.
      if (conversation_audio && !officer_voice && a.offered == Direction::RecvOnly) {
        section.role = SectionRole::OfficerVoice;
        officer_voice = true;
      }
      conversation_audio = true;
    }
    sections.push_back(std::move(section));
  }
}

void Peer::assign_officer_roles(std::vector<AcceptedSection>& accepted,
                                std::vector<MediaLeg::SectionConfig>& sections) {
  std::vector<AcceptedSection> kept;
  std::size_t pictures = 0;
  bool microphone = false;
  for (auto& a : accepted) {
    const std::string label = "m-line " + std::to_string(a.index) + " (mid " + a.mid + ", " + to_string(a.kind) + ")";
    MediaLeg::SectionConfig section{a.kind, a.codec.payload_type, random_ssrc(), false, {}};
    if (a.kind == MediaKind::Video) {
      if (a.offered != Direction::RecvOnly && a.offered != Direction::SendRecv)
        throw OfferError(label + ": an officer's video m-line must be recvonly: the console receives the "
                                 "parties' pictures and sends none");
      if (pictures == MediaLeg::kParties)
        throw OfferError("an officer's offer needs exactly two recvonly video m-lines, one per party (the "
                         "lawyer's picture first, then the detainee's); " + label + " is one too many");
      section.role = SectionRole::Picture;
      section.party = static_cast<std::uint8_t>(pictures);
      section.relay_sends = true;
      section.relay_receives = false;
      picture_mids_[pictures++] = a.mid;
    } else {
      if (a.offered == Direction::RecvOnly || a.offered == Direction::Inactive) {
        // The relay never sends an officer sound: the m-line is rejected.
        spdlog::warn("[media] peer {}: {} asks to receive audio; rejected (an officer hears nothing of a meeting)",
                     id_, label);
        continue;
      }
      if (microphone)
        throw OfferError(label + ": an officer's offer may have at most one audio m-line, the microphone (sendonly)");
      microphone = true;
      section.role = SectionRole::OfficerVoice;
      section.relay_sends = false;
      section.relay_receives = true;
      section.announced_ssrcs = a.remote_ssrcs;
    }
    kept.push_back(std::move(a));
    sections.push_back(std::move(section));
  }
  if (pictures != MediaLeg::kParties)
    throw OfferError("an officer's offer needs exactly two recvonly video m-lines, one per party (the lawyer's "
                     "picture first, then the detainee's); it has " + std::to_string(pictures));
  accepted = std::move(kept);
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
  if (events_) events_->on_local_candidate(candidate, first_mid_);
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
  if (leg_.receive(datagram) != PacketKind::Dtls || !dtls_) return;
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

bool Peer::send(std::span<const std::uint8_t> datagram) noexcept {
  if (!ice_) return false;
  // What leaves for an officer is checked at the socket: any RTP packet that
  // is not one of the two pictures is counted (and none should ever be).
  if (kind_ == PeerKind::Officer && datagram.size() >= 12 && classify_datagram(datagram) == PacketKind::Rtp) {
    if (!leg_.sends_picture_ssrc(wire::load_u32(datagram.data() + 8)))
      RelayCounterSet::bump(counters_.officer_audio_sent);
  }
  return ice_->send(datagram);
}

void Peer::start_feedback_timer() {
  if (feedback_timer_) return;
  if (!timers_) timers_ = TimerQueue::for_context(context_);
  feedback_timer_ = timers_->every(std::chrono::seconds(1), [this] {
    if (Clock::now() - leg_.last_forwarded_remb() > std::chrono::milliseconds(2500)) leg_.send_own_remb();
    return true;
  });
}

void Peer::on_dtls_send(std::span<const std::uint8_t> datagram) {
  if (!ice_) return;
  if (ice_->send(datagram) || ice_connected_) return;  // once connected, a lost flight is the DTLS timer's job
  if (pending_dtls_.size() < kMaxPendingDtls) pending_dtls_.emplace_back(datagram.begin(), datagram.end());
}

void Peer::on_dtls_connected(const SrtpKeyMaterial& keys) {
  try {
    leg_.set_srtp(SrtpSession(keys.profile, keys.local_key_salt, keys.remote_key_salt));
  } catch (const std::exception& e) {
    report(PeerState::Failed, std::string("SRTP setup failed: ") + e.what());
    return;
  }
  spdlog::info("[media] peer {}: DTLS done, SRTP {}", id_,
               keys.profile == SrtpProfile::AeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80");
  report(PeerState::Secure, keys.profile == SrtpProfile::AeadAes128Gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80");
  // A browser takes a receiver estimate at once only before its first loss
  // report: give it ours now, not a second later.
  leg_.send_own_remb();
  try {
    start_feedback_timer();
  } catch (...) {
  }
  if (partner_) {
    leg_.request_keyframe();
    partner_->request_keyframe();
  }
  if (kind_ == PeerKind::Officer) leg_.request_party_keyframes();
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
