"""bench/export.sh's work (see there): record a meeting, then time a decode
of both parties and huijian-archive export side by side."""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["HUIJIAN_SOURCE"], "tests", "integration"))
import archive_recording  # noqa: E402
import harness  # noqa: E402


def timed(args):
    start = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    return time.monotonic() - start, r


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    seconds = 10 if opts.quick else max(10, min(opts.seconds, 1800))

    srv = harness.Server()
    procs = []
    try:
        srv.start()
        source = ["--source", f"file:{archive_recording.archive_clip(max(40, seconds + 10))}"]
        harness.start_meeting(srv, source, source, seconds, procs)
        for p in procs:
            p.wait(timeout=seconds + 120)
        manifest = archive_recording.wait_manifest(srv, 60)
    finally:
        for p in procs:
            harness.stop_process(p, "terminal")
        srv.stop()

    folder = archive_recording.folder(srv)
    footage = max(s["start_ms"] + s["duration_ms"] for s in manifest["segments"]) / 1000
    length = (archive_recording.officer.parse_iso(manifest["recording_ended_at"]) -
              archive_recording.officer.parse_iso(manifest["recording_started_at"]))
    decode_s = 0.0
    for s in manifest["segments"]:
        t, r = timed(["gst-launch-1.0", "-q", "filesrc", f"location={os.path.join(folder, s['file'])}", "!",
                      "matroskademux", "!", "h264parse", "!", "avdec_h264", "!", "fakesink"])
        if r.returncode != 0:
            sys.exit(f"export.sh: decoding {s['file']} failed:\n{r.stderr[-800:]}")
        decode_s += t
    out = os.path.join(srv.dir, "composite.mp4")
    export_s, r = timed([archive_recording.ARCHIVE_TOOL, "--data-dir", srv.data_dir, "export", "m-1",
                         "--composite", out])
    if r.returncode != 0:
        sys.exit(f"export.sh: huijian-archive export failed:\n{r.stdout}{r.stderr}")
    video, audio, duration, info = archive_recording.discover(out)
    width = next((int(line.split(":")[1]) for line in info.splitlines() if line.strip().startswith("Width:")), 0)
    r2 = subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={out}", "!", "qtdemux", "!", "h264parse", "!",
                         "avdec_h264", "!", "fakesink"], capture_output=True, text=True, timeout=600)
    played = r2.returncode == 0

    print(f"meeting: {length:.1f} s recorded, footage to {footage:.1f} s, 1080p30, "
          f"{len(manifest['segments'])} segments")
    print(f"{'case':28} {'wall s':>8} {'ratio to meeting':>17}")
    print(f"{'decode both parties only':28} {decode_s:8.1f} {decode_s / length:17.2f}")
    print(f"{'huijian-archive export':28} {export_s:8.1f} {export_s / length:17.2f}")
    print(f"export / decode-only: {export_s / decode_s:.2f}")
    print(f"composite: {width} px wide, {duration:.1f} s, {audio} audio streams, plays to the end: {played}")
    if not played or width < 1920 or audio != 0 or abs(duration - length) > 1.5:
        sys.exit("export.sh: the composite is wrong (see above)")


if __name__ == "__main__":
    main()
