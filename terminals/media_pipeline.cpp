#include "terminals/media_pipeline.hpp"

#include "terminals/main_loop_task.hpp"
#include "terminals/terminal_log.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/video/navigation.h>
#include <gst/webrtc/webrtc.h>

namespace huijian::terminals {

namespace {

constexpr std::size_t kMaxPendingCandidates = 256;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = component_logger("media");
  return logger;
}

// Wall-clock now as UTC ms since 1970: what the report's `at` times are made
// of. Called per incoming RTP buffer, so it must stay cheap (a vDSO clock read).
std::int64_t unix_ms_now() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// RTP packets in one probe call: a buffer, or each buffer of a list.
std::uint64_t packets_in(GstPadProbeInfo* info) noexcept {
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) return gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  return 1;
}

constexpr auto kRtpBufferProbe = static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);

GstElementPtr by_name(GstElement* bin, const char* name) {
  return GstElementPtr(gst_bin_get_by_name(GST_BIN(bin), name));
}

// webrtcbin answers promises with an "error" GError on failure.
std::string promise_error(GstPromise* promise) {
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "no reply";
  const GstStructure* reply = gst_promise_get_reply(promise);
  if (reply && gst_structure_has_field(reply, "error")) {
    GError* err = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    GErrorPtr owned(err);
    return err ? err->message : "unknown error";
  }
  return {};
}

}  // namespace

MediaPipeline::MediaPipeline(MediaConfig config, std::string source_file, MediaPipelineListener& listener)
    : config_(std::move(config)), source_file_(std::move(source_file)), listener_(listener) {}

MediaPipeline::~MediaPipeline() { stop(); }

void MediaPipeline::run_on_main(std::function<void()> fn) { post_to_main(alive_, std::move(fn)); }

void MediaPipeline::start() {
  const std::string description = describe_pipeline(config_);
  log()->debug("pipeline: {}", description);
  GError* raw_err = nullptr;
  GstElement* raw = gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw_err);
  GErrorPtr err(raw_err);
  if (!raw || err) {
    if (raw) gst_object_unref(raw);
    throw MediaError(std::string("cannot build the media pipeline: ") + (err ? err->message : "unknown error") +
                     " (are gstreamer1.0-plugins-{base,good,bad,ugly}, gstreamer1.0-libav, gstreamer1.0-x "
                     "and gstreamer1.0-nice installed?)");
  }
  pipeline_.reset(raw);

  if (config_.source == SourceKind::file) {
    auto src = by_name(pipeline_.get(), element::file_source);
    if (!g_file_test(source_file_.c_str(), G_FILE_TEST_IS_REGULAR))
      throw MediaError("video file '" + source_file_ + "' does not exist (make one with scripts/make-test-clip)");
    g_object_set(src.get(), "location", source_file_.c_str(), nullptr);
  }

  // Count what is sent: encoded frames entering the video payloader.
  if (auto pay = by_name(pipeline_.get(), element::video_pay)) {
    GstPadPtr sink(gst_element_get_static_pad(pay.get(), "sink"));
    gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, &MediaPipeline::count_local_cb, this, nullptr);
  }

  if (!config_.self_test) {
    webrtc_ = by_name(pipeline_.get(), element::webrtc).get();  // the pipeline keeps it alive
    restrict_ice_addresses();
    connect_webrtc_signals();
    add_officer_voice_transceiver();  // before PLAYING: the first offer must have it
  }

  GstBusPtr bus(gst_element_get_bus(pipeline_.get()));
  bus_watch_ = gst_bus_add_watch(bus.get(), &MediaPipeline::on_bus_message_cb, this);

  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw MediaError("the media pipeline does not start (see the GStreamer error above; is a camera/sound "
                     "device missing? try --source test --headless)");
  log()->info("media pipeline started ({}x{}@{}, {})", config_.width, config_.height, config_.fps,
              config_.source == SourceKind::file ? "file passthrough"
              : config_.source == SourceKind::camera ? "camera"
                                                     : "test source");
}

void MediaPipeline::stop() noexcept {
  if (!pipeline_) return;
  if (webrtc_) g_signal_handlers_disconnect_by_data(webrtc_, this);
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  if (bus_watch_) {
    g_source_remove(bus_watch_);
    bus_watch_ = 0;
  }
  webrtc_ = nullptr;
  officer_transceiver_.reset();
  pipeline_.reset();
}

void MediaPipeline::restrict_ice_addresses() {
  if (config_.ice_addresses.empty()) return;
  GstWebRTCICE* ice = nullptr;
  g_object_get(webrtc_, "ice-agent", &ice, nullptr);
  if (!ice) throw MediaError("webrtcbin has no ICE agent");
  // UDP only: the relay is UDP, and fewer candidates means a faster start.
  g_object_set(ice, "ice-tcp", FALSE, nullptr);
  for (const auto& address : config_.ice_addresses) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(ice, "add-local-ip-address", address.c_str(), &ok);
    if (!ok) {
      gst_object_unref(ice);
      throw MediaError("ICE cannot use local address '" + address + "' (check --ice-address)");
    }
  }
  gst_object_unref(ice);
  log()->info("ICE restricted to {}", fmt::join(config_.ice_addresses, ", "));
}

void MediaPipeline::connect_webrtc_signals() {
  g_signal_connect(webrtc_, "on-negotiation-needed", G_CALLBACK(&MediaPipeline::on_negotiation_needed_cb), this);
  g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(&MediaPipeline::on_ice_candidate_cb), this);
  g_signal_connect(webrtc_, "pad-added", G_CALLBACK(&MediaPipeline::on_pad_added_cb), this);
  g_signal_connect(webrtc_, "notify::ice-connection-state", G_CALLBACK(&MediaPipeline::on_notify_cb), this);
  g_signal_connect(webrtc_, "notify::connection-state", G_CALLBACK(&MediaPipeline::on_notify_cb), this);
  g_signal_connect(webrtc_, "notify::ice-gathering-state", G_CALLBACK(&MediaPipeline::on_notify_cb), this);

  // Ask for retransmissions on video (the server answers NACKs from its
  // buffer): find the webrtcbin sink pad the video queue feeds.
  if (auto vqueue = by_name(pipeline_.get(), "vsendqueue")) {
    GstPadPtr src(gst_element_get_static_pad(vqueue.get(), "src"));
    GstPadPtr peer(gst_pad_get_peer(src.get()));
    GstWebRTCRTPTransceiver* trans = nullptr;
    if (peer) g_object_get(peer.get(), "transceiver", &trans, nullptr);
    if (trans) {
      g_object_set(trans, "do-nack", TRUE, nullptr);
      gst_object_unref(trans);
    } else {
      log()->warn("no video transceiver found; NACK stays off");
    }
  }
}

// The officer's voice: one more audio m-line, recvonly, after the terminal's
// own audio and video (their transceivers come from the request pads made
// while the pipeline was parsed, so this one is the last m-line of the offer).
void MediaPipeline::add_officer_voice_transceiver() {
  GstCapsPtr caps(gst_caps_from_string(officer_voice_caps().c_str()));
  if (!caps) throw MediaError("bad officer-voice caps: " + officer_voice_caps());
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(), &trans);
  if (!trans) throw MediaError("webrtcbin refused the officer-voice transceiver (recvonly Opus)");
  officer_transceiver_.reset(GST_OBJECT(trans));  // the signal returns a reference of our own
  log()->info("officer-voice transceiver added (recvonly Opus, payload type {})", kOfficerVoicePayloadType);
}

bool MediaPipeline::is_officer_voice_pad(GstPad* pad) const {
  if (!officer_transceiver_) return false;
  GstWebRTCRTPTransceiver* trans = nullptr;
  g_object_get(pad, "transceiver", &trans, nullptr);
  GstObjectPtr owned(trans ? GST_OBJECT(trans) : nullptr);
  return owned && owned.get() == officer_transceiver_.get();
}

// --- offer / answer -------------------------------------------------------

void MediaPipeline::on_negotiation_needed_cb(GstElement*, gpointer data) {
  auto* self = static_cast<MediaPipeline*>(data);
  self->run_on_main([self] { self->on_negotiation_needed(); });
}

void MediaPipeline::on_negotiation_needed() {
  if (offer_requested_) {
    log()->debug("webrtcbin asks for renegotiation; the terminal offers once per call, ignored");
    return;
  }
  offer_requested_ = true;
  auto* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        // webrtcbin thread: take the SDP text out, finish on the main loop.
        auto* self = static_cast<MediaPipeline*>(data);
        self->on_offer_created(p);
      },
      this, nullptr);
  g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

void MediaPipeline::on_offer_created(GstPromise* promise) {
  std::string error = promise_error(promise);
  std::string text;
  if (error.empty()) {
    GstWebRTCSessionDescription* offer = nullptr;
    gst_structure_get(gst_promise_get_reply(promise), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
    if (offer) {
      GCharPtr sdp(gst_sdp_message_as_text(offer->sdp));
      text = sdp.get();
      gst_webrtc_session_description_free(offer);
    } else {
      error = "webrtcbin made no offer";
    }
  }
  gst_promise_unref(promise);

  run_on_main([this, error, text] {
    if (!webrtc_) return;  // stopped meanwhile
    if (!error.empty()) return listener_.on_media_error("cannot create the offer: " + error);
    std::string fixed = fix_h264_fmtp(text);
    GstSDPMessage* msg = nullptr;
    if (gst_sdp_message_new_from_text(fixed.c_str(), &msg) != GST_SDP_OK)
      return listener_.on_media_error("the local offer does not parse");
    GstWebRTCSessionDescription* desc = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, msg);
    local_mids_ = sdp_mids(fixed);
    g_signal_emit_by_name(webrtc_, "set-local-description", desc, nullptr);
    gst_webrtc_session_description_free(desc);
    log()->info("local offer ready ({} m-lines)", local_mids_.size());
    log()->debug("local offer:\n{}", fixed);
    listener_.on_local_offer(fixed);
  });
}

void MediaPipeline::set_remote_answer(const std::string& sdp) {
  if (!webrtc_) throw MediaError("no webrtcbin to take the answer");
  log()->debug("server's answer:\n{}", sdp);
  GstSDPMessage* msg = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &msg) != GST_SDP_OK) {
    if (msg) gst_sdp_message_free(msg);
    throw MediaError("the server's answer SDP does not parse");
  }
  GstWebRTCSessionDescription* desc = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, msg);
  auto* promise = gst_promise_new_with_change_func(
      [](GstPromise* p, gpointer data) {
        auto* self = static_cast<MediaPipeline*>(data);
        std::string error = promise_error(p);
        gst_promise_unref(p);
        self->run_on_main([self, error] {
          if (!error.empty()) return self->listener_.on_media_error("the server's answer was refused: " + error);
          self->on_remote_description_set();
        });
      },
      this, nullptr);
  g_signal_emit_by_name(webrtc_, "set-remote-description", desc, promise);
  gst_webrtc_session_description_free(desc);
}

void MediaPipeline::on_remote_description_set() {
  remote_set_ = true;
  log()->info("remote answer applied; {} queued candidate(s)", pending_remote_candidates_.size());
  auto pending = std::move(pending_remote_candidates_);
  pending_remote_candidates_.clear();
  for (const auto& c : pending) add_remote_candidate(c);
}

void MediaPipeline::add_remote_candidate(const IceCandidate& candidate) {
  if (!webrtc_) return;
  if (candidate.candidate.empty()) {
    log()->debug("server: end of candidates");
    return;
  }
  if (!remote_set_) {
    if (pending_remote_candidates_.size() < kMaxPendingCandidates) pending_remote_candidates_.push_back(candidate);
    return;
  }
  g_signal_emit_by_name(webrtc_, "add-ice-candidate", candidate.mline_index, candidate.candidate.c_str());
}

void MediaPipeline::on_ice_candidate_cb(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto* self = static_cast<MediaPipeline*>(data);
  std::string text = candidate ? candidate : "";
  self->run_on_main([self, mline, text] {
    IceCandidate c;
    c.candidate = normalize_candidate(text);
    c.mline_index = mline;
    if (mline < self->local_mids_.size()) c.sdp_mid = self->local_mids_[mline];
    self->listener_.on_local_candidate(c);
  });
}

void MediaPipeline::on_notify_cb(GObject* object, GParamSpec* pspec, gpointer data) {
  auto* self = static_cast<MediaPipeline*>(data);
  gint value = 0;
  g_object_get(object, pspec->name, &value, nullptr);
  std::string nick = std::to_string(value);
  if (G_IS_PARAM_SPEC_ENUM(pspec)) {
    if (GEnumValue* v = g_enum_get_value(G_PARAM_SPEC_ENUM(pspec)->enum_class, value)) nick = v->value_nick;
  }
  std::string name = pspec->name;
  std::string kind = name == "ice-connection-state" ? "ice" : name == "connection-state" ? "peer" : "gathering";
  self->run_on_main([self, kind, nick] {
    self->listener_.on_connection_state(kind, nick);
    if (kind == "gathering" && nick == "complete") {
      IceCandidate end;
      end.sdp_mid = self->local_mids_.empty() ? "" : self->local_mids_.front();
      self->listener_.on_local_candidate(end);
    }
  });
}

// --- incoming media -------------------------------------------------------

void MediaPipeline::on_pad_added_cb(GstElement*, GstPad* pad, gpointer data) {
  static_cast<MediaPipeline*>(data)->on_incoming_pad(pad);
}

void MediaPipeline::on_incoming_pad(GstPad* pad) {
  // Streaming thread of webrtcbin: link synchronously, report via run_on_main.
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  GstCapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  std::string media;
  if (caps && gst_caps_get_size(caps.get()) > 0) {
    const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    if (const char* m = gst_structure_get_string(s, "media")) media = m;
  }
  const bool video = media == "video";
  // The officer's voice is audio too; its transceiver tells it apart from
  // the other party's sound, which keeps arriving on the first audio m-line.
  const bool officer_voice = !video && is_officer_voice_pad(pad);
  if (!video && media != "audio") {
    log()->warn("incoming stream of unknown media '{}' discarded", media);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    gst_bin_add(GST_BIN(pipeline_.get()), sink);
    gst_element_sync_state_with_parent(sink);
    GstPadPtr sinkpad(gst_element_get_static_pad(sink, "sink"));
    gst_pad_link(pad, sinkpad.get());
    return;
  }

  GError* raw_err = nullptr;
  GstElement* branch =
      gst_parse_bin_from_description(describe_receive_branch(video, config_.headless).c_str(), TRUE, &raw_err);
  GErrorPtr err(raw_err);
  if (!branch) {
    std::string message = std::string("cannot build the decoder: ") + (err ? err->message : "?");
    run_on_main([this, message] { listener_.on_media_error(message); });
    return;
  }
  gst_bin_add(GST_BIN(pipeline_.get()), branch);

  if (video) {
    gst_pad_add_probe(pad, kRtpBufferProbe, &MediaPipeline::note_remote_media_cb, this, nullptr);
    auto dec = by_name(branch, "remote_vdec");
    GstPadPtr decsrc(gst_element_get_static_pad(dec.get(), "src"));
    gst_pad_add_probe(decsrc.get(), GST_PAD_PROBE_TYPE_BUFFER, &MediaPipeline::count_video_cb, this, nullptr);
    auto queue = by_name(branch, "remote_vqueue");
    GstPadPtr qsrc(gst_element_get_static_pad(queue.get(), "src"));
    gst_pad_add_probe(qsrc.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &MediaPipeline::navigation_cb, this, nullptr);
  } else {
    gst_pad_add_probe(pad, kRtpBufferProbe,
                      officer_voice ? &MediaPipeline::count_officer_audio_cb : &MediaPipeline::count_audio_cb, this,
                      nullptr);
    // Both sounds go to the one playback mixer (the speaker, or the fakesink
    // headless), so the person at the terminal hears the officer over the
    // conversation, and the echo canceller's probe sees both.
    auto mixer = by_name(pipeline_.get(), element::playback_mixer);
    if (!gst_element_link(branch, mixer.get())) {
      std::string message = officer_voice ? "cannot link the officer's voice to the speaker"
                                          : "cannot link remote audio to the speaker";
      run_on_main([this, message] { listener_.on_media_error(message); });
      return;
    }
  }
  gst_element_sync_state_with_parent(branch);
  GstPadPtr branch_sink(gst_element_get_static_pad(branch, "sink"));
  GstPadLinkReturn link = gst_pad_link(pad, branch_sink.get());
  if (link != GST_PAD_LINK_OK) {
    std::string message = "cannot link incoming " + media + " (" + gst_pad_link_get_name(link) + ")";
    run_on_main([this, message] { listener_.on_media_error(message); });
    return;
  }
  if (officer_voice) {
    GCharPtr name(gst_pad_get_name(pad));
    log()->info("officer voice stream linked ({})", name ? name.get() : "?");
  } else {
    log()->info("incoming {} stream linked", media);
  }
}

GstPadProbeReturn MediaPipeline::count_audio_cb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<MediaPipeline*>(data);
  self->remote_audio_packets_.fetch_add(packets_in(info), std::memory_order_relaxed);
  self->remote_media_last_ms_.store(unix_ms_now(), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn MediaPipeline::count_officer_audio_cb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<MediaPipeline*>(data);
  const std::int64_t now = unix_ms_now();
  self->officer_audio_packets_.fetch_add(packets_in(info), std::memory_order_relaxed);
  std::int64_t none = 0;
  self->officer_audio_first_ms_.compare_exchange_strong(none, now, std::memory_order_relaxed);
  self->officer_audio_last_ms_.store(now, std::memory_order_relaxed);
  self->remote_media_last_ms_.store(now, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// Incoming video: only the time (frames are counted after the decoder).
GstPadProbeReturn MediaPipeline::note_remote_media_cb(GstPad*, GstPadProbeInfo*, gpointer data) {
  static_cast<MediaPipeline*>(data)->remote_media_last_ms_.store(unix_ms_now(), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn MediaPipeline::count_video_cb(GstPad* pad, GstPadProbeInfo*, gpointer data) {
  auto* self = static_cast<MediaPipeline*>(data);
  if (self->remote_frames_.fetch_add(1, std::memory_order_relaxed) == 0)
    self->run_on_main([self] { self->listener_.on_first_remote_frame(); });
  GstCapsPtr caps(gst_pad_get_current_caps(pad));
  if (caps && gst_caps_get_size(caps.get()) > 0) {
    const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    int w = 0, h = 0;
    if (gst_structure_get_int(s, "width", &w) && gst_structure_get_int(s, "height", &h)) {
      self->remote_width_.store(w, std::memory_order_relaxed);
      self->remote_height_.store(h, std::memory_order_relaxed);
    }
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn MediaPipeline::count_local_cb(GstPad*, GstPadProbeInfo*, gpointer data) {
  static_cast<MediaPipeline*>(data)->local_frames_.fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn MediaPipeline::navigation_cb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<MediaPipeline*>(data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (event && GST_EVENT_TYPE(event) == GST_EVENT_NAVIGATION) {
    gst_event_ref(event);
    self->run_on_main([self, event] {
      self->handle_navigation_event(event);
      gst_event_unref(event);
    });
  }
  return GST_PAD_PROBE_OK;
}

void MediaPipeline::handle_navigation_event(GstEvent* event) {
  if (gst_navigation_event_get_type(event) != GST_NAVIGATION_EVENT_KEY_PRESS) return;
  const gchar* key = nullptr;
  if (gst_navigation_event_parse_key_event(event, &key) && key) listener_.on_key(key);
}

// --- bus, overlay, counters ----------------------------------------------

gboolean MediaPipeline::on_bus_message_cb(GstBus*, GstMessage* message, gpointer data) {
  static_cast<MediaPipeline*>(data)->handle_bus_message(message);
  return G_SOURCE_CONTINUE;
}

void MediaPipeline::handle_bus_message(GstMessage* message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError* raw = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &raw, &debug);
      GErrorPtr err(raw);
      GCharPtr dbg(debug);
      std::string where = GST_MESSAGE_SRC_NAME(message) ? GST_MESSAGE_SRC_NAME(message) : "?";
      log()->debug("GStreamer error detail: {}", dbg ? dbg.get() : "");
      listener_.on_media_error(where + ": " + (err ? err->message : "unknown error"));
      break;
    }
    case GST_MESSAGE_WARNING: {
      GError* raw = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_warning(message, &raw, &debug);
      GErrorPtr err(raw);
      GCharPtr dbg(debug);
      log()->warn("{}: {}", GST_MESSAGE_SRC_NAME(message) ? GST_MESSAGE_SRC_NAME(message) : "?",
                  err ? err->message : "");
      break;
    }
    case GST_MESSAGE_EOS:
      log()->warn("end of stream (the source file ended?)");
      break;
    case GST_MESSAGE_LATENCY:
      if (pipeline_) gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_navigation_message_get_type(message) == GST_NAVIGATION_MESSAGE_EVENT) {
        GstEvent* event = nullptr;
        if (gst_navigation_message_parse_event(message, &event) && event) {
          handle_navigation_event(event);
          gst_event_unref(event);
        }
      }
      break;
    default:
      break;
  }
}

void MediaPipeline::set_overlay(const std::string& name, const std::string& clock_text) {
  if (!pipeline_) return;
  if (auto e = by_name(pipeline_.get(), element::name_overlay)) g_object_set(e.get(), "text", name.c_str(), nullptr);
  if (auto e = by_name(pipeline_.get(), element::clock_overlay))
    g_object_set(e.get(), "text", clock_text.c_str(), nullptr);
}

void MediaPipeline::set_notice_overlay(const std::string& text) {
  if (!pipeline_) return;
  if (auto e = by_name(pipeline_.get(), element::notice_overlay)) g_object_set(e.get(), "text", text.c_str(), nullptr);
}

MediaCounters MediaPipeline::counters() const noexcept {
  MediaCounters c;
  c.remote_frames_decoded = remote_frames_.load(std::memory_order_relaxed);
  c.remote_width = remote_width_.load(std::memory_order_relaxed);
  c.remote_height = remote_height_.load(std::memory_order_relaxed);
  c.remote_audio_packets = remote_audio_packets_.load(std::memory_order_relaxed);
  c.local_frames_sent = local_frames_.load(std::memory_order_relaxed);
  c.officer_audio_packets = officer_audio_packets_.load(std::memory_order_relaxed);
  auto time = [](const std::atomic<std::int64_t>& ms) -> std::optional<std::int64_t> {
    std::int64_t v = ms.load(std::memory_order_relaxed);
    return v != 0 ? std::optional<std::int64_t>(v) : std::nullopt;
  };
  c.officer_audio_first_ms = time(officer_audio_first_ms_);
  c.officer_audio_last_ms = time(officer_audio_last_ms_);
  c.remote_media_last_ms = time(remote_media_last_ms_);
  return c;
}

}  // namespace huijian::terminals
