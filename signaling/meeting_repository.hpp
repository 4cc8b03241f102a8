#pragma once
// Storage of meetings and their events behind an interface, so that a
// PostgreSQL backend can replace the embedded SQLite one.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signaling/meeting_state_machine.hpp"

namespace huijian::signaling {

struct MeetingRecord {
  std::string id;
  std::string lawyer_device;
  std::string detainee_device;
  std::string case_id;
  MeetingState state = MeetingState::Waiting;
  std::string created_at;  // ISO-8601 UTC with ms
  std::string ended_at;    // empty until ended
  std::string end_reason;
  std::string ended_by;
  std::optional<int> minutes;  // planned call time; empty = the configured default
  std::string connected_at;    // empty until connected
  std::string ends_at;         // empty until connected; moved by an officer's set_time
};

struct MeetingEvent {
  std::int64_t id = 0;  // increasing: the order of events
  std::string meeting_id;
  std::string at;      // ISO-8601 UTC with ms
  std::string kind;    // "created", "state:<new state>", ...
  std::string actor;   // device id, "server", "admin", "config"
  std::string detail;
};

class MeetingRepository {
 public:
  virtual ~MeetingRepository() = default;

  // Inserts the meeting (state waiting, event "created") if the id is new and
  // returns true; leaves an existing meeting as it is and returns false.
  virtual bool insert_if_absent(const MeetingRecord& meeting, const std::string& at,
                                const std::string& actor) = 0;
  // Updates the devices, case and planned minutes of a meeting that has not
  // ended (config upsert).
  virtual void update_parties(const MeetingRecord& meeting) = 0;
  virtual std::optional<MeetingRecord> find(const std::string& id) = 0;
  // The newest meeting of that device that has not ended.
  virtual std::optional<MeetingRecord> find_open_for_device(const std::string& device) = 0;
  virtual std::vector<MeetingRecord> open_meetings() = 0;
  // Stores a state change and its event ("state:<state>") atomically. For
  // MeetingState::Connected, also sets connected_at = at; for
  // MeetingState::Ended, also sets ended_at, end_reason and ended_by.
  virtual void record_state(const std::string& meeting_id, MeetingState state,
                            const std::string& at, const std::string& actor,
                            const std::string& detail) = 0;
  // Stores the planned call time (event "time:minutes") and, when `ends_at`
  // is not empty, the end time of a connected meeting (event "time"),
  // atomically. Throws StoreError for an unknown meeting.
  virtual void record_time(const std::string& meeting_id, std::optional<int> minutes,
                           const std::string& ends_at, const std::string& at, const std::string& actor,
                           const std::string& detail) = 0;
  // Stores the end time the server computed at connect (connected_at +
  // minutes); no event, as it follows from the "state:connected" event.
  virtual void set_ends_at(const std::string& meeting_id, const std::string& ends_at) = 0;
  // Events of one meeting in the order they happened.
  virtual std::vector<MeetingEvent> events(const std::string& meeting_id) = 0;
};

}  // namespace huijian::signaling
