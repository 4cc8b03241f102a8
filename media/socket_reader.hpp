#pragma once
// Reads the UDP sockets of established ICE pairs in batches, one GSource per
// media worker.
//
// libnice reads each socket through its own GSource: one poll, one dispatch
// (with GLib's per-dispatch bookkeeping: two eventfd writes to wake the
// context), one GIO receive and one agent-lock round per datagram. Once ICE is
// done the relay needs none of that: the selected pair's socket goes into one
// epoll set per worker, whose descriptor is the only one GLib polls for
// media, and each wake-up drains every ready socket with recvmmsg() in
// batches. The source never blocks itself during dispatch (can-recurse), so
// GLib does not wake its own context for it either.
//
// Once ICE is done GLib would poll just two descriptors on a media worker:
// this epoll set and the context's own wake-up eventfd. The reader then
// serves as the context's poll function: the wake-up descriptor joins the
// epoll set, and one epoll_wait() both sleeps and says which sockets are
// ready (instead of a poll() on the set, then an epoll_wait() on it). Any
// other descriptor set (ICE still running, a watch of some other source)
// goes to g_poll() as before.
//
// Created, used and destroyed on the worker's thread.

#include <glib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>

struct mmsghdr;

namespace huijian::media {

class UdpSender;

class SocketReader : public std::enable_shared_from_this<SocketReader> {
 public:
  class Client {
   public:
    virtual ~Client() = default;
    virtual void on_socket_datagram(std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                                    socklen_t from_length) noexcept = 0;
  };

  // The one reader of `context`, made on first use; it lives while some
  // client holds it.
  static std::shared_ptr<SocketReader> for_context(GMainContext* context);
  ~SocketReader();
  SocketReader(const SocketReader&) = delete;
  SocketReader& operator=(const SocketReader&) = delete;

  // Starts reading `fd` for `client`; returns a token for remove(). Throws std::system_error.
  std::uint64_t add(int fd, Client& client);
  // Stops reading; safe from inside the client's own callback.
  void remove(std::uint64_t token) noexcept;

  // Datagrams at most this long are read; a longer one is dropped (counted in truncated()).
  static constexpr std::size_t kMaxDatagram = 2048;
  // Datagrams per recvmmsg(), and batches per socket per wake-up (the rest waits for the next).
  static constexpr unsigned kBatch = 32;
  static constexpr unsigned kMaxBatchesPerWakeup = 8;

  // Datagrams longer than kMaxDatagram, dropped (no media packet is: the MTU is 1500).
  std::uint64_t truncated() const noexcept { return truncated_; }
  // Waits of the context done by one epoll_wait(), and by g_poll().
  std::uint64_t epoll_waits() const noexcept { return epoll_waits_; }
  std::uint64_t glib_polls() const noexcept { return glib_polls_; }

 private:
  explicit SocketReader(GMainContext* context);
  static gboolean dispatch(GSource* source, GSourceFunc, gpointer);
  static gint poll_context(GPollFD* fds, guint count, gint timeout);
  // The poll for GLib when `fds` is this set and the wake-up descriptor; -1 otherwise.
  int poll_for_glib(GPollFD* fds, guint count, gint timeout) noexcept;
  bool adopt_wakeup(int fd) noexcept;
  void read_ready() noexcept;
  void read_socket(std::uint64_t token) noexcept;

  struct Entry {
    int fd = -1;
    Client* client = nullptr;
  };
  int epoll_fd_ = -1;
  GSource* source_ = nullptr;
  // What the clients send while a wake-up's datagrams are handed out leaves in one batch.
  std::shared_ptr<UdpSender> sender_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t next_token_ = 1;
  std::uint64_t reading_ = 0;  // the token whose datagrams are being handed out
  bool reading_removed_ = false;
  std::uint64_t truncated_ = 0;
  std::uint64_t epoll_waits_ = 0;
  std::uint64_t glib_polls_ = 0;
  // The context's wake-up eventfd once it is in the epoll set; -1 before.
  int wakeup_fd_ = -1;
  bool wakeup_refused_ = false;  // the other descriptor was not an eventfd: g_poll() always
  // Socket readiness from the last epoll_wait() done as GLib's poll, for the dispatch.
  static constexpr int kEvents = 64;
  std::array<epoll_event, kEvents> ready_{};
  int ready_count_ = 0;
  std::unique_ptr<std::array<std::array<std::uint8_t, kMaxDatagram>, kBatch>> buffers_;
  std::unique_ptr<mmsghdr[]> messages_;
  std::array<iovec, kBatch> vectors_{};
  std::array<sockaddr_storage, kBatch> sources_{};
};

}  // namespace huijian::media
