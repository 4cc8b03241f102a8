#pragma once
// SRTP and SRTCP for one peer (libsrtp 2.5): one outbound libsrtp session
// (any SSRC we send) keyed with our DTLS-exported key, one inbound session
// (any SSRC the peer sends) keyed with the peer's. Protect and unprotect work
// in place on the caller's buffer; they are noexcept and never throw.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>

struct srtp_ctx_t_;

namespace huijian::media {

enum class SrtpProfile { AeadAes128Gcm, AesCm128HmacSha1_80 };

// Master key + master salt bytes: 16+12=28 for AEAD_AES_128_GCM, 16+14=30 for AES_CM_128_HMAC_SHA1_80.
std::size_t srtp_master_key_length(SrtpProfile profile) noexcept;
const char* to_string(SrtpProfile profile) noexcept;

class SrtpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Room a caller must leave after a packet for protect_* (libsrtp's SRTP_MAX_TRAILER_LEN).
inline constexpr std::size_t kSrtpMaxTrailer = 144;
// Largest packet (before protection) accepted by any of the four calls.
inline constexpr std::size_t kSrtpMaxPacket = 65535;

class SrtpSession {
 public:
  // send_key_salt protects what we send; receive_key_salt unprotects what we receive. Each must be
  // exactly srtp_master_key_length(profile) bytes. Replay window 1024; retransmission of an already
  // sent sequence number allowed (NACK answers). Throws SrtpError.
  SrtpSession(SrtpProfile profile, std::span<const std::uint8_t> send_key_salt,
              std::span<const std::uint8_t> receive_key_salt);
  ~SrtpSession();
  SrtpSession(SrtpSession&&) noexcept;
  SrtpSession& operator=(SrtpSession&&) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // In place: `buffer` holds `length` bytes of packet. protect_* need buffer.size() >= length + kSrtpMaxTrailer.
  // Return the new length, or nullopt (counted in counters()) on failure: authentication (tag) failure,
  // replay, malformed or too short/long packet, buffer too small. On failure the buffer content is unspecified.
  std::optional<std::size_t> protect_rtp(std::span<std::uint8_t> buffer, std::size_t length) noexcept;
  std::optional<std::size_t> unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t length) noexcept;
  std::optional<std::size_t> protect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept;
  std::optional<std::size_t> unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept;

  struct Counters {
    std::uint64_t auth_failures = 0;   // tag did not verify
    std::uint64_t replays = 0;         // replayed or too old for the replay window
    std::uint64_t other_failures = 0;  // malformed, truncated, buffer too small, other libsrtp errors
  };
  const Counters& counters() const noexcept { return counters_; }
  SrtpProfile profile() const noexcept { return profile_; }

 private:
  struct SrtpDealloc {
    void operator()(srtp_ctx_t_* session) const noexcept;
  };
  using SessionPtr = std::unique_ptr<srtp_ctx_t_, SrtpDealloc>;
  enum class Op { ProtectRtp, UnprotectRtp, ProtectRtcp, UnprotectRtcp };
  std::optional<std::size_t> run(Op op, std::span<std::uint8_t> buffer, std::size_t length) noexcept;

  SrtpProfile profile_;
  SessionPtr outbound_;
  SessionPtr inbound_;
  Counters counters_;
};

}  // namespace huijian::media
