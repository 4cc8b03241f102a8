#pragma once
// What the control plane needs of the recorder. MeetingRecorder implements
// it with the in-process recorder and relay; tests of the hub may use none.

#include <optional>
#include <string>

#include "signaling/meeting_repository.hpp"

namespace huijian::signaling {

class RecordingPort {
 public:
  virtual ~RecordingPort() = default;
  // The meeting reached "connected": its recording starts. Never throws; a
  // failure to start is a recording fault the officers see.
  virtual void meeting_connected(const MeetingRecord& meeting) = 0;
  // The meeting's media was (re)linked: the parties' current peers feed the recording.
  virtual void media_linked(const MeetingRecord& meeting) = 0;
  // The meeting ended: its recording is finished and its archive signed.
  virtual void meeting_ended(const MeetingRecord& meeting, const std::string& reason, const std::string& by) = 0;
  // "recording", "fault: <text>", or nullopt when the meeting is not being recorded.
  virtual std::optional<std::string> state(const std::string& meeting_id) const = 0;
};

}  // namespace huijian::signaling
