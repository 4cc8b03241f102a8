#pragma once
// ICE for one peer: a libnice full agent with one stream and one component
// (BUNDLE + rtcp-mux), host candidates on the configured local addresses only,
// trickle both ways. The relay answers offers, so it is the controlled agent;
// the load generator's synthetic terminals offer too, and control then. Knows nothing of DTLS
// or SRTP: it hands every non-STUN datagram to its listener.
//
// Once libnice reports the component ready (checks done, a pair nominated),
// the agent takes the selected pair's socket from libnice: it is read by the
// worker's SocketReader in batches, consent checks (STUN binding requests)
// are answered here with libnice's own STUN library, and libnice's keepalives
// turn into binding indications, which want no answer. libnice keeps its
// timers and sends, and never reads that socket again.
//
// So libnice no longer hears the peer: its own keepalive timeout (a pair
// from which it received no STUN request for 50 s is failed) would fail every
// healthy pair 50 s after the take-over. Its FAILED is then ignored, and this
// agent watches the pair itself (RFC 7675's consent, in spirit): it sends the
// peer a consent check (an authenticated binding request) every
// Liveness::consent_every, and reports Failed once it has heard nothing from
// the pair's address (no media, RTCP or DTLS, no consent check of the peer's,
// no answer to ours) for Liveness::silence_limit: a terminal that vanished
// without a word (pulled cable, crashed machine) is noticed within about
// 35 s.

#include <nice/agent.h>
#include <stun/stunagent.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "media/relaxed_counter.hpp"
#include "media/socket_reader.hpp"
#include "media/timer_queue.hpp"

namespace huijian::media {

class UdpSender;

class IceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class IceState { Gathering, Checking, Connected, Failed };

// What the agents of one worker did with the sockets they read themselves
// (see the top); written by that worker only.
struct IceCounters {
  std::atomic<std::uint64_t> sockets_taken_over{0};  // selected sockets read by the SocketReader
  std::atomic<std::uint64_t> consent_answered{0};    // binding requests answered after the take-over
  std::atomic<std::uint64_t> stun_ignored{0};        // STUN that failed its check, or was not a request
  std::atomic<std::uint64_t> foreign_dropped{0};     // non-STUN datagrams from an address that is not the pair's
  std::atomic<std::uint64_t> consent_sent{0};        // our own consent checks to peers after the take-over
  std::atomic<std::uint64_t> silent_failed{0};       // pairs failed because the peer fell silent
  static void bump(RelaxedCounter& c) noexcept { bump_relaxed(c); }
};

class IceAgent final : private SocketReader::Client {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // "candidate:..." (no "a="); empty when gathering is done.
    virtual void on_ice_candidate(const std::string& candidate) = 0;
    virtual void on_ice_state(IceState state) = 0;
    virtual void on_ice_datagram(std::span<const std::uint8_t> datagram) noexcept = 0;
  };

  enum class Role { Controlled, Controlling };

  // How a taken-over pair is watched (see the top).
  struct Liveness {
    std::chrono::milliseconds silence_limit{30'000};  // RFC 7675's consent timeout
    std::chrono::milliseconds consent_every{5'000};   // RFC 7675's consent check interval
  };

  // Runs on `context` (the caller's media worker); counts into `counters` when given. Throws IceError.
  IceAgent(GMainContext* context, const std::vector<std::string>& local_addresses, std::uint16_t port_min,
           std::uint16_t port_max, Listener& listener, Role role = Role::Controlled,
           IceCounters* counters = nullptr);
  ~IceAgent() override;
  IceAgent(const IceAgent&) = delete;
  IceAgent& operator=(const IceAgent&) = delete;

  // Before the take-over (tests shorten it).
  void set_liveness(Liveness liveness) noexcept { liveness_ = liveness; }

  const std::string& local_ufrag() const noexcept { return local_ufrag_; }
  const std::string& local_password() const noexcept { return local_password_; }

  void set_remote_credentials(const std::string& ufrag, const std::string& password);
  // Starts gathering; candidates arrive through the listener.
  void gather();
  // "candidate:..." or "a=candidate:..."; empty = the remote side finished gathering.
  // Throws IceError for a malformed candidate (TCP and mDNS candidates are ignored, not errors).
  void add_remote_candidate(const std::string& candidate);

  // Sends one datagram on the selected pair; false if not connected or the socket refused it.
  // Once a pair is selected this goes through the worker's UdpSender on the
  // pair's own UDP socket (libnice's socket, libnice's remote address): one
  // sendto(), or a request of the batch the socket reader opens around each
  // wake-up. libnice's per-send agent lock and stream lookup and GIO's
  // message assembly are skipped.
  bool send(std::span<const std::uint8_t> datagram) noexcept;
  bool connected() const noexcept { return state_ == IceState::Connected; }
  // True once the selected pair's socket is read by the worker's SocketReader instead of libnice.
  bool reads_own_socket() const noexcept { return reader_token_ != 0; }
  const IceCounters& counters() const noexcept { return counters_; }

 private:
  static void on_new_candidate(NiceAgent*, NiceCandidate*, gpointer self);
  static void on_gathering_done(NiceAgent*, guint stream, gpointer self);
  static void on_component_state(NiceAgent*, guint stream, guint component, guint state, gpointer self);
  static void on_receive(NiceAgent*, guint stream, guint component, guint len, gchar* buf, gpointer self);
  static void on_selected_pair(NiceAgent*, guint stream, guint component, NiceCandidate* local,
                               NiceCandidate* remote, gpointer self);
  // Caches the selected pair's socket and remote address for send(); clears the cache when none.
  void refresh_selected_pair() noexcept;
  // Moves the selected pair's socket from libnice to the worker's SocketReader (see the top).
  void refresh_selected_socket() noexcept;
  void take_over_receive() noexcept;
  void release_receive() noexcept;
  void start_liveness_timer() noexcept;
  void stop_liveness_timer() noexcept;
  bool on_liveness_tick();
  void send_consent_check() noexcept;
  // SocketReader::Client
  void on_socket_datagram(std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                          socklen_t from_length) noexcept override;
  void answer_stun(std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                   socklen_t from_length) noexcept;
  static bool check_username(StunAgent*, StunMessage*, std::uint8_t* username, std::uint16_t username_length,
                             std::uint8_t** password, std::size_t* password_length, void* self);

  struct AgentUnref {
    void operator()(NiceAgent* a) const noexcept { g_object_unref(a); }
  };
  Listener& listener_;
  GMainContext* context_;
  std::unique_ptr<NiceAgent, AgentUnref> agent_;
  guint stream_id_ = 0;
  std::string local_ufrag_;
  std::string local_password_;
  std::string remote_ufrag_;
  std::string remote_password_;
  IceState state_ = IceState::Gathering;
  struct SocketUnref {
    void operator()(GSocket* s) const noexcept { g_object_unref(s); }
  };
  std::unique_ptr<GSocket, SocketUnref> selected_socket_;  // a reference, so its fd stays valid
  int selected_fd_ = -1;
  sockaddr_storage selected_remote_{};
  socklen_t selected_remote_length_ = 0;
  Role role_;
  std::shared_ptr<UdpSender> sender_;
  bool ready_ = false;  // libnice said READY: checks done, a pair nominated
  GSource* take_over_ = nullptr;
  // libnice's socket sources move here, a context nobody iterates, when the socket is taken over.
  GMainContext* parked_context_ = nullptr;
  std::shared_ptr<SocketReader> reader_;
  std::uint64_t reader_token_ = 0;
  Liveness liveness_;
  std::shared_ptr<TimerQueue> timers_;
  std::uint64_t liveness_timer_ = 0;  // a token of timers_; 0 when none
  bool heard_ = false;  // something came from the pair since the last tick
  std::chrono::steady_clock::time_point last_heard_{};
  std::chrono::steady_clock::time_point last_consent_{};
  StunAgent stun_agent_{};
  std::uint64_t tie_breaker_ = 0;
  IceCounters own_counters_;
  IceCounters& counters_;
};

}  // namespace huijian::media
