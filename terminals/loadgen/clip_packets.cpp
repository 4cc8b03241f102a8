#include "terminals/loadgen/clip_packets.hpp"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <memory>

#include "media/rtp_packet.hpp"

namespace huijian::terminals::loadgen {

namespace {

struct ElementUnref {
  void operator()(GstElement* e) const noexcept { gst_object_unref(e); }
};
using ElementPtr = std::unique_ptr<GstElement, ElementUnref>;

struct Stop {
  GstElement* pipeline;
  ~Stop() { gst_element_set_state(pipeline, GST_STATE_NULL); }
};

std::string bus_error(GstElement* pipeline) {
  std::unique_ptr<GstBus, void (*)(gpointer)> bus(gst_element_get_bus(pipeline), gst_object_unref);
  GstMessage* message = gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR);
  if (!message) return "";
  GError* error = nullptr;
  gst_message_parse_error(message, &error, nullptr);
  std::string text = error ? error->message : "unknown error";
  if (error) g_error_free(error);
  gst_message_unref(message);
  return text;
}

// Runs `description` (ending in an appsink named "sink" that outputs RTP) to
// its end and collects the payloads, grouped into frames by timestamp.
ClipTrack collect(const std::string& description, const std::string& what, std::uint32_t clock_rate,
                  bool video, const char* file_property_value) {
  GError* error = nullptr;
  ElementPtr pipeline(gst_parse_launch(description.c_str(), &error));
  if (error) {
    std::string message = error->message;
    g_error_free(error);
    throw ClipError("cannot build the " + what + " pipeline: " + message);
  }
  if (file_property_value) {
    ElementPtr source(gst_bin_get_by_name(GST_BIN(pipeline.get()), "file"));
    g_object_set(source.get(), "location", file_property_value, nullptr);
  }
  ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  Stop stop{pipeline.get()};
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw ClipError("cannot start the " + what + " pipeline: " + bus_error(pipeline.get()));

  ClipTrack track;
  track.clock_rate = clock_rate;
  bool have_timestamp = false;
  std::uint32_t last_timestamp = 0;
  std::uint32_t first_timestamp = 0;
  constexpr std::size_t kMaxPackets = 2'000'000;  // ~ an hour of 1080p at 4 Mbit/s
  for (;;) {
    GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 20 * GST_SECOND);
    if (!sample) {
      if (gst_app_sink_is_eos(GST_APP_SINK(sink.get()))) break;
      std::string reason = bus_error(pipeline.get());
      throw ClipError("the " + what + " pipeline stopped: " + (reason.empty() ? "no data for 20 s" : reason));
    }
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      std::vector<std::uint8_t> bytes(map.data, map.data + map.size);
      gst_buffer_unmap(buffer, &map);
      auto rtp = media::RtpPacket::parse(bytes);
      if (rtp && track.packets.size() < kMaxPackets) {
        const std::uint32_t timestamp = rtp->timestamp();
        if (!have_timestamp || timestamp != last_timestamp) {
          if (!have_timestamp) first_timestamp = timestamp;
          track.frames.push_back(ClipFrame{track.packets.size(), 0, false});
          have_timestamp = true;
          last_timestamp = timestamp;
        }
        auto payload = rtp->payload();
        ClipFrame& frame = track.frames.back();
        frame.count++;
        if (video && media::h264_payload_is_keyframe(payload)) frame.keyframe = true;
        track.payload_bytes += payload.size();
        track.packets.push_back(ClipPacket{std::vector<std::uint8_t>(payload.begin(), payload.end()), rtp->marker()});
      }
    }
    gst_sample_unref(sample);
  }
  if (track.frames.size() < 2) throw ClipError("the " + what + " has fewer than two frames");
  const double span = static_cast<double>(static_cast<std::uint32_t>(last_timestamp - first_timestamp)) / clock_rate;
  const double per_frame = span / static_cast<double>(track.frames.size() - 1);
  track.frame_interval = std::chrono::microseconds(static_cast<std::int64_t>(per_frame * 1e6));
  if (track.frame_interval.count() <= 0) throw ClipError("the " + what + " has no usable timestamps");
  return track;
}

}  // namespace

double ClipTrack::seconds() const noexcept {
  return static_cast<double>(frames.size()) * static_cast<double>(frame_interval.count()) / 1e6;
}

double ClipTrack::bitrate_kbps() const noexcept {
  const double s = seconds();
  return s > 0 ? static_cast<double>(payload_bytes) * 8 / s / 1000 : 0;
}

std::size_t ClipTrack::keyframe_at_or_before(std::size_t frame) const noexcept {
  for (std::size_t i = std::min(frame, frames.size() - 1) + 1; i-- > 0;)
    if (frames[i].keyframe) return i;
  return 0;
}

Clip load_clip(const std::string& file) {
  Clip clip;
  clip.video = collect(
      "filesrc name=file ! matroskademux ! h264parse ! "
      "video/x-h264,stream-format=byte-stream,alignment=au ! "
      "rtph264pay mtu=" + std::to_string(kRtpMtu) + " config-interval=-1 pt=96 ! appsink name=sink sync=false",
      "video clip " + file, 90000, true, file.c_str());
  bool any_keyframe = false;
  for (const auto& f : clip.video.frames) any_keyframe = any_keyframe || f.keyframe;
  if (!any_keyframe) throw ClipError("the video clip " + file + " has no keyframe");
  const auto audio_packets = static_cast<long>(clip.video.seconds() * 50) + 1;
  clip.audio = collect(
      "audiotestsrc wave=sine freq=440 volume=0.3 samplesperbuffer=960 num-buffers=" +
          std::to_string(audio_packets) +
          " ! audio/x-raw,rate=48000,channels=2 ! opusenc bitrate=32000 frame-size=20 ! "
          "rtpopuspay pt=111 ! appsink name=sink sync=false",
      "Opus audio", 48000, false, nullptr);
  return clip;
}

}  // namespace huijian::terminals::loadgen
