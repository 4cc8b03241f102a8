#pragma once
// RAII owners for the GLib/GStreamer handles the terminal holds.

#include <gst/gst.h>

#include <memory>

namespace huijian::terminals {

struct GstObjectUnref {
  void operator()(gpointer p) const noexcept {
    if (p) gst_object_unref(p);
  }
};
using GstObjectPtr = std::unique_ptr<GstObject, GstObjectUnref>;
using GstElementPtr = std::unique_ptr<GstElement, GstObjectUnref>;
using GstPadPtr = std::unique_ptr<GstPad, GstObjectUnref>;
using GstBusPtr = std::unique_ptr<GstBus, GstObjectUnref>;

struct GstCapsUnref {
  void operator()(GstCaps* c) const noexcept {
    if (c) gst_caps_unref(c);
  }
};
using GstCapsPtr = std::unique_ptr<GstCaps, GstCapsUnref>;

struct GFreeDeleter {
  void operator()(gpointer p) const noexcept { g_free(p); }
};
using GCharPtr = std::unique_ptr<gchar, GFreeDeleter>;

struct GErrorFree {
  void operator()(GError* e) const noexcept {
    if (e) g_error_free(e);
  }
};
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;

}  // namespace huijian::terminals
