// The relay's per-packet path (MediaLeg) next to the floor that any SRTP
// relay must pay: one srtp_unprotect and one srtp_protect per packet, called
// straight on libsrtp, with and without one send() on a loopback UDP socket.
// Read the results as ratios (bench/micro.sh): relay_path / floor_srtp and
// relay_path_send / floor_srtp_send, for each SRTP profile and packet size.
//
// Every unprotect must see a fresh, authentic packet (libsrtp's replay
// window), so a "terminal" context protects batches of kBatch packets with
// rising sequence numbers while the timer is paused; the timed loop handles
// one packet per iteration. Everything is on 127.0.0.1.

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <srtp2/srtp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "media/datagram_sink.hpp"
#include "media/media_leg.hpp"
#include "media/relay_counters.hpp"
#include "media/srtp_session.hpp"

namespace {

using huijian::media::DatagramSink;
using huijian::media::MediaKind;
using huijian::media::MediaLeg;
using huijian::media::RelayCounterSet;
using huijian::media::SrtpProfile;
using huijian::media::SrtpSession;

// Packets protected per refill. A PauseTiming/ResumeTiming pair costs 1.5 to
// 2 us of which part is timed; over a batch that is at most about 15 ns per
// packet, the same in every case. A batch (about 200 KB) stays in the cache,
// as a datagram just copied out of the kernel would be.
constexpr std::size_t kBatch = 128;
constexpr std::size_t kSlot = 1500 + SRTP_MAX_TRAILER_LEN;

constexpr std::uint32_t kVideoSsrc = 0x2222AAAA, kAudioSsrc = 0x1111AAAA;
constexpr std::uint8_t kH264In = 96, kOpusIn = 111, kH264Out = 102, kOpusOut = 109;

enum class Media { Video1200, Audio100 };

std::size_t packet_size(Media media) { return media == Media::Video1200 ? 1200 : 100; }

// Set when a case fails; main() then exits non-zero so the smoke test notices.
std::atomic<bool> g_failed{false};

void fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}

std::vector<std::uint8_t> key_salt(SrtpProfile profile, std::uint8_t seed) {
  std::vector<std::uint8_t> key(huijian::media::srtp_master_key_length(profile));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + 13 * i);
  return key;
}

// srtp_init() may run only once per process (a second call fails), and
// SrtpSession runs it on first use: let a throwaway session do it.
void init_libsrtp() {
  static const bool done = [] {
    const auto key = key_salt(SrtpProfile::AeadAes128Gcm, 0);
    SrtpSession once(SrtpProfile::AeadAes128Gcm, key, key);
    return true;
  }();
  (void)done;
}

struct SrtpDealloc {
  void operator()(srtp_ctx_t_* session) const noexcept { srtp_dealloc(session); }
};
using RawSrtp = std::unique_ptr<srtp_ctx_t_, SrtpDealloc>;

// A raw libsrtp session for any SSRC in one direction, set up like SrtpSession does.
RawSrtp raw_srtp(SrtpProfile profile, std::vector<std::uint8_t> key, srtp_ssrc_type_t direction) {
  init_libsrtp();
  srtp_policy_t policy{};
  if (profile == SrtpProfile::AeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = direction;
  policy.key = key.data();
  policy.window_size = 1024;
  policy.allow_repeat_tx = 1;
  srtp_t session = nullptr;
  if (srtp_create(&session, &policy) != srtp_err_status_ok) {
    if (session) srtp_dealloc(session);
    throw std::runtime_error("srtp_create failed");
  }
  return RawSrtp(session);
}

// The terminal: protects batches of RTP packets with rising sequence numbers.
class PacketBatch {
 public:
  PacketBatch(SrtpProfile profile, std::vector<std::uint8_t> key, Media media)
      : terminal_(raw_srtp(profile, std::move(key), ssrc_any_outbound)), slots_(kBatch * kSlot) {
    const bool video = media == Media::Video1200;
    template_.assign(packet_size(media), 0);
    template_[0] = 0x80;                       // V=2, P=0, X=0, CC=0
    template_[1] = video ? kH264In : kOpusIn;  // M=0, PT
    const std::uint32_t ssrc = video ? kVideoSsrc : kAudioSsrc;
    for (int i = 0; i < 4; ++i) template_[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
    for (std::size_t i = 12; i < template_.size(); ++i) template_[i] = static_cast<std::uint8_t>(i * 7);
    timestamp_step_ = video ? 3000 : 960;
  }

  // Protects the next kBatch packets; false if libsrtp refused one.
  bool refill() noexcept {
    for (std::size_t i = 0; i < kBatch; ++i) {
      std::uint8_t* p = slot(i);
      std::memcpy(p, template_.data(), template_.size());
      const std::uint32_t timestamp = sequence_ * timestamp_step_;
      p[2] = static_cast<std::uint8_t>(sequence_ >> 8);
      p[3] = static_cast<std::uint8_t>(sequence_);
      for (int b = 0; b < 4; ++b) p[4 + b] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * b));
      ++sequence_;
      int length = static_cast<int>(template_.size());
      if (srtp_protect(terminal_.get(), p, &length) != srtp_err_status_ok) return false;
      lengths_[i] = length;
    }
    return true;
  }

  std::uint8_t* slot(std::size_t i) noexcept { return slots_.data() + i * kSlot; }
  int length(std::size_t i) const noexcept { return lengths_[i]; }

 private:
  RawSrtp terminal_;
  std::vector<std::uint8_t> template_;
  std::vector<std::uint8_t> slots_;
  std::array<int, kBatch> lengths_{};
  std::uint16_t sequence_ = 1;
  std::uint32_t timestamp_step_ = 3000;
};

// Owns one socket descriptor.
class Socket {
 public:
  explicit Socket(int fd) noexcept : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&&) = delete;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// A UDP socket bound to 127.0.0.1 on an ephemeral port.
Socket loopback_udp_socket() {
  Socket socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error(std::string("bind 127.0.0.1: ") + std::strerror(errno));
  return socket;
}

// A connected pair of UDP sockets on 127.0.0.1. The receiver's buffer holds
// several batches and is drained between batches, outside the timed part, so
// every send() in the timed part delivers into a queue with room (not the
// cheaper drop path of a full queue); `delivered` counts what arrived.
class LoopbackPair {
 public:
  LoopbackPair() : receiver_(loopback_udp_socket()), sender_(loopback_udp_socket()) {
    const int size = 4 << 20;  // capped by net.core.rmem_max
    ::setsockopt(receiver_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockname(receiver_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        ::connect(sender_.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0)
      throw std::runtime_error(std::string("connect to 127.0.0.1: ") + std::strerror(errno));
  }

  bool send(const std::uint8_t* data, std::size_t size) noexcept {
    const ssize_t n = ::send(sender_.get(), data, size, 0);
    if (n != static_cast<ssize_t>(size)) {
      ++send_failures;
      return false;
    }
    ++sent;
    return true;
  }

  // Reads whatever is queued; bounded by what was sent.
  void drain() noexcept {
    std::array<std::uint8_t, 2048> buffer;
    while (delivered < sent) {
      if (::recv(receiver_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT) < 0) break;
      ++delivered;
    }
  }

  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t send_failures = 0;

 private:
  Socket receiver_;
  Socket sender_;
};

class UdpSink final : public DatagramSink {
 public:
  explicit UdpSink(LoopbackPair& pair) : pair_(pair) {}
  bool send(std::span<const std::uint8_t> datagram) noexcept override {
    return pair_.send(datagram.data(), datagram.size());
  }

 private:
  LoopbackPair& pair_;
};

class NullSink final : public DatagramSink {
 public:
  bool send(std::span<const std::uint8_t> datagram) noexcept override {
    benchmark::DoNotOptimize(datagram.data());
    ++sent;
    return true;
  }
  std::uint64_t sent = 0;
};

void report_delivery(benchmark::State& state, const LoopbackPair& pair) {
  if (pair.send_failures != 0) fail(state, "send() failed " + std::to_string(pair.send_failures) + " times");
  state.counters["delivered"] = pair.sent ? static_cast<double>(pair.delivered) / static_cast<double>(pair.sent) : 0;
}

// Keys of the terminal -> relay direction (relay_in) and relay -> partner (relay_out).
constexpr std::uint8_t kTerminalKey = 0x10, kPartnerKey = 0x30, kUnusedKey = 0x50;

void floor_case(benchmark::State& state, SrtpProfile profile, Media media, bool send) {
  PacketBatch batch(profile, key_salt(profile, kTerminalKey), media);
  RawSrtp relay_in = raw_srtp(profile, key_salt(profile, kTerminalKey), ssrc_any_inbound);
  RawSrtp relay_out = raw_srtp(profile, key_salt(profile, kPartnerKey), ssrc_any_outbound);
  std::unique_ptr<LoopbackPair> pair = send ? std::make_unique<LoopbackPair>() : nullptr;
  if (!batch.refill()) return fail(state, "terminal srtp_protect failed");
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      const bool ok = batch.refill();
      if (pair) pair->drain();
      state.ResumeTiming();
      if (!ok) return fail(state, "terminal srtp_protect failed");
      next = 0;
    }
    std::uint8_t* packet = batch.slot(next);
    int length = batch.length(next);
    ++next;
    if (srtp_unprotect(relay_in.get(), packet, &length) != srtp_err_status_ok)
      return fail(state, "srtp_unprotect failed");
    if (srtp_protect(relay_out.get(), packet, &length) != srtp_err_status_ok)
      return fail(state, "srtp_protect failed");
    if (pair) pair->send(packet, static_cast<std::size_t>(length));
    benchmark::DoNotOptimize(packet);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (pair) {
    pair->drain();
    report_delivery(state, *pair);
  }
}

void relay_case(benchmark::State& state, SrtpProfile profile, Media media, bool send) {
  PacketBatch batch(profile, key_salt(profile, kTerminalKey), media);
  std::unique_ptr<LoopbackPair> pair = send ? std::make_unique<LoopbackPair>() : nullptr;
  NullSink to_terminal;  // towards the sending terminal: NACKs and PLIs, none expected
  NullSink null_partner;
  std::unique_ptr<UdpSink> udp_partner = pair ? std::make_unique<UdpSink>(*pair) : nullptr;
  DatagramSink& to_partner = udp_partner ? static_cast<DatagramSink&>(*udp_partner) : null_partner;

  RelayCounterSet counters;
  MediaLeg in(counters, to_terminal, 4000);
  MediaLeg out(counters, to_partner, 4000);
  in.add_section({MediaKind::Audio, kOpusIn, 0xA0A0A0A1, true, {kAudioSsrc}});
  in.add_section({MediaKind::Video, kH264In, 0xA0A0A0A2, true, {kVideoSsrc}});
  out.add_section({MediaKind::Audio, kOpusOut, 0xB0B0B0B1, true, {0x1111BBBB}});
  out.add_section({MediaKind::Video, kH264Out, 0xB0B0B0B2, true, {0x2222BBBB}});
  in.set_srtp(SrtpSession(profile, key_salt(profile, kUnusedKey), key_salt(profile, kTerminalKey)));
  out.set_srtp(SrtpSession(profile, key_salt(profile, kPartnerKey), key_salt(profile, kUnusedKey)));
  in.set_partner(&out);
  out.set_partner(&in);

  if (!batch.refill()) return fail(state, "terminal srtp_protect failed");
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      const bool ok = batch.refill();
      if (pair) pair->drain();
      state.ResumeTiming();
      if (!ok) return fail(state, "terminal srtp_protect failed");
      next = 0;
    }
    // As ICE would hand it over: a const view of the received datagram.
    in.receive(std::span<const std::uint8_t>(batch.slot(next), static_cast<std::size_t>(batch.length(next))));
    ++next;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  const auto forwarded = counters.rtp_forwarded.load();
  if (forwarded != static_cast<std::uint64_t>(state.iterations()) || to_terminal.sent != 0)
    return fail(state, "forwarded " + std::to_string(forwarded) + " of " + std::to_string(state.iterations()) +
                           " packets, " + std::to_string(to_terminal.sent) + " sent back to the terminal");
  if (pair) {
    pair->drain();
    report_delivery(state, *pair);
  }
}

// The case names are what bench/micro.sh pairs up: <case>/<profile>_<media>.
void floor_srtp(benchmark::State& s, SrtpProfile profile, Media media) { floor_case(s, profile, media, false); }
void floor_srtp_send(benchmark::State& s, SrtpProfile profile, Media media) { floor_case(s, profile, media, true); }
void relay_path(benchmark::State& s, SrtpProfile profile, Media media) { relay_case(s, profile, media, false); }
void relay_path_send(benchmark::State& s, SrtpProfile profile, Media media) { relay_case(s, profile, media, true); }

#define HUIJIAN_RELAY_CASES(fn)                                                               \
  BENCHMARK_CAPTURE(fn, gcm_video1200, SrtpProfile::AeadAes128Gcm, Media::Video1200);        \
  BENCHMARK_CAPTURE(fn, sha1_video1200, SrtpProfile::AesCm128HmacSha1_80, Media::Video1200); \
  BENCHMARK_CAPTURE(fn, gcm_audio100, SrtpProfile::AeadAes128Gcm, Media::Audio100);          \
  BENCHMARK_CAPTURE(fn, sha1_audio100, SrtpProfile::AesCm128HmacSha1_80, Media::Audio100)

HUIJIAN_RELAY_CASES(floor_srtp);
HUIJIAN_RELAY_CASES(floor_srtp_send);
HUIJIAN_RELAY_CASES(relay_path);
HUIJIAN_RELAY_CASES(relay_path_send);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "huijian-relay-path-bench: %s\n", e.what());
    g_failed = true;
  }
  benchmark::Shutdown();
  return g_failed ? 1 : 0;
}
