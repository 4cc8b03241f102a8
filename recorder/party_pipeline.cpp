#include "recorder/party_pipeline.hpp"

#include <gst/video/video-event.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace huijian::recorder {

namespace {

GstElement* make(const char* factory, const char* name) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (!e)
    throw std::runtime_error(std::string("the GStreamer element '") + factory +
                             "' is missing (install the packages in third_party/debian-packages.txt)");
  return e;
}

std::int64_t to_ms(GstClockTime t) { return GST_CLOCK_TIME_IS_VALID(t) ? static_cast<std::int64_t>(t / GST_MSECOND) : 0; }

}  // namespace

PartyPipeline::PartyPipeline(Party party, const std::filesystem::path& folder, unsigned first_index,
                             std::chrono::seconds segment_length, std::int64_t origin_ns, Listener& listener)
    : party_(party),
      origin_ns_(origin_ns),
      listener_(listener),
      depacketizer_([this](const H264Depacketizer::AccessUnit& au) { on_access_unit(au); }),
      next_index_(first_index) {
  const std::string name = to_string(party);
  pipeline_ = gst_pipeline_new(("record-" + name).c_str());
  gst_object_ref_sink(pipeline_);
  try {
    GstElement* parse = make("h264parse", "parse");
    GstElement* mux = make("matroskamux", "mux");
    GstElement* split = make("splitmuxsink", "split");
    gst_bin_add_many(GST_BIN(pipeline_), parse, split, nullptr);
    const std::string location = (folder / (name + "-%05d.mkv")).string();
    g_object_set(split, "location", location.c_str(), "max-size-time",
                 static_cast<guint64>(segment_length.count()) * GST_SECOND, "start-index",
                 static_cast<gint>(first_index), "send-keyframe-requests", TRUE, "muxer", mux, nullptr);
    if (!gst_element_link(parse, split))
      throw std::runtime_error("cannot link the recording pipeline of the " + name);

    // The frames enter through a pad of our own, pushed on the recorder's
    // thread: no source element and no streaming thread of its own (appsrc's
    // queue and thread hop cost more than the parsing they carried).
    source_ = gst_pad_new(("frames-" + name).c_str(), GST_PAD_SRC);
    gst_object_ref_sink(source_);
    gst_pad_set_element_private(source_, this);
    gst_pad_set_event_function(source_, &PartyPipeline::on_upstream_event);
    gst_pad_set_query_function(source_, &PartyPipeline::on_upstream_query);
    GstPad* parse_sink = gst_element_get_static_pad(parse, "sink");
    const GstPadLinkReturn linked = gst_pad_link(source_, parse_sink);
    gst_object_unref(parse_sink);
    if (linked != GST_PAD_LINK_OK)
      throw std::runtime_error("cannot link the recording pipeline of the " + name);

    GstPad* parse_src = gst_element_get_static_pad(parse, "src");
    gst_pad_add_probe(parse_src, GST_PAD_PROBE_TYPE_BUFFER, &PartyPipeline::on_parsed_frame, this, nullptr);
    gst_object_unref(parse_src);

    // The bus is read by poll_bus() on the recorder's tick rather than
    // watched: a watch puts one more descriptor in every poll of the
    // recorder's loop (two per meeting), for a handful of messages a segment.
    bus_ = gst_element_get_bus(pipeline_);

    // One timeline for both parties: running time = steady time - origin.
    GstClock* clock = gst_system_clock_obtain();
    gst_pipeline_use_clock(GST_PIPELINE(pipeline_), clock);
    gst_object_unref(clock);
    gst_element_set_start_time(pipeline_, GST_CLOCK_TIME_NONE);
    gst_element_set_base_time(pipeline_, static_cast<GstClockTime>(origin_ns));
    // No live source in the pipeline: the state change completes (ASYNC)
    // when the first frame reaches the file; the pads are active at once.
    if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      throw std::runtime_error("the recording pipeline of the " + name + " does not start");
    gst_pad_set_active(source_, TRUE);
    // The sticky events a source sends first; they travel with the first frame.
    gst_pad_push_event(source_, gst_event_new_stream_start(("huijian-record-" + name).c_str()));
    GstCaps* caps = gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING, "byte-stream", "alignment",
                                        G_TYPE_STRING, "au", nullptr);
    gst_pad_push_event(source_, gst_event_new_caps(caps));
    gst_caps_unref(caps);
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(source_, gst_event_new_segment(&segment));
  } catch (...) {
    stop();
    throw;
  }
}

PartyPipeline::~PartyPipeline() { stop(); }

void PartyPipeline::stop() noexcept {
  if (pending_) {
    gst_buffer_list_unref(pending_);
    pending_ = nullptr;
  }
  if (bus_) {
    gst_object_unref(bus_);
    bus_ = nullptr;
  }
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
    pipeline_ = nullptr;
  }
  if (source_) {
    gst_pad_set_active(source_, FALSE);
    gst_object_unref(source_);  // unlinked as the parser goes with the pipeline
    source_ = nullptr;
  }
}

void PartyPipeline::push(const VideoPacketQueue::Slot& packet) {
  if (!source_ || finishing_ || failed_) return;
  if (packet.arrival_ns < origin_ns_) return;
  depacketizer_.push({packet.bytes, packet.length}, packet.arrival_ns - origin_ns_);
}

// Called by the depacketizer, on the recorder's thread, for every whole frame.
void PartyPipeline::on_access_unit(const H264Depacketizer::AccessUnit& au) {
  if (!source_ || finishing_ || failed_) return;
  GstBuffer* buffer = gst_buffer_new_memdup(au.data.data(), au.data.size());
  const auto at = static_cast<GstClockTime>(au.time_ns);
  GST_BUFFER_PTS(buffer) = at;
  GST_BUFFER_DTS(buffer) = at;
  if (!au.keyframe) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (!pending_) pending_ = gst_buffer_list_new();
  gst_buffer_list_add(pending_, buffer);  // takes the buffer
}

void PartyPipeline::flush() {
  if (!source_ || finishing_ || failed_) return;
  // The current time rather than the latest arrival: behind a hole that no
  // later packet fills, the frames that did arrive are still written ~100 ms on.
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  depacketizer_.advance(now_ns - origin_ns_);
  push_pending();
}

void PartyPipeline::push_pending() {
  if (!pending_) return;
  GstBufferList* list = pending_;
  pending_ = nullptr;
  if (!source_ || failed_) {
    gst_buffer_list_unref(list);
    return;
  }
  frames_pushed_ = true;
  // Takes the list. A failure (a write error, say) is also posted on the bus,
  // where handle_message() stops the recording of this party.
  const GstFlowReturn flow = gst_pad_push_list(source_, list);
  if (flow != GST_FLOW_OK && flow != last_flow_)
    spdlog::warn("[recorder] {}: the pipeline refused frames ({})", to_string(party_), gst_flow_get_name(flow));
  last_flow_ = flow;
}

void PartyPipeline::finish() {
  if (finishing_) return;
  if (source_ && !failed_) {
    depacketizer_.finish();
    push_pending();
    const auto& st = depacketizer_.stats();
    spdlog::info("[recorder] {}: {} packets, {} frames written, {} dropped, {} packets lost, {} late, {} malformed, "
                 "{} with a start code inside a NAL unit, {} unsupported, {} NAL units left out, {} of another SSRC",
                 to_string(party_), st.packets, st.frames, st.dropped_frames, st.lost, st.late, st.malformed,
                 st.start_codes_inside, st.unsupported, st.left_out, st.foreign);
  }
  finishing_ = true;
  // No frame ever went in: no segment is open and there is nothing to close.
  if (failed_ || !source_ || !frames_pushed_) {
    listener_.on_finished(party_);
    return;
  }
  gst_pad_push_event(source_, gst_event_new_eos());
}

PartyPipeline::Notes PartyPipeline::take_notes() {
  // The depacketizer lives on this (the recorder's) thread; notes_ is also written on streaming threads.
  const auto losses = depacketizer_.take_losses();
  const bool wanted = depacketizer_.take_keyframe_wanted();
  std::lock_guard lock(notes_mutex_);
  Notes out = std::move(notes_);
  notes_ = Notes{};
  for (const auto& loss : losses) out.lost_ms.emplace_back(loss.from_ms, loss.to_ms);
  out.keyframe_wanted = out.keyframe_wanted || wanted;
  return out;
}

GstPadProbeReturn PartyPipeline::on_parsed_frame(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<PartyPipeline*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstClockTime t = GST_BUFFER_DTS_IS_VALID(buffer) ? GST_BUFFER_DTS(buffer) : GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(t)) return GST_PAD_PROBE_OK;
  const bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (GST_CLOCK_TIME_IS_VALID(self->last_frame_time_) && t < self->last_frame_time_) {
    if (!self->waiting_for_keyframe_) self->dropped_from_ = self->last_frame_time_;
    self->waiting_for_keyframe_ = true;
    std::lock_guard lock(self->notes_mutex_);
    self->notes_.keyframe_wanted = true;
    return GST_PAD_PROBE_DROP;
  }
  if (self->waiting_for_keyframe_) {
    if (!keyframe) return GST_PAD_PROBE_DROP;
    self->waiting_for_keyframe_ = false;
    std::lock_guard lock(self->notes_mutex_);
    self->notes_.lost_ms.emplace_back(to_ms(self->dropped_from_), to_ms(t));
  }
  self->last_frame_time_ = t;
  return GST_PAD_PROBE_OK;
}

gboolean PartyPipeline::on_upstream_event(GstPad* pad, GstObject*, GstEvent* event) {
  auto* self = static_cast<PartyPipeline*>(gst_pad_get_element_private(pad));
  const bool keyframe = gst_video_event_is_force_key_unit(event);
  gst_event_unref(event);
  if (!keyframe) return FALSE;
  std::lock_guard lock(self->notes_mutex_);
  self->notes_.keyframe_wanted = true;
  return TRUE;
}

gboolean PartyPipeline::on_upstream_query(GstPad*, GstObject*, GstQuery* query) {
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_LATENCY:
      // A live source that adds no latency of its own.
      gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_CAPS: {
      GstCaps* caps = gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING, "byte-stream",
                                          "alignment", G_TYPE_STRING, "au", nullptr);
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    default:
      return FALSE;
  }
}

void PartyPipeline::poll_bus() {
  // Whatever else the bus holds (state changes, stream status, latency) is dropped on the way.
  constexpr auto kWanted = static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  while (bus_) {
    GstMessage* message = gst_bus_pop_filtered(bus_, kWanted);
    if (!message) break;
    handle_message(message);
    gst_message_unref(message);
  }
}

void PartyPipeline::handle_message(GstMessage* message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(message);
      if (!s) break;
      const bool opened = gst_structure_has_name(s, "splitmuxsink-fragment-opened");
      const bool closed = gst_structure_has_name(s, "splitmuxsink-fragment-closed");
      if (!opened && !closed) break;
      const char* location = gst_structure_get_string(s, "location");
      guint64 running_time = GST_CLOCK_TIME_NONE;
      gst_structure_get_uint64(s, "running-time", &running_time);
      if (!location) break;
      if (opened) {
        ++next_index_;
        listener_.on_segment_opened(party_, location, to_ms(running_time));
      } else {
        listener_.on_segment_closed(party_, location, to_ms(running_time));
      }
      break;
    }
    case GST_MESSAGE_ERROR: {
      GError* error = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      std::string text = error ? error->message : "unknown error";
      if (error) g_error_free(error);
      g_free(debug);
      if (failed_) break;
      failed_ = true;
      listener_.on_pipeline_error(party_, text);
      if (finishing_) listener_.on_finished(party_);
      break;
    }
    case GST_MESSAGE_EOS:
      if (finishing_ && !failed_) listener_.on_finished(party_);
      break;
    default:
      break;
  }
}

}  // namespace huijian::recorder
