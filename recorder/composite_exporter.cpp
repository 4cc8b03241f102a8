#include "recorder/composite_exporter.hpp"

#include "common/utc_time.hpp"
#include "recorder/archive_manifest.hpp"
#include "recorder/beijing_time.hpp"
#include "recorder/media_probe.hpp"

#include <fmt/format.h>
#include <gst/gst.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace huijian::recorder {

namespace fs = std::filesystem;

namespace {

// Layout of the 1920x1080 output: the two 960x540 slots side by side in the
// middle, the device names in the band above, the clock in the band below.
constexpr int kSlotWidth = kCompositeWidth / 2;
constexpr int kSlotHeight = kSlotWidth * 9 / 16;  // 540
constexpr int kSlotTop = (kCompositeHeight - kSlotHeight) / 2;
constexpr int kBitrateKbps = 4000;  // two 540p pictures; the archive's footage is ~4 Mbit/s per party at 1080p
constexpr int kKeyframeFrames = 2 * kCompositeFps;  // a seek point every 2 s
constexpr const char* kFont = "Noto Sans CJK SC";
constexpr std::uintmax_t kMaxManifestBytes = 64ull << 20;
// A party's last picture stays up this long after its frame ends (a late or
// lost frame); after that its slot shows the "no picture" slate.
constexpr GstClockTime kFreezeLimit = 500 * GST_MSECOND;

struct GstObjectUnref {
  void operator()(gpointer p) const noexcept { gst_object_unref(p); }
};
using ElementPtr = std::unique_ptr<GstElement, GstObjectUnref>;
using PadPtr = std::unique_ptr<GstPad, GstObjectUnref>;
using BusPtr = std::unique_ptr<GstBus, GstObjectUnref>;
struct MessageUnref {
  void operator()(GstMessage* p) const noexcept { gst_message_unref(p); }
};
using MessagePtr = std::unique_ptr<GstMessage, MessageUnref>;
struct CapsUnref {
  void operator()(GstCaps* p) const noexcept { gst_caps_unref(p); }
};
using CapsPtr = std::unique_ptr<GstCaps, CapsUnref>;

std::string read_manifest_bytes(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) throw ExportError(file.string() + ": cannot read the manifest (" + ec.message() + ")");
  if (size > kMaxManifestBytes) throw ExportError(file.string() + ": too large for a manifest");
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw ExportError(file.string() + ": read error");
  return bytes;
}

Manifest load_manifest(const fs::path& folder) {
  const fs::path file = folder / std::string(kManifestFile);
  const std::string bytes = read_manifest_bytes(file);
  try {
    return manifest_from_json(nlohmann::json::parse(bytes));
  } catch (const nlohmann::json::exception& e) {
    throw ExportError(file.string() + ": not valid JSON (" + e.what() + ")");
  } catch (const ManifestError& e) {
    throw ExportError(file.string() + ": " + e.what());
  }
}

const char* party_title(Party party) { return party == Party::Lawyer ? "律师 lawyer" : "在押人员 detainee"; }

// The pipeline under construction; every element belongs to the bin.
class PipelineBuilder {
 public:
  PipelineBuilder() : pipeline_(gst_pipeline_new("huijian-export")) {
    if (!pipeline_) throw ExportError("cannot create a GStreamer pipeline");
    gst_object_ref_sink(pipeline_.get());
  }

  GstElement* make(const char* factory, const std::string& name = {}) {
    GstElement* element = gst_element_factory_make(factory, name.empty() ? nullptr : name.c_str());
    if (element == nullptr)
      throw ExportError(fmt::format("GStreamer element \"{}\" is not installed ({})", factory, plugin_hint(factory)));
    if (!gst_bin_add(GST_BIN(pipeline_.get()), element))
      throw ExportError(fmt::format("cannot add element \"{}\" to the pipeline", name.empty() ? factory : name));
    return element;
  }

  GstElement* caps_filter(const std::string& caps_text) {
    GstElement* filter = make("capsfilter");
    CapsPtr caps(gst_caps_from_string(caps_text.c_str()));
    if (!caps) throw ExportError("bad caps " + caps_text);
    g_object_set(filter, "caps", caps.get(), nullptr);
    return filter;
  }

  static void link(GstElement* a, GstElement* b) {
    if (!gst_element_link(a, b))
      throw ExportError(fmt::format("cannot link {} to {}", GST_ELEMENT_NAME(a), GST_ELEMENT_NAME(b)));
  }

  // Links src_element to a new request pad of `aggregator` (compositor, concat) and returns that pad.
  static PadPtr link_to_request_pad(GstElement* src_element, GstElement* aggregator) {
    PadPtr sink(gst_element_request_pad_simple(aggregator, "sink_%u"));
    PadPtr src(gst_element_get_static_pad(src_element, "src"));
    if (!sink || !src || gst_pad_link(src.get(), sink.get()) != GST_PAD_LINK_OK)
      throw ExportError(fmt::format("cannot link {} to {}", GST_ELEMENT_NAME(src_element), GST_ELEMENT_NAME(aggregator)));
    return sink;
  }

  GstElement* pipeline() const noexcept { return pipeline_.get(); }

 private:
  static const char* plugin_hint(std::string_view factory) {
    if (factory == "avdec_h264") return "apt install gstreamer1.0-libav";
    if (factory == "x264enc") return "apt install gstreamer1.0-plugins-ugly";
    if (factory == "h264parse") return "apt install gstreamer1.0-plugins-bad";
    if (factory == "matroskademux" || factory == "mp4mux" || factory == "imagefreeze")
      return "apt install gstreamer1.0-plugins-good";
    return "apt install gstreamer1.0-plugins-base";
  }

  ElementPtr pipeline_;
};

// ------------------------------------------------------------ segment timing

// Places one segment's frames on the recording's timeline: the first frame at
// the manifest's start_ms, the others at their distance from it as the file
// has them. Whatever the file's own timestamps are (the recorder's muxer keeps
// its running time, matroskademux opens its segment at the first frame),
// the party's track then lines up with the other on the recording's origin.
struct SegmentClock {
  GstClockTime start_ns = 0;
  GstSegment upstream{};
  bool have_segment = false;
  std::optional<GstClockTime> first_running;
};

GstPadProbeReturn restamp_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* clock = static_cast<SegmentClock*>(data);
  if ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) != 0) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_SEGMENT) return GST_PAD_PROBE_OK;
    gst_event_copy_segment(event, &clock->upstream);
    clock->have_segment = clock->upstream.format == GST_FORMAT_TIME;
    // Downstream sees one plain timeline: running time == timestamp.
    GstSegment plain;
    gst_segment_init(&plain, GST_FORMAT_TIME);
    GstEvent* replacement = gst_event_new_segment(&plain);
    gst_event_set_seqnum(replacement, gst_event_get_seqnum(event));
    gst_event_unref(event);
    GST_PAD_PROBE_INFO_DATA(info) = replacement;
    return GST_PAD_PROBE_OK;
  }
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) == 0) return GST_PAD_PROBE_OK;
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) pts = GST_BUFFER_DTS(buffer);
  buffer = gst_buffer_make_writable(buffer);
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;  // the decoder orders by PTS
  if (!GST_CLOCK_TIME_IS_VALID(pts)) {
    GST_BUFFER_PTS(buffer) = GST_CLOCK_TIME_NONE;  // the decoder interpolates
    return GST_PAD_PROBE_OK;
  }
  GstClockTime running = pts;
  if (clock->have_segment) {
    const GstClockTime r = gst_segment_to_running_time(&clock->upstream, GST_FORMAT_TIME, pts);
    if (GST_CLOCK_TIME_IS_VALID(r)) running = r;
  }
  if (!clock->first_running) clock->first_running = running;
  const auto placed = static_cast<std::int64_t>(clock->start_ns) + static_cast<std::int64_t>(running) -
                      static_cast<std::int64_t>(*clock->first_running);
  GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(std::max<std::int64_t>(placed, 0));
  return GST_PAD_PROBE_OK;
}

// matroskademux adds its pads once it has read the file's tracks. Only an
// H.264 video track is linked: an audio track (which no archive may hold)
// has no way into the export.
struct DemuxLink {
  GstElement* parse = nullptr;  // owned by the pipeline
  bool linked = false;
};

void on_demux_pad(GstElement*, GstPad* pad, gpointer data) {
  auto* link = static_cast<DemuxLink*>(data);
  if (link->linked) return;
  CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  if (!caps || gst_caps_get_size(caps.get()) == 0) return;
  const std::string name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
  if (name != "video/x-h264") return;
  PadPtr sink(gst_element_get_static_pad(link->parse, "sink"));
  if (gst_pad_link(pad, sink.get()) == GST_PAD_LINK_OK) link->linked = true;
}

void on_demux_done(GstElement* demux, gpointer data) {
  auto* link = static_cast<DemuxLink*>(data);
  if (link->linked) return;
  // The element's name ("demux-<file>") names the file in the message.
  GError* error = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE, "no H.264 video track");
  gst_element_post_message(demux, gst_message_new_error(GST_OBJECT(demux), error, "no-more-pads without H.264"));
  g_error_free(error);
}

// Ends a frozen picture: when a party's next frame comes more than
// kFreezeLimit after its last one ended (a gap in the footage, between or
// inside segments), a GAP event tells the compositor the slot has no picture
// from then on, so the slate shows instead of the last frame.
struct FreezeGuard {
  GstClockTime last_end = GST_CLOCK_TIME_NONE;
};

GstPadProbeReturn freeze_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* guard = static_cast<FreezeGuard*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return GST_PAD_PROBE_OK;
  if (GST_CLOCK_TIME_IS_VALID(guard->last_end) && pts > guard->last_end + kFreezeLimit) {
    const GstClockTime from = guard->last_end + kFreezeLimit;
    gst_pad_push_event(pad, gst_event_new_gap(from, pts - from));
  }
  const GstClockTime duration =
      GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : GST_SECOND / kCompositeFps;
  if (!GST_CLOCK_TIME_IS_VALID(guard->last_end) || pts + duration > guard->last_end) guard->last_end = pts + duration;
  return GST_PAD_PROBE_OK;
}

// ------------------------------------------------------------ the clock

// Sets the clock overlay's text from each output frame's timestamp: the
// recording's origin plus the frame's time, in Beijing time.
struct ClockText {
  GstElement* overlay = nullptr;
  std::chrono::system_clock::time_point origin;
  std::string prefix;
  std::string shown;
};

GstPadProbeReturn clock_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* clock = static_cast<ClockText*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  const auto at = clock->origin + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                      std::chrono::nanoseconds(GST_BUFFER_PTS(buffer)));
  std::string text = clock->prefix + format_beijing_time(at) + "  北京时间 Beijing time (UTC+8)";
  if (text != clock->shown) {
    g_object_set(clock->overlay, "text", text.c_str(), nullptr);
    clock->shown = std::move(text);
  }
  return GST_PAD_PROBE_OK;
}

template <typename T>
void delete_as(gpointer p) {
  delete static_cast<T*>(p);
}

// ------------------------------------------------------------ building

GstElement* text_overlay(PipelineBuilder& b, const std::string& name, const std::string& text, int points,
                         const char* halign, const char* valign) {
  GstElement* overlay = b.make("textoverlay", name);
  const std::string font = fmt::format("{} {}", kFont, points);
  g_object_set(overlay, "text", text.c_str(), "font-desc", font.c_str(), "auto-resize", FALSE, "shaded-background",
               FALSE, "draw-outline", TRUE, nullptr);
  gst_util_set_object_arg(G_OBJECT(overlay), "halignment", halign);
  gst_util_set_object_arg(G_OBJECT(overlay), "valignment", valign);
  return overlay;
}

void set_slot(GstPad* pad, int index, unsigned zorder) {
  g_object_set(pad, "xpos", index * kSlotWidth, "ypos", kSlotTop, "width", kSlotWidth, "height", kSlotHeight,
               "zorder", zorder, nullptr);
}

std::string slot_caps(int fps) {
  return fmt::format("video/x-raw,format=I420,width={},height={},pixel-aspect-ratio=1/1,framerate={}/1", kSlotWidth,
                     kSlotHeight, fps);
}

// The slate shown in a party's slot wherever that party has no picture: black
// with "无画面 / no picture", one frame repeated for the whole length.
void add_slate(PipelineBuilder& b, GstElement* mixer, int index, Party party, std::uint64_t frames) {
  const std::string tag = to_string(party);
  GstElement* source = b.make("videotestsrc", "slate-src-" + tag);
  g_object_set(source, "num-buffers", 1, nullptr);
  gst_util_set_object_arg(G_OBJECT(source), "pattern", "black");
  GstElement* caps = b.caps_filter(slot_caps(kCompositeFps));
  GstElement* label = text_overlay(b, "slate-text-" + tag, "无画面 / no picture", 28, "center", "center");
  GstElement* freeze = b.make("imagefreeze", "slate-" + tag);
  g_object_set(freeze, "num-buffers", static_cast<gint>(std::min<std::uint64_t>(frames, G_MAXINT)), nullptr);
  // imagefreeze picks its rate from downstream (25/1 when free): pin it, so num-buffers frames span the length.
  GstElement* rate = b.caps_filter(slot_caps(kCompositeFps));
  PipelineBuilder::link(source, caps);
  PipelineBuilder::link(caps, label);
  PipelineBuilder::link(label, freeze);
  PipelineBuilder::link(freeze, rate);
  PadPtr pad = PipelineBuilder::link_to_request_pad(rate, mixer);
  set_slot(pad.get(), index, 1);
}

// One party's segments in order, each placed at its start_ms, decoded and
// scaled into the party's slot above its slate.
void add_party_video(PipelineBuilder& b, GstElement* mixer, int index, Party party, const fs::path& folder,
                     const std::vector<const SegmentEntry*>& segments) {
  const std::string tag = to_string(party);
  GstElement* concat = b.make("concat", "concat-" + tag);
  g_object_set(concat, "adjust-base", FALSE, nullptr);  // the restamped timeline is already absolute
  for (const SegmentEntry* s : segments) {
    GstElement* source = b.make("filesrc", "file-" + s->file);
    g_object_set(source, "location", (folder / s->file).c_str(), nullptr);
    GstElement* demux = b.make("matroskademux", "demux-" + s->file);
    GstElement* parse = b.make("h264parse", "parse-" + s->file);
    PipelineBuilder::link(source, demux);
    auto* link = new DemuxLink{parse, false};
    g_signal_connect_data(demux, "pad-added", G_CALLBACK(on_demux_pad), link, nullptr, GConnectFlags(0));
    g_signal_connect_data(demux, "no-more-pads", G_CALLBACK(on_demux_done), link,
                          [](gpointer p, GClosure*) { delete static_cast<DemuxLink*>(p); }, GConnectFlags(0));
    PadPtr parse_src(gst_element_get_static_pad(parse, "src"));
    auto* clock = new SegmentClock{};
    clock->start_ns = static_cast<GstClockTime>(std::max<std::int64_t>(s->start_ms, 0)) * GST_MSECOND;
    gst_pad_add_probe(parse_src.get(),
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      restamp_probe, clock, delete_as<SegmentClock>);
    PipelineBuilder::link_to_request_pad(parse, concat);
  }
  GstElement* decoder = b.make("avdec_h264", "decode-" + tag);
  GstElement* convert = b.make("videoconvertscale", "scale-" + tag);
  g_object_set(convert, "add-borders", TRUE, nullptr);  // keep the aspect ratio, pad with black
  GstElement* caps = b.caps_filter(fmt::format("video/x-raw,format=I420,width={},height={},pixel-aspect-ratio=1/1",
                                               kSlotWidth, kSlotHeight));
  // Each party decodes and scales on its own thread.
  GstElement* queue = b.make("queue", "queue-" + tag);
  g_object_set(queue, "max-size-buffers", 8, "max-size-bytes", 0, "max-size-time", guint64{0}, nullptr);
  PipelineBuilder::link(concat, decoder);
  PipelineBuilder::link(decoder, convert);
  PipelineBuilder::link(convert, caps);
  PipelineBuilder::link(caps, queue);
  PadPtr pad = PipelineBuilder::link_to_request_pad(queue, mixer);
  set_slot(pad.get(), index, 2);
  g_object_set(pad.get(), "max-last-buffer-repeat", kFreezeLimit, nullptr);
  PadPtr queue_src(gst_element_get_static_pad(queue, "src"));
  gst_pad_add_probe(queue_src.get(), GST_PAD_PROBE_TYPE_BUFFER, freeze_probe, new FreezeGuard{},
                    delete_as<FreezeGuard>);
}

struct PartFile {
  fs::path path;
  bool keep = false;
  ~PartFile() {
    if (!keep) {
      std::error_code ec;
      fs::remove(path, ec);
    }
  }
};

std::string describe_error(GstMessage* message) {
  GError* error = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(message, &error, &debug);
  std::string text = fmt::format("{}: {}", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
                                 error != nullptr ? error->message : "error");
  if (debug != nullptr) spdlog::debug("[recorder] export error detail: {}", debug);
  if (error != nullptr) g_error_free(error);
  g_free(debug);
  return text;
}

}  // namespace

ExportResult export_composite(const fs::path& folder, const fs::path& out_mp4) {
  const auto started = std::chrono::steady_clock::now();
  const Manifest manifest = load_manifest(folder);

  const auto origin = common::parse_utc_ms(manifest.recording_started_at);
  if (!origin)
    throw ExportError(fmt::format("{}: recording_started_at \"{}\" is not an ISO-8601 UTC time",
                                  (folder / std::string(kManifestFile)).string(), manifest.recording_started_at));
  std::int64_t length_ms = 0;
  if (const auto ended = common::parse_utc_ms(manifest.recording_ended_at))
    length_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*ended - *origin).count();
  std::vector<const SegmentEntry*> by_party[2];
  for (const auto& s : manifest.segments) {
    if (s.file.empty() || s.file.find('/') != std::string::npos || s.file == "." || s.file == "..")
      throw ExportError(fmt::format("{}: segment file \"{}\" is not a name inside the archive folder",
                                    (folder / std::string(kManifestFile)).string(), s.file));
    std::error_code ec;
    if (!fs::is_regular_file(folder / s.file, ec))
      throw ExportError((folder / s.file).string() + ": listed in the manifest but missing");
    by_party[s.party == Party::Lawyer ? 0 : 1].push_back(&s);
    length_ms = std::max(length_ms, s.start_ms + s.duration_ms);
  }
  for (auto& list : by_party)
    std::stable_sort(list.begin(), list.end(),
                     [](const SegmentEntry* a, const SegmentEntry* c) { return a->start_ms < c->start_ms; });
  if (length_ms <= 0)
    throw ExportError(folder.string() + ": nothing to export (no footage and no recording length in the manifest)");
  const auto frames = static_cast<std::uint64_t>((length_ms * kCompositeFps + 999) / 1000);

  std::error_code ec;
  const fs::path out_dir = out_mp4.parent_path().empty() ? fs::path(".") : out_mp4.parent_path();
  if (!fs::is_directory(out_dir, ec)) throw ExportError(out_dir.string() + ": no such directory for the export");
  PartFile part{fs::path(out_mp4.string() + ".part")};

  if (!gst_is_initialized()) gst_init(nullptr, nullptr);
  PipelineBuilder b;
  GstElement* mixer = b.make("compositor", "mix");
  gst_util_set_object_arg(G_OBJECT(mixer), "background", "black");
  GstElement* out_caps = b.caps_filter(fmt::format(
      "video/x-raw,format=I420,width={},height={},pixel-aspect-ratio=1/1,framerate={}/1", kCompositeWidth,
      kCompositeHeight, kCompositeFps));
  GstElement* last = out_caps;
  PipelineBuilder::link(mixer, out_caps);

  const Party parties[2] = {Party::Lawyer, Party::Detainee};
  for (int i = 0; i < 2; ++i) {
    const PartyEntry* entry = manifest.party(parties[i]);
    std::string title = party_title(parties[i]);
    if (entry != nullptr && !entry->device_name.empty()) title += " · " + entry->device_name;
    GstElement* label = text_overlay(b, std::string("label-") + to_string(parties[i]), title, 22, "left", "top");
    g_object_set(label, "deltax", i * kSlotWidth + 16, "ypad", kSlotTop - 56, "xpad", 0, nullptr);
    PipelineBuilder::link(last, label);
    last = label;
  }
  GstElement* clock_overlay = text_overlay(b, "clock", "", 22, "center", "bottom");
  g_object_set(clock_overlay, "ypad", kSlotTop - 90, nullptr);
  PipelineBuilder::link(last, clock_overlay);
  {
    auto* clock = new ClockText{clock_overlay, *origin, manifest.meeting_id + "   ", {}};
    PadPtr sink(gst_element_get_static_pad(clock_overlay, "video_sink"));
    gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, clock_probe, clock, delete_as<ClockText>);
  }
  GstElement* encoder = b.make("x264enc", "encode");
  g_object_set(encoder, "bitrate", kBitrateKbps, "key-int-max", kKeyframeFrames, nullptr);
  gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "superfast");
  GstElement* profile = b.caps_filter("video/x-h264,profile=high");
  GstElement* mux = b.make("mp4mux", "mux");
  g_object_set(mux, "faststart", TRUE, nullptr);  // moov first: plays in a browser while it downloads
  GstElement* sink = b.make("filesink", "out");
  g_object_set(sink, "location", part.path.c_str(), nullptr);
  PipelineBuilder::link(clock_overlay, encoder);
  PipelineBuilder::link(encoder, profile);
  PipelineBuilder::link(profile, mux);
  PipelineBuilder::link(mux, sink);

  for (int i = 0; i < 2; ++i) {
    add_slate(b, mixer, i, parties[i], frames);
    if (!by_party[i].empty()) add_party_video(b, mixer, i, parties[i], folder, by_party[i]);
  }

  GstElement* pipeline = b.pipeline();
  BusPtr bus(gst_element_get_bus(pipeline));
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    MessagePtr error(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    const std::string why = error ? describe_error(error.get()) : std::string("cannot start the pipeline");
    gst_element_set_state(pipeline, GST_STATE_NULL);
    throw ExportError(fmt::format("{}: export failed: {}", manifest.meeting_id, why));
  }
  // Generous: the export runs several times faster than real time.
  const GstClockTime limit = (60 + 4 * static_cast<GstClockTime>(length_ms) / 1000) * GST_SECOND;
  MessagePtr message(gst_bus_timed_pop_filtered(bus.get(), limit,
                                                static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  std::string failure;
  if (!message)
    failure = fmt::format("did not finish within {} s", limit / GST_SECOND);
  else if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_ERROR)
    failure = describe_error(message.get());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (!failure.empty()) throw ExportError(fmt::format("{}: export failed: {}", manifest.meeting_id, failure));

  MediaInfo info;
  try {
    info = probe_media(part.path);
  } catch (const ProbeError& e) {
    throw ExportError(fmt::format("{}: the export wrote an unreadable file ({})", manifest.meeting_id, e.what()));
  }
  fs::rename(part.path, out_mp4, ec);
  if (ec) throw ExportError(fmt::format("{}: cannot rename to {} ({})", part.path.string(), out_mp4.string(),
                                        ec.message()));
  part.keep = true;

  ExportResult result;
  result.file = out_mp4;
  result.media_ms = info.duration_ms;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("[recorder] exported {} to {}: {:.1f} s of video in {:.1f} s", manifest.meeting_id, out_mp4.string(),
               static_cast<double>(result.media_ms) / 1000.0, result.seconds);
  return result;
}

}  // namespace huijian::recorder
