#include "signaling/meeting_state_machine.hpp"

#include <fmt/format.h>

#include "signaling/errors.hpp"

namespace huijian::signaling {

const char* to_string(MeetingState state) noexcept {
  switch (state) {
    case MeetingState::Waiting: return "waiting";
    case MeetingState::DetaineeReady: return "detainee_ready";
    case MeetingState::Connected: return "connected";
    case MeetingState::Ended: return "ended";
  }
  return "unknown";
}

std::optional<MeetingState> meeting_state_from_string(std::string_view text) noexcept {
  if (text == "waiting") return MeetingState::Waiting;
  if (text == "detainee_ready") return MeetingState::DetaineeReady;
  if (text == "connected") return MeetingState::Connected;
  if (text == "ended") return MeetingState::Ended;
  return std::nullopt;
}

MeetingStateMachine::MeetingStateMachine(std::string meeting_id, MeetingState state)
    : meeting_id_(std::move(meeting_id)), state_(state) {}

bool MeetingStateMachine::running() const noexcept {
  return state_ == MeetingState::DetaineeReady || state_ == MeetingState::Connected;
}

void MeetingStateMachine::refuse(std::string_view what) const {
  throw ProtocolError("bad_state",
                      fmt::format("{} (meeting {} is {})", what, meeting_id_, to_string(state_)));
}

void MeetingStateMachine::ready() {
  if (state_ != MeetingState::Waiting) {
    if (state_ == MeetingState::Ended) refuse("ready is not possible after the meeting has ended");
    refuse("ready is only possible while the meeting is waiting for the detainee");
  }
  state_ = MeetingState::DetaineeReady;
}

void MeetingStateMachine::connect() {
  if (state_ != MeetingState::DetaineeReady) {
    if (state_ == MeetingState::Ended) refuse("connect is not possible after the meeting has ended");
    if (state_ == MeetingState::Connected) refuse("the meeting is already connected");
    refuse("connect is only possible after the detainee is ready");
  }
  state_ = MeetingState::Connected;
}

void MeetingStateMachine::end() {
  if (state_ == MeetingState::Ended) refuse("the meeting has already ended");
  state_ = MeetingState::Ended;
}

}  // namespace huijian::signaling
