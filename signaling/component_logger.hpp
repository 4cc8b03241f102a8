#pragma once
// One spdlog logger per component ("hub", "http", "store", ...), sharing the
// default logger's sinks and level.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace huijian::signaling {

std::shared_ptr<spdlog::logger> component_logger(const std::string& name);

}  // namespace huijian::signaling
