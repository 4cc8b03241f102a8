#pragma once
// ICE for one peer: a libnice full agent with one stream and one component
// (BUNDLE + rtcp-mux), host candidates on the configured local addresses only,
// trickle both ways. The relay answers offers, so it is the controlled agent;
// the load generator's synthetic terminals offer too, and control then. Knows nothing of DTLS
// or SRTP: it hands every non-STUN datagram to its listener.

#include <nice/agent.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace huijian::media {

class IceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class IceState { Gathering, Checking, Connected, Failed };

class IceAgent {
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

  // Runs on `context` (the caller's media worker). Throws IceError.
  IceAgent(GMainContext* context, const std::vector<std::string>& local_addresses, std::uint16_t port_min,
           std::uint16_t port_max, Listener& listener, Role role = Role::Controlled);
  ~IceAgent();
  IceAgent(const IceAgent&) = delete;
  IceAgent& operator=(const IceAgent&) = delete;

  const std::string& local_ufrag() const noexcept { return local_ufrag_; }
  const std::string& local_password() const noexcept { return local_password_; }

  void set_remote_credentials(const std::string& ufrag, const std::string& password);
  // Starts gathering; candidates arrive through the listener.
  void gather();
  // "candidate:..." or "a=candidate:..."; empty = the remote side finished gathering.
  // Throws IceError for a malformed candidate (TCP and mDNS candidates are ignored, not errors).
  void add_remote_candidate(const std::string& candidate);

  // Sends one datagram on the selected pair; false if not connected or the socket refused it.
  // Once a pair is selected this is one sendto() on the pair's own UDP socket
  // (libnice's socket, libnice's remote address): libnice's per-send agent
  // lock and stream lookup and GIO's message assembly are skipped.
  bool send(std::span<const std::uint8_t> datagram) noexcept;
  bool connected() const noexcept { return state_ == IceState::Connected; }

 private:
  static void on_new_candidate(NiceAgent*, NiceCandidate*, gpointer self);
  static void on_gathering_done(NiceAgent*, guint stream, gpointer self);
  static void on_component_state(NiceAgent*, guint stream, guint component, guint state, gpointer self);
  static void on_receive(NiceAgent*, guint stream, guint component, guint len, gchar* buf, gpointer self);
  static void on_selected_pair(NiceAgent*, guint stream, guint component, NiceCandidate* local,
                               NiceCandidate* remote, gpointer self);
  // Caches the selected pair's socket and remote address for send(); clears the cache when none.
  void refresh_selected_pair() noexcept;

  struct AgentUnref {
    void operator()(NiceAgent* a) const noexcept { g_object_unref(a); }
  };
  Listener& listener_;
  GMainContext* context_;
  std::unique_ptr<NiceAgent, AgentUnref> agent_;
  guint stream_id_ = 0;
  std::string local_ufrag_;
  std::string local_password_;
  IceState state_ = IceState::Gathering;
  struct SocketUnref {
    void operator()(GSocket* s) const noexcept { g_object_unref(s); }
  };
  std::unique_ptr<GSocket, SocketUnref> selected_socket_;  // a reference, so its fd stays valid
  int selected_fd_ = -1;
  sockaddr_storage selected_remote_{};
  socklen_t selected_remote_length_ = 0;
};

}  // namespace huijian::media
