#pragma once
// Real media files for the recorder tests, made with GStreamer pipelines
// (gst_parse_launch) run to their end.

#include <catch2/catch.hpp>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace huijian::recorder::testing {

// Runs a gst-launch style description until EOS; fails the test on an error
// or when it takes longer than `timeout_s`.
inline void run_pipeline(const std::string& description, int timeout_s = 60) {
  if (!gst_is_initialized()) gst_init(nullptr, nullptr);
  GError* error = nullptr;
  std::unique_ptr<GstElement, decltype(&gst_object_unref)> pipeline(gst_parse_launch(description.c_str(), &error),
                                                                     &gst_object_unref);
  if (error != nullptr) {
    const std::string message = error->message;
    g_error_free(error);
    FAIL("gst_parse_launch(" << description << "): " << message);
  }
  REQUIRE(pipeline);
  REQUIRE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  std::unique_ptr<GstBus, decltype(&gst_object_unref)> bus(gst_element_get_bus(pipeline.get()), &gst_object_unref);
  GstMessage* message = gst_bus_timed_pop_filtered(bus.get(), static_cast<GstClockTime>(timeout_s) * GST_SECOND,
                                                   static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string failure;
  if (message == nullptr) {
    failure = "timed out";
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(message, &err, nullptr);
    failure = err != nullptr ? err->message : "error";
    if (err != nullptr) g_error_free(err);
  }
  if (message != nullptr) gst_message_unref(message);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  if (!failure.empty()) FAIL("pipeline " << description << ": " << failure);
}

// A picture-only H.264 Matroska segment like the recorder's: `frames` frames
// at 30 fps, the first one stamped at `start_ms` (the recorder keeps running
// time, so a later segment starts at its offset from the recording's origin).
inline void make_h264_segment(const std::filesystem::path& file, int frames, std::int64_t start_ms = 0,
                              int width = 320, int height = 240, const std::string& pattern = "smpte") {
  run_pipeline("videotestsrc num-buffers=" + std::to_string(frames) + " pattern=" + pattern +
               " timestamp-offset=" + std::to_string(start_ms * 1000000) + " ! video/x-raw,width=" +
               std::to_string(width) + ",height=" + std::to_string(height) +
               ",framerate=30/1 ! x264enc speed-preset=ultrafast tune=zerolatency key-int-max=30 ! "
               "video/x-h264,profile=constrained-baseline ! h264parse ! matroskamux ! filesink location=\"" +
               file.string() + "\"");
}

// The same picture with an Opus audio track muxed beside it: what an archive must never hold.
inline void make_segment_with_audio(const std::filesystem::path& file, int frames) {
  run_pipeline("matroskamux name=mux ! filesink location=\"" + file.string() + "\" videotestsrc num-buffers=" +
               std::to_string(frames) +
               " ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc speed-preset=ultrafast "
               "tune=zerolatency ! h264parse ! mux. audiotestsrc num-buffers=" +
               std::to_string(frames * 48000 / 30 / 960) +
               " samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! audioconvert ! opusenc ! mux.");
}

// The mean luma (0..255) of a rectangle of every decoded frame of a video file (any
// container GStreamer demuxes), in presentation order.
inline std::vector<double> mean_luma_per_frame(const std::filesystem::path& file, int x, int y, int width,
                                               int height) {
  if (!gst_is_initialized()) gst_init(nullptr, nullptr);
  GError* error = nullptr;
  std::unique_ptr<GstElement, decltype(&gst_object_unref)> pipeline(
      gst_parse_launch(("filesrc location=\"" + file.string() +
                        "\" ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=frames sync=false")
                           .c_str(),
                       &error),
      &gst_object_unref);
  if (error != nullptr) {
    const std::string message = error->message;
    g_error_free(error);
    FAIL("decode " << file << ": " << message);
  }
  std::unique_ptr<GstElement, decltype(&gst_object_unref)> sink(
      gst_bin_get_by_name(GST_BIN(pipeline.get()), "frames"), &gst_object_unref);
  REQUIRE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  std::vector<double> means;
  for (;;) {
    GstSample* sample = nullptr;
    g_signal_emit_by_name(sink.get(), "try-pull-sample", static_cast<GstClockTime>(30 * GST_SECOND), &sample);
    if (sample == nullptr) break;  // EOS (or a stall, which the caller's frame count shows)
    GstVideoInfo info;
    gst_video_info_from_caps(&info, gst_sample_get_caps(sample));
    GstVideoFrame frame;
    if (gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
      const auto* pixels = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
      const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
      double sum = 0;
      for (int row = y; row < y + height; ++row)
        for (int col = x; col < x + width; ++col) sum += pixels[row * stride + col];
      means.push_back(sum / (static_cast<double>(width) * height));
      gst_video_frame_unmap(&frame);
    }
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return means;
}

}  // namespace huijian::recorder::testing
