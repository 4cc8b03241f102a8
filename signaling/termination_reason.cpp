#include "signaling/termination_reason.hpp"

#include <array>

namespace huijian::signaling {
namespace {

constexpr std::array<TerminationReason, 6> kReasons{{
    {"time_over", "会见时间已到", "The meeting time is over", false, false},
    {"violation_phone", "违规：出示手机", "Violation: a phone was shown", true, false},
    {"violation_third_person", "违规：有第三人在场", "Violation: a third person is present", true, false},
    {"violation_prohibited_item", "违规：出示违禁物品", "Violation: a prohibited item was shown", true, false},
    {"violation_other", "违规：其他", "Violation: other", true, true},
    {"technical_fault", "技术故障", "Technical fault", false, false},
}};

}  // namespace

std::span<const TerminationReason> TerminationReason::all() noexcept { return kReasons; }

const TerminationReason* TerminationReason::find(std::string_view code) noexcept {
  for (const auto& r : kReasons)
    if (r.code == code) return &r;
  return nullptr;
}

std::string TerminationReason::codes_list() {
  std::string out;
  for (const auto& r : kReasons) {
    if (!out.empty()) out += ", ";
    out += r.code;
  }
  return out;
}

const TerminationReason& TerminationReason::time_over() noexcept { return kReasons[0]; }

std::string TerminationReason::describe(std::string_view text) const {
  std::string out = std::string(text_zh) + " · " + std::string(text_en);
  if (!text.empty()) out += "：" + std::string(text);
  return out;
}

}  // namespace huijian::signaling
