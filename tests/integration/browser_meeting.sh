#!/usr/bin/env bash
# Browser <-> native: a whole 1080p meeting through huijiand and the relay.
#
# The lawyer is Chromium (Debian's /usr/bin/chromium with fake camera and
# microphone, driven by tests/browser/lawyer_meeting.mjs) on huijiand's
# /lawyer.html; the detainee is a headless huijian-terminal sending a
# pre-encoded 1080p30 H.264 clip. The detainee presses ready after 2 s, the
# page presses connect by itself once its media is up (&auto=1), the meeting runs for
# HUIJIAN_MEETING_SECONDS (default 12) and the page ends it.
# Checks: Chromium decoded the native terminal's video at 1920x1080 and got
# its audio; Chromium sent H.264 constrained baseline (42e01f, pm=1) 1920 wide
# with an encoder target of at least 2 Mbit/s (the relay's REMB); the native
# terminal decoded Chromium's video at 1920x1080 and got its audio; both saw
# the handshake states in order; the native terminal exited 0.
#
# Runs inside tests/integration/netns-run (loopback only). Every process it
# starts is stopped by its pid by the EXIT trap, also when a check fails.
# Fails (does not skip) when Chromium, node or playwright-core are missing:
# scripts/install-deps installs them.
#
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SOURCE=${HUIJIAN_SOURCE:-$(cd "$here/../.." && pwd)}
BUILD=${HUIJIAN_BUILD:-$SOURCE/build}
HUIJIAND=$BUILD/signaling/huijiand
TERMINAL=$BUILD/terminals/huijian-terminal
BROWSER_DIR=$SOURCE/tests/browser
CHROMIUM=${HUIJIAN_CHROMIUM:-/usr/bin/chromium}
MEETING_SECONDS=${HUIJIAN_MEETING_SECONDS:-12}

log() { echo "[browser-test] $*"; }
fail() { log "FAIL: $*"; exit 1; }

# ------------------------------------------------------------ prerequisites
[ -x "$HUIJIAND" ] || fail "huijiand not built: $HUIJIAND"
[ -x "$TERMINAL" ] || fail "huijian-terminal not built: $TERMINAL"
if [ ! -x "$CHROMIUM" ]; then log "FAIL: no Chromium at $CHROMIUM (scripts/install-deps installs it)"; exit 1; fi
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
  log "FAIL: $BROWSER_DIR/node_modules/playwright-core missing (run scripts/install-deps)"; exit 1
fi
command -v node >/dev/null || { log "FAIL: node not found"; exit 1; }

# The clip is shared with the native meeting test (same cache path).
mkdir -p "$BUILD/clips"
CLIP=$BUILD/clips/huijian-1080p30-k1s.mkv
if [ ! -s "$CLIP" ]; then
  log "making test clip $CLIP"
  timeout 600 "$SOURCE/scripts/make-test-clip" "$CLIP" 40 huijian
fi
[ -s "$CLIP" ] || fail "no test clip at $CLIP"

# ------------------------------------------------------------------- setup
work=$(mktemp -d "${TMPDIR:-/tmp}/huijian-browser-XXXXXX")
server_pid=""
detainee_pid=""
driver_pid=""

stop_pid() { # stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL; only our own children
  local pid=$1 name=$2 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "$name (pid $pid) did not stop on SIGTERM; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$driver_pid" "lawyer_meeting.mjs"
  stop_pid "$detainee_pid" "huijian-terminal"
  stop_pid "$server_pid" "huijiand"
  if [ $rc -ne 0 ]; then
    log "exit $rc; logs and reports kept in $work"
    for f in huijiand.log detainee.log driver.log; do
      [ -f "$work/$f" ] && { echo "----- $f (last 40 lines)"; tail -n 40 "$work/$f"; }
    done
  else
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
lawyer_secret=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
detainee_secret=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
admin_token="admin-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"

cat > "$work/huijiand.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
data_dir = "data"
web_root = "$SOURCE/terminals/web"
admin_token = "$admin_token"
[media]
addresses = ["127.0.0.1"]
[[device]]
id = "lawyer-1"
name = "律师会见室 1"
role = "lawyer-terminal"
secret = "$lawyer_secret"
[[device]]
id = "detainee-1"
name = "看守所会见室 1"
role = "detainee-terminal"
secret = "$detainee_secret"
[[meeting]]
id = "m-1"
lawyer_device = "lawyer-1"
detainee_device = "detainee-1"
case_id = "(2026)京0105刑初123号"
EOF

# ------------------------------------------------------------ huijiand up
cd "$work"
"$HUIJIAND" --config "$work/huijiand.toml" > "$work/huijiand.log" 2>&1 &
server_pid=$!
for i in $(seq 1 200); do
  grep -q "huijiand listening on" "$work/huijiand.log" && break
  kill -0 "$server_pid" 2>/dev/null || fail "huijiand exited early"
  sleep 0.1
done
grep -q "huijiand listening on" "$work/huijiand.log" || fail "huijiand did not listen within 20 s"
CA=$work/data/tls/cert.pem
[ -s "$CA" ] || fail "no TLS certificate at $CA"
log "huijiand pid $server_pid on 127.0.0.1:$port"

# The page must be served (static files from terminals/web).
for f in lawyer.html lawyer.js style.css; do
  code=$(python3 - "$port" "$f" "$CA" <<'PY'
import ssl, sys, urllib.request
port, name, ca = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # only "is the page served" is checked here; Chromium ignores HTTPS errors too
ctx.verify_mode = ssl.CERT_NONE
try:
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/{name}", context=ctx, timeout=5) as r:
        print(r.status)
except Exception as e:
    print(f"error {e}")
PY
)
  [ "$code" = 200 ] || fail "GET /$f -> $code"
done

# ------------------------------------------------------- native detainee
"$TERMINAL" --role detainee --server "wss://127.0.0.1:$port/ws" --ca "$CA" \
  --device detainee-1 --secret "$detainee_secret" --headless --source "file:$CLIP" \
  --auto-ready 2 --exit-after 120 --report "$work/detainee.json" > "$work/detainee.log" 2>&1 &
detainee_pid=$!
log "huijian-terminal (detainee) pid $detainee_pid"

# ------------------------------------------------------ Chromium lawyer
url="https://127.0.0.1:$port/lawyer.html?device=lawyer-1&secret=$lawyer_secret&auto=1"
(cd "$BROWSER_DIR" && exec node lawyer_meeting.mjs --url "$url" --seconds "$MEETING_SECONDS" \
   --connect-timeout 60 --timeout $((MEETING_SECONDS + 120)) --out "$work/lawyer.json" \
   --screenshot "$work/lawyer.png") > "$work/driver.log" 2>&1 &
driver_pid=$!
driver_rc=0
wait "$driver_pid" || driver_rc=$?
driver_pid=""
log "lawyer_meeting.mjs exited $driver_rc"

# The page ended the meeting; the detainee terminal should end and exit by itself.
detainee_rc=""
for i in $(seq 1 300); do
  if ! kill -0 "$detainee_pid" 2>/dev/null; then
    detainee_rc=0
    wait "$detainee_pid" || detainee_rc=$?
    detainee_pid=""
    break
  fi
  sleep 0.1
done
[ -n "$detainee_rc" ] || fail "the detainee terminal did not exit within 30 s after the meeting ended"
log "huijian-terminal exited $detainee_rc"

# The relay's ICE counters: after the checks it reads both pairs' sockets
# itself and must have answered Chromium's consent checks (else Chromium
# would have dropped the pair).
python3 - "$port" "$CA" "$admin_token" "$work/stats.json" <<'PY' || fail "GET /api/stats failed"
import json, ssl, sys, urllib.request
port, ca, token, out = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
req = urllib.request.Request(f"https://127.0.0.1:{port}/api/stats", headers={"Authorization": f"Bearer {token}"})
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    open(out, "w").write(r.read().decode())
PY

[ "$driver_rc" = 0 ] || fail "lawyer_meeting.mjs failed (exit $driver_rc): $(tail -n 3 "$work/driver.log")"
[ -s "$work/detainee.json" ] || fail "no detainee report"

# ---------------------------------------------------------------- checks
python3 - "$work/lawyer.json" "$work/detainee.json" "$detainee_rc" "$work/stats.json" "$work/huijiand.log" <<'PY'
import json, sys

lawyer = json.load(open(sys.argv[1], encoding="utf-8"))
detainee = json.load(open(sys.argv[2], encoding="utf-8"))
detainee_rc = int(sys.argv[3])
relay = json.load(open(sys.argv[4], encoding="utf-8"))["relay"]
problems = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        problems.append(what)

vin = lawyer.get("video_in") or {}
ain = lawyer.get("audio_in") or {}
vout = lawyer.get("video_out") or {}
check(lawyer.get("ok") is True, f"Chromium: meeting connected and sampled ({lawyer.get('exit_reason')})")
check(vin.get("frames_decoded", 0) > 0, f"Chromium decoded the native video: {vin.get('frames_decoded')} frames")
check((vin.get("frame_width"), vin.get("frame_height")) == (1920, 1080),
      f"Chromium decoded 1920x1080: {vin.get('frame_width')}x{vin.get('frame_height')}")
check(ain.get("packets_received", 0) > 0, f"Chromium received native audio: {ain.get('packets_received')} packets")
check(vout.get("mime_type") == "video/H264", f"Chromium sent H.264: {vout.get('mime_type')}")
fmtp = (vout.get("sdp_fmtp_line") or "").lower()
check("profile-level-id=42e01f" in fmtp and "packetization-mode=1" in fmtp,
      f"Chromium sent constrained baseline, packetization-mode=1: {fmtp}")
check(vout.get("frame_width", 0) == 1920, f"Chromium sent 1920 wide: {vout.get('frame_width')}")
# The relay's REMB lets Chromium's encoder aim at the configured 4 Mbit/s
# instead of creeping up from 300 kbit/s.
check((vout.get("target_bitrate") or 0) >= 2_000_000,
      f"Chromium's encoder target is at least 2 Mbit/s: {vout.get('target_bitrate')}")

states = [s["state"] for s in lawyer.get("meeting_states", [])]
def in_order(seq, wanted):
    it = iter(seq)
    return all(any(x == w for x in it) for w in wanted)
# The detainee may already be ready when the page logs in, so "waiting" is
# not always seen; the rest of the handshake always is.
check(in_order(states, ["detainee_ready", "connected", "ended"]),
      f"Chromium saw detainee_ready -> connected -> ended: {states}")

check(detainee_rc == 0, f"native terminal exited 0 (got {detainee_rc}, {detainee.get('exit_reason')})")
check(detainee.get("remote_frames_decoded", 0) > 0
      and (detainee.get("remote_width"), detainee.get("remote_height")) == (1920, 1080),
      f"native terminal decoded Chromium's video at 1920x1080: {detainee.get('remote_frames_decoded')} frames, "
      f"{detainee.get('remote_width')}x{detainee.get('remote_height')}")
check(detainee.get("remote_audio_packets", 0) > 0,
      f"native terminal received Chromium's audio: {detainee.get('remote_audio_packets')} packets")
dstates = [s.get("state") for s in detainee.get("meeting_states", [])]
check(in_order(dstates, ["detainee_ready", "connected", "ended"]),
      f"native terminal saw detainee_ready -> connected -> ended: {dstates}")
check(not detainee.get("errors"), f"native terminal reported no errors: {detainee.get('errors')}")

check(relay.get("ice_sockets_taken_over", 0) >= 2,
      f"the relay read both terminals' selected sockets itself: {relay.get('ice_sockets_taken_over')}")
check(relay.get("ice_consent_answered", 0) >= 1,
      f"the relay answered consent checks after the take-over: {relay.get('ice_consent_answered')}")
check(relay.get("ice_foreign_dropped", 1) == 0,
      f"no datagram came from a stranger: {relay.get('ice_foreign_dropped')}")
# Where the kernel refuses io_uring (a seccomp filter, say) the relay sends
# each datagram by sendto() and says so in its log; otherwise it batches.
no_ring = "io_uring is not available" in open(sys.argv[5], encoding="utf-8", errors="replace").read()
batched = relay.get("udp_sent_batched", 0) > 0 and relay.get("udp_send_batches", 0) > 0
check(batched or (no_ring and relay.get("udp_sent_at_once", 0) > 0),
      f"the relay forwarded in io_uring batches: {relay.get('udp_sent_batched')} datagrams "
      f"in {relay.get('udp_send_batches')} batches, {relay.get('udp_sent_at_once')} sent at once"
      + (" (the kernel gives no io_uring here, as the server logged)" if no_ring else ""))

print(f"time to first remote frame: Chromium {lawyer.get('time_to_first_remote_frame_ms')} ms, "
      f"native {detainee.get('time_to_first_remote_frame_ms')} ms")
sys.exit(1 if problems else 0)
PY
log "PASS"
