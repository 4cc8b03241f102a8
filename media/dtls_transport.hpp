#pragma once
// DTLS 1.2 (OpenSSL 3) for one peer, over memory BIOs: datagrams in through
// receive(), datagrams out through Listener::on_dtls_send. Negotiates
// DTLS-SRTP (use_srtp), checks the peer certificate against the SDP
// fingerprint and exports the SRTP master keys. No sockets, no threads.
//
// Time: OpenSSL 3.0 runs the DTLS retransmission timer on the real clock;
// next_timeout() maps it onto the caller's clock (the latest `now` given to
// start/receive/handle_timeout plus OpenSSL's remaining time), and
// handle_timeout() retransmits only once that real time has elapsed.
// Retransmission backs off from the initial timeout (1 s by default) doubling
// up to 60 s; OpenSSL gives up after 12 retransmissions (Failed).
//
// The listener is called synchronously from start/receive/handle_timeout/close;
// from inside a callback it must neither destroy the transport nor call into it
// (queue datagrams instead).

#include "media/certificate.hpp"
#include "media/srtp_session.hpp"

#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace huijian::media {

// local = what WE send with (our SrtpSession send key), remote = what the peer sends with.
struct SrtpKeyMaterial {
  SrtpProfile profile;
  std::vector<std::uint8_t> local_key_salt, remote_key_salt;
};

class DtlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DtlsTransport {
 public:
  enum class Role { Client, Server };  // Server = a=setup:passive (we wait for the ClientHello)
  enum class State { New, Handshaking, Connected, Failed, Closed };

  class Listener {
   public:
    virtual ~Listener() = default;
    // Put this datagram on the wire (at most kMtu bytes unless a single record is larger).
    virtual void on_dtls_send(std::span<const std::uint8_t> datagram) = 0;
    // Handshake done, fingerprint already checked, SRTP profile negotiated.
    virtual void on_dtls_connected(const SrtpKeyMaterial& keys) = 0;
    // Fatal: e.g. "remote certificate fingerprint does not match the SDP". Called once.
    virtual void on_dtls_failed(const std::string& reason) = 0;
    // The peer sent close_notify (we answered with ours). Not called for a local close().
    virtual void on_dtls_closed() {}
  };

  using Clock = std::chrono::steady_clock;

  struct Counters {
    std::uint64_t datagrams_received = 0;
    std::uint64_t datagrams_ignored = 0;  // not DTLS-shaped, too large, or arrived in a state that ignores them
    std::uint64_t datagrams_sent = 0;
    std::uint64_t retransmissions = 0;    // handle_timeout calls that resent a flight
    std::uint64_t application_data_dropped = 0;
    std::uint64_t datagrams_malformed = 0;  // record framing that no DTLS peer sends (forged or corrupt)
    std::uint64_t read_errors_ignored = 0;  // records OpenSSL refused after the handshake without an alert
  };

  static constexpr std::size_t kMtu = 1200;                // largest datagram we send
  static constexpr std::size_t kMaxDatagram = 16384 + 2048;  // largest datagram we accept

  // `expected_remote_fingerprint_sha256`: the SDP a=fingerprint value for sha-256, "AB:CD:..."
  // (case-insensitive; an optional leading "sha-256 " is accepted). Throws DtlsError for a malformed
  // fingerprint or if OpenSSL cannot be set up with the certificate.
  DtlsTransport(const Certificate& local, Role role, std::string expected_remote_fingerprint_sha256,
                Listener& listener);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Before start(): the first retransmission timeout (default 1 s, 1 ms .. 60 s; doubles on each retry).
  void set_initial_retransmission_timeout(std::chrono::milliseconds timeout);

  // Client: sends the ClientHello. Server: starts waiting for it. Only the first call has an effect.
  void start(Clock::time_point now);
  // Never throws. Bad records are ignored (OpenSSL drops them; see counters), fatal alerts and
  // fingerprint mismatches end in on_dtls_failed. A server that was not started starts here.
  void receive(std::span<const std::uint8_t> datagram, Clock::time_point now) noexcept;
  // When handle_timeout should be called next; nullopt when no retransmission is pending.
  std::optional<Clock::time_point> next_timeout() const;
  // Retransmits the last flight if its timer has expired; may end in on_dtls_failed. Never throws.
  void handle_timeout(Clock::time_point now) noexcept;
  // Sends close_notify (when connected) and moves to Closed. Never throws.
  void close() noexcept;

  State state() const noexcept { return state_; }
  Role role() const noexcept { return role_; }
  // "AB:CD:..." of the certificate the peer presented; empty before the handshake completed.
  std::string remote_fingerprint() const { return remote_fingerprint_; }
  const Counters& counters() const noexcept { return counters_; }

 private:
  struct SslCtxFree {
    void operator()(SSL_CTX* p) const noexcept;
  };
  struct SslFree {
    void operator()(SSL* p) const noexcept;
  };

  static int verify_callback(int preverify_ok, X509_STORE_CTX* store) noexcept;
  static unsigned int timer_callback(SSL* ssl, unsigned int previous_us) noexcept;

  void drive_handshake();
  void drive_connected();
  void on_handshake_done();
  void fail(const std::string& reason);
  void flush();

  Role role_;
  std::string expected_fingerprint_;  // upper-case "AB:CD:..."
  Listener& listener_;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  State state_ = State::New;
  Clock::time_point last_now_{};
  unsigned int initial_timeout_us_ = 1'000'000;
  bool fingerprint_mismatch_ = false;
  std::string remote_fingerprint_;
  Counters counters_;
  // Smallest body of a protected record once connected (AEAD nonce + tag).
  std::size_t min_protected_record_ = 0;
};

const char* to_string(DtlsTransport::State state) noexcept;

}  // namespace huijian::media
