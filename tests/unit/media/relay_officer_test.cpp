// The relay's side of an officer console's offer: pictures only towards the
// officer, the microphone only from the officer, and the offers it refuses.
#include "media/relay.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "media/certificate.hpp"
#include "media/sdp.hpp"

using namespace huijian::media;

namespace {

struct Section {
  std::string kind;       // "audio" or "video"
  std::string direction;  // "sendrecv", "sendonly", "recvonly"
};

std::string offer(const std::vector<Section>& sections) {
  std::string mids;
  for (std::size_t i = 0; i < sections.size(); ++i) mids += " " + std::to_string(i);
  std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE" + mids + "\r\n";
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const bool video = sections[i].kind == "video";
    sdp += "m=" + sections[i].kind + " 9 UDP/TLS/RTP/SAVPF " + (video ? "102" : "111") + "\r\n";
    sdp += "c=IN IP4 0.0.0.0\r\n";
    sdp += "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n";
    sdp += "a=fingerprint:sha-256 3A:7F:5C:19:0D:BE:42:A8:61:E4:9C:0B:77:2D:F3:18:C6:55:8A:E1:04:9F:B2:3D:6E:70:1C:D8:A5:93:2F:4B\r\n";
    sdp += "a=setup:actpass\r\na=mid:" + std::to_string(i) + "\r\na=" + sections[i].direction + "\r\na=rtcp-mux\r\n";
    if (video)
      sdp += "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";
    else
      sdp += "a=rtpmap:111 opus/48000/2\r\n";
  }
  return sdp;
}

struct Fixture {
  Certificate certificate = Certificate::generate("relay-officer-test");
  Relay relay{RelayConfig{}, certificate};
};

}  // namespace

TEST_CASE("Relay: an officer's offer gets two pictures from the relay and gives it only the microphone",
          "[relay][supervision]") {
  Fixture f;
  auto answer = f.relay.open_officer_peer(
      "officer-1", "m-1", offer({{"video", "recvonly"}, {"video", "recvonly"}, {"audio", "sendonly"}}), nullptr);
  CHECK(answer.lawyer_mid == "0");
  CHECK(answer.detainee_mid == "1");
  const SessionDescription sdp = parse_sdp(answer.sdp);
  REQUIRE(sdp.media.size() == 3);
  CHECK(sdp.media[0].direction == Direction::SendOnly);
  CHECK(sdp.media[1].direction == Direction::SendOnly);
  CHECK(sdp.media[0].ssrcs.size() == 1);
  CHECK(sdp.media[2].direction == Direction::RecvOnly);
  CHECK(sdp.media[2].ssrcs.empty());
  CHECK_FALSE(f.relay.watch("nobody", "", ""));
  CHECK(f.relay.watch("officer-1", "", ""));  // no terminal open yet: nothing to watch, not an error
  f.relay.close_peer("officer-1");
}

TEST_CASE("Relay: an officer's audio m-line is never one the relay sends on", "[relay][supervision]") {
  Fixture f;
  SECTION("sendrecv is answered recvonly") {
    auto answer = f.relay.open_officer_peer(
        "o", "m-1", offer({{"video", "recvonly"}, {"video", "recvonly"}, {"audio", "sendrecv"}}), nullptr);
    CHECK(parse_sdp(answer.sdp).media[2].direction == Direction::RecvOnly);
  }
  SECTION("recvonly is rejected") {
    auto answer = f.relay.open_officer_peer(
        "o", "m-1", offer({{"audio", "recvonly"}, {"video", "recvonly"}, {"video", "recvonly"}}), nullptr);
    const auto sdp = parse_sdp(answer.sdp);
    CHECK(sdp.media[0].port == 0);
    CHECK(sdp.media[0].ssrcs.empty());
    CHECK(answer.lawyer_mid == "1");
    CHECK(answer.detainee_mid == "2");
  }
}

TEST_CASE("Relay: officer offers it refuses say why", "[relay][supervision]") {
  Fixture f;
  auto refused = [&](const std::vector<Section>& sections) {
    try {
      f.relay.open_officer_peer("o", "m-1", offer(sections), nullptr);
    } catch (const OfferError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(refused({{"video", "recvonly"}, {"audio", "sendonly"}}),
             Catch::Contains("exactly two recvonly video m-lines") && Catch::Contains("it has 1"));
  CHECK_THAT(refused({{"video", "recvonly"}, {"video", "recvonly"}, {"video", "recvonly"}}),
             Catch::Contains("one too many"));
  CHECK_THAT(refused({{"video", "sendonly"}, {"video", "recvonly"}}), Catch::Contains("must be recvonly"));
  CHECK_THAT(refused({{"video", "recvonly"}, {"video", "recvonly"}, {"audio", "sendonly"}, {"audio", "sendonly"}}),
             Catch::Contains("at most one audio m-line"));
  // A refused offer leaves no peer behind: the same id can offer again.
  CHECK(refused({{"video", "recvonly"}, {"video", "recvonly"}}) == "accepted");
}

TEST_CASE("Relay: a terminal's extra recvonly audio m-line is its officer-voice section", "[relay][supervision]") {
  Fixture f;
  const std::string answer = f.relay.open_peer(
      "lawyer-1", "m-1", offer({{"audio", "sendrecv"}, {"video", "sendrecv"}, {"audio", "recvonly"}}), nullptr);
  const auto sdp = parse_sdp(answer);
  REQUIRE(sdp.media.size() == 3);
  CHECK(sdp.media[0].direction == Direction::SendRecv);
  CHECK(sdp.media[2].direction == Direction::SendOnly);
  REQUIRE(sdp.media[2].ssrcs.size() == 1);
  CHECK(sdp.media[2].ssrcs[0].ssrc != sdp.media[0].ssrcs.at(0).ssrc);
}
