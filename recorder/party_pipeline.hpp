#pragma once
// The GStreamer pipeline that writes one party's video to Matroska segments:
//   appsrc (the party's RTP) ! rtpjitterbuffer ! rtph264depay ! h264parse
//   ! splitmuxsink (matroskamux, a new file every segment_seconds)
// No decoding, no transcoding. Buffers carry the time the relay received the
// packet, counted from the recording's origin, which is also the pipeline's
// base time: both parties' files share one timeline.
//
// Created, fed and destroyed on the recorder's thread, whose GMainContext
// receives the bus messages. What GStreamer's streaming threads notice (lost
// packets, keyframe requests) is queued and collected by take_notes().

#include <gst/gst.h>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "recorder/archive_manifest.hpp"
#include "recorder/video_packet_queue.hpp"

namespace huijian::recorder {

class PartyPipeline {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_segment_opened(Party party, const std::filesystem::path& file, std::int64_t start_ms) = 0;
    virtual void on_segment_closed(Party party, const std::filesystem::path& file, std::int64_t end_ms) = 0;
    // The pipeline cannot go on (a write error, say); it is stopped.
    virtual void on_pipeline_error(Party party, const std::string& message) = 0;
    // Every buffer reached the files after finish().
    virtual void on_finished(Party party) = 0;
  };

  // What streaming threads noticed since the last take_notes().
  struct Notes {
    std::vector<std::pair<std::int64_t, std::int64_t>> lost_ms;  // spans the jitter buffer gave up on
    bool keyframe_wanted = false;
  };

  // `first_index` numbers the first file (party-<index>.mkv); `origin_ns` is
  // the steady-clock time of the recording's start. Throws std::runtime_error
  // when the pipeline cannot be built or started.
  PartyPipeline(Party party, const std::filesystem::path& folder, unsigned first_index,
                std::chrono::seconds segment_length, std::int64_t origin_ns, GMainContext* context,
                Listener& listener);
  ~PartyPipeline();
  PartyPipeline(const PartyPipeline&) = delete;
  PartyPipeline& operator=(const PartyPipeline&) = delete;

  // One packet from the party's queue, held until flush(). Packets before origin_ns are dropped.
  void push(const VideoPacketQueue::Slot& packet);
  // Hands what push() collected to the pipeline in one buffer list: one
  // wake-up of its streaming thread per drain, not one per packet.
  void flush();
  // Ends the stream: the last segment is closed, then on_finished().
  void finish();
  Notes take_notes();
  bool failed() const noexcept { return failed_; }
  // The index the next file would get (after an error, a new pipeline starts there).
  unsigned next_index() const noexcept { return next_index_; }

 private:
  static gboolean on_bus_message(GstBus* bus, GstMessage* message, gpointer self);
  static GstPadProbeReturn on_lost_event(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_upstream_event(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_parsed_frame(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  void handle_message(GstMessage* message);
  void stop() noexcept;

  Party party_;
  std::int64_t origin_ns_;
  Listener& listener_;
  GstElement* pipeline_ = nullptr;  // owned
  GstElement* source_ = nullptr;    // borrowed from the pipeline
  GSource* bus_watch_ = nullptr;
  int payload_type_ = -1;
  GstBufferList* pending_ = nullptr;  // owned; what push() collected since the last flush()
  bool finishing_ = false;
  bool failed_ = false;
  unsigned next_index_;
  std::mutex notes_mutex_;
  Notes notes_;
  // On the parser's streaming thread only: the muxer needs frame times that
  // never go back. A sender that resumes after a freeze may send older ones;
  // those frames are dropped up to the next keyframe (and noted as lost).
  GstClockTime last_frame_time_ = GST_CLOCK_TIME_NONE;
  bool waiting_for_keyframe_ = false;
  GstClockTime dropped_from_ = GST_CLOCK_TIME_NONE;
};

}  // namespace huijian::recorder
