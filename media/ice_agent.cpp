#include "media/ice_agent.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <stun/usages/ice.h>

#include <algorithm>
#include <cstring>

#include "media/udp_sender.hpp"

namespace huijian::media {

namespace {
constexpr guint kComponent = 1;  // rtcp-mux: RTP and RTCP share component 1
constexpr std::size_t kMaxCandidateLength = 512;
}  // namespace

IceAgent::IceAgent(GMainContext* context, const std::vector<std::string>& local_addresses, std::uint16_t port_min,
                   std::uint16_t port_max, Listener& listener, Role role, IceCounters* counters)
    : listener_(listener),
      context_(context),
      agent_(nice_agent_new_full(context, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE)),
      role_(role),
      sender_(UdpSender::for_context(context)),
      counters_(counters ? *counters : own_counters_) {
  if (!agent_) throw IceError("could not create the ICE agent");
  stun_agent_init(&stun_agent_, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                  static_cast<StunAgentUsageFlags>(STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                                                   STUN_AGENT_USAGE_USE_FINGERPRINT));
  RAND_bytes(reinterpret_cast<unsigned char*>(&tie_breaker_), sizeof tie_breaker_);
  g_object_set(agent_.get(), "controlling-mode", role == Role::Controlling ? TRUE : FALSE, "ice-tcp", FALSE, "ice-udp", TRUE, "upnp", FALSE,
               "keepalive-conncheck", TRUE, nullptr);
  for (const auto& text : local_addresses) {
    NiceAddress address;
    nice_address_init(&address);
    if (!nice_address_set_from_string(&address, text.c_str()))
      throw IceError("media address '" + text + "' is not an IP address");
    if (!nice_agent_add_local_address(agent_.get(), &address))
      throw IceError("could not use media address '" + text + "'");
  }
  stream_id_ = nice_agent_add_stream(agent_.get(), 1);
  if (stream_id_ == 0) throw IceError("could not add an ICE stream");
  if (port_min != 0 || port_max != 0) nice_agent_set_port_range(agent_.get(), stream_id_, kComponent, port_min, port_max);

  gchar* ufrag = nullptr;
  gchar* password = nullptr;
  if (!nice_agent_get_local_credentials(agent_.get(), stream_id_, &ufrag, &password))
    throw IceError("could not read the local ICE credentials");
  local_ufrag_ = ufrag;
  local_password_ = password;
  g_free(ufrag);
  g_free(password);

  g_signal_connect(agent_.get(), "new-candidate-full", G_CALLBACK(&IceAgent::on_new_candidate), this);
  g_signal_connect(agent_.get(), "candidate-gathering-done", G_CALLBACK(&IceAgent::on_gathering_done), this);
  g_signal_connect(agent_.get(), "component-state-changed", G_CALLBACK(&IceAgent::on_component_state), this);
  g_signal_connect(agent_.get(), "new-selected-pair-full", G_CALLBACK(&IceAgent::on_selected_pair), this);
  nice_agent_attach_recv(agent_.get(), stream_id_, kComponent, context_, &IceAgent::on_receive, this);
}

IceAgent::~IceAgent() {
  stop_liveness_timer();
  if (take_over_) {
    g_source_destroy(take_over_);
    g_source_unref(take_over_);
  }
  if (reader_token_) reader_->remove(reader_token_);
  reader_token_ = 0;
  sender_->flush();  // nothing queued may name the socket once libnice closes it
  selected_fd_ = -1;
  selected_socket_.reset();
  if (agent_) {
    nice_agent_attach_recv(agent_.get(), stream_id_, kComponent, context_, nullptr, nullptr);
    g_signal_handlers_disconnect_by_data(agent_.get(), this);
    nice_agent_remove_stream(agent_.get(), stream_id_);
  }
  agent_.reset();
  if (parked_context_) g_main_context_unref(parked_context_);
}

void IceAgent::set_remote_credentials(const std::string& ufrag, const std::string& password) {
  if (ufrag.empty() || password.empty() || ufrag.size() > 256 || password.size() > 256)
    throw IceError("the offer's ICE ufrag/pwd are missing or too long");
  if (!nice_agent_set_remote_credentials(agent_.get(), stream_id_, ufrag.c_str(), password.c_str()))
    throw IceError("the offer's ICE credentials were refused");
  remote_ufrag_ = ufrag;
  remote_password_ = password;
}

void IceAgent::gather() {
  if (!nice_agent_gather_candidates(agent_.get(), stream_id_))
    throw IceError("could not gather ICE candidates on the media addresses (are they local addresses?)");
}

void IceAgent::add_remote_candidate(const std::string& candidate) {
  if (candidate.empty()) {
    nice_agent_peer_candidate_gathering_done(agent_.get(), stream_id_);
    return;
  }
  if (candidate.size() > kMaxCandidateLength) throw IceError("candidate longer than 512 characters");
  std::string line = candidate.rfind("a=", 0) == 0 ? candidate : "a=" + candidate;
  if (line.rfind("a=candidate:", 0) != 0) throw IceError("a candidate must start with 'candidate:'");
  // TCP candidates and mDNS host names are not for us: ignore them quietly.
  if (line.find(" tcp ") != std::string::npos || line.find(" TCP ") != std::string::npos) return;
  if (line.find(".local ") != std::string::npos) return;
  NiceCandidate* parsed = nice_agent_parse_remote_candidate_sdp(agent_.get(), stream_id_, line.c_str());
  if (!parsed) throw IceError("malformed ICE candidate: " + candidate.substr(0, 120));
  GSList list{parsed, nullptr};
  int added = nice_agent_set_remote_candidates(agent_.get(), stream_id_, kComponent, &list);
  nice_candidate_free(parsed);
  if (added < 0) throw IceError("the ICE candidate was refused");
}

bool IceAgent::send(std::span<const std::uint8_t> datagram) noexcept {
  if (selected_fd_ >= 0) {
    return sender_->send(selected_fd_, reinterpret_cast<const sockaddr*>(&selected_remote_), selected_remote_length_,
                         datagram);
  }
  gint sent = nice_agent_send(agent_.get(), stream_id_, kComponent, static_cast<guint>(datagram.size()),
                              reinterpret_cast<const gchar*>(datagram.data()));
  return sent == static_cast<gint>(datagram.size());
}

void IceAgent::refresh_selected_pair() noexcept {
  const int before = selected_fd_;
  refresh_selected_socket();
  // The socket we read is no longer the pair's: libnice reads again until the next take-over.
  if (reader_token_ && selected_fd_ != before) release_receive();
  if (ready_ && selected_fd_ >= 0 && !reader_token_ && !take_over_) {
    take_over_ = g_idle_source_new();
    g_source_set_callback(
        take_over_,
        [](gpointer data) -> gboolean {
          auto* self = static_cast<IceAgent*>(data);
          g_source_unref(self->take_over_);
          self->take_over_ = nullptr;
          self->take_over_receive();
          return G_SOURCE_REMOVE;
        },
        this, nullptr);
    g_source_attach(take_over_, context_);
  }
}

void IceAgent::refresh_selected_socket() noexcept {
  if (selected_fd_ >= 0) sender_->flush();  // the socket given up may close
  selected_fd_ = -1;
  selected_socket_.reset();
  selected_remote_length_ = 0;
  if (state_ != IceState::Connected) return;
  NiceCandidate* local = nullptr;
  NiceCandidate* remote = nullptr;
  if (!nice_agent_get_selected_pair(agent_.get(), stream_id_, kComponent, &local, &remote) || !remote) return;
  // Only a plain host/reflexive UDP pair has a socket of its own (not TURN, not TCP).
  if (remote->transport != NICE_CANDIDATE_TRANSPORT_UDP) return;
  std::unique_ptr<GSocket, SocketUnref> socket(nice_agent_get_selected_socket(agent_.get(), stream_id_, kComponent));
  if (!socket) return;
  const int fd = g_socket_get_fd(socket.get());
  if (fd < 0) return;
  sockaddr_storage address{};
  nice_address_copy_to_sockaddr(&remote->addr, reinterpret_cast<sockaddr*>(&address));
  if (address.ss_family == AF_INET) {
    selected_remote_length_ = sizeof(sockaddr_in);
  } else if (address.ss_family == AF_INET6) {
    selected_remote_length_ = sizeof(sockaddr_in6);
  } else {
    return;
  }
  selected_remote_ = address;
  selected_socket_ = std::move(socket);
  selected_fd_ = fd;
}

void IceAgent::on_selected_pair(NiceAgent*, guint, guint, NiceCandidate*, NiceCandidate*, gpointer data) {
  static_cast<IceAgent*>(data)->refresh_selected_pair();
}

void IceAgent::on_new_candidate(NiceAgent* agent, NiceCandidate* candidate, gpointer data) {
  auto* self = static_cast<IceAgent*>(data);
  gchar* sdp = nice_agent_generate_local_candidate_sdp(agent, candidate);
  if (!sdp) return;
  std::string line(sdp);
  g_free(sdp);
  if (line.rfind("a=", 0) == 0) line.erase(0, 2);
  self->listener_.on_ice_candidate(line);
}

void IceAgent::on_gathering_done(NiceAgent*, guint, gpointer data) {
  static_cast<IceAgent*>(data)->listener_.on_ice_candidate("");
}

void IceAgent::on_component_state(NiceAgent*, guint, guint, guint state, gpointer data) {
  auto* self = static_cast<IceAgent*>(data);
  if (state == NICE_COMPONENT_STATE_FAILED && self->reader_token_) {
    // libnice's keepalive timeout: it cannot hear the peer since the take-over.
    spdlog::debug("[media] ICE: libnice failed a pair it no longer reads; the agent's own liveness check decides");
    return;
  }
  IceState next = self->state_;
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
      next = IceState::Checking;
      break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
      next = IceState::Connected;
      break;
    case NICE_COMPONENT_STATE_FAILED:
      next = IceState::Failed;
      break;
    default:
      return;
  }
  self->ready_ = state == NICE_COMPONENT_STATE_READY;
  if (next == self->state_) {
    self->refresh_selected_pair();  // CONNECTED -> READY: the take-over may start now
    return;
  }
  self->state_ = next;
  self->refresh_selected_pair();
  self->listener_.on_ice_state(next);
}

void IceAgent::on_receive(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer data) {
  static_cast<IceAgent*>(data)->listener_.on_ice_datagram(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buf), len));
}

void IceAgent::take_over_receive() noexcept {
  if (reader_token_ || selected_fd_ < 0 || !ready_) return;
  try {
    if (!reader_) reader_ = SocketReader::for_context(context_);
    reader_token_ = reader_->add(selected_fd_, *this);
  } catch (const std::exception& e) {
    spdlog::warn("[media] ICE: the selected socket stays with libnice: {}", e.what());
    return;
  }
  // Keepalives as binding indications: a request of libnice's would now time
  // out unanswered (its answers reach us, not libnice) and fail the pair.
  g_object_set(agent_.get(), "keepalive-conncheck", FALSE, nullptr);
  if (!parked_context_) parked_context_ = g_main_context_new();
  nice_agent_attach_recv(agent_.get(), stream_id_, kComponent, parked_context_, &IceAgent::on_receive, this);
  IceCounters::bump(counters_.sockets_taken_over);
  start_liveness_timer();
}

void IceAgent::release_receive() noexcept {
  if (!reader_token_) return;
  stop_liveness_timer();
  reader_->remove(reader_token_);
  reader_token_ = 0;
  nice_agent_attach_recv(agent_.get(), stream_id_, kComponent, context_, &IceAgent::on_receive, this);
}

void IceAgent::start_liveness_timer() noexcept {
  stop_liveness_timer();
  heard_ = false;
  last_heard_ = std::chrono::steady_clock::now();
  const auto every = std::max<std::int64_t>(10, std::min(liveness_.consent_every, liveness_.silence_limit / 4).count());
  if (!timers_) timers_ = TimerQueue::for_context(context_);
  liveness_timer_ = timers_->every(std::chrono::milliseconds(every), [this] { return on_liveness_tick(); });
  last_consent_ = last_heard_;  // the first check one interval after the take-over
}

void IceAgent::stop_liveness_timer() noexcept {
  if (!liveness_timer_) return;
  timers_->cancel(liveness_timer_);
  liveness_timer_ = 0;
}

bool IceAgent::on_liveness_tick() {
  const auto now = std::chrono::steady_clock::now();
  if (heard_) {
    heard_ = false;
    last_heard_ = now;
  }
  if (now - last_heard_ >= liveness_.silence_limit) {
    spdlog::info("[media] ICE: nothing from the peer for {} s on the selected pair: failed",
                 std::chrono::duration_cast<std::chrono::seconds>(now - last_heard_).count());
    IceCounters::bump(counters_.silent_failed);
    stop_liveness_timer();
    state_ = IceState::Failed;
    listener_.on_ice_state(IceState::Failed);  // may destroy the agent: nothing after this
    return false;
  }
  if (now - last_consent_ >= liveness_.consent_every) {
    last_consent_ = now;
    send_consent_check();
  }
  return true;
}

void IceAgent::send_consent_check() noexcept {
  if (selected_fd_ < 0 || remote_ufrag_.empty()) return;
  const std::string username = remote_ufrag_ + ":" + local_ufrag_;
  std::uint8_t buffer[STUN_MAX_MESSAGE_SIZE_IPV6];
  StunMessage request{};
  // The priority a peer-reflexive candidate of ours would have (RFC 8445 5.1.2.1, type preference 110).
  constexpr std::uint32_t kPriority = (110u << 24) | (65535u << 8) | (256u - kComponent);
  const std::size_t length = stun_usage_ice_conncheck_create(
      &stun_agent_, &request, buffer, sizeof buffer, reinterpret_cast<const std::uint8_t*>(username.data()),
      username.size(), reinterpret_cast<const std::uint8_t*>(remote_password_.data()), remote_password_.size(),
      false, role_ == Role::Controlling, kPriority, tie_breaker_, nullptr, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  if (length == 0) return;
  sender_->send(selected_fd_, reinterpret_cast<const sockaddr*>(&selected_remote_), selected_remote_length_,
                std::span<const std::uint8_t>(buffer, length));
  IceCounters::bump(counters_.consent_sent);
}

namespace {

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) noexcept {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

// RFC 7983: STUN starts with 0 or 1 and carries the magic cookie.
bool looks_like_stun(std::span<const std::uint8_t> d) noexcept {
  return d.size() >= 20 && d[0] < 2 && d[4] == 0x21 && d[5] == 0x12 && d[6] == 0xa4 && d[7] == 0x42;
}

}  // namespace

void IceAgent::on_socket_datagram(std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                                  socklen_t from_length) noexcept {
  if (looks_like_stun(datagram)) {
    answer_stun(datagram, from, from_length);
    return;
  }
  if (!same_address(from, selected_remote_)) {
    IceCounters::bump(counters_.foreign_dropped);
    return;
  }
  heard_ = true;
  listener_.on_ice_datagram(datagram);
}

bool IceAgent::check_username(StunAgent*, StunMessage*, std::uint8_t* username, std::uint16_t username_length,
                              std::uint8_t** password, std::size_t* password_length, void* data) {
  auto* self = static_cast<IceAgent*>(data);
  const std::string& ufrag = self->local_ufrag_;
  // Requests to us name us first: "<our ufrag>:<their ufrag>".
  if (username_length <= ufrag.size() || std::memcmp(username, ufrag.data(), ufrag.size()) != 0 ||
      username[ufrag.size()] != ':')
    return false;
  *password = reinterpret_cast<std::uint8_t*>(self->local_password_.data());
  *password_length = self->local_password_.size();
  return true;
}

void IceAgent::answer_stun(std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                           socklen_t from_length) noexcept {
  StunMessage request{};
  const StunValidationStatus status =
      stun_agent_validate(&stun_agent_, &request, datagram.data(), datagram.size(), &IceAgent::check_username, this);
  // The peer's answer to one of our consent checks (matched to it, integrity checked with its password).
  if (status == STUN_VALIDATION_SUCCESS && stun_message_get_class(&request) == STUN_RESPONSE &&
      same_address(from, selected_remote_)) {
    heard_ = true;
    return;
  }
  if (status != STUN_VALIDATION_SUCCESS || stun_message_get_class(&request) != STUN_REQUEST ||
      stun_message_get_method(&request) != STUN_BINDING) {
    IceCounters::bump(counters_.stun_ignored);
    return;
  }
  std::uint8_t buffer[STUN_MAX_MESSAGE_SIZE_IPV6];
  std::size_t length = sizeof buffer;
  StunMessage response{};
  bool controlling = role_ == Role::Controlling;
  const StunUsageIceReturn made =
      stun_usage_ice_conncheck_create_reply(&stun_agent_, &request, &response, buffer, &length, &from, from_length,
                                            &controlling, tie_breaker_, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  if (made != STUN_USAGE_ICE_RETURN_SUCCESS || length == 0) {
    IceCounters::bump(counters_.stun_ignored);
    return;
  }
  sender_->send(selected_fd_, reinterpret_cast<const sockaddr*>(&from), from_length,
                std::span<const std::uint8_t>(buffer, length));
  IceCounters::bump(counters_.consent_answered);
  heard_ = true;
  // The controlling side nominated another path (a terminal that moved): media follows it.
  if (role_ == Role::Controlled && !same_address(from, selected_remote_) &&
      stun_message_has_attribute(&request, STUN_ATTRIBUTE_USE_CANDIDATE) &&
      from_length <= sizeof selected_remote_) {
    selected_remote_ = from;
    selected_remote_length_ = from_length;
  }
}

}  // namespace huijian::media
