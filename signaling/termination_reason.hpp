#pragma once
// The fixed list of reasons an officer ends a meeting with (and "time over",
// which the server also uses when the call time runs out). Each has a code for
// machines, a Chinese and an English text for people, and whether it is a
// violation that is recorded against the lawyer's device.

#include <span>
#include <string>
#include <string_view>

namespace huijian::signaling {

inline constexpr std::size_t kMaxReasonTextChars = 200;

struct TerminationReason {
  std::string_view code;
  std::string_view text_zh;
  std::string_view text_en;
  bool violation = false;
  bool needs_text = false;  // the officer must say what happened

  // Every reason, in the order an officer's console lists them.
  static std::span<const TerminationReason> all() noexcept;
  // nullptr for an unknown code.
  static const TerminationReason* find(std::string_view code) noexcept;
  // The codes as "a, b, c" for error messages.
  static std::string codes_list();
  static const TerminationReason& time_over() noexcept;

  // "会见时间已到 · The meeting time is over" (+ "：<text>" when text is given):
  // the `reason` both terminals show and the store keeps.
  std::string describe(std::string_view text) const;
};

}  // namespace huijian::signaling
