#pragma once
// The meeting handshake as a pure state machine:
//   waiting -> detainee_ready (detainee terminal: ready)
//           -> connected      (lawyer terminal: connect; only from detainee_ready)
//           -> ended          (either party: end; or the server/an admin)
// Ended is final. Refused transitions throw ProtocolError("bad_state").

#include <optional>
#include <string>
#include <string_view>

namespace huijian::signaling {

enum class MeetingState { Waiting, DetaineeReady, Connected, Ended };

const char* to_string(MeetingState state) noexcept;
// Parses "waiting" | "detainee_ready" | "connected" | "ended".
std::optional<MeetingState> meeting_state_from_string(std::string_view text) noexcept;

class MeetingStateMachine {
 public:
  MeetingStateMachine(std::string meeting_id, MeetingState state = MeetingState::Waiting);

  const std::string& meeting_id() const noexcept { return meeting_id_; }
  MeetingState state() const noexcept { return state_; }
  // A meeting is "running" while a party is ready or the call is on.
  bool running() const noexcept;

  // Each applies one transition or throws ProtocolError("bad_state") with a
  // message naming the meeting and its current state; the state is unchanged then.
  void ready();    // detainee: waiting -> detainee_ready
  void connect();  // lawyer: detainee_ready -> connected
  void end();      // anyone: waiting | detainee_ready | connected -> ended

 private:
  [[noreturn]] void refuse(std::string_view what) const;

  std::string meeting_id_;
  MeetingState state_;
};

}  // namespace huijian::signaling
