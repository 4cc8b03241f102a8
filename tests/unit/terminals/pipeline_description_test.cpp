#include "terminals/pipeline_description.hpp"
#include "terminals/terminal_session.hpp"

#include <catch2/catch.hpp>
#include <gst/gst.h>

using namespace huijian::terminals;

namespace {
bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}
}  // namespace

TEST_CASE("fix_h264_fmtp: rewrites the level webrtcbin took from the SPS to 42e01f with asymmetry") {
  // webrtcbin's offer for a 1080p level-4 stream (abridged)
  const std::string offer =
      "v=0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\n"
      "a=rtpmap:102 H264/90000\r\n"
      "a=fmtp:102 packetization-mode=1;profile-level-id=42c028;sprop-parameter-sets=Z0LAKNoB4A==,aM48gA==\r\n"
      "a=rtpmap:103 rtx/90000\r\n"
      "a=fmtp:103 apt=102\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "a=rtpmap:111 OPUS/48000/2\r\n"
      "a=fmtp:111 sprop-stereo=0\r\n";
  const std::string fixed = fix_h264_fmtp(offer);
  CHECK(contains(fixed,
                 "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f;"
                 "sprop-parameter-sets=Z0LAKNoB4A==,aM48gA==;level-asymmetry-allowed=1\r\n"));
  CHECK(contains(fixed, "a=fmtp:103 apt=102\r\n"));        // rtx untouched
  CHECK(contains(fixed, "a=fmtp:111 sprop-stereo=0\r\n"));  // opus untouched
  CHECK_FALSE(contains(fixed, "42c028"));
  // idempotent
  CHECK(fix_h264_fmtp(fixed) == fixed);
}

TEST_CASE("fix_h264_fmtp: adds a missing profile-level-id and keeps \\n-only SDP intact") {
  const std::string offer = "m=video 9 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 packetization-mode=1\n";
  CHECK(fix_h264_fmtp(offer) ==
        "m=video 9 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
        "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1\n");
}

TEST_CASE("describe_pipeline: test source encodes constrained baseline H.264 pt 102 and Opus pt 111") {
  MediaConfig c;
  c.bitrate_kbps = 2500;
  const std::string d = describe_pipeline(c);
  CHECK(contains(d, "webrtcbin name=webrtc bundle-policy=max-bundle"));
  CHECK_FALSE(contains(d, "stun-server"));
  CHECK(contains(d, "videotestsrc is-live=true"));
  CHECK(contains(d, "width=1920,height=1080,framerate=30/1"));
  CHECK(contains(d, "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=2500"));
  CHECK(contains(d, "video/x-h264,profile=constrained-baseline"));
  CHECK(contains(d, "rtph264pay name=vpay config-interval=-1 aggregate-mode=zero-latency pt=102"));
  CHECK(contains(d, "webrtcdsp probe=echoprobe echo-cancel=true"));
  CHECK(contains(d, "webrtcechoprobe name=echoprobe"));
  CHECK(contains(d, "rtpopuspay name=apay pt=111"));
  CHECK(contains(d, "autoaudiosink"));
}

TEST_CASE("describe_pipeline: a file source is sent without re-encoding, paced by the clock") {
  MediaConfig c;
  c.source = SourceKind::file;
  c.headless = true;
  const std::string d = describe_pipeline(c);
  CHECK(contains(d, "matroskademux"));
  CHECK(contains(d, "identity sync=true"));
  CHECK_FALSE(contains(d, "x264enc"));
  CHECK_FALSE(contains(d, "autoaudiosink"));
}

TEST_CASE("describe_pipeline: every variant parses into a GStreamer pipeline with the named elements") {
  gst_init(nullptr, nullptr);
  for (auto source : {SourceKind::test, SourceKind::file}) {
    for (bool self_test : {false, true}) {
      MediaConfig c;
      c.source = source;
      c.headless = true;
      c.self_test = self_test;
      GError* err = nullptr;
      GstElement* p = gst_parse_launch_full(describe_pipeline(c).c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
      INFO((err ? err->message : "ok"));
      REQUIRE(p);
      REQUIRE(err == nullptr);
      auto has = [&](const char* name) {
        GstElement* e = gst_bin_get_by_name(GST_BIN(p), name);
        if (e) gst_object_unref(e);
        return e != nullptr;
      };
      CHECK(has(element::video_pay));
      CHECK(has(element::audio_pay));
      CHECK(has(element::echo_probe));
      CHECK(has(element::playback_mixer));
      CHECK(has(element::webrtc) == !self_test);
      CHECK(has(element::name_overlay) == (source == SourceKind::test));
      CHECK(has(element::notice_overlay) == (source == SourceKind::test));
      CHECK(has(element::file_source) == (source == SourceKind::file));
      gst_object_unref(p);
    }
  }
  for (bool video : {false, true}) {
    GError* err = nullptr;
    GstElement* bin = gst_parse_bin_from_description(describe_receive_branch(video, true).c_str(), TRUE, &err);
    REQUIRE(bin);
    GstPad* sink = gst_element_get_static_pad(bin, "sink");
    CHECK(sink != nullptr);
    if (sink) gst_object_unref(sink);
    GstPad* src = gst_element_get_static_pad(bin, "src");
    CHECK((src != nullptr) == !video);  // audio leaves the bin to the speaker mixer
    if (src) gst_object_unref(src);
    gst_object_unref(bin);
  }
}

TEST_CASE("officer_voice_caps: Opus 48000/2 on a payload type the conversation and the picture do not use") {
  gst_init(nullptr, nullptr);
  GstCaps* caps = gst_caps_from_string(officer_voice_caps().c_str());
  REQUIRE(caps);
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  CHECK(std::string(gst_structure_get_name(s)) == "application/x-rtp");
  CHECK(std::string(gst_structure_get_string(s, "media")) == "audio");
  CHECK(std::string(gst_structure_get_string(s, "encoding-name")) == "OPUS");
  CHECK(std::string(gst_structure_get_string(s, "encoding-params")) == "2");
  int rate = 0, pt = 0;
  CHECK(gst_structure_get_int(s, "clock-rate", &rate));
  CHECK(rate == 48000);
  CHECK(gst_structure_get_int(s, "payload", &pt));
  CHECK(pt == kOfficerVoicePayloadType);
  CHECK(pt != kAudioPayloadType);
  CHECK(pt != kVideoPayloadType);
  gst_caps_unref(caps);
}

TEST_CASE("format_call_time: hours, minutes, seconds with leading zeros") {
  using std::chrono::seconds;
  CHECK(format_call_time(seconds(0)) == "00:00:00");
  CHECK(format_call_time(seconds(59)) == "00:00:59");
  CHECK(format_call_time(seconds(3723)) == "01:02:03");
  CHECK(format_call_time(seconds(-5)) == "00:00:00");
  CHECK(format_call_time(seconds(100 * 3600)) == "100:00:00");
}
