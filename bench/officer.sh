#!/usr/bin/env bash
# bench/officer.sh: what one officer watching costs the relay. huijiand
# carries N meetings of huijian-loadgen (pre-encoded 1080p, passthrough);
# the server's CPU is measured over a window without an officer (the
# baseline), then the officer console in Chromium watches every meeting's two
# pictures and the same window is measured again, in the same run.
#
#   bench/officer.sh                  4 meetings, 20 s windows
#   bench/officer.sh --meetings 4 --window 20 --out DIR
#
# Runs inside a network namespace of its own with only loopback. huijiand is
# pinned to CPU 0, the load generator and Chromium to CPU 1 (the console
# decodes 2N 1080p pictures in software, so the load generator may fall
# behind: the packet rates are printed, and the cost is also given per
# packet the relay sent). CPU is utime+stime of all of huijiand's threads
# from /proc/PID/stat; the relay's counters come from GET /api/stats. The
# officer's window also checks that the relay sent the officer no RTP but
# the pictures (officer_audio_sent stays 0).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${HUIJIAN_BUILD_DIR:-$here/build}
loadgen=$build/terminals/loadgen/huijian-loadgen
huijiand=$build/signaling/huijiand
browser_dir=$here/tests/browser
chromium_bin=${HUIJIAN_CHROMIUM:-/usr/bin/chromium}

all_args=("$@")
meetings=4
window=20
out=""
while [ $# -gt 0 ]; do
  case $1 in
    --meetings) meetings=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) echo "officer.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
for n in $meetings $window; do
  case $n in ''|*[!0-9]*|0) echo "officer.sh: '$n' is not a whole number above 0" >&2; exit 2 ;; esac
done

if [ "${HJ_BENCH_NETNS:-}" != "$$" ]; then
  [ "$(id -u)" = 0 ] || { echo "officer.sh: needs root (unshare -n, ip link)" >&2; exit 1; }
  exec unshare -n bash -c 'export HJ_BENCH_NETNS=$$; exec "$0" "$@"' "$0" "${all_args[@]}"
fi
ip link set lo up

for f in "$loadgen" "$huijiand" "$chromium_bin"; do
  [ -x "$f" ] || { echo "officer.sh: $f is missing: run scripts/test (or scripts/install-deps) first" >&2; exit 1; }
done
[ -d "$browser_dir/node_modules/playwright-core" ] ||
  { echo "officer.sh: playwright-core is missing in tests/browser (scripts/install-deps installs it)" >&2; exit 1; }

pin_server=""; pin_other=""
if [ "$(nproc)" -ge 2 ]; then pin_server="taskset -c 0"; pin_other="taskset -c 1"; fi

work=$(mktemp -d /tmp/huijian-officer-bench.XXXXXX)
out=${out:-$work}
mkdir -p "$out"
server_pid=""; loadgen_pid=""; node_pid=""
stop_all() {
  for pid in $node_pid $loadgen_pid $server_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $node_pid $loadgen_pid $server_pid; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  node_pid=""; loadgen_pid=""; server_pid=""
}
trap 'stop_all' EXIT
trap 'stop_all; exit 130' INT TERM

clip=$build/clips/bench-1080p30-k75.mkv
mkdir -p "$build/clips"
"$here/scripts/make-test-clip" "$clip" 30 "huijian bench" 75

port=18400
secret=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
admin=admin-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
password=officer-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
{
  echo "[server]"
  echo "listen = \"127.0.0.1:$port\""
  echo "data_dir = \"data\""
  echo "admin_token = \"$admin\""
  echo "[media]"
  echo "addresses = [\"127.0.0.1\"]"
  echo "[supervision]"
  echo "default_minutes = 30"
  echo "[[officer]]"
  echo "username = \"bench\""
  echo "name = \"Bench officer\""
  echo "role = \"officer\""
  echo "password = \"$password\""
  "$loadgen" devices --meetings "$meetings" --secret "$secret"
} >"$work/huijiand.toml"
(cd "$work" && exec $pin_server "$huijiand" --config huijiand.toml --record off --log-level warn) >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 150); do
  grep -q "listening on" "$work/server.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "listening on" "$work/server.log" || { tail -20 "$work/server.log" >&2; exit 1; }

# The meetings run for both windows plus the time the console takes to start.
run_seconds=$((2 * window + 75))
$pin_other "$loadgen" run --server huijiand --url "wss://127.0.0.1:$port/ws" --ca "$work/data/tls/cert.pem" \
  --secret "$secret" --meetings "$meetings" --duration "$run_seconds" --warmup 2 --clip "$clip" --log-level info \
  >"$work/loadgen.json" 2>"$work/loadgen.log" &
loadgen_pid=$!

sample() {  # -> "cpu_ticks rtp_forwarded officer_video_forwarded officer_audio_sent"
  /usr/bin/python3 - "$server_pid" "$port" "$admin" "$work/data/tls/cert.pem" <<'EOF'
import json, ssl, sys, urllib.request
pid, port, token, ca = sys.argv[1:]
with open(f"/proc/{pid}/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
req = urllib.request.Request(f"https://127.0.0.1:{port}/api/stats", headers={"Authorization": f"Bearer {token}"})
relay = json.load(urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca), timeout=5))["relay"]
print(ticks, relay["rtp_forwarded"], relay["officer_video_forwarded"], relay["officer_audio_sent"])
EOF
}

measure() {  # name -> writes $out/<name>.txt with "ticks rtp officer audio" at start and end
  local a b
  a=$(sample)
  sleep "$window"
  b=$(sample)
  echo "$a" >"$out/$1.txt"
  echo "$b" >>"$out/$1.txt"
}

# Let every meeting connect and settle, then the baseline window.
for _ in $(seq 300); do
  kill -0 "$loadgen_pid" 2>/dev/null || { tail -20 "$work/loadgen.log" >&2; exit 1; }
  grep -q "meetings connected" "$work/loadgen.log" 2>/dev/null && break
  sleep 0.1
done
sleep 3
echo "baseline: $meetings meetings, no officer, ${window} s"
measure baseline

(cd "$browser_dir" && exec $pin_other node officer_watch.mjs --base "https://127.0.0.1:$port" --officer bench \
   --password "$password" --meetings "$meetings" --ready "$work/console.ready" --out "$out/console.json" \
   --timeout $((window + 120)) --chromium "$chromium_bin") >"$work/console.log" 2>&1 &
node_pid=$!
for _ in $(seq 900); do
  [ -s "$work/console.ready" ] && break
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 0.1
done
[ -s "$work/console.ready" ] || { echo "officer.sh: the console did not decode every picture:" >&2; tail -20 "$work/console.log" >&2; exit 1; }
echo "officer: $(cat "$work/console.ready"); ${window} s"
sleep 3
measure officer

kill -TERM "$node_pid" 2>/dev/null || true
wait "$node_pid" 2>/dev/null || true
node_pid=""
stop_all

/usr/bin/python3 - "$out" "$window" "$meetings" "$(getconf CLK_TCK)" <<'EOF'
import json, os, sys
out, window, meetings, hz = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
def load(name):
    a, b = [list(map(int, l.split())) for l in open(os.path.join(out, name + ".txt"))]
    d = [y - x for x, y in zip(a, b)]
    cpu = 100.0 * d[0] / hz / window
    sent = d[1] + d[2]
    return {"cpu_pct": cpu, "rtp_per_s": d[1] / window, "officer_pictures_per_s": d[2] / window,
            "officer_audio_sent": d[3], "us_per_packet": (d[0] / hz) * 1e6 / sent if sent else float("nan")}
base, off = load("baseline"), load("officer")
if base["rtp_per_s"] <= 0:
    sys.exit("officer.sh: the load generator carried no media in the baseline window (see loadgen.log)")
print(f"{'window':<22}{'huijiand CPU %':>16}{'RTP to parties/s':>18}{'pictures to officer/s':>23}{'µs/packet sent':>16}")
for name, r in (("no officer", base), ("1 officer watching", off)):
    print(f"{name:<22}{r['cpu_pct']:>16.1f}{r['rtp_per_s']:>18.0f}{r['officer_pictures_per_s']:>23.0f}{r['us_per_packet']:>16.1f}")
ratio = off["cpu_pct"] / base["cpu_pct"] if base["cpu_pct"] else float("nan")
print(f"ratio officer/baseline CPU: {ratio:.2f}x; the officer's {2 * meetings} pictures cost "
      f"{off['cpu_pct'] - base['cpu_pct']:.1f} % of one core ({(off['cpu_pct'] - base['cpu_pct']) / meetings:.2f} % per meeting watched)")
print(f"non-picture RTP sent to the officer during the window: {off['officer_audio_sent']}")
json.dump({"meetings": meetings, "window_s": window, "baseline": base, "officer": off, "ratio": ratio},
          open(os.path.join(out, "officer-bench.json"), "w"), indent=2)
if off["officer_audio_sent"] != 0 or off["officer_pictures_per_s"] <= 0:
    sys.exit(1)
EOF
