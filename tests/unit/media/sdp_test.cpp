#include "media/sdp.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace huijian::media;

namespace {

// What Chromium (M120-era, unified plan, after gathering one candidate) puts in
// an offer for one microphone and one camera track. Written for this test in
// that style; the SSRCs and credentials are made up.
const std::string kChromiumOffer =
    "v=0\r\n"
    "o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 3b0b1c3f-6a63-4ad5-9a0e-1b7e1f1f3c55\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:3098175849 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 network-id 1\r\n"
    "a=ice-ufrag:Wq3d\r\n"
    "a=ice-pwd:Yk2cC8tQ1lU9vMfxh7rJ0aBn\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 3A:7F:5C:19:0D:BE:42:A8:61:E4:9C:0B:77:2D:F3:18:C6:55:8A:E1:04:9F:B2:3D:6E:70:1C:D8:A5:93:2F:4B\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:3b0b1c3f-6a63-4ad5-9a0e-1b7e1f1f3c55 8d9a7c1e-2b4f-4c3a-9e5d-0f6a7b8c9d0e\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:2390548411 cname:Hk1pX0rZ7qA4wL2m\r\n"
    "a=ssrc:2390548411 msid:3b0b1c3f-6a63-4ad5-9a0e-1b7e1f1f3c55 8d9a7c1e-2b4f-4c3a-9e5d-0f6a7b8c9d0e\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 98 99 100 101 112 113 116 117 118\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Wq3d\r\n"
    "a=ice-pwd:Yk2cC8tQ1lU9vMfxh7rJ0aBn\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 3A:7F:5C:19:0D:BE:42:A8:61:E4:9C:0B:77:2D:F3:18:C6:55:8A:E1:04:9F:B2:3D:6E:70:1C:D8:A5:93:2F:4B\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=sendrecv\r\n"
    "a=msid:3b0b1c3f-6a63-4ad5-9a0e-1b7e1f1f3c55 5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 goog-remb\r\n"
    "a=rtcp-fb:104 transport-cc\r\n"
    "a=rtcp-fb:104 ccm fir\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=rtcp-fb:104 nack pli\r\n"
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:105 rtx/90000\r\n"
    "a=fmtp:105 apt=104\r\n"
    "a=rtpmap:106 H264/90000\r\n"
    "a=rtcp-fb:106 goog-remb\r\n"
    "a=rtcp-fb:106 transport-cc\r\n"
    "a=rtcp-fb:106 ccm fir\r\n"
    "a=rtcp-fb:106 nack\r\n"
    "a=rtcp-fb:106 nack pli\r\n"
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=106\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=rtcp-fb:108 goog-remb\r\n"
    "a=rtcp-fb:108 transport-cc\r\n"
    "a=rtcp-fb:108 ccm fir\r\n"
    "a=rtcp-fb:108 nack\r\n"
    "a=rtcp-fb:108 nack pli\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:127 H264/90000\r\n"
    "a=rtcp-fb:127 goog-remb\r\n"
    "a=rtcp-fb:127 transport-cc\r\n"
    "a=rtcp-fb:127 ccm fir\r\n"
    "a=rtcp-fb:127 nack\r\n"
    "a=rtcp-fb:127 nack pli\r\n"
    "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:125 rtx/90000\r\n"
    "a=fmtp:125 apt=127\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=rtcp-fb:39 goog-remb\r\n"
    "a=rtcp-fb:39 transport-cc\r\n"
    "a=rtcp-fb:39 ccm fir\r\n"
    "a=rtcp-fb:39 nack\r\n"
    "a=rtcp-fb:39 nack pli\r\n"
    "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:112 H264/90000\r\n"
    "a=rtcp-fb:112 goog-remb\r\n"
    "a=rtcp-fb:112 transport-cc\r\n"
    "a=rtcp-fb:112 ccm fir\r\n"
    "a=rtcp-fb:112 nack\r\n"
    "a=rtcp-fb:112 nack pli\r\n"
    "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n"
    "a=rtpmap:113 rtx/90000\r\n"
    "a=fmtp:113 apt=112\r\n"
    "a=rtpmap:116 red/90000\r\n"
    "a=rtpmap:117 rtx/90000\r\n"
    "a=fmtp:117 apt=116\r\n"
    "a=rtpmap:118 ulpfec/90000\r\n"
    "a=ssrc-group:FID 1543879722 3761452983\r\n"
    "a=ssrc:1543879722 cname:Hk1pX0rZ7qA4wL2m\r\n"
    "a=ssrc:1543879722 msid:3b0b1c3f-6a63-4ad5-9a0e-1b7e1f1f3c55 5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716\r\n"
    "a=ssrc:3761452983 cname:Hk1pX0rZ7qA4wL2m\r\n"
    "a=ssrc:3761452983 msid:3b0b1c3f-6a63-4ad5-9a0e-1b7e1f1f3c55 5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716\r\n";

// What GStreamer 1.22 webrtcbin (bundle-policy max-bundle, rtx on the video
// transceiver, x264enc + rtph264pay and opusenc + rtpopuspay) writes: video
// first, the later m-lines bundle-only with port 0, fingerprint last.
const std::string kWebrtcbinOffer =
    "v=0\r\n"
    "o=- 6352140954387409219 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:kP7d0XwzQmH3cE9RtY2uVbN5sLa8fJ1g\r\n"
    "a=ice-pwd:Zq4W8eR1tY6uI0oP3aS7dF2gH5jK9lXc\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=sendrecv\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=fmtp:96 packetization-mode=1;profile-level-id=42c01f;level-asymmetry-allowed=1\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=ssrc-group:FID 1804289383 846930886\r\n"
    "a=ssrc:1804289383 msid:user1681692777@host-6b8b4567 webrtctransceiver0\r\n"
    "a=ssrc:1804289383 cname:user1681692777@host-6b8b4567\r\n"
    "a=ssrc:846930886 msid:user1681692777@host-6b8b4567 webrtctransceiver0\r\n"
    "a=ssrc:846930886 cname:user1681692777@host-6b8b4567\r\n"
    "a=mid:video0\r\n"
    "a=fingerprint:sha-256 0D:1E:2F:30:41:52:63:74:85:96:A7:B8:C9:DA:EB:FC:0D:1E:2F:30:41:52:63:74:85:96:A7:B8:C9:DA:EB:FC\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 98\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=setup:actpass\r\n"
    "a=ice-ufrag:kP7d0XwzQmH3cE9RtY2uVbN5sLa8fJ1g\r\n"
    "a=ice-pwd:Zq4W8eR1tY6uI0oP3aS7dF2gH5jK9lXc\r\n"
    "a=bundle-only\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=sendrecv\r\n"
    "a=rtpmap:98 OPUS/48000/2\r\n"
    "a=fmtp:98 sprop-maxcapturerate=48000;sprop-stereo=0\r\n"
    "a=ssrc:1957747793 msid:user1681692777@host-6b8b4567 webrtctransceiver1\r\n"
    "a=ssrc:1957747793 cname:user1681692777@host-6b8b4567\r\n"
    "a=mid:audio1\r\n"
    "a=fingerprint:sha-256 0D:1E:2F:30:41:52:63:74:85:96:A7:B8:C9:DA:EB:FC:0D:1E:2F:30:41:52:63:74:85:96:A7:B8:C9:DA:EB:FC\r\n";

// A small offer to vary in the error tests: session-level credentials,
// one video section whose H.264 lines are given.
std::string video_offer(const std::string& codec_lines, const std::string& payload_types,
                        const std::string& extra_media_lines = "a=rtcp-mux\r\n",
                        const std::string& session_lines = "a=group:BUNDLE v\r\n",
                        const std::string& fingerprint = "sha-256 AA:BB") {
  return "v=0\r\n"
         "o=- 1 1 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n" +
         session_lines +
         "a=ice-ufrag:uf\r\n"
         "a=ice-pwd:pwpwpwpwpwpwpwpwpwpwpwpw\r\n"
         "a=fingerprint:" +
         fingerprint +
         "\r\n"
         "a=setup:actpass\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF " +
         payload_types +
         "\r\n"
         "c=IN IP4 0.0.0.0\r\n"
         "a=mid:v\r\n" +
         extra_media_lines + codec_lines;
}

const std::string kH264Lines =
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find("\r\n", start);
    REQUIRE(end != std::string::npos);  // every line CRLF-terminated
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

std::string error_of(const std::string& text) {
  try {
    choose_sections(parse_sdp(text));
  } catch (const SdpError& e) {
    return e.what();
  }
  return "(no error)";
}

AnswerParams answer_params() {
  AnswerParams params;
  params.ice_ufrag = "relayUfrag";
  params.ice_pwd = "relayPasswordOf24Chars00";
  params.fingerprint_sha256 = "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF";
  params.cname = "relay-cname";
  params.stream_id = "meeting-7";
  params.outgoing = {{"0", 1111, Direction::SendRecv}, {"1", 2222, Direction::SendRecv}};
  return params;
}

}  // namespace

TEST_CASE("parse_sdp: a Chromium offer", "[sdp]") {
  const SessionDescription offer = parse_sdp(kChromiumOffer);
  CHECK(offer.bundle_mids == std::vector<std::string>{"0", "1"});
  REQUIRE(offer.media.size() == 2);

  const MediaSection& audio = offer.media[0];
  CHECK(audio.kind == MediaKind::Audio);
  CHECK(audio.mid == "0");
  CHECK(audio.port == 9);
  CHECK_FALSE(audio.rejected);
  CHECK(audio.direction == Direction::SendRecv);
  CHECK(audio.rtcp_mux);
  CHECK_FALSE(audio.rtcp_rsize);
  CHECK(audio.ice_ufrag == "Wq3d");
  CHECK(audio.ice_pwd == "Yk2cC8tQ1lU9vMfxh7rJ0aBn");
  CHECK(audio.fingerprint_algorithm == "sha-256");
  CHECK(audio.fingerprint.substr(0, 8) == "3A:7F:5C");
  CHECK(audio.setup == "actpass");
  REQUIRE(audio.codecs.size() == 8);
  const Codec& opus = audio.codecs[0];
  CHECK(opus.payload_type == 111);
  CHECK(opus.name == "opus");
  CHECK(opus.clock_rate == 48000);
  CHECK(opus.channels == 2);
  CHECK(opus.fmtp == "minptime=10;useinbandfec=1");
  CHECK(opus.feedback == std::vector<std::string>{"transport-cc"});
  CHECK(audio.codecs[2].name == "G722");
  CHECK(audio.codecs[2].channels == 1);
  REQUIRE(audio.candidates.size() == 1);
  CHECK(audio.candidates[0] ==
        "candidate:3098175849 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 network-id 1");
  REQUIRE(audio.ssrcs.size() == 1);
  CHECK(audio.ssrcs[0].ssrc == 2390548411U);
  CHECK(audio.ssrcs[0].cname == "Hk1pX0rZ7qA4wL2m");
  CHECK(audio.ssrcs[0].msid ==
        "3b0b1c3f-6a63-4ad5-9a0e-1b7e1f1f3c55 8d9a7c1e-2b4f-4c3a-9e5d-0f6a7b8c9d0e");

  const MediaSection& video = offer.media[1];
  CHECK(video.kind == MediaKind::Video);
  CHECK(video.mid == "1");
  CHECK(video.rtcp_rsize);
  REQUIRE(video.codecs.size() == 25);
  CHECK(video.codecs[2].payload_type == 102);
  CHECK(video.codecs[2].name == "H264");
  CHECK(video.codecs[2].channels == 0);
  CHECK(video.codecs[2].fmtp == "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
  CHECK(video.codecs[2].feedback ==
        std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"});
  CHECK(video.codecs[3].name == "rtx");
  CHECK(video.codecs[3].fmtp == "apt=102");
  REQUIRE(video.ssrc_groups.size() == 1);
  CHECK(video.ssrc_groups[0].first == "FID");
  CHECK(video.ssrc_groups[0].second == std::vector<std::uint32_t>{1543879722U, 3761452983U});
  CHECK(video.ssrcs.size() == 2);
  CHECK(video.candidates.empty());
}

TEST_CASE("choose_sections: Chromium offer gets Opus and H.264 42e01f with packetization-mode=1", "[sdp]") {
  const auto accepted = choose_sections(parse_sdp(kChromiumOffer));
  REQUIRE(accepted.size() == 2);
  CHECK(accepted[0].index == 0);
  CHECK(accepted[0].kind == MediaKind::Audio);
  CHECK(accepted[0].mid == "0");
  CHECK(accepted[0].codec.payload_type == 111);
  CHECK(accepted[0].remote_ssrcs == std::vector<std::uint32_t>{2390548411U});
  CHECK(accepted[1].index == 1);
  CHECK(accepted[1].kind == MediaKind::Video);
  CHECK(accepted[1].codec.payload_type == 106);  // not 102 (42001f) nor 108 (42e01f mode 0)
  CHECK(accepted[1].offered == Direction::SendRecv);
  CHECK(accepted[1].remote_ssrcs == std::vector<std::uint32_t>{1543879722U});  // rtx 3761452983 excluded
}

TEST_CASE("parse_sdp: a webrtcbin offer; bundle-only sections with port 0 are not rejected", "[sdp]") {
  const SessionDescription offer = parse_sdp(kWebrtcbinOffer);
  CHECK(offer.bundle_mids == std::vector<std::string>{"video0", "audio1"});
  REQUIRE(offer.media.size() == 2);
  CHECK(offer.media[0].kind == MediaKind::Video);
  CHECK(offer.media[0].fingerprint_algorithm == "sha-256");
  CHECK(offer.media[1].kind == MediaKind::Audio);
  CHECK(offer.media[1].port == 0);
  CHECK(offer.media[1].bundle_only);
  CHECK_FALSE(offer.media[1].rejected);
  CHECK(offer.media[1].codecs.at(0).name == "OPUS");
  CHECK(offer.media[1].ssrcs.at(0).msid == "user1681692777@host-6b8b4567 webrtctransceiver1");

  const auto accepted = choose_sections(offer);
  REQUIRE(accepted.size() == 2);
  CHECK(accepted[0].mid == "video0");
  CHECK(accepted[0].codec.payload_type == 96);  // 42c01f: constrained baseline
  CHECK(accepted[0].remote_ssrcs == std::vector<std::uint32_t>{1804289383U});
  CHECK(accepted[1].mid == "audio1");
  CHECK(accepted[1].codec.payload_type == 98);  // OPUS matches case-insensitively
  CHECK(accepted[1].remote_ssrcs == std::vector<std::uint32_t>{1957747793U});
}

TEST_CASE("parse_sdp: LF line ends parse the same as CRLF", "[sdp]") {
  std::string lf = kWebrtcbinOffer;
  lf.erase(std::remove(lf.begin(), lf.end(), '\r'), lf.end());
  const SessionDescription a = parse_sdp(lf);
  const SessionDescription b = parse_sdp(kWebrtcbinOffer);
  REQUIRE(a.media.size() == b.media.size());
  CHECK(a.media[0].fingerprint == b.media[0].fingerprint);
  CHECK(a.media[0].codecs.at(0).fmtp == b.media[0].codecs.at(0).fmtp);
  CHECK(a.media[1].ice_pwd == b.media[1].ice_pwd);
}

TEST_CASE("parse_sdp: session-level ICE, fingerprint and setup apply to sections without their own", "[sdp]") {
  const std::string text = video_offer(kH264Lines, "96", "a=rtcp-mux\r\na=ice-ufrag:own\r\n");
  const SessionDescription offer = parse_sdp(text);
  CHECK(offer.ice_ufrag == "uf");
  REQUIRE(offer.media.size() == 1);
  CHECK(offer.media[0].ice_ufrag == "own");
  CHECK(offer.media[0].ice_pwd == "pwpwpwpwpwpwpwpwpwpwpwpw");
  CHECK(offer.media[0].fingerprint == "AA:BB");
  CHECK(offer.media[0].setup == "actpass");
}

TEST_CASE("parse_sdp: a=rtcp-fb:* applies to every codec of the section", "[sdp]") {
  const std::string text = video_offer(kH264Lines + "a=rtcp-fb:* nack\r\na=rtcp-fb:96 ccm  fir\r\n", "96");
  const SessionDescription offer = parse_sdp(text);
  CHECK(offer.media.at(0).codecs.at(0).feedback == std::vector<std::string>{"ccm fir", "nack"});
}

TEST_CASE("parse_sdp: sha-256 is kept when several fingerprints are offered", "[sdp]") {
  const std::string text =
      video_offer(kH264Lines, "96", "a=rtcp-mux\r\na=fingerprint:sha-1 11:22\r\na=fingerprint:SHA-256 CC:DD\r\n");
  const SessionDescription offer = parse_sdp(text);
  CHECK(offer.media.at(0).fingerprint_algorithm == "sha-256");
  CHECK(offer.media.at(0).fingerprint == "CC:DD");
}

TEST_CASE("choose_sections: prefers 42e01f packetization-mode=1 over 42001f and 640c1f", "[sdp]") {
  const std::string lines =
      "a=rtpmap:100 H264/90000\r\n"
      "a=fmtp:100 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
      "a=rtpmap:101 H264/90000\r\n"
      "a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r\n"
      "a=rtpmap:102 H264/90000\r\n"
      "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";
  auto accepted = choose_sections(parse_sdp(video_offer(lines, "100 101 102")));
  REQUIRE(accepted.size() == 1);
  CHECK(accepted[0].codec.payload_type == 102);

  // Without 42e01f: constrained baseline at another level beats plain baseline.
  const std::string other_levels =
      "a=rtpmap:100 H264/90000\r\n"
      "a=fmtp:100 packetization-mode=1;profile-level-id=42001f\r\n"
      "a=rtpmap:101 H264/90000\r\n"
      "a=fmtp:101 packetization-mode=1;profile-level-id=640c1f\r\n"
      "a=rtpmap:103 H264/90000\r\n"
      "a=fmtp:103 packetization-mode=1;profile-level-id=42e034\r\n";
  accepted = choose_sections(parse_sdp(video_offer(other_levels, "100 101 103")));
  CHECK(accepted.at(0).codec.payload_type == 103);

  // Only baseline 42001f and high: baseline it is.
  const std::string baseline_only =
      "a=rtpmap:101 H264/90000\r\n"
      "a=fmtp:101 packetization-mode=1;profile-level-id=640c1f\r\n"
      "a=rtpmap:100 H264/90000\r\n"
      "a=fmtp:100 packetization-mode=1;profile-level-id=42001f\r\n";
  accepted = choose_sections(parse_sdp(video_offer(baseline_only, "101 100")));
  CHECK(accepted.at(0).codec.payload_type == 100);
}

TEST_CASE("choose_sections: no acceptable H.264 names the m-line", "[sdp]") {
  const std::string lines =
      "a=rtpmap:96 VP8/90000\r\n"
      "a=rtpmap:104 H264/90000\r\n"
      "a=fmtp:104 packetization-mode=0;profile-level-id=42e01f\r\n"
      "a=rtpmap:112 H264/90000\r\n"
      "a=fmtp:112 packetization-mode=1;profile-level-id=640c1f\r\n";
  std::string text = video_offer(lines, "96 104 112");
  // Put an audio section first so the video is m-line 1 with mid 1.
  std::string audio =
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "a=mid:0\r\n"
      "a=rtcp-mux\r\n"
      "a=rtpmap:111 opus/48000/2\r\n";
  text.insert(text.find("m=video"), audio);
  text.replace(text.find("a=mid:v"), 7, "a=mid:1");
  text.replace(text.find("BUNDLE v"), 8, "BUNDLE 0 1");
  CHECK(error_of(text) == "m-line 1 (mid 1, video): no H.264 constrained baseline with packetization-mode=1 offered");
}

TEST_CASE("choose_sections: audio needs Opus/48000/2", "[sdp]") {
  const std::string text =
      "v=0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n"
      "a=fingerprint:sha-256 AA\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\na=mid:a\r\na=rtcp-mux\r\n";
  CHECK(error_of(text) == "m-line 0 (mid a, audio): no Opus/48000/2 offered");
}

TEST_CASE("choose_sections: BUNDLE, rtcp-mux and a sha-256 fingerprint are required", "[sdp]") {
  CHECK(error_of(video_offer(kH264Lines, "96", "a=rtcp-mux\r\n", "")).find("no a=group:BUNDLE") !=
        std::string::npos);
  CHECK(error_of(video_offer(kH264Lines, "96", "a=rtcp-mux\r\n", "a=group:BUNDLE other\r\n")) ==
        "m-line 0 (mid v, video): not in the BUNDLE group; the relay requires all media bundled on one transport");
  CHECK(error_of(video_offer(kH264Lines, "96", "")) ==
        "m-line 0 (mid v, video): no a=rtcp-mux; the relay requires RTP and RTCP on one port");
  CHECK(error_of(video_offer(kH264Lines, "96", "a=rtcp-mux\r\n", "a=group:BUNDLE v\r\n", "sha-1 AA:BB")) ==
        "m-line 0 (mid v, video): the DTLS fingerprint uses sha-1; the relay requires sha-256");
  CHECK(error_of(video_offer(kH264Lines, "96")) == "(no error)");
}

TEST_CASE("choose_sections: a data channel section is skipped and rejected in the answer", "[sdp]") {
  std::string text = kChromiumOffer;
  text.replace(text.find("a=group:BUNDLE 0 1"), 18, "a=group:BUNDLE 0 1 2");
  text +=
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "a=mid:2\r\n"
      "a=sctp-port:5000\r\n";
  const SessionDescription offer = parse_sdp(text);
  REQUIRE(offer.media.size() == 3);
  CHECK(offer.media[2].kind == MediaKind::Other);
  CHECK(offer.media[2].formats == std::vector<std::string>{"webrtc-datachannel"});
  const auto accepted = choose_sections(offer);
  REQUIRE(accepted.size() == 2);
  const auto lines = lines_of(build_answer(offer, accepted, answer_params()));
  CHECK(std::find(lines.begin(), lines.end(), "m=application 0 UDP/DTLS/SCTP webrtc-datachannel") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "a=group:BUNDLE 0 1") != lines.end());
}

TEST_CASE("parse_sdp: malformed lines name the line number", "[sdp]") {
  auto message = [](const std::string& text) -> std::string {
    try {
      parse_sdp(text);
    } catch (const SdpError& e) {
      return e.what();
    }
    return "(no error)";
  };
  CHECK(message("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nthis is not sdp\r\n") ==
        "line 5: expected '<letter>=<value>', got 'this is not sdp'");
  CHECK(message("o=- 1 1 IN IP4 0.0.0.0\r\n") == "line 1: an SDP must start with v=0");
  CHECK(message("") == "the SDP is empty");
  CHECK(message("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 abc\r\n") ==
        "line 2: m-line payload type 'abc' is not a number 0-127");
  CHECK(message("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 128\r\n") ==
        "line 2: m-line payload type '128' is not a number 0-127");
  CHECK(message("v=0\r\nm=video 99999 UDP/TLS/RTP/SAVPF 96\r\n") ==
        "line 2: m-line port '99999' is not a number 0-65535");
  CHECK(message("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 96\r\n") == "line 2: payload type 96 appears twice in the m-line");
  CHECK(message("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264\r\n") ==
        "line 3: a=rtpmap needs '<payload type> <name>/<clock rate>[/<channels>]'");
  CHECK(message("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ssrc:-1 cname:x\r\n") ==
        "line 3: a=ssrc '-1' is not a 32-bit number");
  CHECK(message("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:a\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:a\r\n") ==
        "line 5: mid 'a' is used by two m-lines");
  CHECK(message(std::string("v=0\r\ns=a\0b\r\n", 11)) == "line 2: contains a control character");
}

TEST_CASE("parse_sdp: enforces its size limits", "[sdp]") {
  auto throws_with = [](const std::string& text, const std::string& fragment) {
    try {
      parse_sdp(text);
    } catch (const SdpError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(fragment) != std::string::npos);
      return;
    }
    FAIL("no SdpError");
  };
  std::string big = kChromiumOffer;
  while (big.size() <= 64 * 1024) {
    big += "a=x-filler:0123456789012345678901234567890123456789012345678901234567890123456789\r\n";
  }
  throws_with(big, "bytes; at most 65536 are accepted");

  std::string many_lines = "v=0\r\n";
  for (int i = 0; i < 2000; ++i) {
    many_lines += "a=x\r\n";
  }
  throws_with(many_lines, "more than 2000 lines");

  std::string many_sections = "v=0\r\n";
  for (int i = 0; i < 17; ++i) {
    many_sections += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:" + std::to_string(i) + "\r\n";
  }
  throws_with(many_sections, "line 34: more than 16 media sections");

  std::string many_codecs = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF";
  for (int i = 0; i < 65; ++i) {
    many_codecs += " " + std::to_string(i + 32);
  }
  throws_with(many_codecs + "\r\n", "line 2: more than 64 formats in one m-line");

  // Exactly at the limits parses.
  std::string sixteen = "v=0\r\n";
  for (int i = 0; i < 16; ++i) {
    sixteen += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:" + std::to_string(i) + "\r\n";
  }
  CHECK(parse_sdp(sixteen).media.size() == 16);
}

TEST_CASE("build_answer: answers a Chromium offer line by line", "[sdp]") {
  const SessionDescription offer = parse_sdp(kChromiumOffer);
  const auto accepted = choose_sections(offer);
  const std::string answer = build_answer(offer, accepted, answer_params());
  const auto lines = lines_of(answer);
  const std::vector<std::string> expected_tail = {
      "a=group:BUNDLE 0 1",
      "a=msid-semantic: WMS meeting-7",
      "a=ice-options:trickle",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111",
      "c=IN IP4 0.0.0.0",
      "a=ice-ufrag:relayUfrag",
      "a=ice-pwd:relayPasswordOf24Chars00",
      "a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF",
      "a=setup:passive",
      "a=mid:0",
      "a=sendrecv",
      "a=msid:meeting-7 0-track",
      "a=rtcp-mux",
      "a=rtpmap:111 opus/48000/2",
      "a=fmtp:111 minptime=10;useinbandfec=1",
      "a=ssrc:1111 cname:relay-cname",
      "a=ssrc:1111 msid:meeting-7 0-track",
      "m=video 9 UDP/TLS/RTP/SAVPF 106",
      "c=IN IP4 0.0.0.0",
      "a=ice-ufrag:relayUfrag",
      "a=ice-pwd:relayPasswordOf24Chars00",
      "a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF",
      "a=setup:passive",
      "a=mid:1",
      "a=sendrecv",
      "a=msid:meeting-7 1-track",
      "a=rtcp-mux",
      "a=rtcp-rsize",
      "a=rtpmap:106 H264/90000",
      "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
      "a=rtcp-fb:106 nack",
      "a=rtcp-fb:106 nack pli",
      "a=rtcp-fb:106 ccm fir",
      "a=rtcp-fb:106 goog-remb",
      "a=ssrc:2222 cname:relay-cname",
      "a=ssrc:2222 msid:meeting-7 1-track",
  };
  REQUIRE(lines.size() == 4 + expected_tail.size());
  CHECK(lines[0] == "v=0");
  CHECK(lines[1].rfind("o=- ", 0) == 0);
  CHECK(lines[2] == "s=-");
  CHECK(lines[3] == "t=0 0");
  CHECK(std::vector<std::string>(lines.begin() + 4, lines.end()) == expected_tail);
}

TEST_CASE("build_answer: the answer parses back to what was chosen", "[sdp]") {
  const SessionDescription offer = parse_sdp(kWebrtcbinOffer);
  const auto accepted = choose_sections(offer);
  AnswerParams params = answer_params();
  params.outgoing = {{"video0", 0xAAAA0001U, Direction::SendRecv}, {"audio1", 0xAAAA0002U, Direction::SendRecv}};
  const SessionDescription answer = parse_sdp(build_answer(offer, accepted, params));
  CHECK(answer.bundle_mids == std::vector<std::string>{"video0", "audio1"});
  REQUIRE(answer.media.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const MediaSection& m = answer.media[i];
    CHECK(m.mid == accepted[i].mid);
    CHECK(m.port == 9);  // bundled sections are answered with a port, not bundle-only
    CHECK(m.rtcp_mux);
    CHECK(m.setup == "passive");
    CHECK(m.fingerprint_algorithm == "sha-256");
    REQUIRE(m.codecs.size() == 1);
    CHECK(m.codecs[0].payload_type == accepted[i].codec.payload_type);
    REQUIRE(m.ssrcs.size() == 1);
    CHECK(m.ssrcs[0].ssrc == params.outgoing[i].ssrc);
    CHECK(m.ssrcs[0].cname == "relay-cname");
  }
  CHECK(answer.media[0].codecs[0].fmtp == "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01f");
  // webrtcbin offered no goog-remb: only what it offered comes back.
  CHECK(answer.media[0].codecs[0].feedback == std::vector<std::string>{"nack", "nack pli", "ccm fir"});
  CHECK(answer.media[1].codecs[0].name == "OPUS");
  CHECK(answer.media[1].codecs[0].channels == 2);
  // The relay's own answer passes its own rules.
  CHECK(choose_sections(answer).size() == 2);
}

TEST_CASE("build_answer: directions follow the offer", "[sdp]") {
  std::string text = kChromiumOffer;
  text.replace(text.find("a=sendrecv"), 10, "a=recvonly");  // audio: the terminal only listens
  text.replace(text.find("a=sendrecv"), 10, "a=sendonly");  // video: the terminal only sends
  const SessionDescription offer = parse_sdp(text);
  const auto accepted = choose_sections(offer);
  const std::string answer = build_answer(offer, accepted, answer_params());
  const SessionDescription parsed = parse_sdp(answer);
  CHECK(parsed.media.at(0).direction == Direction::SendOnly);
  CHECK(parsed.media.at(0).ssrcs.size() == 1);
  CHECK(parsed.media.at(1).direction == Direction::RecvOnly);
  CHECK(parsed.media.at(1).ssrcs.empty());  // nothing sent, no a=ssrc / a=msid
  CHECK(parsed.media.at(1).msid.empty());

  AnswerParams quiet = answer_params();
  quiet.outgoing[1].direction = Direction::RecvOnly;  // offered sendrecv, relay only receives
  const SessionDescription reparsed = parse_sdp(build_answer(parse_sdp(kChromiumOffer), accepted, quiet));
  CHECK(reparsed.media.at(1).direction == Direction::RecvOnly);
  CHECK(reparsed.media.at(1).ssrcs.empty());

  CHECK(answer_direction(Direction::Inactive, Direction::SendRecv) == Direction::Inactive);
  CHECK(answer_direction(Direction::RecvOnly, Direction::RecvOnly) == Direction::Inactive);
  CHECK(answer_direction(Direction::SendRecv, Direction::SendOnly) == Direction::SendOnly);
}

TEST_CASE("build_answer: a sending section without an outgoing SSRC is an error", "[sdp]") {
  const SessionDescription offer = parse_sdp(kChromiumOffer);
  const auto accepted = choose_sections(offer);
  AnswerParams params = answer_params();
  params.outgoing.pop_back();  // none for mid 1
  // Offered sendrecv without an Outgoing entry: the answer would send with no SSRC.
  CHECK_THROWS_WITH(build_answer(offer, accepted, params), "no outgoing SSRC for mid 1, on which the answer sends");

  std::string text = kChromiumOffer;
  text.replace(text.rfind("a=sendrecv"), 10, "a=recvonly");  // video offered recvonly: the relay must send
  const SessionDescription recvonly = parse_sdp(text);
  CHECK_THROWS_AS(build_answer(recvonly, choose_sections(recvonly), params), SdpError);
  text.replace(text.rfind("a=recvonly"), 10, "a=sendonly");  // offered sendonly: the relay only receives
  const SessionDescription sendonly = parse_sdp(text);
  CHECK(parse_sdp(build_answer(sendonly, choose_sections(sendonly), params)).media.at(1).direction ==
        Direction::RecvOnly);

  AnswerParams bad = answer_params();
  bad.ice_pwd = "two words";
  CHECK_THROWS_AS(build_answer(offer, accepted, bad), SdpError);
}
