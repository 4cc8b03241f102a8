#pragma once
// The terminal's GStreamer pipeline around webrtcbin: sends the local picture
// and sound, decodes and plays (or counts, headless) what the other side sends
// and the voice of an interjecting officer (a third, recvonly audio m-line),
// and reports offer, candidates and connection states to its listener.
//
// Threading: construct, call and destroy on the thread that runs the default
// GMainContext. Listener calls also arrive there: callbacks from GStreamer
// threads are marshalled with g_main_context_invoke.

#include "terminals/call_report.hpp"
#include "terminals/gst_handles.hpp"
#include "terminals/pipeline_description.hpp"
#include "terminals/signaling_messages.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace huijian::terminals {

class MediaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class MediaPipelineListener {
 public:
  virtual ~MediaPipelineListener() = default;
  virtual void on_local_offer(const std::string& sdp) = 0;
  // An empty candidate means gathering is complete.
  virtual void on_local_candidate(const IceCandidate& candidate) = 0;
  // kind: "ice", "peer" or "gathering"; state: the GStreamer nick ("connected", ...).
  virtual void on_connection_state(const std::string& kind, const std::string& state) = 0;
  virtual void on_first_remote_frame() = 0;
  virtual void on_key(const std::string& key) = 0;  // key pressed in the video window
  virtual void on_media_error(const std::string& message) = 0;
};

class MediaPipeline {
 public:
  MediaPipeline(MediaConfig config, std::string source_file, MediaPipelineListener& listener);
  ~MediaPipeline();  // stops the pipeline (state NULL)
  MediaPipeline(const MediaPipeline&) = delete;
  MediaPipeline& operator=(const MediaPipeline&) = delete;

  // Builds the pipeline and sets it PLAYING; webrtcbin then asks for
  // negotiation and the offer arrives at on_local_offer. Throws MediaError.
  void start();
  void stop() noexcept;

  // Throws MediaError if the SDP does not parse.
  void set_remote_answer(const std::string& sdp);
  void add_remote_candidate(const IceCandidate& candidate);

  void set_overlay(const std::string& name, const std::string& clock_text);
  // The status line at the bottom of the picture (supervision notices,
  // time warnings, the end reason); "" clears it. No-op without an overlay
  // (a pre-encoded file source).
  void set_notice_overlay(const std::string& text);

  MediaCounters counters() const noexcept;

 private:
  struct Alive {};
  void run_on_main(std::function<void()> fn);
  void restrict_ice_addresses();
  void connect_webrtc_signals();
  void add_officer_voice_transceiver();
  bool is_officer_voice_pad(GstPad* pad) const;
  void on_negotiation_needed();
  void on_offer_created(GstPromise* promise);
  void on_remote_description_set();
  void on_incoming_pad(GstPad* pad);
  void on_state_notify(const char* property, const char* kind);
  void handle_bus_message(GstMessage* message);
  void handle_navigation_event(GstEvent* event);

  static void on_negotiation_needed_cb(GstElement*, gpointer self);
  static void on_ice_candidate_cb(GstElement*, guint mline, gchar* candidate, gpointer self);
  static void on_pad_added_cb(GstElement*, GstPad* pad, gpointer self);
  static void on_notify_cb(GObject*, GParamSpec* pspec, gpointer self);
  static gboolean on_bus_message_cb(GstBus*, GstMessage* message, gpointer self);
  static GstPadProbeReturn count_audio_cb(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn count_officer_audio_cb(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn note_remote_media_cb(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn count_video_cb(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn count_local_cb(GstPad*, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn navigation_cb(GstPad*, GstPadProbeInfo* info, gpointer self);

  MediaConfig config_;
  std::string source_file_;
  MediaPipelineListener& listener_;
  std::shared_ptr<Alive> alive_ = std::make_shared<Alive>();
  GstElementPtr pipeline_;
  GstElement* webrtc_ = nullptr;  // owned by pipeline_
  // The recvonly audio transceiver for the officer's voice; set before the
  // pipeline plays, compared with incoming pads' transceivers (streaming threads).
  GstObjectPtr officer_transceiver_;
  guint bus_watch_ = 0;
  bool offer_requested_ = false;
  bool remote_set_ = false;
  std::vector<IceCandidate> pending_remote_candidates_;
  std::vector<std::string> local_mids_;

  // Written by probes on webrtcbin's source pads (streaming threads), read by
  // counters(): relaxed atomics, nothing allocated per buffer. Times are UTC
  // ms since 1970, 0 = none yet.
  std::atomic<std::uint64_t> remote_audio_packets_{0};
  std::atomic<std::uint64_t> officer_audio_packets_{0};
  std::atomic<std::int64_t> officer_audio_first_ms_{0};
  std::atomic<std::int64_t> officer_audio_last_ms_{0};
  std::atomic<std::int64_t> remote_media_last_ms_{0};
  std::atomic<std::uint64_t> remote_frames_{0};
  std::atomic<int> remote_width_{0};
  std::atomic<int> remote_height_{0};
  std::atomic<std::uint64_t> local_frames_{0};
};

}  // namespace huijian::terminals
