#pragma once
// The recorder: every connected meeting's two pictures, written by GStreamer
// pipelines on a thread of its own (one GMainContext), into signed archives.
// Thread-safe facade: the control plane calls it from its thread; the relay's
// media workers feed the taps start() returns.
//
// Picture only, by construction: start() hands out media::VideoTap objects,
// and a VideoTap takes nothing but media::VideoRtpPacket, which only the
// relay's video path can make. No part of this interface can take audio.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "media/video_tap.hpp"
#include "recorder/meeting_recording.hpp"

namespace huijian::recorder {

class RecorderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RecorderSettings {
  RecordingSettings recording;
  std::filesystem::path keys_dir;  // the archive signing key (ManifestSigner)
};

// Called on the recorder's thread: hand over to your own and return.
class RecorderEvents {
 public:
  virtual ~RecorderEvents() = default;
  virtual void on_recording_fault(const std::string& meeting_id, const std::string& text) = 0;
  virtual void on_recording_resumed(const std::string& meeting_id) = 0;
  virtual void on_archive_finished(const ArchiveResult& result) = 0;
};

class Recorder {
 public:
  // Loads or creates the signing key. Throws RecorderError or SigningError.
  Recorder(RecorderSettings settings, std::shared_ptr<RecorderEvents> events);
  // Finishes every running recording (waits for its manifest), then stops.
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  struct Taps {
    std::shared_ptr<media::VideoTap> lawyer;
    std::shared_ptr<media::VideoTap> detainee;
  };
  // Starts recording a meeting; returns the taps to give the relay. Throws
  // RecorderError (the folder cannot be made, the meeting is recorded already).
  Taps start(RecordingStart start);
  // The taps of a running recording (for a terminal that reconnected).
  std::optional<Taps> taps(const std::string& meeting_id) const;
  // Ends a meeting's recording; the manifest follows on the recorder's thread
  // (RecorderEvents::on_archive_finished). Unknown meetings are ignored.
  void stop(const std::string& meeting_id, RecordingEnd end);
  // A fault text when the meeting's recording cannot write; nullopt when it is not recorded.
  std::optional<std::string> fault(const std::string& meeting_id) const;

  // Finalises every archive folder a stopped server left with a journal.
  // `what_happened(meeting_id)` gives the meeting's end and events from the store.
  std::vector<ArchiveResult> recover(const std::function<RecordingEnd(const std::string&)>& what_happened);

  // What entered the recorder, per meeting and party: packets, bytes, and each
  // (SSRC, payload type) with its count; packets dropped because the recorder fell behind.
  nlohmann::json inputs() const;

  const std::string& signing_key_id() const noexcept { return key_id_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string key_id_;
};

}  // namespace huijian::recorder
