#!/usr/bin/env bash
# bench/relay.sh: huijiand against Janus 1.1.2 (videocall plugin), side by
# side in one run, on loopback inside a network namespace of its own.
#
#   bench/relay.sh                 the full ladder (1, 5, 10, 15, 20, ... meetings, 20 s each)
#   bench/relay.sh --quick         smoke: 2 meetings, 5 s, both servers; fails unless loss is 0
#   bench/relay.sh --record        the same with recording on (Janus record: true; ours: the recorder)
#
# Options: --meetings "1 5 10"  --duration S  --warmup S  --servers "direct janus huijiand"
#          --janus-threading "default event-loops"  --rounds N  --out DIR
#
# The servers take turns at each meeting count (all of them at 1 meeting, then
# all at 5, ...), so that a slow minute of this virtual machine falls on all
# alike; --rounds N (1 to 9) runs each step N times in turn and the summary
# uses each step's median. Each step starts the server afresh pinned to CPU 0 (taskset), runs
# huijian-loadgen pinned to CPU 1 with N meetings, and stops the server by its
# pid. The loadgen reads the server's CPU (utime+stime of all its threads, plus
# CPU 0's softirq time) and RSS from /proc over the measured window. A ladder
# stops after two steps in a row that lose >= 0.1 % or have p99 >= 5 ms, or
# where the load generator itself is saturated. The table is printed at the end and
# written with the raw JSON lines to the --out directory. The "direct" ladder
# is the baseline without a server (each meeting's two terminals connect to
# each other): its latency is what the load generator and the kernel add
# anyway, so a server's own share is the difference. See docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${HUIJIAN_BUILD_DIR:-$here/build}
loadgen=$build/terminals/loadgen/huijian-loadgen
huijiand=$build/signaling/huijiand

all_args=("$@")
meetings_list="1 5 10 15 20 25 30 40 50 60"
duration=20
warmup=2
servers="direct janus huijiand"
janus_threading="default event-loops"
record=0
rounds=1
quick=0
out=""
usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --meetings) meetings_list=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --janus-threading) janus_threading=$2; shift 2 ;;
    --record) record=1; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "relay.sh: unknown option '$1'" >&2; usage ;;
  esac
done
if [ "$quick" = 1 ]; then
  meetings_list="2"
  duration=5
  warmup=1
  janus_threading="default"
fi
for n in $meetings_list $duration $warmup $rounds; do
  case $n in ''|*[!0-9]*) echo "relay.sh: '$n' is not a whole number" >&2; exit 2 ;; esac
done
[ "$rounds" -ge 1 ] && [ "$rounds" -le 9 ] || { echo "relay.sh: --rounds takes 1 to 9, not $rounds" >&2; exit 2; }

# Everything below runs in a network namespace of our own with only loopback
# (and the veth that carries 127.0.0.1 for Janus's candidate gathering).
if [ "${HJ_BENCH_NETNS:-}" != "$$" ]; then
  [ "$(id -u)" = 0 ] || { echo "relay.sh: needs root (unshare -n, ip link)" >&2; exit 1; }
  exec unshare -n env HJ_BENCH_NETNS_PARENT=1 bash -c 'export HJ_BENCH_NETNS=$$; exec "$0" "$@"' "$0" "${all_args[@]}"
fi
"$here/bench/janus/netns-veth"
# Janus keeps a thread and a few descriptors per handle; the load generator a
# socket per terminal. Raise the descriptor limit to the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for f in "$loadgen" "$huijiand"; do
  [ -x "$f" ] || { echo "relay.sh: $f is missing: run scripts/build (or scripts/test) first" >&2; exit 1; }
done
command -v janus >/dev/null || { echo "relay.sh: janus is not installed (scripts/install-deps installs it)" >&2; exit 1; }
if [[ " $servers " == *" huijiand "* ]] && ! "$huijiand" --help 2>&1 | grep -q -- "--record"; then
  echo "relay.sh: $huijiand has no --record option: rebuild it" >&2
  exit 2
fi

cpus=$(nproc)
if [ "$cpus" -ge 2 ]; then
  pin_server="taskset -c 0"
  pin_loadgen="taskset -c 1"
  server_cpu=0
else
  pin_server=""
  pin_loadgen=""
  server_cpu=-1
fi

work=$(mktemp -d /tmp/huijian-bench.XXXXXX)
out=${out:-$work}
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"
server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  # A recording server signs its archives on the way out: give it longer.
  for _ in $(seq $([ "$record" = 1 ] && echo 600 || echo 100)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

# The clip: 1080p30 H.264 constrained baseline, ~4 Mbit/s, a keyframe every
# 2.5 s, cached under the build directory (scripts/make-test-clip).
clip=$build/clips/bench-1080p30-k75.mkv
mkdir -p "$build/clips"
"$here/scripts/make-test-clip" "$clip" 30 "huijian bench" 75

wait_http() {  # url seconds
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url, limit = sys.argv[1], float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        urllib.request.urlopen(url, timeout=1).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
EOF
}

port=18000
step_dir=""
step_suffix=""  # "-r2" and so on: every round starts from an empty folder (a fresh database)
start_janus() {  # threading meetings
  port=$((port + 1))
  step_dir=$work/janus-$1-$2$step_suffix
  mkdir -p "$step_dir"
  local loops=()
  [ "$1" = "event-loops" ] && loops=(--event-loops 1)
  local rec=()
  if [ "$record" = 1 ]; then mkdir -p "$step_dir/rec"; rec=(--record-dir "$step_dir/rec"); fi
  "$here/bench/janus/make-config" "$step_dir/cfg" --http-port "$port" --session-timeout 120 "${loops[@]}" "${rec[@]}" >/dev/null
  (cd "$step_dir" && exec $pin_server janus -F "$step_dir/cfg" -C "$step_dir/cfg/janus.jcfg" --disable-colors) \
    >"$step_dir/server.log" 2>&1 &
  server_pid=$!
  wait_http "http://127.0.0.1:$port/janus/info" 15 || { tail -20 "$step_dir/server.log" >&2; return 1; }
  loadgen_args=(--server janus --url "http://127.0.0.1:$port/janus")
  [ "$record" = 1 ] && loadgen_args+=(--janus-record-dir "$step_dir/rec")
  return 0
}

start_huijiand() {  # meetings
  port=$((port + 1))
  step_dir=$work/huijiand-$1$step_suffix
  mkdir -p "$step_dir"
  local secret
  secret=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
  {
    echo "[server]"
    echo "listen = \"127.0.0.1:$port\""
    echo "data_dir = \"data\""
    echo "admin_token = \"\""
    echo "[media]"
    echo "addresses = [\"127.0.0.1\"]"
    # With --record, the picture-only recorder writes under rec/ (weighed and deleted after the step).
    echo "[recorder]"
    echo "archive_dir = \"rec\""
    "$loadgen" devices --meetings "$1" --secret "$secret"
  } >"$step_dir/huijiand.toml"
  local recording=off
  [ "$record" = 1 ] && recording=on
  (cd "$step_dir" && exec $pin_server "$huijiand" --config huijiand.toml --record "$recording" --log-level warn) \
    >"$step_dir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 150); do
    grep -q "listening on" "$step_dir/server.log" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "listening on" "$step_dir/server.log" || { tail -20 "$step_dir/server.log" >&2; return 1; }
  loadgen_args=(--server huijiand --url "wss://127.0.0.1:$port/ws" --ca "$step_dir/data/tls/cert.pem"
                --secret "$secret")
  return 0
}

# One step: prints the loadgen's JSON line, tagged with the variant and round.
run_step() {  # variant meetings round
  local variant=$1 n=$2 round=$3 line
  step_suffix=""
  [ "$rounds" = 1 ] || step_suffix="-r$round"
  case $variant in
    direct) step_dir=$work/direct-$n$step_suffix; mkdir -p "$step_dir"; loadgen_args=(--server direct) ;;
    janus-*) start_janus "${variant#janus-}" "$n" || { echo "{\"error\":\"janus did not start\",\"meetings\":$n}"; return; } ;;
    huijiand) start_huijiand "$n" || { echo "{\"error\":\"huijiand did not start\",\"meetings\":$n}"; return; } ;;
  esac
  local measure=()
  [ -n "$server_pid" ] && measure=(--server-pid "$server_pid" --server-cpu "$server_cpu")
  line=$($pin_loadgen "$loadgen" run "${loadgen_args[@]}" --meetings "$n" --duration "$duration" \
           --warmup "$warmup" --clip "$clip" "${measure[@]}" 2>"$step_dir/loadgen.log") || true
  stop_server
  [ -n "$line" ] || line="{\"error\":\"the load generator printed nothing (see $step_dir/loadgen.log)\",\"meetings\":$n}"
  # Recordings are weighed, then deleted: a full ladder would otherwise fill the disk.
  local recorded=0
  if [ -d "$step_dir/rec" ]; then
    recorded=$(du -sb "$step_dir/rec" | cut -f1)
    rm -rf "$step_dir/rec"
  fi
  /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["variant"]=sys.argv[2]; d["recorded_bytes"]=int(sys.argv[3]); d["round"]=int(sys.argv[4]); print(json.dumps(d))' \
    "$line" "$variant" "$recorded" "$round"
}

# "pass", "fail: why" or "stop: why" for one JSON line.
verdict() {
  /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
if "error" in d:
    print("fail: " + d["error"]); sys.exit()
why = []
if d["loss_pct"] >= 0.1: why.append("loss %.3f %%" % d["loss_pct"])
if d["latency_us"]["p99"] >= 5000: why.append("p99 %.1f ms" % (d["latency_us"]["p99"] / 1000))
if d.get("misrouted", 0) or d.get("undecryptable", 0): why.append("misrouted/undecryptable packets")
if why: print("fail: " + ", ".join(why)); sys.exit()
if d.get("loadgen_cpu_pct", 0) > 85 or d.get("sender_late_resets", 0) > 0:
    print("stop: the load generator is saturated (%.0f %% of its core)" % d.get("loadgen_cpu_pct", 0)); sys.exit()
print("pass")' "$1"
}

echo "huijian relay benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -r)"
echo "clip: $clip; ${duration} s per step after ${warmup} s warm-up; record: $([ "$record" = 1 ] && echo on || echo off)"
echo "server pinned with '${pin_server:-nothing}', load generator with '${pin_loadgen:-nothing}'; work dir $work"

variants=()
for s in $servers; do
  case $s in
    direct) variants+=(direct) ;;
    janus) for t in $janus_threading; do variants+=("janus-$t"); done ;;
    huijiand) variants+=(huijiand) ;;
    *) echo "relay.sh: unknown server '$s' (direct, janus, huijiand)" >&2; exit 2 ;;
  esac
done

status=0
declare -A fails=() stopped=()
for variant in "${variants[@]}"; do fails[$variant]=0; done
for n in $meetings_list; do
  declare -A passed=() stop_now=()
  for round in $(seq "$rounds"); do
    for variant in "${variants[@]}"; do
      [ -z "${stopped[$variant]:-}" ] || continue
      line=$(run_step "$variant" "$n" "$round")
      echo "$line" >>"$results"
      v=$(verdict "$line")
      if [ "$rounds" = 1 ]; then
        printf '  %-18s %4d meetings: %s\n' "$variant" "$n" "$v"
      else
        printf '  %-18s %4d meetings, round %d: %s\n' "$variant" "$n" "$round" "$v"
      fi
      case $v in
        pass) passed[$variant]=$((${passed[$variant]:-0} + 1)) ;;
        stop:*) stop_now[$variant]=1 ;;
      esac
    done
  done
  # A step passes when most of its rounds do. One step over the limits may be
  # a stall of this virtual machine (an idle CPU woken late); two in a row end
  # that server's ladder, as does a saturated load generator.
  for variant in "${variants[@]}"; do
    [ -z "${stopped[$variant]:-}" ] || continue
    if [ -n "${stop_now[$variant]:-}" ]; then
      stopped[$variant]=1
    elif [ $((${passed[$variant]:-0} * 2)) -gt "$rounds" ]; then
      fails[$variant]=0
    else
      fails[$variant]=$((${fails[$variant]} + 1))
      [ "${fails[$variant]}" -ge 2 ] && stopped[$variant]=1
    fi
  done
  unset passed stop_now
done

/usr/bin/python3 "$here/bench/relay_table.py" "$results" | tee "$out/table.txt"
if [ "$quick" = 1 ]; then
  # The smoke test checks behaviour, not speed: every server set up its
  # meetings, media flowed both ways, nothing was lost or misrouted.
  /usr/bin/python3 "$here/bench/relay_table.py" --check-smoke "$results" || status=1
fi
if [ "$quick" = 1 ] && [ "$status" = 0 ] && [ "$out" = "$work" ]; then
  rm -rf "$work"   # the smoke run keeps nothing when it passes
else
  echo "results: $out"
fi
exit $status
