#include "signaling/signaling_hub.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "signaling/component_logger.hpp"
#include "signaling/errors.hpp"

namespace huijian::signaling {
namespace {

using nlohmann::json;

constexpr const char* kDetaineeReadyText = "已就位，正在接通";
constexpr const char* kPeerReadyText = "对方已就位";
constexpr const char* kPeerReadyAction = "请按此键接通";

const char* media_state_name(media::PeerState s) {
  switch (s) {
    case media::PeerState::New: return "new";
    case media::PeerState::Checking: return "checking";
    case media::PeerState::Connected: return "connected";
    case media::PeerState::Secure: return "secure";
    case media::PeerState::Failed: return "failed";
    case media::PeerState::Closed: return "closed";
  }
  return "unknown";
}

bool secrets_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::map<std::string, unsigned> mids_of(const std::string& sdp) {
  std::map<std::string, unsigned> out;
  unsigned index = 0;
  bool seen_media = false;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    auto end = sdp.find('\n', pos);
    if (end == std::string::npos) end = sdp.size();
    std::string_view line(sdp.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("m=", 0) == 0) {
      if (seen_media) ++index;
      seen_media = true;
    } else if (seen_media && line.rfind("a=mid:", 0) == 0) {
      out.emplace(std::string(line.substr(6)), index);
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace

class SignalingHub::PeerEventsForwarder final : public media::PeerEvents {
 public:
  PeerEventsForwarder(SignalingHub& hub, ConnectionId id)
      : hub_(&hub), alive_(hub.alive_), post_(hub.post_), id_(id) {}

  void on_local_candidate(const std::string& candidate, const std::string& mid) override {
    post_([hub = hub_, alive = alive_, id = id_, candidate, mid] {
      if (alive.lock()) hub->deliver_local_candidate(id, candidate, mid);
    });
  }
  void on_peer_state(media::PeerState state, const std::string& detail) override {
    post_([hub = hub_, alive = alive_, id = id_, state, detail] {
      if (alive.lock()) hub->deliver_peer_state(id, state, detail);
    });
  }

 private:
  SignalingHub* hub_;
  std::weak_ptr<int> alive_;
  PostFn post_;
  ConnectionId id_;
};

SignalingHub::SignalingHub(const Config& config, MeetingRepository& store, MediaPort* media,
                           PostFn post, WallClock clock)
    : config_(config), store_(store), media_(media), post_(std::move(post)), clock_(std::move(clock)) {}

SignalingHub::~SignalingHub() = default;

std::string SignalingHub::now() { return format_utc_ms(clock_()); }

void SignalingHub::load_meetings() {
  auto log = component_logger("hub");
  for (const auto& m : config_.meetings) {
    MeetingRecord r;
    r.id = m.id;
    r.lawyer_device = m.lawyer_device;
    r.detainee_device = m.detainee_device;
    r.case_id = m.case_id;
    if (store_.insert_if_absent(r, now(), "config")) {
      log->info("meeting {} created from the configuration", m.id);
    } else {
      store_.update_parties(r);
    }
  }
  for (const auto& m : store_.open_meetings()) {
    if (m.state == MeetingState::DetaineeReady || m.state == MeetingState::Connected) {
      log->warn("meeting {} was {} when the previous huijiand stopped; ending it", m.id,
                to_string(m.state));
      store_.record_state(m.id, MeetingState::Ended, now(), "server",
                          "server restarted while the meeting was running");
    }
  }
}

ConnectionId SignalingHub::open_connection(std::shared_ptr<ConnectionSink> sink) {
  ConnectionId id = next_id_++;
  connections_[id].sink = std::move(sink);
  return id;
}

SignalingHub::Connection* SignalingHub::find(ConnectionId id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

SignalingHub::Connection* SignalingHub::connection_of(const std::string& device) {
  auto it = by_device_.find(device);
  return it == by_device_.end() ? nullptr : find(it->second);
}

void SignalingHub::send(Connection& c, const json& message) {
  c.sink->send_text(message.dump(-1, ' ', false, json::error_handler_t::replace));
}

void SignalingHub::send_error(Connection& c, const std::string& code, const std::string& message,
                              const std::string& ref) {
  json j{{"type", "error"}, {"code", code}, {"message", message}};
  if (!ref.empty()) j["ref"] = ref;
  send(c, j);
}

void SignalingHub::on_text(ConnectionId id, std::string_view text) {
  Connection* c = find(id);
  if (!c) return;
  auto log = component_logger("hub");
  std::string ref;
  try {
    auto message = parse_client_message(text, config_.max_message_bytes, &ref);
    handle(id, *c, message);
  } catch (const ProtocolError& e) {
    log->info("connection {} ({}): refused {}: {}: {}", id, c->device ? c->device->id : "-",
              ref.empty() ? "message" : ref, e.code(), e.what());
    send_error(*c, e.code(), e.what(), ref);
    if (e.code() == "bad_credentials") c->sink->close(kClosePolicy, "bad credentials");
    if (e.code() == "too_large") c->sink->close(kCloseTooBig, "message too large");
  } catch (const StoreError& e) {
    log->error("connection {}: {}", id, e.what());
    send_error(*c, "internal", "the server could not store the change; try again or call the operator", ref);
  } catch (const std::exception& e) {
    log->error("connection {}: unexpected error: {}", id, e.what());
    send_error(*c, "internal", "internal server error", ref);
  }
}

void SignalingHub::on_too_large(ConnectionId id, std::size_t bytes_seen) {
  Connection* c = find(id);
  if (!c) return;
  send_error(*c, "too_large",
             fmt::format("the message is larger than the limit of {} bytes (at least {} bytes received)",
                         config_.max_message_bytes, bytes_seen),
             "");
  c->sink->close(kCloseTooBig, "message too large");
}

void SignalingHub::on_binary(ConnectionId id) {
  Connection* c = find(id);
  if (!c) return;
  send_error(*c, "bad_json", "binary messages are not accepted; send JSON as text", "");
}

void SignalingHub::on_closed(ConnectionId id) {
  Connection* c = find(id);
  if (!c) return;
  auto log = component_logger("hub");
  if (c->device) {
    const std::string device = c->device->id;
    log->info("device {} disconnected", device);
    if (!c->meeting_id.empty()) {
      try {
        if (auto m = store_.find(c->meeting_id);
            m && (m->state == MeetingState::DetaineeReady || m->state == MeetingState::Connected))
          end_internal(*m, "server", fmt::format("the connection of {} closed", device));
      } catch (const std::exception& e) {
        log->error("ending meeting {} after {} disconnected: {}", c->meeting_id, device, e.what());
      }
    }
    if (c->offered && media_) {
      try {
        media_->close_peer(device);
      } catch (const std::exception& e) {
        log->warn("closing the media peer of {}: {}", device, e.what());
      }
    }
    by_device_.erase(device);
  }
  connections_.erase(id);
}

const DeviceConfig& SignalingHub::require_auth(const Connection& c, const char* type) const {
  if (!c.device)
    throw ProtocolError("not_authenticated",
                        fmt::format("send hello with device and secret before \"{}\"", type));
  return *c.device;
}

MeetingRecord SignalingHub::require_meeting(Connection& c, const char* type) {
  if (c.meeting_id.empty()) {
    if (auto open = store_.find_open_for_device(c.device->id)) c.meeting_id = open->id;
  }
  if (c.meeting_id.empty())
    throw ProtocolError("no_meeting", fmt::format("device {} has no meeting; \"{}\" needs one",
                                                  c.device->id, type));
  auto m = store_.find(c.meeting_id);
  if (!m) throw ProtocolError("no_meeting", fmt::format("meeting {} no longer exists", c.meeting_id));
  return *m;
}

void SignalingHub::handle(ConnectionId id, Connection& c, const ClientMessage& message) {
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, HelloMessage>) {
          on_hello(id, c, m);
        } else if constexpr (std::is_same_v<T, PingMessage>) {
          send(c, json{{"type", "pong"}});
        } else if constexpr (std::is_same_v<T, OfferMessage>) {
          require_auth(c, "offer");
          on_offer(id, c, m);
        } else if constexpr (std::is_same_v<T, CandidateMessage>) {
          require_auth(c, "candidate");
          on_candidate(c, m);
        } else if constexpr (std::is_same_v<T, ReadyMessage>) {
          require_auth(c, "ready");
          on_ready(c);
        } else if constexpr (std::is_same_v<T, ConnectMessage>) {
          require_auth(c, "connect");
          on_connect(c);
        } else if constexpr (std::is_same_v<T, EndMessage>) {
          require_auth(c, "end");
          on_end(c, m);
        }
      },
      message);
}

void SignalingHub::on_hello(ConnectionId id, Connection& c, const HelloMessage& m) {
  if (c.device)
    throw ProtocolError("already_authenticated",
                        fmt::format("this connection is already authenticated as {}", c.device->id));
  const DeviceConfig* device = config_.find_device(m.device);
  // Compare against a dummy secret for an unknown device so both cases take the same path.
  static const std::string dummy(32, 'x');
  bool ok = secrets_equal(device ? device->secret : dummy, m.secret) && device;
  if (!ok) throw ProtocolError("bad_credentials", "unknown device or wrong secret");
  if (by_device_.count(device->id))
    throw ProtocolError("device_busy",
                        fmt::format("device {} is already connected; close the other connection first",
                                    device->id));
  std::optional<MeetingRecord> meeting;
  if (m.meeting) {
    meeting = store_.find(*m.meeting);
    if (!meeting) throw ProtocolError("no_meeting", fmt::format("meeting {} does not exist", *m.meeting));
    const std::string& own = device->role == DeviceRole::LawyerTerminal ? meeting->lawyer_device
                                                                       : meeting->detainee_device;
    if (own != device->id)
      throw ProtocolError("not_your_meeting",
                          fmt::format("meeting {} is assigned to another {} device; {} cannot join it",
                                      meeting->id, to_string(device->role), device->id));
  } else {
    meeting = store_.find_open_for_device(device->id);
  }
  c.device = device;
  by_device_[device->id] = id;
  json welcome{{"type", "welcome"},
               {"device", device->id},
               {"name", device->name},
               {"role", to_string(device->role)},
               {"meeting", nullptr}};
  if (meeting) {
    c.meeting_id = meeting->id;
    const std::string& peer_id = device->role == DeviceRole::LawyerTerminal ? meeting->detainee_device
                                                                           : meeting->lawyer_device;
    const DeviceConfig* peer = config_.find_device(peer_id);
    welcome["meeting"] = json{{"id", meeting->id},
                              {"state", to_string(meeting->state)},
                              {"case_id", meeting->case_id},
                              {"peer", {{"device", peer_id}, {"name", peer ? peer->name : peer_id}}}};
  }
  component_logger("hub")->info("device {} authenticated on connection {}, meeting {}", device->id, id,
                                meeting ? meeting->id : "none");
  send(c, welcome);
  if (meeting) {
    std::string at = meeting->created_at, by = "config";
    auto events = store_.events(meeting->id);
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->kind.rfind("state:", 0) == 0 || it->kind == "created") {
        at = it->at;
        by = it->actor;
        break;
      }
    }
    send_state(c, *meeting, at, by);
    if (meeting->state == MeetingState::DetaineeReady && device->role == DeviceRole::LawyerTerminal)
      send(c, json{{"type", "peer_ready"}, {"meeting", meeting->id}, {"text", kPeerReadyText},
                   {"action", kPeerReadyAction}});
  }
}

void SignalingHub::send_state(Connection& c, const MeetingRecord& meeting, const std::string& at,
                              const std::string& by) {
  json j{{"type", "state"}, {"meeting", meeting.id}, {"state", to_string(meeting.state)},
         {"at", at}, {"by", by}};
  if (meeting.state == MeetingState::DetaineeReady && c.device &&
      c.device->role == DeviceRole::DetaineeTerminal)
    j["text"] = kDetaineeReadyText;
  send(c, j);
}

void SignalingHub::on_offer(ConnectionId id, Connection& c, const OfferMessage& m) {
  auto meeting = require_meeting(c, "offer");
  if (meeting.state == MeetingState::Ended)
    throw ProtocolError("bad_state", fmt::format("meeting {} has ended; no media can be set up", meeting.id));
  if (c.offered)
    throw ProtocolError("already_negotiated",
                        "media is already negotiated on this connection; reconnect to start over");
  if (!media_) throw ProtocolError("media_unavailable", "this server runs without a media relay");
  std::string answer;
  try {
    answer = media_->open_peer(c.device->id, meeting.id, m.sdp,
                               std::make_shared<PeerEventsForwarder>(*this, id));
  } catch (const media::OfferError& e) {
    throw ProtocolError("bad_sdp", e.what());
  } catch (const std::invalid_argument&) {
    throw ProtocolError("already_negotiated", fmt::format("device {} already has a media peer", c.device->id));
  }
  c.offered = true;
  c.mid_index = mids_of(m.sdp);
  send(c, json{{"type", "answer"}, {"sdp", answer}});
  if (meeting.state == MeetingState::Connected) link_if_possible(meeting);
}

void SignalingHub::on_candidate(Connection& c, const CandidateMessage& m) {
  if (!c.offered)
    throw ProtocolError("bad_candidate", "send the offer before candidates");
  std::string mid = m.sdp_mid;
  if (mid.empty()) {
    for (const auto& [name, index] : c.mid_index)
      if (m.mline_index && index == *m.mline_index) mid = name;
    if (mid.empty())
      throw ProtocolError("bad_candidate", "sdpMLineIndex names no m-line of the offer; give sdpMid");
  }
  try {
    media_->add_remote_candidate(c.device->id, m.candidate, mid);
  } catch (const media::OfferError& e) {
    throw ProtocolError("bad_candidate", e.what());
  }
}

void SignalingHub::on_ready(Connection& c) {
  if (c.device->role != DeviceRole::DetaineeTerminal)
    throw ProtocolError("wrong_role", fmt::format("ready is for the detainee terminal; {} is a {}",
                                                  c.device->id, to_string(c.device->role)));
  auto meeting = require_meeting(c, "ready");
  MeetingStateMachine sm(meeting.id, meeting.state);
  sm.ready();
  change_state(meeting, sm.state(), c.device->id, "");
}

void SignalingHub::on_connect(Connection& c) {
  if (c.device->role != DeviceRole::LawyerTerminal)
    throw ProtocolError("wrong_role", fmt::format("connect is for the lawyer terminal; {} is a {}",
                                                  c.device->id, to_string(c.device->role)));
  auto meeting = require_meeting(c, "connect");
  MeetingStateMachine sm(meeting.id, meeting.state);
  sm.connect();
  change_state(meeting, sm.state(), c.device->id, "");
}

void SignalingHub::on_end(Connection& c, const EndMessage& m) {
  auto meeting = require_meeting(c, "end");
  end_internal(meeting, c.device->id, m.reason);
}

void SignalingHub::change_state(const MeetingRecord& meeting, MeetingState to,
                                const std::string& actor, const std::string& detail) {
  std::string at = now();
  store_.record_state(meeting.id, to, at, actor, detail);
  component_logger("hub")->info("meeting {}: {} -> {} by {}", meeting.id, to_string(meeting.state),
                                to_string(to), actor);
  MeetingRecord updated = meeting;
  updated.state = to;
  for (const std::string* device : {&meeting.lawyer_device, &meeting.detainee_device}) {
    Connection* c = connection_of(*device);
    if (!c || c->meeting_id != meeting.id) continue;
    send_state(*c, updated, at, actor);
    if (to == MeetingState::DetaineeReady && c->device->role == DeviceRole::LawyerTerminal)
      send(*c, json{{"type", "peer_ready"}, {"meeting", meeting.id}, {"text", kPeerReadyText},
                    {"action", kPeerReadyAction}});
    if (to == MeetingState::Ended)
      send(*c, json{{"type", "ended"}, {"meeting", meeting.id}, {"by", actor}, {"reason", detail}});
  }
  if (to == MeetingState::Connected) link_if_possible(updated);
}

void SignalingHub::end_internal(const MeetingRecord& meeting, const std::string& actor,
                                const std::string& reason) {
  MeetingStateMachine sm(meeting.id, meeting.state);
  sm.end();
  change_state(meeting, MeetingState::Ended, actor, reason);
  if (!media_) return;
  for (const std::string* device : {&meeting.lawyer_device, &meeting.detainee_device}) {
    Connection* c = connection_of(*device);
    if (!c || !c->offered || c->meeting_id != meeting.id) continue;
    try {
      media_->unlink(*device);
    } catch (const std::exception& e) {
      component_logger("hub")->warn("unlinking {}: {}", *device, e.what());
    }
  }
}

void SignalingHub::link_if_possible(const MeetingRecord& meeting) {
  if (!media_) return;
  Connection* lawyer = connection_of(meeting.lawyer_device);
  Connection* detainee = connection_of(meeting.detainee_device);
  if (!lawyer || !detainee || !lawyer->offered || !detainee->offered) return;
  if (lawyer->meeting_id != meeting.id || detainee->meeting_id != meeting.id) return;
  try {
    media_->link(meeting.lawyer_device, meeting.detainee_device);
    component_logger("hub")->info("meeting {}: media linked", meeting.id);
  } catch (const std::exception& e) {
    component_logger("hub")->error("meeting {}: linking media failed: {}", meeting.id, e.what());
  }
}

void SignalingHub::deliver_local_candidate(ConnectionId id, const std::string& candidate,
                                           const std::string& mid) {
  Connection* c = find(id);
  if (!c) return;
  unsigned index = 0;
  if (auto it = c->mid_index.find(mid); it != c->mid_index.end()) index = it->second;
  send(*c, json{{"type", "candidate"}, {"candidate", candidate}, {"sdpMid", mid}, {"sdpMLineIndex", index}});
}

void SignalingHub::deliver_peer_state(ConnectionId id, media::PeerState state, const std::string& detail) {
  Connection* c = find(id);
  if (!c) return;
  component_logger("hub")->info("media of {}: {} {}", c->device ? c->device->id : "-",
                                media_state_name(state), detail);
  send(*c, json{{"type", "media"}, {"state", media_state_name(state)}, {"detail", detail}});
}

MeetingRecord SignalingHub::create_meeting(const MeetingConfig& m, const std::string& actor) {
  if (!is_valid_id(m.id))
    throw ProtocolError("bad_field", "field \"id\" must be 1 to 64 letters, digits, '.', '_' or '-'");
  const DeviceConfig* lawyer = config_.find_device(m.lawyer_device);
  if (!lawyer || lawyer->role != DeviceRole::LawyerTerminal)
    throw ProtocolError("bad_field", fmt::format("field \"lawyer_device\": \"{}\" is not a lawyer-terminal device",
                                                 m.lawyer_device));
  const DeviceConfig* detainee = config_.find_device(m.detainee_device);
  if (!detainee || detainee->role != DeviceRole::DetaineeTerminal)
    throw ProtocolError("bad_field", fmt::format("field \"detainee_device\": \"{}\" is not a detainee-terminal device",
                                                 m.detainee_device));
  if (m.case_id.size() > 200)
    throw ProtocolError("bad_field", "field \"case_id\" is longer than 200 bytes");
  if (store_.find(m.id))
    throw ProtocolError("meeting_exists", fmt::format("meeting {} already exists", m.id));
  for (const std::string* device : {&m.lawyer_device, &m.detainee_device})
    if (auto open = store_.find_open_for_device(*device))
      throw ProtocolError("meeting_taken", fmt::format("device {} already has meeting {} that has not ended",
                                                       *device, open->id));
  MeetingRecord r;
  r.id = m.id;
  r.lawyer_device = m.lawyer_device;
  r.detainee_device = m.detainee_device;
  r.case_id = m.case_id;
  std::string at = now();
  if (!store_.insert_if_absent(r, at, actor))
    throw ProtocolError("meeting_exists", fmt::format("meeting {} already exists", m.id));
  auto stored = store_.find(m.id);
  if (!stored) throw StoreError(fmt::format("store: meeting {} vanished after insert", m.id));
  component_logger("hub")->info("meeting {} created by {}", m.id, actor);
  // Devices online without a meeting join it now.
  for (const std::string* device : {&m.lawyer_device, &m.detainee_device}) {
    Connection* c = connection_of(*device);
    if (!c || !c->meeting_id.empty()) continue;
    c->meeting_id = m.id;
    send_state(*c, *stored, at, actor);
  }
  return *stored;
}

MeetingRecord SignalingHub::end_meeting(const std::string& meeting_id, const std::string& actor,
                                        const std::string& reason) {
  auto m = store_.find(meeting_id);
  if (!m) throw ProtocolError("no_meeting", fmt::format("meeting {} does not exist", meeting_id));
  end_internal(*m, actor, reason);
  return *store_.find(meeting_id);
}

void SignalingHub::shutdown(const std::string& reason) {
  for (const auto& m : store_.open_meetings()) {
    if (m.state != MeetingState::DetaineeReady && m.state != MeetingState::Connected) continue;
    try {
      end_internal(m, "server", reason);
    } catch (const std::exception& e) {
      component_logger("hub")->error("ending meeting {} at shutdown: {}", m.id, e.what());
    }
  }
}

}  // namespace huijian::signaling
