#pragma once
// The GStreamer pipeline that writes one party's video to Matroska segments:
//   a pad of ours (whole H.264 access units) ! h264parse
//   ! splitmuxsink (matroskamux, a new file every segment_seconds)
// No decoding, no transcoding. The party's RTP packets never enter
// GStreamer: push() hands them to an H264Depacketizer on the recorder's
// thread, which reorders them, gives up on the lost ones and rebuilds the
// frames (see recorder/h264_depacketizer.hpp); GStreamer gets one buffer per
// frame, not one per packet, and no jitter buffer thread. The frames are
// pushed on the recorder's thread through the parser into splitmuxsink's
// queue, whose thread writes the files; splitmuxsink only holds the pusher
// back when two whole GOPs wait for a stalled writer. A frame's time is
// its RTP time anchored on when the relay received it, counted from the
// recording's origin, which is also the pipeline's base time: both parties'
// files share one timeline.
//
// Created, fed and destroyed on the recorder's thread, which reads the bus
// with poll_bus() on its tick. Losses and keyframe requests (the
// depacketizer's; splitmuxsink's at a new segment and the frame time guard's
// after h264parse, which arrive on a streaming thread) are collected by
// take_notes().

#include <gst/gst.h>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "recorder/archive_manifest.hpp"
#include "recorder/h264_depacketizer.hpp"
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

  // What was noticed since the last take_notes().
  struct Notes {
    std::vector<std::pair<std::int64_t, std::int64_t>> lost_ms;  // footage dropped for lost or broken packets
    bool keyframe_wanted = false;
  };

  // `first_index` numbers the first file (party-<index>.mkv); `origin_ns` is
  // the steady-clock time of the recording's start. Throws std::runtime_error
  // when the pipeline cannot be built or started.
  PartyPipeline(Party party, const std::filesystem::path& folder, unsigned first_index,
                std::chrono::seconds segment_length, std::int64_t origin_ns, Listener& listener);
  ~PartyPipeline();
  PartyPipeline(const PartyPipeline&) = delete;
  PartyPipeline& operator=(const PartyPipeline&) = delete;

  // One packet from the party's queue, into the depacketizer; the frames it
  // completes are held until flush(). Packets before origin_ns are dropped.
  void push(const VideoPacketQueue::Slot& packet);
  // Gives up on holes older than the depacketizer's wait (measured against
  // the steady clock now, so a stream that stops behind a hole still gets its
  // last frames written), then hands the frames collected to the pipeline in
  // one buffer list per drain.
  void flush();
  // Ends the stream: the complete frames are written, the last segment is
  // closed, then on_finished().
  void finish();
  Notes take_notes();
  // Handles the bus messages posted since the last call (segments opened and
  // closed, an error, the end of the stream): the listener hears of them here.
  void poll_bus();
  bool failed() const noexcept { return failed_; }
  // The index the next file would get (after an error, a new pipeline starts there).
  unsigned next_index() const noexcept { return next_index_; }

 private:
  static gboolean on_upstream_event(GstPad* pad, GstObject* parent, GstEvent* event);
  static gboolean on_upstream_query(GstPad* pad, GstObject* parent, GstQuery* query);
  static GstPadProbeReturn on_parsed_frame(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  void handle_message(GstMessage* message);
  void on_access_unit(const H264Depacketizer::AccessUnit& au);
  void push_pending();
  void stop() noexcept;

  Party party_;
  std::int64_t origin_ns_;
  Listener& listener_;
  GstElement* pipeline_ = nullptr;  // owned
  GstPad* source_ = nullptr;        // owned; linked to the parser's sink pad
  GstBus* bus_ = nullptr;           // owned
  H264Depacketizer depacketizer_;
  GstBufferList* pending_ = nullptr;  // owned; the frames completed since the last flush()
  bool frames_pushed_ = false;        // a frame was pushed: a segment may be open
  GstFlowReturn last_flow_ = GST_FLOW_OK;
  bool finishing_ = false;
  bool failed_ = false;
  unsigned next_index_;
  std::mutex notes_mutex_;  // also written on the pipeline's streaming thread
  Notes notes_;
  // On the parser's streaming thread only. The frames pushed have
  // rising times, but h264parse cuts a buffer it reads as two pictures (a
  // sender's AU that H.264 counts as two) and guesses the second half's time
  // one frame duration on, which may pass the next frame's; splitmuxsink
  // fails the whole pipeline on a time that goes back. Such frames are
  // dropped up to the next keyframe (and noted as lost).
  GstClockTime last_frame_time_ = GST_CLOCK_TIME_NONE;
  bool waiting_for_keyframe_ = false;
  GstClockTime dropped_from_ = GST_CLOCK_TIME_NONE;
};

}  // namespace huijian::recorder
