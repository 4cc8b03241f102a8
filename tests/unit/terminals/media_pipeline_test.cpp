#include "terminals/media_pipeline.hpp"

#include <catch2/catch.hpp>
#include <gst/gst.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

using namespace huijian::terminals;

namespace {

// Waits on the default main loop (where MediaPipeline reports) for the offer.
class OfferCatcher : public MediaPipelineListener {
 public:
  explicit OfferCatcher(GMainLoop* loop) : loop_(loop) {}
  void on_local_offer(const std::string& sdp) override {
    offer = sdp;
    g_main_loop_quit(loop_);
  }
  void on_local_candidate(const IceCandidate&) override {}
  void on_connection_state(const std::string&, const std::string&) override {}
  void on_first_remote_frame() override {}
  void on_key(const std::string&) override {}
  void on_media_error(const std::string& message) override {
    errors.push_back(message);
    g_main_loop_quit(loop_);
  }

  std::string offer;
  std::vector<std::string> errors;

 private:
  GMainLoop* loop_;
};

// One m-line of an SDP with the lines of its section.
struct Section {
  std::string m;
  std::vector<std::string> lines;
  bool has(const std::string& line) const { return std::find(lines.begin(), lines.end(), line) != lines.end(); }
};

std::vector<Section> sections_of(const std::string& sdp) {
  std::vector<Section> out;
  std::istringstream in(sdp);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("m=", 0) == 0) out.push_back({line, {}});
    else if (!out.empty()) out.back().lines.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("MediaPipeline: the offer ends with a recvonly Opus m-line on a payload type of its own (officer's voice)") {
  gst_init(nullptr, nullptr);
  MediaConfig config;
  config.source = SourceKind::test;
  config.width = 320;
  config.height = 240;
  config.fps = 15;
  config.headless = true;
  config.ice_addresses = {"127.0.0.1"};

  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  OfferCatcher listener(loop);
  MediaCounters counters;
  {
    MediaPipeline pipeline(config, "", listener);
    pipeline.start();
    bool timed_out = false;
    struct Timeout {
      GMainLoop* loop;
      bool* flag;
    } timeout{loop, &timed_out};
    guint timer = g_timeout_add_seconds(
        20,
        [](gpointer data) -> gboolean {
          auto* t = static_cast<Timeout*>(data);
          *t->flag = true;
          g_main_loop_quit(t->loop);
          return G_SOURCE_REMOVE;
        },
        &timeout);
    g_main_loop_run(loop);
    if (!timed_out) g_source_remove(timer);
    counters = pipeline.counters();
    pipeline.stop();
    CHECK_FALSE(timed_out);
  }
  g_main_loop_unref(loop);

  INFO(listener.offer);
  REQUIRE(listener.errors.empty());
  const auto sections = sections_of(listener.offer);
  REQUIRE(sections.size() == 3);

  // The terminal's own picture and sound first (sendrecv), the conversation
  // audio on its usual payload type...
  int own_audio = 0, own_video = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const Section& s = sections[i];
    CHECK(s.has("a=sendrecv"));
    if (s.m.rfind("m=audio ", 0) == 0) {
      ++own_audio;
      CHECK(s.has("a=rtpmap:" + std::to_string(kAudioPayloadType) + " OPUS/48000/2"));
    } else if (s.m.rfind("m=video ", 0) == 0) {
      ++own_video;
    }
  }
  CHECK(own_audio == 1);
  CHECK(own_video == 1);

  // ...then the officer's voice: audio, receive only, Opus 48000/2 on a
  // payload type neither the conversation nor the picture uses.
  const Section& voice = sections[2];
  const std::string pt = std::to_string(kOfficerVoicePayloadType);
  CHECK(voice.m.rfind("m=audio ", 0) == 0);
  CHECK(voice.m.substr(voice.m.rfind(' ') + 1) == pt);  // the only format of the m-line
  CHECK(voice.has("a=recvonly"));
  CHECK(voice.has("a=rtpmap:" + pt + " OPUS/48000/2"));
  for (std::size_t i = 0; i < 2; ++i) {
    for (const auto& line : sections[i].lines) CHECK(line.rfind("a=rtpmap:" + pt + " ", 0) != 0);
  }

  // Nothing was received: no officer voice, no media time.
  CHECK(counters.officer_audio_packets == 0);
  CHECK_FALSE(counters.officer_audio_first_ms.has_value());
  CHECK_FALSE(counters.remote_media_last_ms.has_value());
}
