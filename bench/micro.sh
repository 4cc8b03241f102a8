#!/bin/sh
# Runs the per-packet micro-benchmark (builds nothing) and prints, for each
# SRTP profile and packet size, the time per packet of every case and the two
# ratios we report: relay_path / floor_srtp (no socket) and
# relay_path_send / floor_srtp_send (one loopback send() per packet).
#
# Usage: bench/micro.sh [BINARY] [Google Benchmark flags...]
#   BINARY defaults to build/bench/huijian-relay-path-bench in the source tree.
#   Each case runs 3 times and the table shows the median; flags given here
#   (e.g. --benchmark_repetitions=5, --benchmark_filter=video) come after and win.
#   Times are the benchmark thread's CPU time (kernel time of send() included),
#   which other load on a shared machine disturbs less than wall time;
#   MICRO_TIME=real switches the table to wall time.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary="$here/../build/bench/huijian-relay-path-bench"
if [ $# -gt 0 ]; then
  case "$1" in
    -*) ;;
    *) binary=$1; shift ;;
  esac
fi
if [ ! -x "$binary" ]; then
  echo "micro.sh: no benchmark binary at $binary (build the huijian-relay-path-bench target first)" >&2
  exit 2
fi

json=$(mktemp)
trap 'rm -f "$json"' EXIT INT TERM
"$binary" --benchmark_format=json --benchmark_repetitions=3 --benchmark_report_aggregates_only=true "$@" >"$json"

/usr/bin/python3 - "$json" "${MICRO_TIME:-cpu}" <<'EOF'
import json
import sys

with open(sys.argv[1]) as f:
    data = json.load(f)
field = "real_time" if sys.argv[2] == "real" else "cpu_time"

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
rows = {}        # variant -> case -> ns per packet (None when the case failed)
delivered = {}   # variant -> case -> fraction of sent datagrams that arrived
aggregated = any(b.get("run_type") == "aggregate" for b in data["benchmarks"])
for b in data["benchmarks"]:
    if aggregated and b.get("aggregate_name") != "median":
        continue
    name = b.get("run_name", b["name"])
    case, _, variant = name.partition("/")
    ns = None if b.get("error_occurred") else b[field] * TO_NS[b.get("time_unit", "ns")]
    rows.setdefault(variant, {})[case] = ns
    if "delivered" in b:
        delivered.setdefault(variant, {})[case] = b["delivered"]

def cell(value, fmt):
    return "-" if value is None else fmt % value

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

ctx = data.get("context", {})
print("huijian relay path: %s time per packet (ns); %s; %s CPUs at %s MHz%s" % (
    "wall" if field == "real_time" else "CPU", ctx.get("date", "?"), ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?"),
    ", median of repetitions" if aggregated else ""))
header = ("variant", "floor_srtp", "relay_path", "relay/floor",
          "floor_srtp_send", "relay_path_send", "relay_send/floor_send")
widths = [max(len(h), 14) for h in header]
print("  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths))))
failed = False
for variant in sorted(rows):
    r = rows[variant]
    values = (r.get("floor_srtp"), r.get("relay_path"), ratio(r.get("relay_path"), r.get("floor_srtp")),
              r.get("floor_srtp_send"), r.get("relay_path_send"),
              ratio(r.get("relay_path_send"), r.get("floor_srtp_send")))
    failed = failed or any(v is None for v in values)
    fmts = ("%.1f", "%.1f", "%.3f", "%.1f", "%.1f", "%.3f")
    cells = [variant.ljust(widths[0])] + [cell(v, f).rjust(w) for v, f, w in zip(values, fmts, widths[1:])]
    print("  ".join(cells))
lowest = min((v for d in delivered.values() for v in d.values()), default=None)
if lowest is not None:
    print("loopback delivery: at least %.1f %% of sent datagrams reached the receiving socket" % (100 * lowest))
if failed:
    print("some cases failed or are missing ('-'); see the benchmark's output", file=sys.stderr)
    sys.exit(1)
EOF
