#pragma once
// CPU time of another process (all its threads: /proc/PID/stat utime+stime)
// and the softirq time of one CPU (/proc/stat), in seconds, for measuring a
// server pinned to that CPU. Loopback delivery runs in softirq context on the
// sending CPU, so a pinned server's packets show up there.

#include <optional>
#include <string>

namespace huijian::terminals::loadgen {

struct CpuSample {
  double process_seconds = 0;  // utime + stime
  double softirq_seconds = 0;  // of the given CPU; 0 when no CPU is given
  long rss_kib = 0;            // VmRSS
};

// nullopt when the process is gone or /proc cannot be read. cpu < 0: no softirq.
std::optional<CpuSample> sample_process(int pid, int cpu);
// Our own CPU time (user + system, all threads), seconds.
double own_cpu_seconds();

}  // namespace huijian::terminals::loadgen
