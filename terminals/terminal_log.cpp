#include "terminals/terminal_log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace huijian::terminals {

std::shared_ptr<spdlog::logger> component_logger(const char* component) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = spdlog::stderr_color_mt(component);
  logger->set_level(spdlog::get_level());
  return logger;
}

}  // namespace huijian::terminals
