#pragma once
// The control plane's core: terminal and officer connections, the meeting
// handshake, call time, supervision (notices, interjections, termination),
// the store and the relay. Single-threaded (the io_context thread); no
// sockets: text in through on_text(), text out through each connection's
// sink. Relay events from media threads are handed over through the injected
// `post`; call-time timers come from the injected TimerService.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "signaling/access_control.hpp"
#include "signaling/audit_trail.hpp"
#include "signaling/client_message.hpp"
#include "signaling/config.hpp"
#include "signaling/connection_sink.hpp"
#include "signaling/media_port.hpp"
#include "signaling/recording_port.hpp"
#include "signaling/meeting_repository.hpp"
#include "signaling/meeting_timekeeper.hpp"
#include "signaling/supervision_repository.hpp"
#include "signaling/termination_reason.hpp"
#include "signaling/timer_service.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

using ConnectionId = std::uint64_t;
// Runs a function later on the hub's thread; callable from any thread.
using PostFn = std::function<void(std::function<void()>)>;

// Close codes the hub asks for.
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;

// What the hub needs besides the configuration and the relay.
struct HubServices {
  MeetingRepository& meetings;
  SupervisionRepository& supervision;
  AccessControl& access;
  AuditTrail& audit;
  TimerService& timers;
};

class SignalingHub final : private MeetingTimekeeperListener {
 public:
  // `media` may be null (no relay: offers are refused with media_unavailable).
  SignalingHub(const Config& config, HubServices services, MediaPort* media, PostFn post, WallClock clock);
  ~SignalingHub() override;
  SignalingHub(const SignalingHub&) = delete;
  SignalingHub& operator=(const SignalingHub&) = delete;

  // At start: upserts the meetings of the config (an ended meeting stays
  // ended) and ends meetings left running by a previous process.
  void load_meetings();

  ConnectionId open_connection(std::shared_ptr<ConnectionSink> sink);
  void on_text(ConnectionId id, std::string_view text);
  // The transport saw a message over max_message_bytes: error too_large, close 1009.
  void on_too_large(ConnectionId id, std::size_t bytes_seen);
  void on_binary(ConnectionId id);
  void on_closed(ConnectionId id);

  // REST. Throw ProtocolError (codes: bad_field, no_meeting, meeting_exists,
  // meeting_taken, bad_state).
  MeetingRecord create_meeting(const MeetingConfig& meeting, const std::string& actor);
  MeetingRecord end_meeting(const std::string& meeting_id, const std::string& actor,
                            const std::string& reason);
  // The meetings that have not ended, as officers see them ("meetings" message).
  nlohmann::json meetings_overview();
  // A session ended (logout): its officer connections get `code` and are closed.
  void end_session(const std::string& session_id, const std::string& code, const std::string& message);

  // Ends every running meeting (detainee_ready or connected) with `reason`.
  void shutdown(const std::string& reason);

  // The recorder's side (null = meetings are not recorded).
  void set_recording(RecordingPort* recording) noexcept { recording_ = recording; }
  // A meeting's recording state changed (a write fault, or writing again):
  // the officers' view is refreshed.
  void recording_changed(const std::string& meeting_id);

  std::size_t connection_count() const noexcept { return connections_.size(); }
  // The end time the hub keeps for a connected meeting.
  std::optional<std::chrono::system_clock::time_point> end_of(const std::string& meeting_id) const {
    return timekeeper_.end_of(meeting_id);
  }

  // Relay events, already on the hub's thread.
  void deliver_local_candidate(ConnectionId id, const std::string& candidate, const std::string& mid);
  void deliver_peer_state(ConnectionId id, media::PeerState state, const std::string& detail);
  void deliver_watch_candidate(ConnectionId id, const std::string& meeting_id, const std::string& candidate,
                               const std::string& mid);
  void deliver_watch_state(ConnectionId id, const std::string& meeting_id, media::PeerState state,
                           const std::string& detail);

 private:
  struct Connection {
    std::shared_ptr<ConnectionSink> sink;
    const DeviceConfig* device = nullptr;   // set by hello
    std::optional<OfficerSession> officer;  // set by officer_hello
    TimerService::TimerId session_timer = 0;
    std::string meeting_id;                 // bound meeting, may be empty
    bool offered = false;
    std::map<std::string, unsigned> mid_index;  // from the offer: a=mid order
    // An officer console's pictures, by meeting id.
    struct Watch {
      std::string peer_id;
      std::map<std::string, unsigned> mid_index;
    };
    std::map<std::string, Watch> watches;
  };
  struct Interjection {
    ConnectionId connection = 0;
    std::string officer;  // username
    std::string officer_name;
    std::chrono::system_clock::time_point started;
  };
  class PeerEventsForwarder;
  class WatchEventsForwarder;

  Connection* find(ConnectionId id);
  Connection* connection_of(const std::string& device);
  void handle(ConnectionId id, Connection& c, const ClientMessage& message);
  void on_hello(ConnectionId id, Connection& c, const HelloMessage& m);
  void on_offer(ConnectionId id, Connection& c, const OfferMessage& m);
  void on_candidate(Connection& c, const CandidateMessage& m);
  void on_ready(Connection& c);
  void on_connect(Connection& c);
  void on_end(Connection& c, const EndMessage& m);

  // Supervision (officer connections).
  void on_officer_hello(ConnectionId id, Connection& c, const OfficerHelloMessage& m);
  void on_set_time(Connection& c, const SetTimeMessage& m);
  void on_notice(Connection& c, const NoticeMessage& m);
  void on_interjection_start(ConnectionId id, Connection& c, const InterjectionStartMessage& m);
  void on_interjection_stop(ConnectionId id, Connection& c, const InterjectionStopMessage& m);
  void on_terminate(Connection& c, const TerminateMessage& m);
  void on_watch(ConnectionId id, Connection& c, const WatchMessage& m);
  void on_watch_candidate(Connection& c, const WatchCandidateMessage& m);
  void on_unwatch(Connection& c, const UnwatchMessage& m);
  // Closes the console's peer for that meeting; tells the console why unless reason is empty.
  void end_watch(Connection& c, const std::string& meeting_id, const std::string& reason);
  // Every console watching the meeting: its pictures come from the terminal peers open now.
  void rewatch(const MeetingRecord& meeting);
  // The terminal peers of a meeting that are open, "" for those that are not.
  std::pair<std::string, std::string> open_terminal_peers(const MeetingRecord& meeting);
  void set_officer_voice(ConnectionId id, const std::string& meeting_id, bool open);
  const OfficerSession& require_officer(ConnectionId id, Connection& c, const std::string& type);
  MeetingRecord require_open_meeting(const std::string& meeting_id, const char* what);
  // Ends an interjection: stored, audited, parties told (if asked). Returns its duration in ms.
  std::int64_t stop_interjection(const std::string& meeting_id, bool tell_parties, const std::string& why);
  void send_ok(Connection& c, const std::string& ref, const std::string& meeting, nlohmann::json extra);
  void push_meetings();
  void send_meetings(Connection& c);
  Actor actor_of(const Connection& c) const;
  void check_session(ConnectionId id);

  // Call time.
  void start_call_time(const MeetingRecord& meeting, std::chrono::system_clock::time_point connected_at);
  void send_time(const MeetingRecord& meeting, const std::string& by, const std::string& text);
  void send_time_to(Connection& c, const MeetingRecord& meeting, const std::string& by, const std::string& text);
  void on_time_warning(const std::string& meeting_id, std::chrono::seconds remaining) override;
  void on_time_over(const std::string& meeting_id) override;

  const DeviceConfig& require_auth(const Connection& c, const char* type) const;
  MeetingRecord require_meeting(Connection& c, const char* type);
  void change_state(const MeetingRecord& meeting, MeetingState to, const std::string& actor,
                    const std::string& detail, const TerminationReason* reason = nullptr,
                    const std::string& reason_text = {});
  void end_internal(const MeetingRecord& meeting, const std::string& actor, const std::string& reason,
                    const TerminationReason* coded = nullptr, const std::string& coded_text = {});
  void link_if_possible(const MeetingRecord& meeting);
  void send_state(Connection& c, const MeetingRecord& meeting, const std::string& at,
                  const std::string& by);
  // Sends to the connected parties of a meeting (those bound to it).
  void send_to_parties(const MeetingRecord& meeting, const nlohmann::json& message);
  void send(Connection& c, const nlohmann::json& message);
  void send_error(Connection& c, const std::string& code, const std::string& message,
                  const std::string& ref);
  std::string now();

  const Config& config_;
  MeetingRepository& store_;
  SupervisionRepository& supervision_;
  AccessControl& access_;
  AuditTrail& audit_;
  TimerService& timers_;
  MediaPort* media_;
  RecordingPort* recording_ = nullptr;
  PostFn post_;
  WallClock clock_;
  MeetingTimekeeper timekeeper_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  ConnectionId next_id_ = 1;
  std::map<ConnectionId, Connection> connections_;
  std::map<std::string, ConnectionId> by_device_;
  std::map<std::string, Interjection> speaking_;  // by meeting id
};

}  // namespace huijian::signaling
