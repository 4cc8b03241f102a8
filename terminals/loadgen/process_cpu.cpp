#include "terminals/loadgen/process_cpu.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace huijian::terminals::loadgen {

std::optional<CpuSample> sample_process(int pid, int cpu) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  CpuSample out;
  {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    // The command name may hold spaces: fields are counted after its ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    out.process_seconds = static_cast<double>(utime + stime) / ticks;
  }
  {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmRSS:", 0) == 0) out.rss_kib = std::stol(line.substr(6));
  }
  if (cpu >= 0) {
    std::ifstream stat("/proc/stat");
    std::string line;
    const std::string wanted = "cpu" + std::to_string(cpu) + " ";
    while (std::getline(stat, line)) {
      if (line.rfind(wanted, 0) != 0) continue;
      std::istringstream fields(line.substr(wanted.size()));
      unsigned long long value = 0;
      // user nice system idle iowait irq softirq
      for (int i = 1; i <= 7 && fields >> value; ++i)
        if (i == 7) out.softirq_seconds = static_cast<double>(value) / ticks;
      break;
    }
  }
  return out;
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace huijian::terminals::loadgen
