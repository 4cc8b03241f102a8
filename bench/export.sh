#!/bin/sh
# bench/export.sh: how fast huijian-archive exports a meeting's side-by-side
# composite, as a ratio to the meeting's length, next to the cost of only
# decoding both parties' segments (the part no export can avoid).
#
#   bench/export.sh [--seconds 60] [--quick]
#
# It records a real meeting first: huijiand and two native terminals sending
# the pre-encoded 1080p30 clip (passthrough), in a network namespace of its
# own with only loopback. Then, in the same run: decode-only of both parties
# (gst-launch, avdec_h264 to fakesink) and huijian-archive export. Ratios
# below 1.0 are faster than real time. --quick is the ctest smoke run
# (a 10 s meeting; it checks the export plays, not its speed).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
export HUIJIAN_BUILD="${HUIJIAN_BUILD_DIR:-$here/build}" HUIJIAN_SOURCE="$here"
exec "$here/tests/integration/netns-run" /usr/bin/python3 "$here/bench/export_bench.py" "$@"
