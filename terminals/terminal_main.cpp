// huijian-terminal: the native meeting terminal (see docs/terminal.md).
#include "terminals/media_pipeline.hpp"
#include "terminals/signaling_client.hpp"
#include "terminals/terminal_log.hpp"
#include "terminals/terminal_options.hpp"
#include "terminals/terminal_session.hpp"

#include <gst/gst.h>
#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
  using namespace huijian::terminals;
  std::optional<TerminalOptions> options;
  try {
    options = parse_terminal_options(argc, argv);
  } catch (const OptionsError& e) {
    std::cerr << "huijian-terminal: " << e.what() << "\n";
    return 2;
  }
  if (!options) return 0;  // --help

  spdlog::set_level(spdlog::level::from_str(options->log_level));
  gst_init(nullptr, nullptr);

  try {
    TerminalSession session(std::move(*options));
    return session.run();
  } catch (const std::exception& e) {
    component_logger("terminal")->error("{}", e.what());
    std::cerr << "huijian-terminal: " << e.what() << "\n";
    return 1;
  }
}
