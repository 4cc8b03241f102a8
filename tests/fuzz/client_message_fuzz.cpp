// libFuzzer target: parse_client_message (every message a terminal or an
// officer console sends to /ws) and the password-hash reader of the
// configuration on hostile text. Only ProtocolError may come out of the
// parser; a parsed message must hold the limits the parser promises.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "signaling/client_message.hpp"
#include "signaling/errors.hpp"
#include "signaling/password_hash.hpp"
#include "signaling/termination_reason.hpp"

using namespace huijian::signaling;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)PasswordHash::iterations_of(text);
  std::string type;
  try {
    auto message = parse_client_message(text, 65536, &type);
    if (auto* notice = std::get_if<NoticeMessage>(&message)) {
      if (utf8_length(notice->text) > kMaxNoticeChars || notice->text.empty()) std::abort();
    } else if (auto* t = std::get_if<TerminateMessage>(&message)) {
      const auto* reason = TerminationReason::find(t->code);
      if (!reason || utf8_length(t->text) > kMaxReasonTextChars) std::abort();
      if (reason->needs_text && t->text.empty()) std::abort();
    } else if (auto* s = std::get_if<SetTimeMessage>(&message)) {
      if (s->minutes.has_value() == s->remaining_seconds.has_value()) std::abort();
      if (s->remaining_seconds && (*s->remaining_seconds < 1 || *s->remaining_seconds > kMaxRemainingSeconds)) std::abort();
    }
  } catch (const ProtocolError&) {
  }
  return 0;
}
