#include "recorder/media_probe.hpp"

#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <memory>
#include <system_error>

namespace huijian::recorder {

namespace {

struct GObjectUnref {
  void operator()(gpointer p) const noexcept { g_object_unref(p); }
};
struct GErrorFree {
  void operator()(GError* p) const noexcept { g_error_free(p); }
};
struct GFree {
  void operator()(gchar* p) const noexcept { g_free(p); }
};
struct CapsUnref {
  void operator()(GstCaps* p) const noexcept { gst_caps_unref(p); }
};
struct StreamListFree {
  void operator()(GList* p) const noexcept { gst_discoverer_stream_info_list_free(p); }
};

using DiscovererPtr = std::unique_ptr<GstDiscoverer, GObjectUnref>;
using InfoPtr = std::unique_ptr<GstDiscovererInfo, GObjectUnref>;
using ErrorPtr = std::unique_ptr<GError, GErrorFree>;
using CharPtr = std::unique_ptr<gchar, GFree>;
using CapsPtr = std::unique_ptr<GstCaps, CapsUnref>;
using StreamListPtr = std::unique_ptr<GList, StreamListFree>;

std::string message_of(const GError* error, const char* fallback) {
  return error != nullptr && error->message != nullptr ? std::string(error->message) : std::string(fallback);
}

std::string caps_name(GstDiscovererStreamInfo* stream) {
  CapsPtr caps(gst_discoverer_stream_info_get_caps(stream));
  if (!caps || gst_caps_get_size(caps.get()) == 0) return {};
  return gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
}

}  // namespace

MediaInfo probe_media(const std::filesystem::path& file, std::chrono::seconds timeout) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw ProbeError(name + ": no such file");
  if (!gst_is_initialized()) gst_init(nullptr, nullptr);

  GError* raw_error = nullptr;
  CharPtr uri(gst_filename_to_uri(std::filesystem::absolute(file, ec).c_str(), &raw_error));
  ErrorPtr uri_error(raw_error);
  if (!uri) throw ProbeError(name + ": cannot make a URI (" + message_of(uri_error.get(), "unknown error") + ")");

  const auto timeout_ns = static_cast<GstClockTime>(timeout.count()) * GST_SECOND;
  raw_error = nullptr;
  DiscovererPtr discoverer(gst_discoverer_new(timeout_ns, &raw_error));
  ErrorPtr new_error(raw_error);
  if (!discoverer) throw ProbeError("cannot create a GstDiscoverer: " + message_of(new_error.get(), "unknown error"));

  raw_error = nullptr;
  InfoPtr info(gst_discoverer_discover_uri(discoverer.get(), uri.get(), &raw_error));
  ErrorPtr error(raw_error);
  const GstDiscovererResult result =
      info ? gst_discoverer_info_get_result(info.get()) : GST_DISCOVERER_ERROR;
  switch (result) {
    case GST_DISCOVERER_OK:
    case GST_DISCOVERER_MISSING_PLUGINS:  // the streams are known even when a decoder is not
      break;
    case GST_DISCOVERER_TIMEOUT:
      throw ProbeError(name + ": not read within " + std::to_string(timeout.count()) + " s");
    case GST_DISCOVERER_URI_INVALID:
      throw ProbeError(name + ": invalid URI " + uri.get());
    case GST_DISCOVERER_BUSY:
      throw ProbeError(name + ": the discoverer is busy");
    case GST_DISCOVERER_ERROR:
    default:
      throw ProbeError(name + ": not a readable media file (" + message_of(error.get(), "discoverer error") + ")");
  }

  MediaInfo media;
  const GstClockTime duration = gst_discoverer_info_get_duration(info.get());
  if (GST_CLOCK_TIME_IS_VALID(duration)) media.duration_ms = static_cast<std::int64_t>(duration / GST_MSECOND);

  StreamListPtr streams(gst_discoverer_info_get_stream_list(info.get()));
  for (GList* item = streams.get(); item != nullptr; item = item->next) {
    auto* stream = static_cast<GstDiscovererStreamInfo*>(item->data);
    if (GST_IS_DISCOVERER_VIDEO_INFO(stream)) {
      if (media.video_streams++ == 0) {
        auto* video = GST_DISCOVERER_VIDEO_INFO(stream);
        media.video_codec = caps_name(stream);
        media.width = static_cast<int>(gst_discoverer_video_info_get_width(video));
        media.height = static_cast<int>(gst_discoverer_video_info_get_height(video));
      }
    } else if (GST_IS_DISCOVERER_AUDIO_INFO(stream)) {
      ++media.audio_streams;
    } else if (!GST_IS_DISCOVERER_CONTAINER_INFO(stream)) {
      ++media.other_streams;
    }
  }
  if (media.video_streams + media.audio_streams + media.other_streams == 0 && result != GST_DISCOVERER_OK)
    throw ProbeError(name + ": no stream could be read (missing GStreamer plugins)");
  return media;
}

}  // namespace huijian::recorder
