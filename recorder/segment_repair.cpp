#include "recorder/segment_repair.hpp"

#include <gst/gst.h>

#include <system_error>

namespace huijian::recorder {

namespace {

struct Unref {
  void operator()(gpointer p) const noexcept {
    if (p) gst_object_unref(p);
  }
};

void on_pad_added(GstElement*, GstPad* pad, gpointer parse) {
  GstPad* sink = gst_element_get_static_pad(static_cast<GstElement*>(parse), "sink");
  if (!gst_pad_is_linked(sink)) gst_pad_link(pad, sink);
  gst_object_unref(sink);
}

}  // namespace

std::optional<std::string> repair_segment(const std::filesystem::path& file) {
  if (!gst_is_initialized()) gst_init(nullptr, nullptr);
  const std::filesystem::path out = file.string() + ".repair";
  std::unique_ptr<GstElement, Unref> pipeline(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new("repair"))));
  GstElement* src = gst_element_factory_make("filesrc", nullptr);
  GstElement* demux = gst_element_factory_make("matroskademux", nullptr);
  GstElement* parse = gst_element_factory_make("h264parse", nullptr);
  GstElement* mux = gst_element_factory_make("matroskamux", nullptr);
  GstElement* sink = gst_element_factory_make("filesink", nullptr);
  if (!src || !demux || !parse || !mux || !sink) return "GStreamer elements for the repair are missing";
  gst_bin_add_many(GST_BIN(pipeline.get()), src, demux, parse, mux, sink, nullptr);
  g_object_set(src, "location", file.c_str(), nullptr);
  g_object_set(sink, "location", out.c_str(), nullptr);
  if (!gst_element_link(src, demux) || !gst_element_link_many(parse, mux, sink, nullptr))
    return "cannot link the repair pipeline";
  g_signal_connect(demux, "pad-added", G_CALLBACK(on_pad_added), parse);

  std::optional<std::string> error;
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the repair pipeline does not start";
  } else {
    std::unique_ptr<GstBus, Unref> bus(gst_element_get_bus(pipeline.get()));
    GstMessage* message = gst_bus_timed_pop_filtered(bus.get(), 120 * GST_SECOND,
                                                     static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!message) {
      error = "the repair did not finish within 120 s";
    } else {
      if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError* e = nullptr;
        gst_message_parse_error(message, &e, nullptr);
        error = std::string("cannot read it: ") + (e ? e->message : "unknown error");
        if (e) g_error_free(e);
      }
      gst_message_unref(message);
    }
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  std::error_code ec;
  if (error) {
    std::filesystem::remove(out, ec);
    return error;
  }
  std::filesystem::rename(out, file, ec);
  if (ec) {
    std::filesystem::remove(out, ec);
    return "cannot replace it: " + ec.message();
  }
  return std::nullopt;
}

}  // namespace huijian::recorder
