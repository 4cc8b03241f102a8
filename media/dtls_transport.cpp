#include "media/dtls_transport.hpp"
#include "media/openssl_errors.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace huijian::media {

namespace {

// ECDHE only; ECDSA first (our certificate), RSA for peers such as GStreamer's webrtcbin.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr const char* kSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
constexpr const char kExporterLabel[] = "EXTRACTOR-dtls_srtp";
constexpr std::size_t kRecordHeader = 13;  // type, version(2), epoch(2), sequence(6), length(2)
constexpr unsigned int kMaxTimeoutUs = 60'000'000;
constexpr int kMaxReadsPerDatagram = 4096;  // bound on SSL_read calls for one received datagram
constexpr const char* kFingerprintMismatch = "remote certificate fingerprint does not match the SDP";

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("dtls")) return existing;
    return spdlog::default_logger()->clone("dtls");
  }();
  return *logger;
}

// "sha-256 ab:cd:..." or "AB:CD:..." -> "AB:CD:..." (32 bytes); empty if malformed.
std::string normalise_fingerprint(std::string text) {
  auto trim = [](std::string& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  };
  trim(text);
  constexpr std::string_view kPrefix = "sha-256";
  if (text.size() > kPrefix.size()) {
    std::string head = text.substr(0, kPrefix.size());
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    if (head == kPrefix && std::isspace(static_cast<unsigned char>(text[kPrefix.size()]))) {
      text.erase(0, kPrefix.size());
      trim(text);
    }
  }
  if (text.size() != 32 * 3 - 1) return {};
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (i % 3 == 2) {
      if (c != ':') return {};
    } else {
      if (!std::isxdigit(c)) return {};
      text[i] = static_cast<char>(std::toupper(c));
    }
  }
  return text;
}

bool looks_like_dtls(std::span<const std::uint8_t> datagram) {
  // RFC 7983: DTLS records start with a content type in 20..63.
  return datagram.size() >= kRecordHeader && datagram[0] >= 20 && datagram[0] <= 63;
}

// Every record of the datagram has a whole header and a body that fits in the
// datagram; once connected (min_protected > 0), a record of a protected epoch
// (not 0) is at least as long as the cipher's nonce and tag. OpenSSL 3.0
// answers a too-short protected record with a read error instead of dropping
// it, so such forged records must not reach it.
bool records_well_formed(std::span<const std::uint8_t> datagram, std::size_t min_protected) {
  std::size_t offset = 0;
  while (offset < datagram.size()) {
    if (datagram.size() - offset < kRecordHeader) return false;
    const std::size_t epoch = (std::size_t{datagram[offset + 3]} << 8) | datagram[offset + 4];
    const std::size_t length = (std::size_t{datagram[offset + 11]} << 8) | datagram[offset + 12];
    if (length > datagram.size() - offset - kRecordHeader) return false;
    if (min_protected > 0 && epoch != 0 && length < min_protected) return false;
    offset += kRecordHeader + length;
  }
  return true;
}

}  // namespace

const char* to_string(DtlsTransport::State state) noexcept {
  switch (state) {
    case DtlsTransport::State::New:
      return "new";
    case DtlsTransport::State::Handshaking:
      return "handshaking";
    case DtlsTransport::State::Connected:
      return "connected";
    case DtlsTransport::State::Failed:
      return "failed";
    case DtlsTransport::State::Closed:
      return "closed";
  }
  return "unknown";
}

void DtlsTransport::SslCtxFree::operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }
void DtlsTransport::SslFree::operator()(SSL* p) const noexcept { SSL_free(p); }

DtlsTransport::DtlsTransport(const Certificate& local, Role role, std::string expected_remote_fingerprint_sha256,
                             Listener& listener)
    : role_(role), expected_fingerprint_(normalise_fingerprint(std::move(expected_remote_fingerprint_sha256))),
      listener_(listener) {
  if (expected_fingerprint_.empty())
    throw DtlsError("the remote sha-256 fingerprint from the SDP is missing or malformed (expected 32 hex bytes "
                    "separated by colons)");
  if (local.x509() == nullptr || local.private_key() == nullptr)
    throw DtlsError("the local DTLS certificate is empty");
  ERR_clear_error();

  ctx_.reset(SSL_CTX_new(DTLS_method()));
  if (!ctx_) throw DtlsError("could not create the DTLS context: " + openssl_errors());
  SSL_CTX* ctx = ctx_.get();
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1)
    throw DtlsError("could not require DTLS 1.2: " + openssl_errors());
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate(ctx, local.x509()) != 1 || SSL_CTX_use_PrivateKey(ctx, local.private_key()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1)
    throw DtlsError("the local DTLS certificate or key is not usable: " + openssl_errors());
  if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1)
    throw DtlsError("could not set the DTLS cipher list: " + openssl_errors());
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1)
    throw DtlsError("could not set the DTLS key exchange groups: " + openssl_errors());
  // Note: returns 0 on success.
  if (SSL_CTX_set_tlsext_use_srtp(ctx, kSrtpProfiles) != 0)
    throw DtlsError("could not enable DTLS-SRTP: " + openssl_errors());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_callback);

  ssl_.reset(SSL_new(ctx));
  if (!ssl_) throw DtlsError("could not create the DTLS connection: " + openssl_errors());
  SSL* ssl = ssl_.get();
  if (SSL_set_app_data(ssl, this) != 1) throw DtlsError("could not attach the DTLS connection: " + openssl_errors());

  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    throw DtlsError("could not create the DTLS memory buffers: " + openssl_errors());
  }
  BIO_set_mem_eof_return(rbio, -1);  // empty = "try again later", not end of file
  BIO_set_mem_eof_return(wbio, -1);
  SSL_set_bio(ssl, rbio, wbio);  // ssl owns both from here on
  rbio_ = rbio;
  wbio_ = wbio;

  if (SSL_set_mtu(ssl, static_cast<long>(kMtu)) <= 0)  // returns the MTU on success
    throw DtlsError("could not set the DTLS MTU: " + openssl_errors());
  DTLS_set_timer_cb(ssl, timer_callback);
}

DtlsTransport::~DtlsTransport() = default;

void DtlsTransport::set_initial_retransmission_timeout(std::chrono::milliseconds timeout) {
  if (timeout < std::chrono::milliseconds(1) || timeout > std::chrono::milliseconds(kMaxTimeoutUs / 1000))
    throw DtlsError("the DTLS retransmission timeout must be between 1 ms and 60 s");
  if (state_ != State::New) throw DtlsError("the DTLS retransmission timeout must be set before start()");
  initial_timeout_us_ = static_cast<unsigned int>(timeout.count()) * 1000u;
}

unsigned int DtlsTransport::timer_callback(SSL* ssl, unsigned int previous_us) noexcept {
  const auto* self = static_cast<const DtlsTransport*>(SSL_get_app_data(ssl));
  const unsigned int initial = self != nullptr ? self->initial_timeout_us_ : 1'000'000u;
  if (previous_us == 0) return initial;
  return previous_us >= kMaxTimeoutUs / 2 ? kMaxTimeoutUs : previous_us * 2;
}

int DtlsTransport::verify_callback(int preverify_ok, X509_STORE_CTX* store) noexcept {
  // Self-signed certificates are the norm in WebRTC: the peer is authenticated by the
  // SDP fingerprint of its leaf certificate instead of a chain.
  (void)preverify_ok;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl != nullptr ? static_cast<DtlsTransport*>(SSL_get_app_data(ssl)) : nullptr;
  if (self == nullptr) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  X509* leaf = X509_STORE_CTX_get_current_cert(store);
  try {
    if (leaf != nullptr && fingerprint_sha256_of(leaf) == self->expected_fingerprint_) return 1;
  } catch (const std::exception&) {
  }
  self->fingerprint_mismatch_ = true;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

void DtlsTransport::start(Clock::time_point now) {
  last_now_ = now;
  if (state_ != State::New) return;
  state_ = State::Handshaking;
  log().debug("starting as DTLS {}", role_ == Role::Client ? "client" : "server");
  if (role_ == Role::Server) {
    SSL_set_accept_state(ssl_.get());
    return;
  }
  SSL_set_connect_state(ssl_.get());
  drive_handshake();
}

void DtlsTransport::receive(std::span<const std::uint8_t> datagram, Clock::time_point now) noexcept {
  try {
    last_now_ = now;
    ++counters_.datagrams_received;
    if (datagram.size() > kMaxDatagram || !looks_like_dtls(datagram)) {
      ++counters_.datagrams_ignored;
      return;
    }
    if (state_ == State::New && role_ == Role::Server) start(now);
    if (state_ != State::Handshaking && state_ != State::Connected) {
      ++counters_.datagrams_ignored;
      return;
    }
    if (!records_well_formed(datagram, state_ == State::Connected ? min_protected_record_ : 0)) {
      ++counters_.datagrams_malformed;
      return;
    }
    // One datagram at a time: anything OpenSSL left unread belongs to an earlier datagram.
    if (BIO_ctrl_pending(rbio_) != 0) (void)BIO_reset(rbio_);
    if (BIO_write(rbio_, datagram.data(), static_cast<int>(datagram.size())) != static_cast<int>(datagram.size())) {
      ERR_clear_error();
      ++counters_.datagrams_ignored;
      return;
    }
    if (state_ == State::Handshaking)
      drive_handshake();
    else
      drive_connected();
  } catch (const std::exception& e) {
    if (state_ != State::Failed) fail(std::string("internal DTLS error: ") + e.what());
  }
}

void DtlsTransport::drive_handshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_.get());
  if (result == 1) {
    flush();  // the server's last flight (ChangeCipherSpec, Finished)
    on_handshake_done();
    return;
  }
  const int error = SSL_get_error(ssl_.get(), result);
  switch (error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      ERR_clear_error();
      flush();
      return;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      flush();
      fail("the peer closed the DTLS connection during the handshake");
      return;
    default: {
      std::string reason = fingerprint_mismatch_ ? std::string(kFingerprintMismatch)
                                                 : "DTLS handshake failed: " + openssl_errors();
      ERR_clear_error();
      flush();  // the alert
      fail(reason);
      return;
    }
  }
}

void DtlsTransport::on_handshake_done() {
  SSL* ssl = ssl_.get();
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) {
    fail("the peer presented no DTLS certificate");
    return;
  }
  std::string fingerprint = fingerprint_sha256_of(peer);
  if (fingerprint != expected_fingerprint_) {  // the verify callback already checked; never trust one place only
    fail(kFingerprintMismatch);
    return;
  }
  // AES-GCM records carry an 8-byte explicit nonce and a 16-byte tag; ChaCha20-Poly1305 only the tag.
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  min_protected_record_ =
      cipher != nullptr && SSL_CIPHER_get_cipher_nid(cipher) == NID_chacha20_poly1305 ? 16 : 24;
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl);
  SrtpProfile profile;
  if (selected != nullptr && selected->id == SRTP_AEAD_AES_128_GCM) {
    profile = SrtpProfile::AeadAes128Gcm;
  } else if (selected != nullptr && selected->id == SRTP_AES128_CM_SHA1_80) {
    profile = SrtpProfile::AesCm128HmacSha1_80;
  } else {
    fail("the peer did not negotiate a supported SRTP profile (AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80)");
    return;
  }

  constexpr std::size_t kKeyLength = 16;
  const std::size_t salt_length = srtp_master_key_length(profile) - kKeyLength;
  std::array<std::uint8_t, 2 * (16 + 14)> material{};
  const std::size_t total = 2 * (kKeyLength + salt_length);
  ERR_clear_error();
  if (SSL_export_keying_material(ssl, material.data(), total, kExporterLabel, sizeof(kExporterLabel) - 1, nullptr, 0,
                                 0) != 1) {
    fail("could not export the SRTP keys from DTLS: " + openssl_errors());
    return;
  }
  // client_key | server_key | client_salt | server_salt
  const std::uint8_t* client_key = material.data();
  const std::uint8_t* server_key = client_key + kKeyLength;
  const std::uint8_t* client_salt = server_key + kKeyLength;
  const std::uint8_t* server_salt = client_salt + salt_length;
  auto join = [&](const std::uint8_t* key, const std::uint8_t* salt) {
    std::vector<std::uint8_t> out(key, key + kKeyLength);
    out.insert(out.end(), salt, salt + salt_length);
    return out;
  };
  SrtpKeyMaterial keys{profile, {}, {}};
  if (role_ == Role::Client) {
    keys.local_key_salt = join(client_key, client_salt);
    keys.remote_key_salt = join(server_key, server_salt);
  } else {
    keys.local_key_salt = join(server_key, server_salt);
    keys.remote_key_salt = join(client_key, client_salt);
  }
  OPENSSL_cleanse(material.data(), material.size());

  remote_fingerprint_ = std::move(fingerprint);
  state_ = State::Connected;
  log().info("DTLS connected as {} ({}, {}), remote fingerprint {}", role_ == Role::Client ? "client" : "server",
             SSL_get_cipher_name(ssl), to_string(profile), remote_fingerprint_);
  struct Wipe {
    SrtpKeyMaterial& keys;
    ~Wipe() {
      OPENSSL_cleanse(keys.local_key_salt.data(), keys.local_key_salt.size());
      OPENSSL_cleanse(keys.remote_key_salt.data(), keys.remote_key_salt.size());
    }
  } wipe{keys};
  listener_.on_dtls_connected(keys);
}

void DtlsTransport::drive_connected() {
  std::array<std::uint8_t, 2048> sink{};
  for (int i = 0; i < kMaxReadsPerDatagram; ++i) {
    ERR_clear_error();
    const int result = SSL_read(ssl_.get(), sink.data(), static_cast<int>(sink.size()));
    if (result > 0) {  // no DTLS application data in WebRTC media (no data channels here)
      ++counters_.application_data_dropped;
      continue;
    }
    const int error = SSL_get_error(ssl_.get(), result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
    if (error == SSL_ERROR_ZERO_RETURN) {  // close_notify: answer with ours
      ERR_clear_error();
      (void)SSL_shutdown(ssl_.get());
      ERR_clear_error();
      flush();
      state_ = State::Closed;
      log().info("DTLS closed by the peer");
      listener_.on_dtls_closed();
      return;
    }
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      // No alert and no OpenSSL error: a record OpenSSL would not take, which
      // only a forger sends. The SRTP keys are already in use and the peer's
      // own records still authenticate, so the connection stays up.
      if (counters_.read_errors_ignored++ % 1000 == 0)
        log().warn("DTLS: ignored a datagram OpenSSL could not read after the handshake ({} so far)",
                   counters_.read_errors_ignored);
      break;
    }
    std::string reason = "DTLS connection failed: " + openssl_errors();
    flush();
    fail(reason);
    return;
  }
  ERR_clear_error();
  flush();  // e.g. our final flight again, when the peer repeated its Finished
}

std::optional<DtlsTransport::Clock::time_point> DtlsTransport::next_timeout() const {
  if (state_ != State::Handshaking) return std::nullopt;
  timeval remaining{};
  if (DTLSv1_get_timeout(ssl_.get(), &remaining) != 1) return std::nullopt;
  return last_now_ + std::chrono::seconds(remaining.tv_sec) + std::chrono::microseconds(remaining.tv_usec);
}

void DtlsTransport::handle_timeout(Clock::time_point now) noexcept {
  try {
    last_now_ = now;
    if (state_ != State::Handshaking) return;
    ERR_clear_error();
    const int result = DTLSv1_handle_timeout(ssl_.get());
    if (result > 0) {
      ++counters_.retransmissions;
      log().debug("DTLS flight retransmitted ({} so far)", counters_.retransmissions);
      flush();
    } else if (result < 0) {
      std::string reason = "DTLS handshake timed out: the peer did not answer after repeated retransmissions (" +
                           openssl_errors() + ")";
      flush();
      fail(reason);
    }
  } catch (const std::exception& e) {
    if (state_ != State::Failed) fail(std::string("internal DTLS error: ") + e.what());
  }
}

void DtlsTransport::close() noexcept {
  try {
    if (state_ == State::Connected) {
      ERR_clear_error();
      (void)SSL_shutdown(ssl_.get());
      ERR_clear_error();
      flush();
    }
    if (state_ != State::Failed) state_ = State::Closed;
  } catch (const std::exception& e) {
    log().warn("error while closing DTLS: {}", e.what());
    state_ = State::Closed;
  }
}

void DtlsTransport::fail(const std::string& reason) {
  if (state_ == State::Failed) return;
  state_ = State::Failed;
  log().warn("DTLS failed: {}", reason);
  try {
    listener_.on_dtls_failed(reason);
  } catch (const std::exception& e) {
    log().error("DTLS failure listener threw: {}", e.what());
  }
}

void DtlsTransport::flush() {
  const std::size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return;
  // A local copy: the listener may feed a datagram back into this transport (tests wire two in memory).
  std::vector<std::uint8_t> bytes(pending);
  const int read = BIO_read(wbio_, bytes.data(), static_cast<int>(bytes.size()));
  if (read <= 0) {
    ERR_clear_error();
    return;
  }
  bytes.resize(static_cast<std::size_t>(read));

  // OpenSSL writes whole records sized for the MTU; pack consecutive records into datagrams of at most kMtu.
  auto emit = [&](std::size_t begin, std::size_t end) {
    ++counters_.datagrams_sent;
    listener_.on_dtls_send(std::span<const std::uint8_t>(bytes.data() + begin, end - begin));
  };
  std::size_t datagram_begin = 0;
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    std::size_t record = bytes.size() - offset;
    if (record >= kRecordHeader) {
      record = std::min(record, kRecordHeader + ((std::size_t{bytes[offset + 11]} << 8) | bytes[offset + 12]));
    }
    if (offset > datagram_begin && offset + record - datagram_begin > kMtu) {
      emit(datagram_begin, offset);
      datagram_begin = offset;
    }
    offset += record;
  }
  emit(datagram_begin, offset);
}

}  // namespace huijian::media
