#pragma once
// The control plane's core: terminal connections, the meeting handshake, the
// store and the relay. Single-threaded (the io_context thread); no sockets:
// text in through on_text(), text out through each connection's sink. Relay
// events from media threads are handed over through the injected `post`.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "signaling/client_message.hpp"
#include "signaling/config.hpp"
#include "signaling/connection_sink.hpp"
#include "signaling/media_port.hpp"
#include "signaling/meeting_repository.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

using ConnectionId = std::uint64_t;
// Runs a function later on the hub's thread; callable from any thread.
using PostFn = std::function<void(std::function<void()>)>;

// Close codes the hub asks for.
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;

class SignalingHub {
 public:
  // `media` may be null (no relay: offers are refused with media_unavailable).
  SignalingHub(const Config& config, MeetingRepository& store, MediaPort* media, PostFn post,
               WallClock clock);
  ~SignalingHub();
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

  // Ends every running meeting (detainee_ready or connected) with `reason`.
  void shutdown(const std::string& reason);

  std::size_t connection_count() const noexcept { return connections_.size(); }

  // Relay events, already on the hub's thread.
  void deliver_local_candidate(ConnectionId id, const std::string& candidate, const std::string& mid);
  void deliver_peer_state(ConnectionId id, media::PeerState state, const std::string& detail);

 private:
  struct Connection {
    std::shared_ptr<ConnectionSink> sink;
    const DeviceConfig* device = nullptr;  // set by hello
    std::string meeting_id;                // bound meeting, may be empty
    bool offered = false;
    std::map<std::string, unsigned> mid_index;  // from the offer: a=mid order
  };
  class PeerEventsForwarder;

  Connection* find(ConnectionId id);
  Connection* connection_of(const std::string& device);
  void handle(ConnectionId id, Connection& c, const ClientMessage& message);
  void on_hello(ConnectionId id, Connection& c, const HelloMessage& m);
  void on_offer(ConnectionId id, Connection& c, const OfferMessage& m);
  void on_candidate(Connection& c, const CandidateMessage& m);
  void on_ready(Connection& c);
  void on_connect(Connection& c);
  void on_end(Connection& c, const EndMessage& m);

  const DeviceConfig& require_auth(const Connection& c, const char* type) const;
  MeetingRecord require_meeting(Connection& c, const char* type);
  void change_state(const MeetingRecord& meeting, MeetingState to, const std::string& actor,
                    const std::string& detail);
  void end_internal(const MeetingRecord& meeting, const std::string& actor, const std::string& reason);
  void link_if_possible(const MeetingRecord& meeting);
  void send_state(Connection& c, const MeetingRecord& meeting, const std::string& at,
                  const std::string& by);
  void send(Connection& c, const nlohmann::json& message);
  void send_error(Connection& c, const std::string& code, const std::string& message,
                  const std::string& ref);
  std::string now();

  const Config& config_;
  MeetingRepository& store_;
  MediaPort* media_;
  PostFn post_;
  WallClock clock_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  ConnectionId next_id_ = 1;
  std::map<ConnectionId, Connection> connections_;
  std::map<std::string, ConnectionId> by_device_;
};

}  // namespace huijian::signaling
