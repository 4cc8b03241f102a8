#include <catch2/catch.hpp>

#include "signaling/errors.hpp"
#include "signaling/meeting_state_machine.hpp"

using huijian::signaling::MeetingState;
using huijian::signaling::MeetingStateMachine;
using huijian::signaling::ProtocolError;

namespace {

// Runs `f` and returns the ProtocolError code and message it threw.
template <typename F>
std::pair<std::string, std::string> refusal(F&& f) {
  try {
    f();
  } catch (const ProtocolError& e) {
    return {e.code(), e.what()};
  }
  return {"", ""};
}

}  // namespace

TEST_CASE("MeetingStateMachine: the handshake goes waiting, detainee_ready, connected, ended") {
  MeetingStateMachine sm("m-1");
  CHECK(sm.state() == MeetingState::Waiting);
  CHECK_FALSE(sm.running());
  sm.ready();
  CHECK(sm.state() == MeetingState::DetaineeReady);
  CHECK(sm.running());
  sm.connect();
  CHECK(sm.state() == MeetingState::Connected);
  CHECK(sm.running());
  sm.end();
  CHECK(sm.state() == MeetingState::Ended);
  CHECK_FALSE(sm.running());
}

TEST_CASE("MeetingStateMachine: end is allowed from waiting and from detainee_ready") {
  MeetingStateMachine waiting("m-1", MeetingState::Waiting);
  waiting.end();
  CHECK(waiting.state() == MeetingState::Ended);
  MeetingStateMachine ready("m-1", MeetingState::DetaineeReady);
  ready.end();
  CHECK(ready.state() == MeetingState::Ended);
}

TEST_CASE("MeetingStateMachine: connect before the detainee is ready is refused with bad_state") {
  MeetingStateMachine sm("m-1");
  auto [code, message] = refusal([&] { sm.connect(); });
  CHECK(code == "bad_state");
  CHECK(message == "connect is only possible after the detainee is ready (meeting m-1 is waiting)");
  CHECK(sm.state() == MeetingState::Waiting);
}

TEST_CASE("MeetingStateMachine: every refused transition names the meeting and keeps the state") {
  struct Case {
    MeetingState from;
    const char* action;
    const char* expected_message;
  };
  const Case cases[] = {
      {MeetingState::DetaineeReady, "ready",
       "ready is only possible while the meeting is waiting for the detainee (meeting m-7 is detainee_ready)"},
      {MeetingState::Connected, "ready",
       "ready is only possible while the meeting is waiting for the detainee (meeting m-7 is connected)"},
      {MeetingState::Ended, "ready", "ready is not possible after the meeting has ended (meeting m-7 is ended)"},
      {MeetingState::Waiting, "connect",
       "connect is only possible after the detainee is ready (meeting m-7 is waiting)"},
      {MeetingState::Connected, "connect", "the meeting is already connected (meeting m-7 is connected)"},
      {MeetingState::Ended, "connect", "connect is not possible after the meeting has ended (meeting m-7 is ended)"},
      {MeetingState::Ended, "end", "the meeting has already ended (meeting m-7 is ended)"},
  };
  for (const auto& c : cases) {
    INFO(c.action << " from " << to_string(c.from));
    MeetingStateMachine sm("m-7", c.from);
    auto [code, message] = refusal([&] {
      std::string a = c.action;
      if (a == "ready") sm.ready();
      else if (a == "connect") sm.connect();
      else sm.end();
    });
    CHECK(code == "bad_state");
    CHECK(message == c.expected_message);
    CHECK(sm.state() == c.from);
  }
}

TEST_CASE("MeetingStateMachine: state names round-trip and unknown names are rejected") {
  for (auto s : {MeetingState::Waiting, MeetingState::DetaineeReady, MeetingState::Connected, MeetingState::Ended})
    CHECK(huijian::signaling::meeting_state_from_string(to_string(s)) == s);
  CHECK(std::string(to_string(MeetingState::DetaineeReady)) == "detainee_ready");
  CHECK_FALSE(huijian::signaling::meeting_state_from_string("Waiting").has_value());
  CHECK_FALSE(huijian::signaling::meeting_state_from_string("").has_value());
}
