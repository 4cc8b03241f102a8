#include "media/srtp_session.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <srtp2/srtp.h>

#include "media/srtp_gcm_openssl.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <string>

namespace huijian::media {

static_assert(kSrtpMaxTrailer == SRTP_MAX_TRAILER_LEN, "kSrtpMaxTrailer must match libsrtp");

namespace {

constexpr std::size_t kRtpFixedHeader = 12;
constexpr std::size_t kRtcpHeader = 8;  // common header + sender SSRC
constexpr unsigned long kReplayWindow = 1024;
constexpr std::size_t kMaxKeySalt = 30;

void init_libsrtp() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] {
    status = srtp_init();
    if (status == srtp_err_status_ok && !install_openssl_gcm())
      spdlog::warn("[media] libsrtp refused the OpenSSL AES-GCM; its own (NSS) stays in use");
  });
  if (status != srtp_err_status_ok)
    throw SrtpError("could not initialise libsrtp (error " + std::to_string(static_cast<int>(status)) + ")");
}

// Length of the RTP header including CSRCs and the header extension, or 0 if it does not fit in `length`.
std::size_t rtp_header_length(const std::uint8_t* p, std::size_t length) noexcept {
  if (length < kRtpFixedHeader || (p[0] >> 6) != 2) return 0;
  std::size_t header = kRtpFixedHeader + 4u * (p[0] & 0x0fu);
  if (header > length) return 0;
  if ((p[0] & 0x10u) != 0) {  // X bit: 16-bit profile, 16-bit length in 32-bit words
    if (header + 4 > length) return 0;
    header += 4 + 4u * ((std::size_t{p[header + 2]} << 8) | p[header + 3]);
    if (header > length) return 0;
  }
  return header;
}

bool rtcp_header_ok(const std::uint8_t* p, std::size_t length) noexcept {
  return length >= kRtcpHeader && (p[0] >> 6) == 2;
}

}  // namespace

std::size_t srtp_master_key_length(SrtpProfile profile) noexcept {
  switch (profile) {
    case SrtpProfile::AeadAes128Gcm:
      return 16 + 12;
    case SrtpProfile::AesCm128HmacSha1_80:
      return 16 + 14;
  }
  return 0;
}

const char* to_string(SrtpProfile profile) noexcept {
  switch (profile) {
    case SrtpProfile::AeadAes128Gcm:
      return "AEAD_AES_128_GCM";
    case SrtpProfile::AesCm128HmacSha1_80:
      return "AES_CM_128_HMAC_SHA1_80";
  }
  return "unknown";
}

void SrtpSession::SrtpDealloc::operator()(srtp_ctx_t_* session) const noexcept { srtp_dealloc(session); }

SrtpSession::SrtpSession(SrtpProfile profile, std::span<const std::uint8_t> send_key_salt,
                         std::span<const std::uint8_t> receive_key_salt)
    : profile_(profile) {
  const std::size_t expected = srtp_master_key_length(profile);
  if (expected == 0) throw SrtpError("unknown SRTP profile");
  if (send_key_salt.size() != expected || receive_key_salt.size() != expected)
    throw SrtpError(std::string("SRTP key+salt for ") + to_string(profile) + " must be " + std::to_string(expected) +
                    " bytes (got " + std::to_string(send_key_salt.size()) + " and " +
                    std::to_string(receive_key_salt.size()) + ")");
  init_libsrtp();

  auto create = [&](std::span<const std::uint8_t> key_salt, srtp_ssrc_type_t direction, const char* what) {
    srtp_policy_t policy{};
    if (profile == SrtpProfile::AeadAes128Gcm) {
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }
    std::array<unsigned char, kMaxKeySalt> key{};
    std::copy(key_salt.begin(), key_salt.end(), key.begin());
    policy.ssrc.type = direction;
    policy.ssrc.value = 0;
    policy.key = key.data();
    policy.window_size = kReplayWindow;
    policy.allow_repeat_tx = 1;
    policy.next = nullptr;
    srtp_t session = nullptr;
    const srtp_err_status_t status = srtp_create(&session, &policy);
    OPENSSL_cleanse(key.data(), key.size());  // libsrtp keeps only the derived session keys
    if (status != srtp_err_status_ok) {
      if (session != nullptr) srtp_dealloc(session);
      throw SrtpError(std::string("could not create the ") + what + " SRTP session for " + to_string(profile) +
                      " (libsrtp error " + std::to_string(static_cast<int>(status)) + ")");
    }
    return SessionPtr(session);
  };
  outbound_ = create(send_key_salt, ssrc_any_outbound, "outbound");
  inbound_ = create(receive_key_salt, ssrc_any_inbound, "inbound");
}

SrtpSession::~SrtpSession() = default;
SrtpSession::SrtpSession(SrtpSession&&) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&&) noexcept = default;

std::optional<std::size_t> SrtpSession::run(Op op, std::span<std::uint8_t> buffer, std::size_t length) noexcept {
  const bool protect = op == Op::ProtectRtp || op == Op::ProtectRtcp;
  const bool rtp = op == Op::ProtectRtp || op == Op::UnprotectRtp;
  srtp_ctx_t_* session = protect ? outbound_.get() : inbound_.get();
  if (session == nullptr || length > buffer.size() || length > kSrtpMaxPacket ||
      (protect && buffer.size() - length < kSrtpMaxTrailer)) {
    ++counters_.other_failures;
    return std::nullopt;
  }
  if (rtp ? rtp_header_length(buffer.data(), length) == 0 : !rtcp_header_ok(buffer.data(), length)) {
    ++counters_.other_failures;
    return std::nullopt;
  }

  int len = static_cast<int>(length);
  srtp_err_status_t status = srtp_err_status_fail;
  switch (op) {
    case Op::ProtectRtp:
      status = srtp_protect(session, buffer.data(), &len);
      break;
    case Op::UnprotectRtp:
      status = srtp_unprotect(session, buffer.data(), &len);
      break;
    case Op::ProtectRtcp:
      status = srtp_protect_rtcp(session, buffer.data(), &len);
      break;
    case Op::UnprotectRtcp:
      status = srtp_unprotect_rtcp(session, buffer.data(), &len);
      break;
  }
  switch (status) {
    case srtp_err_status_ok:
      if (len < 0 || static_cast<std::size_t>(len) > buffer.size()) {  // cannot happen; never trust it blindly
        ++counters_.other_failures;
        return std::nullopt;
      }
      return static_cast<std::size_t>(len);
    case srtp_err_status_auth_fail:
      ++counters_.auth_failures;
      return std::nullopt;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      ++counters_.replays;
      return std::nullopt;
    default:
      ++counters_.other_failures;
      return std::nullopt;
  }
}

std::optional<std::size_t> SrtpSession::protect_rtp(std::span<std::uint8_t> buffer, std::size_t length) noexcept {
  return run(Op::ProtectRtp, buffer, length);
}

std::optional<std::size_t> SrtpSession::unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t length) noexcept {
  return run(Op::UnprotectRtp, buffer, length);
}

std::optional<std::size_t> SrtpSession::protect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept {
  return run(Op::ProtectRtcp, buffer, length);
}

std::optional<std::size_t> SrtpSession::unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept {
  return run(Op::UnprotectRtcp, buffer, length);
}

}  // namespace huijian::media
