#include "signaling/signaling_hub.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <cmath>
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
constexpr const char* kOfficerSpeakingText = "监管民警插话 · Officer speaking";
constexpr const char* kOfficerDoneText = "监管民警插话结束 · Officer finished speaking";
constexpr const char* kNoticeFrom = "监管民警 · Supervising officer";
constexpr const char* kOfficerActorPrefix = "officer:";

// What the parties see as "by": an officer's username stays in the store.
std::string public_actor(const std::string& actor) {
  return actor.rfind(kOfficerActorPrefix, 0) == 0 ? "officer" : actor;
}

long long whole_seconds(std::chrono::system_clock::duration d) {
  return static_cast<long long>(std::llround(std::chrono::duration<double>(d).count()));
}

// "5 分钟", "30 秒", "1 分 5 秒"
std::string describe_seconds_zh(long long s) {
  if (s >= 60 && s % 60 == 0) return fmt::format("{} 分钟", s / 60);
  if (s < 60) return fmt::format("{} 秒", s);
  return fmt::format("{} 分 {} 秒", s / 60, s % 60);
}

// "5 minutes", "30 seconds", "1 min 5 s"
std::string describe_seconds_en(long long s) {
  if (s >= 60 && s % 60 == 0) return fmt::format("{} minute{}", s / 60, s == 60 ? "" : "s");
  if (s < 60) return fmt::format("{} second{}", s, s == 1 ? "" : "s");
  return fmt::format("{} min {} s", s / 60, s % 60);
}

std::string meeting_of(const ClientMessage& message) {
  return std::visit(
      [](const auto& m) -> std::string {
        if constexpr (requires { m.meeting; }) {
          if constexpr (std::is_same_v<std::decay_t<decltype(m.meeting)>, std::string>) return m.meeting;
        }
        return {};
      },
      message);
}

bool is_officer_type(const std::string& type) {
  return type == "officer_hello" || type == "set_time" || type == "notice" || type == "interjection_start" ||
         type == "interjection_stop" || type == "terminate" || type == "watch" || type == "watch_candidate" ||
         type == "unwatch";
}

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

// The same for an officer console's peer of one meeting.
class SignalingHub::WatchEventsForwarder final : public media::PeerEvents {
 public:
  WatchEventsForwarder(SignalingHub& hub, ConnectionId id, std::string meeting)
      : hub_(&hub), alive_(hub.alive_), post_(hub.post_), id_(id), meeting_(std::move(meeting)) {}

  void on_local_candidate(const std::string& candidate, const std::string& mid) override {
    post_([hub = hub_, alive = alive_, id = id_, meeting = meeting_, candidate, mid] {
      if (alive.lock()) hub->deliver_watch_candidate(id, meeting, candidate, mid);
    });
  }
  void on_peer_state(media::PeerState state, const std::string& detail) override {
    post_([hub = hub_, alive = alive_, id = id_, meeting = meeting_, state, detail] {
      if (alive.lock()) hub->deliver_watch_state(id, meeting, state, detail);
    });
  }

 private:
  SignalingHub* hub_;
  std::weak_ptr<int> alive_;
  PostFn post_;
  ConnectionId id_;
  std::string meeting_;
};

namespace {
std::vector<std::chrono::seconds> warning_thresholds(const Config& config) {
  std::vector<std::chrono::seconds> out;
  for (int s : config.supervision.warning_seconds) out.emplace_back(s);
  return out;
}
}  // namespace

SignalingHub::SignalingHub(const Config& config, HubServices services, MediaPort* media, PostFn post,
                           WallClock clock)
    : config_(config),
      store_(services.meetings),
      supervision_(services.supervision),
      access_(services.access),
      audit_(services.audit),
      timers_(services.timers),
      media_(media),
      post_(std::move(post)),
      clock_(std::move(clock)),
      timekeeper_(services.timers, clock_, warning_thresholds(config), *this) {}

SignalingHub::~SignalingHub() {
  for (auto& [id, c] : connections_)
    if (c.session_timer) timers_.cancel(c.session_timer);
}

std::string SignalingHub::now() { return format_utc_ms(clock_()); }

void SignalingHub::load_meetings() {
  auto log = component_logger("hub");
  for (const auto& m : config_.meetings) {
    MeetingRecord r;
    r.id = m.id;
    r.lawyer_device = m.lawyer_device;
    r.detainee_device = m.detainee_device;
    r.case_id = m.case_id;
    r.minutes = m.minutes;
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
  std::string target;
  try {
    auto message = parse_client_message(text, config_.max_message_bytes, &ref);
    target = meeting_of(message);
    handle(id, *c, message);
  } catch (const ProtocolError& e) {
    c = find(id);  // a handler may have closed and dropped nothing, but look again
    if (!c) return;
    log->info("connection {} ({}): refused {}: {}: {}", id, actor_of(*c).id, ref.empty() ? "message" : ref,
              e.code(), e.what());
    if (is_officer_type(ref)) audit_.record(actor_of(*c), ref, target, "refused:" + e.code(), e.what());
    send_error(*c, e.code(), e.what(), ref);
    if (e.code() == "bad_credentials") c->sink->close(kClosePolicy, "bad credentials");
    if (e.code() == "bad_token" || e.code() == "session_expired") c->sink->close(kClosePolicy, "not logged in");
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
  if (c->officer) {
    log->info("officer {} disconnected (connection {})", c->officer->username, id);
    if (c->session_timer) timers_.cancel(c->session_timer);
    std::vector<std::string> speaking_in;
    for (const auto& [meeting, i] : speaking_)
      if (i.connection == id) speaking_in.push_back(meeting);
    for (const auto& meeting : speaking_in) {
      try {
        stop_interjection(meeting, true, "the officer's console disconnected");
      } catch (const std::exception& e) {
        log->error("stopping the interjection in {}: {}", meeting, e.what());
      }
    }
    std::vector<std::string> watched;
    for (const auto& [meeting, w] : c->watches) watched.push_back(meeting);
    for (const auto& meeting : watched) end_watch(*c, meeting, "");
    connections_.erase(id);
    if (!speaking_in.empty()) push_meetings();
    return;
  }
  bool was_device = c->device != nullptr;
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
  if (was_device) push_meetings();
}

const DeviceConfig& SignalingHub::require_auth(const Connection& c, const char* type) const {
  if (c.officer)
    throw ProtocolError("wrong_role", fmt::format("\"{}\" is for the lawyer and detainee terminals, not for an "
                                                  "officer's console", type));
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
        } else if constexpr (std::is_same_v<T, OfficerHelloMessage>) {
          on_officer_hello(id, c, m);
        } else if constexpr (std::is_same_v<T, SetTimeMessage>) {
          require_officer(id, c, "set_time");
          on_set_time(c, m);
        } else if constexpr (std::is_same_v<T, NoticeMessage>) {
          require_officer(id, c, "notice");
          on_notice(c, m);
        } else if constexpr (std::is_same_v<T, InterjectionStartMessage>) {
          require_officer(id, c, "interjection_start");
          on_interjection_start(id, c, m);
        } else if constexpr (std::is_same_v<T, InterjectionStopMessage>) {
          require_officer(id, c, "interjection_stop");
          on_interjection_stop(id, c, m);
        } else if constexpr (std::is_same_v<T, TerminateMessage>) {
          require_officer(id, c, "terminate");
          on_terminate(c, m);
        } else if constexpr (std::is_same_v<T, WatchMessage>) {
          require_officer(id, c, "watch");
          on_watch(id, c, m);
        } else if constexpr (std::is_same_v<T, WatchCandidateMessage>) {
          require_officer(id, c, "watch_candidate");
          on_watch_candidate(c, m);
        } else if constexpr (std::is_same_v<T, UnwatchMessage>) {
          require_officer(id, c, "unwatch");
          on_unwatch(c, m);
        }
      },
      message);
}

void SignalingHub::on_hello(ConnectionId id, Connection& c, const HelloMessage& m) {
  if (c.officer)
    throw ProtocolError("already_authenticated",
                        fmt::format("this connection is already signed in as officer {}", c.officer->username));
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
                              {"minutes", meeting->minutes.value_or(config_.supervision.default_minutes)},
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
    if (meeting->state == MeetingState::Connected && timekeeper_.end_of(meeting->id))
      send_time_to(c, *meeting, "server", "");
    if (auto it = speaking_.find(meeting->id); it != speaking_.end())
      send(c, json{{"type", "officer_speaking"}, {"meeting", meeting->id}, {"speaking", true},
                   {"at", format_utc_ms(it->second.started)}, {"text", kOfficerSpeakingText}});
  }
  push_meetings();
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

void SignalingHub::change_state(const MeetingRecord& meeting, MeetingState to, const std::string& actor,
                                const std::string& detail, const TerminationReason* reason,
                                const std::string& reason_text) {
  const auto at_time = clock_();
  std::string at = format_utc_ms(at_time);
  store_.record_state(meeting.id, to, at, actor, detail);
  component_logger("hub")->info("meeting {}: {} -> {} by {}", meeting.id, to_string(meeting.state),
                                to_string(to), actor);
  MeetingRecord updated = meeting;
  updated.state = to;
  if (to == MeetingState::Connected) updated.connected_at = at;
  const std::string by = public_actor(actor);
  json ended{{"type", "ended"}, {"meeting", meeting.id}, {"by", by}, {"reason", detail}};
  if (reason) {
    ended["code"] = reason->code;
    ended["text_zh"] = reason->text_zh;
    ended["text_en"] = reason->text_en;
    if (!reason_text.empty()) ended["detail"] = reason_text;
  }
  for (const std::string* device : {&meeting.lawyer_device, &meeting.detainee_device}) {
    Connection* c = connection_of(*device);
    if (!c || c->meeting_id != meeting.id) continue;
    send_state(*c, updated, at, by);
    if (to == MeetingState::DetaineeReady && c->device->role == DeviceRole::LawyerTerminal)
      send(*c, json{{"type", "peer_ready"}, {"meeting", meeting.id}, {"text", kPeerReadyText},
                    {"action", kPeerReadyAction}});
    if (to == MeetingState::Ended) send(*c, ended);
  }
  if (to == MeetingState::Connected) {
    if (recording_) recording_->meeting_connected(updated);
    link_if_possible(updated);
    start_call_time(updated, at_time);
  }
  if (to != MeetingState::Ended) push_meetings();
}

void SignalingHub::end_internal(const MeetingRecord& meeting, const std::string& actor, const std::string& reason,
                                const TerminationReason* coded, const std::string& coded_text) {
  MeetingStateMachine sm(meeting.id, meeting.state);
  sm.end();
  timekeeper_.stop(meeting.id);
  change_state(meeting, MeetingState::Ended, actor, reason, coded, coded_text);
  if (recording_ && meeting.state == MeetingState::Connected)
    recording_->meeting_ended(meeting, coded ? std::string(coded->code) : reason, public_actor(actor));
  if (media_) {
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
  for (auto& [id, other] : connections_)
    if (other.watches.count(meeting.id)) end_watch(other, meeting.id, "meeting_ended");
  if (speaking_.count(meeting.id)) {
    try {
      stop_interjection(meeting.id, false, "the meeting ended");
    } catch (const std::exception& e) {
      component_logger("hub")->error("storing the interjection of meeting {}: {}", meeting.id, e.what());
    }
  }
  push_meetings();
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
    if (recording_) recording_->media_linked(meeting);
  } catch (const std::exception& e) {
    component_logger("hub")->error("meeting {}: linking media failed: {}", meeting.id, e.what());
  }
  rewatch(meeting);
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
    throw ProtocolError("bad_field", "field \"id\" must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'");
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
  if (m.minutes && (*m.minutes < 1 || *m.minutes > kMaxMeetingMinutes))
    throw ProtocolError("bad_field", fmt::format("field \"minutes\" must be a whole number from 1 to {}",
                                                 kMaxMeetingMinutes));
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
  r.minutes = m.minutes;
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
  push_meetings();
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


// --- call time ---------------------------------------------------------------

void SignalingHub::start_call_time(const MeetingRecord& meeting, std::chrono::system_clock::time_point connected_at) {
  const int minutes = meeting.minutes.value_or(config_.supervision.default_minutes);
  const auto ends_at = connected_at + std::chrono::minutes(minutes);
  const std::string ends_text = format_utc_ms(ends_at);
  try {
    store_.set_ends_at(meeting.id, ends_text);
  } catch (const StoreError& e) {
    // The meeting is connected already; keep the time running and say why the record is missing.
    component_logger("hub")->error("meeting {}: {}", meeting.id, e.what());
  }
  timekeeper_.set_end(meeting.id, ends_at);
  component_logger("hub")->info("meeting {}: call time {} min, ends at {}", meeting.id, minutes, ends_text);
  send_time(meeting, "server", "");
}

void SignalingHub::send_time(const MeetingRecord& meeting, const std::string& by, const std::string& text) {
  for (const std::string* device : {&meeting.lawyer_device, &meeting.detainee_device}) {
    Connection* c = connection_of(*device);
    if (!c || c->meeting_id != meeting.id) continue;
    send_time_to(*c, meeting, by, text);
  }
}

void SignalingHub::send_time_to(Connection& c, const MeetingRecord& meeting, const std::string& by,
                                const std::string& text) {
  auto ends_at = timekeeper_.end_of(meeting.id);
  if (!ends_at) return;
  auto now_time = clock_();
  json j{{"type", "time"},
         {"meeting", meeting.id},
         {"ends_at", format_utc_ms(*ends_at)},
         {"now", format_utc_ms(now_time)},
         {"remaining_seconds", std::max(0LL, whole_seconds(*ends_at - now_time))},
         {"by", by}};
  if (auto connected = parse_utc_ms(meeting.connected_at))
    j["length_seconds"] = std::max(0LL, whole_seconds(*ends_at - *connected));
  if (!text.empty()) j["text"] = text;
  send(c, j);
}

void SignalingHub::on_time_warning(const std::string& meeting_id, std::chrono::seconds remaining) {
  auto meeting = store_.find(meeting_id);
  if (!meeting || meeting->state != MeetingState::Connected) return;
  auto ends_at = timekeeper_.end_of(meeting_id);
  const long long s = remaining.count();
  json j{{"type", "time_warning"},
         {"meeting", meeting_id},
         {"remaining_seconds", s},
         {"text", "会见时间还剩 " + describe_seconds_zh(s)},
         {"text_en", describe_seconds_en(s) + " left"}};
  if (ends_at) j["ends_at"] = format_utc_ms(*ends_at);
  component_logger("hub")->info("meeting {}: {} s left", meeting_id, s);
  send_to_parties(*meeting, j);
}

void SignalingHub::on_time_over(const std::string& meeting_id) {
  auto log = component_logger("hub");
  try {
    auto meeting = store_.find(meeting_id);
    if (!meeting || !MeetingStateMachine(meeting->id, meeting->state).running()) return;
    log->info("meeting {}: the call time is over", meeting_id);
    const auto& reason = TerminationReason::time_over();
    end_internal(*meeting, "server", reason.describe(""), &reason);
    audit_.record(Actor{"server", "server", ""}, "time_over", meeting_id, "ok", "the call time ran out");
  } catch (const std::exception& e) {
    log->error("ending meeting {} at the end of its call time: {}", meeting_id, e.what());
  }
}

// --- supervision -------------------------------------------------------------

Actor SignalingHub::actor_of(const Connection& c) const {
  Actor a;
  a.source = c.sink ? c.sink->peer() : std::string();
  if (c.officer) {
    a.id = c.officer->username;
    a.kind = to_string(c.officer->role);
  } else if (c.device) {
    a.id = c.device->id;
    a.kind = to_string(c.device->role);
  }
  return a;
}

const OfficerSession& SignalingHub::require_officer(ConnectionId id, Connection& c, const std::string& type) {
  if (c.officer) {
    if (!access_.session_by_id(c.officer->id))
      throw ProtocolError("session_expired",
                          fmt::format("the login of {} has expired or was logged out; log in again", c.officer->username));
    return *c.officer;
  }
  if (c.device)
    throw ProtocolError("not_officer", fmt::format("\"{}\" is for the supervising officer's console; {} is a {}", type,
                                                   c.device->id, to_string(c.device->role)));
  (void)id;
  throw ProtocolError("not_authenticated",
                      fmt::format("\"{}\" needs an officer login: send officer_hello with the token of POST /api/login first",
                                  type));
}

MeetingRecord SignalingHub::require_open_meeting(const std::string& meeting_id, const char* what) {
  auto m = store_.find(meeting_id);
  if (!m) throw ProtocolError("no_meeting", fmt::format("meeting {} does not exist", meeting_id));
  if (m->state == MeetingState::Ended)
    throw ProtocolError("bad_state", fmt::format("{} is not possible: meeting {} has ended", what, meeting_id));
  return *m;
}

void SignalingHub::send_ok(Connection& c, const std::string& ref, const std::string& meeting, json extra) {
  json j{{"type", "ok"}, {"ref", ref}, {"meeting", meeting}};
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) j[k] = v;
  send(c, j);
}

void SignalingHub::send_to_parties(const MeetingRecord& meeting, const json& message) {
  for (const std::string* device : {&meeting.lawyer_device, &meeting.detainee_device}) {
    Connection* c = connection_of(*device);
    if (!c || c->meeting_id != meeting.id) continue;
    send(*c, message);
  }
}

void SignalingHub::on_officer_hello(ConnectionId id, Connection& c, const OfficerHelloMessage& m) {
  if (c.device || c.officer)
    throw ProtocolError("already_authenticated",
                        fmt::format("this connection is already signed in as {}", actor_of(c).id));
  auto session = access_.session_for_token(m.token);
  if (!session)
    throw ProtocolError("bad_token", "the token is unknown, expired or logged out; log in again with POST /api/login");
  if (session->role == AccountRole::Archivist) {
    // An archivist may only use the archive: no console, no officer action.
    Actor who = actor_of(c);
    who.id = session->username;
    who.kind = to_string(session->role);
    const std::string why = fmt::format(
        "{} is an archivist: the console is for supervising officers and administrators; use the archive", who.id);
    audit_.record(who, "officer_hello", "", "refused:not_officer", why);
    send_error(c, "not_officer", why, "officer_hello");
    c.sink->close(kClosePolicy, "not an officer");
    return;
  }
  c.officer = *session;
  // Close the console when the session runs out, even if it sends nothing.
  c.session_timer = timers_.start_at(session->expires_at, [this, id] { check_session(id); });
  audit_.record(actor_of(c), "officer_hello", "", "ok", fmt::format("connection {}", id));
  component_logger("hub")->info("officer {} signed in on connection {}", session->username, id);
  json reasons = json::array();
  for (const auto& r : TerminationReason::all())
    reasons.push_back(json{{"code", r.code}, {"text_zh", r.text_zh}, {"text_en", r.text_en},
                           {"violation", r.violation}, {"needs_text", r.needs_text}});
  send(c, json{{"type", "officer_welcome"},
               {"username", session->username},
               {"name", session->name},
               {"role", to_string(session->role)},
               {"expires_at", format_utc_ms(session->expires_at)},
               {"limits",
                {{"notice_chars", kMaxNoticeChars},
                 {"reason_chars", kMaxReasonTextChars},
                 {"max_minutes", kMaxMeetingMinutes},
                 {"max_remaining_seconds", kMaxRemainingSeconds}}},
               {"default_minutes", config_.supervision.default_minutes},
               {"reasons", std::move(reasons)}});
  send_meetings(c);
}

void SignalingHub::check_session(ConnectionId id) {
  Connection* c = find(id);
  if (!c || !c->officer) return;
  c->session_timer = 0;
  auto session = access_.session_by_id(c->officer->id);
  if (session) {
    c->session_timer = timers_.start_at(session->expires_at, [this, id] { check_session(id); });
    return;
  }
  audit_.record(actor_of(*c), "session_expired", "", "ok", "the console was closed");
  send_error(*c, "session_expired", "your login has expired; log in again", "");
  c->sink->close(kClosePolicy, "session expired");
}

void SignalingHub::end_session(const std::string& session_id, const std::string& code, const std::string& message) {
  for (auto& [id, c] : connections_) {
    if (!c.officer || c.officer->id != session_id) continue;
    send_error(c, code, message, "");
    c.sink->close(kClosePolicy, "logged out");
  }
}

void SignalingHub::on_set_time(Connection& c, const SetTimeMessage& m) {
  const OfficerSession& officer = *c.officer;
  auto meeting = require_open_meeting(m.meeting, "set_time");
  const auto now_time = clock_();
  const std::string at = format_utc_ms(now_time);
  const std::string actor = kOfficerActorPrefix + officer.username;
  if (meeting.state != MeetingState::Connected) {
    if (!m.minutes)
      throw ProtocolError("bad_state", fmt::format("remaining_seconds needs a connected meeting (meeting {} is {}); "
                                                   "set minutes before it connects",
                                                   meeting.id, to_string(meeting.state)));
    store_.record_time(meeting.id, *m.minutes, "", at, actor, fmt::format("call time set to {} min", *m.minutes));
    audit_.record(actor_of(c), "set_time", meeting.id, "ok", fmt::format("{} min (before connect)", *m.minutes));
    send_ok(c, "set_time", meeting.id, json{{"minutes", *m.minutes}});
    push_meetings();
    return;
  }
  auto connected_at = parse_utc_ms(meeting.connected_at);
  if (!connected_at) connected_at = now_time;  // a store without the connect time: count from now
  std::chrono::system_clock::time_point ends_at;
  std::string detail;
  if (m.minutes) {
    ends_at = *connected_at + std::chrono::minutes(*m.minutes);
    if (ends_at <= now_time) {
      auto ran = whole_seconds(now_time - *connected_at);
      throw ProtocolError("bad_field", fmt::format(
          "meeting {} has already run {} min {} s; a call time of {} min would end it in the past. "
          "Give more minutes, use remaining_seconds, or terminate it",
          meeting.id, ran / 60, ran % 60, *m.minutes));
    }
    detail = fmt::format("call time set to {} min, ends at {}", *m.minutes, format_utc_ms(ends_at));
  } else {
    ends_at = now_time + std::chrono::seconds(*m.remaining_seconds);
    detail = fmt::format("ends in {} s, at {}", *m.remaining_seconds, format_utc_ms(ends_at));
  }
  store_.record_time(meeting.id, m.minutes, format_utc_ms(ends_at), at, actor, detail);
  timekeeper_.set_end(meeting.id, ends_at);
  audit_.record(actor_of(c), "set_time", meeting.id, "ok", detail);
  component_logger("hub")->info("meeting {}: officer {}: {}", meeting.id, officer.username, detail);
  const long long remaining = whole_seconds(ends_at - now_time);
  send_time(meeting, "officer",
            fmt::format("会见时间已调整，还剩 {} · The meeting time was changed: {} left",
                        describe_seconds_zh(remaining), describe_seconds_en(remaining)));
  send_ok(c, "set_time", meeting.id, json{{"ends_at", format_utc_ms(ends_at)}, {"remaining_seconds", remaining}});
  push_meetings();
}

void SignalingHub::on_notice(Connection& c, const NoticeMessage& m) {
  const OfficerSession& officer = *c.officer;
  auto meeting = require_open_meeting(m.meeting, "a notice");
  NoticeRecord n;
  n.meeting_id = meeting.id;
  n.officer = officer.username;
  n.at = now();
  n.text = m.text;
  n.id = supervision_.add_notice(n);
  audit_.record(actor_of(c), "notice", meeting.id, "ok", fmt::format("notice {}: {}", n.id, n.text));
  send_to_parties(meeting, json{{"type", "notice"}, {"meeting", meeting.id}, {"text", n.text}, {"at", n.at},
                                {"from", kNoticeFrom}});
  send_ok(c, "notice", meeting.id, json{{"id", n.id}, {"at", n.at}});
}

void SignalingHub::on_interjection_start(ConnectionId id, Connection& c, const InterjectionStartMessage& m) {
  const OfficerSession& officer = *c.officer;
  auto meeting = require_open_meeting(m.meeting, "interjection_start");
  if (meeting.state != MeetingState::Connected)
    throw ProtocolError("bad_state", fmt::format("an officer can interject only in a connected meeting (meeting {} is {})",
                                                 meeting.id, to_string(meeting.state)));
  if (auto it = speaking_.find(meeting.id); it != speaking_.end()) {
    if (it->second.connection == id)
      throw ProtocolError("bad_state", fmt::format("you are already speaking in meeting {}", meeting.id));
    throw ProtocolError("bad_state", fmt::format("officer {} is already speaking in meeting {}",
                                                 it->second.officer_name, meeting.id));
  }
  for (const auto& [other, i] : speaking_)
    if (i.connection == id)
      throw ProtocolError("bad_state", fmt::format("you are speaking in meeting {}; stop there first", other));
  Interjection i{id, officer.username, officer.name, clock_()};
  speaking_[meeting.id] = i;
  set_officer_voice(id, meeting.id, true);
  const std::string at = format_utc_ms(i.started);
  audit_.record(actor_of(c), "interjection_start", meeting.id, "ok", "");
  component_logger("hub")->info("meeting {}: officer {} speaks", meeting.id, officer.username);
  send_to_parties(meeting, json{{"type", "officer_speaking"}, {"meeting", meeting.id}, {"speaking", true},
                                {"at", at}, {"text", kOfficerSpeakingText}});
  send_ok(c, "interjection_start", meeting.id, json{{"at", at}});
  push_meetings();
}

void SignalingHub::on_interjection_stop(ConnectionId id, Connection& c, const InterjectionStopMessage& m) {
  auto it = speaking_.find(m.meeting);
  if (it == speaking_.end() || it->second.connection != id)
    throw ProtocolError("bad_state", fmt::format("you are not speaking in meeting {}", m.meeting));
  auto ms = stop_interjection(m.meeting, true, "");
  send_ok(c, "interjection_stop", m.meeting, json{{"duration_ms", ms}});
  push_meetings();
}

std::int64_t SignalingHub::stop_interjection(const std::string& meeting_id, bool tell_parties, const std::string& why) {
  auto it = speaking_.find(meeting_id);
  if (it == speaking_.end()) return 0;
  Interjection i = it->second;
  speaking_.erase(it);
  set_officer_voice(i.connection, meeting_id, false);
  const auto stopped = clock_();
  InterjectionRecord r;
  r.meeting_id = meeting_id;
  r.officer = i.officer;
  r.started_at = format_utc_ms(i.started);
  r.stopped_at = format_utc_ms(stopped);
  r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(stopped - i.started).count();
  Actor actor{i.officer, "officer", ""};
  if (Connection* c = find(i.connection)) actor = actor_of(*c);
  audit_.record(actor, "interjection_stop", meeting_id, "ok",
                fmt::format("{} ms{}", r.duration_ms, why.empty() ? "" : "; " + why));
  if (tell_parties) {
    if (auto meeting = store_.find(meeting_id))
      send_to_parties(*meeting, json{{"type", "officer_speaking"}, {"meeting", meeting_id}, {"speaking", false},
                                     {"at", r.stopped_at}, {"text", kOfficerDoneText}});
  }
  supervision_.add_interjection(r);
  return r.duration_ms;
}

// --- the officer's pictures and voice ------------------------------------

std::pair<std::string, std::string> SignalingHub::open_terminal_peers(const MeetingRecord& meeting) {
  auto peer = [&](const std::string& device) -> std::string {
    Connection* t = connection_of(device);
    return t && t->offered && t->meeting_id == meeting.id ? device : std::string();
  };
  return {peer(meeting.lawyer_device), peer(meeting.detainee_device)};
}

void SignalingHub::on_watch(ConnectionId id, Connection& c, const WatchMessage& m) {
  auto meeting = require_open_meeting(m.meeting, "watch");
  if (meeting.state != MeetingState::Connected)
    throw ProtocolError("bad_state", fmt::format("the picture of meeting {} can be watched once it is connected (it is {})",
                                                 meeting.id, to_string(meeting.state)));
  if (c.watches.count(meeting.id))
    throw ProtocolError("bad_state", fmt::format("you already watch meeting {}; send unwatch first", meeting.id));
  std::size_t watching = 0;
  for (const auto& [other_id, other] : connections_) watching += other.watches.count(meeting.id);
  if (watching >= media::kMaxOfficersPerMeeting)
    throw ProtocolError("bad_state", fmt::format("{} consoles already watch meeting {}, the most there may be; "
                                                 "close one of them first",
                                                 watching, meeting.id));
  if (!media_) throw ProtocolError("media_unavailable", "this server runs without a media relay");
  // ':' is never part of a device id, so an officer's peer cannot take a terminal's name.
  const std::string peer_id = fmt::format("officer:{}:{}", id, meeting.id);
  media::Relay::OfficerAnswer answer;
  try {
    answer = media_->open_officer_peer(peer_id, meeting.id, m.sdp,
                                       std::make_shared<WatchEventsForwarder>(*this, id, meeting.id));
  } catch (const media::OfferError& e) {
    throw ProtocolError("bad_sdp", e.what());
  } catch (const std::invalid_argument& e) {
    throw ProtocolError("bad_state", e.what());
  }
  c.watches[meeting.id] = Connection::Watch{peer_id, mids_of(m.sdp)};
  const auto [lawyer, detainee] = open_terminal_peers(meeting);
  media_->watch(peer_id, lawyer, detainee);
  if (auto it = speaking_.find(meeting.id); it != speaking_.end() && it->second.connection == id)
    media_->set_officer_voice(peer_id, true);
  audit_.record(actor_of(c), "watch", meeting.id, "ok", "pictures only");
  component_logger("hub")->info("meeting {}: officer {} watches", meeting.id, c.officer->username);
  send(c, json{{"type", "watch_answer"},
               {"meeting", meeting.id},
               {"sdp", answer.sdp},
               {"pictures", {{"lawyer", answer.lawyer_mid}, {"detainee", answer.detainee_mid}}}});
}

void SignalingHub::on_watch_candidate(Connection& c, const WatchCandidateMessage& m) {
  auto it = c.watches.find(m.meeting);
  if (it == c.watches.end())
    throw ProtocolError("bad_candidate", fmt::format("you do not watch meeting {}: send watch before its candidates",
                                                     m.meeting));
  std::string mid = m.candidate.sdp_mid;
  if (mid.empty()) {
    for (const auto& [name, index] : it->second.mid_index)
      if (m.candidate.mline_index && index == *m.candidate.mline_index) mid = name;
    if (mid.empty())
      throw ProtocolError("bad_candidate", "sdpMLineIndex names no m-line of the offer; give sdpMid");
  }
  try {
    media_->add_remote_candidate(it->second.peer_id, m.candidate.candidate, mid);
  } catch (const media::OfferError& e) {
    throw ProtocolError("bad_candidate", e.what());
  }
}

void SignalingHub::on_unwatch(Connection& c, const UnwatchMessage& m) {
  if (!c.watches.count(m.meeting))
    throw ProtocolError("bad_state", fmt::format("you do not watch meeting {}", m.meeting));
  end_watch(c, m.meeting, "");
  audit_.record(actor_of(c), "unwatch", m.meeting, "ok", "");
  send_ok(c, "unwatch", m.meeting, nullptr);
}

void SignalingHub::end_watch(Connection& c, const std::string& meeting_id, const std::string& reason) {
  auto it = c.watches.find(meeting_id);
  if (it == c.watches.end()) return;
  const std::string peer_id = it->second.peer_id;
  c.watches.erase(it);
  if (media_) {
    try {
      media_->close_peer(peer_id);
    } catch (const std::exception& e) {
      component_logger("hub")->warn("closing the officer's peer {}: {}", peer_id, e.what());
    }
  }
  if (!reason.empty()) send(c, json{{"type", "watch_ended"}, {"meeting", meeting_id}, {"reason", reason}});
}

void SignalingHub::rewatch(const MeetingRecord& meeting) {
  if (!media_) return;
  const auto [lawyer, detainee] = open_terminal_peers(meeting);
  for (auto& [id, c] : connections_)
    if (auto it = c.watches.find(meeting.id); it != c.watches.end()) media_->watch(it->second.peer_id, lawyer, detainee);
}

void SignalingHub::set_officer_voice(ConnectionId id, const std::string& meeting_id, bool open) {
  if (!media_) return;
  Connection* c = find(id);
  if (!c) return;
  if (auto it = c->watches.find(meeting_id); it != c->watches.end()) media_->set_officer_voice(it->second.peer_id, open);
}

void SignalingHub::deliver_watch_candidate(ConnectionId id, const std::string& meeting_id, const std::string& candidate,
                                           const std::string& mid) {
  Connection* c = find(id);
  if (!c) return;
  auto it = c->watches.find(meeting_id);
  if (it == c->watches.end()) return;
  unsigned index = 0;
  if (auto m = it->second.mid_index.find(mid); m != it->second.mid_index.end()) index = m->second;
  send(*c, json{{"type", "watch_candidate"}, {"meeting", meeting_id}, {"candidate", candidate}, {"sdpMid", mid},
                {"sdpMLineIndex", index}});
}

void SignalingHub::deliver_watch_state(ConnectionId id, const std::string& meeting_id, media::PeerState state,
                                       const std::string& detail) {
  Connection* c = find(id);
  if (!c || !c->watches.count(meeting_id)) return;
  send(*c, json{{"type", "watch_state"}, {"meeting", meeting_id}, {"state", media_state_name(state)}, {"detail", detail}});
  if (state == media::PeerState::Failed) {
    component_logger("hub")->warn("meeting {}: the picture to officer {} failed: {}", meeting_id,
                                  c->officer ? c->officer->username : "-", detail);
    end_watch(*c, meeting_id, "media_failed");
  }
}

void SignalingHub::on_terminate(Connection& c, const TerminateMessage& m) {
  const OfficerSession& officer = *c.officer;
  const TerminationReason* reason = TerminationReason::find(m.code);
  if (!reason)  // the parser checks this already
    throw ProtocolError("bad_field", fmt::format("unknown reason code {}", m.code));
  auto meeting = require_open_meeting(m.meeting, "terminate");
  const std::string actor = kOfficerActorPrefix + officer.username;
  // End first: media stops at once; the records follow.
  end_internal(meeting, actor, reason->describe(m.text), reason, m.text);
  json extra = json::object();
  if (reason->violation) {
    ViolationRecord v;
    v.meeting_id = meeting.id;
    v.lawyer_device = meeting.lawyer_device;
    v.detainee_device = meeting.detainee_device;
    v.code = std::string(reason->code);
    v.text = m.text;
    v.officer = officer.username;
    v.at = now();
    v.id = supervision_.add_violation(v);
    extra["violation"] = v.id;
  }
  audit_.record(actor_of(c), "terminate", meeting.id, "ok",
                fmt::format("{}{}", reason->code, m.text.empty() ? "" : ": " + m.text));
  send_ok(c, "terminate", meeting.id, std::move(extra));
}

json SignalingHub::meetings_overview() {
  const auto now_time = clock_();
  json list = json::array();
  for (const auto& m : store_.open_meetings()) {
    auto party = [&](const std::string& device) {
      const DeviceConfig* d = config_.find_device(device);
      return json{{"device", device}, {"name", d ? d->name : device}, {"online", by_device_.count(device) > 0}};
    };
    json j{{"id", m.id},
           {"case_id", m.case_id},
           {"state", to_string(m.state)},
           {"lawyer", party(m.lawyer_device)},
           {"detainee", party(m.detainee_device)},
           {"created_at", m.created_at},
           {"minutes", m.minutes.value_or(config_.supervision.default_minutes)},
           {"connected_at", nullptr},
           {"ends_at", nullptr},
           {"remaining_seconds", nullptr},
           {"officer_speaking", nullptr},
           {"recording", nullptr}};
    if (recording_) {
      if (auto state = recording_->state(m.id)) j["recording"] = *state;
    }
    if (m.state == MeetingState::Connected && !m.connected_at.empty()) j["connected_at"] = m.connected_at;
    if (auto ends = timekeeper_.end_of(m.id)) {
      j["ends_at"] = format_utc_ms(*ends);
      j["remaining_seconds"] = std::max(0LL, whole_seconds(*ends - now_time));
    }
    if (auto it = speaking_.find(m.id); it != speaking_.end())
      j["officer_speaking"] = json{{"username", it->second.officer}, {"name", it->second.officer_name}};
    list.push_back(std::move(j));
  }
  return json{{"type", "meetings"}, {"now", format_utc_ms(now_time)}, {"meetings", std::move(list)}};
}

void SignalingHub::recording_changed(const std::string&) { push_meetings(); }

void SignalingHub::send_meetings(Connection& c) { send(c, meetings_overview()); }

void SignalingHub::push_meetings() {
  bool any = false;
  for (const auto& [id, c] : connections_) any = any || c.officer.has_value();
  if (!any) return;
  json overview;
  try {
    overview = meetings_overview();
  } catch (const std::exception& e) {
    component_logger("hub")->error("listing the meetings for the officers: {}", e.what());
    return;
  }
  for (auto& [id, c] : connections_)
    if (c.officer) send(c, overview);
}

}  // namespace huijian::signaling
