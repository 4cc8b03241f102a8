#pragma once
// One spdlog logger per terminal component ("terminal", "media", "signaling"),
// all to stderr, so stdout stays for the user-facing status lines.

#include <spdlog/spdlog.h>

#include <memory>

namespace huijian::terminals {

std::shared_ptr<spdlog::logger> component_logger(const char* component);

}  // namespace huijian::terminals
