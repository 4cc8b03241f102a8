"""The picture-only recorder with real processes: huijiand, two native
terminals sending the pre-encoded 1080p clip (passthrough) and live Opus,
and GStreamer's own gst-discoverer-1.0 to read the archive.

  archive_recording.py meeting    after a meeting: two parties' segments, no
                                  audio stream (gst-discoverer), lengths
                                  within 1 s of the connected time, verify
                                  passes; a flipped byte, a deleted segment and
                                  an edited manifest each fail verify with a
                                  message naming what is wrong; and the
                                  recorder's inputs (GET /api/stats) held only
                                  the terminals' video SSRCs, never an audio
                                  SSRC seen on the wire (loopback capture).
  archive_recording.py crash      SIGKILL of huijiand 12 s into a meeting, a
                                  restart: the archive is finalised, verifies,
                                  says the recording ended abnormally, its
                                  segments decode to the end, and at most 2 s
                                  before the kill are missing.
  archive_recording.py gap        the detainee terminal frozen (SIGSTOP) for
                                  3 s mid-meeting: its missing picture is a
                                  no_video gap of about 3 s in the manifest,
                                  and verify reports it.
  archive_recording.py disk_full  the archive on a 12 MiB tmpfs (private
                                  mount namespace): the meeting runs on, the
                                  officers' view shows the recording fault,
                                  the manifest records the gap; nothing crashes.
"""
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402
import wire  # noqa: E402

ARCHIVE_TOOL = os.path.join(harness.BUILD, "recorder", "huijian-archive")


def archive_clip(seconds=40):
    """The 1080p30 test clip with a keyframe every half second. A terminal
    sending a file cannot answer the recorder's keyframe request, so footage
    starts at the clip's next keyframe: at most 0.5 s after connected here
    (a live encoder answers at once)."""
    name = "archive-1080p30-k15.mkv" if seconds == 40 else f"archive-1080p30-k15-{seconds}s.mkv"
    path = os.path.join(harness.BUILD, "clips", name)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run([os.path.join(harness.SOURCE, "scripts", "make-test-clip"), path, str(seconds), "huijian", "15"],
                       check=True, timeout=600)
    return path


def archive_dir(srv):
    return os.path.join(srv.data_dir, "archive")


def folder(srv, meeting="m-1"):
    return os.path.join(archive_dir(srv), meeting)


def wait_manifest(srv, timeout, meeting="m-1"):
    path = os.path.join(folder(srv, meeting), "manifest.json")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.exists(path + ".sig"):
            return harness.read_json(path)
        time.sleep(0.2)
    raise AssertionError(f"no signed manifest for {meeting} within {timeout} s; archive folder holds "
                         f"{sorted(os.listdir(folder(srv, meeting))) if os.path.isdir(folder(srv, meeting)) else 'nothing'}")


def verify(srv, meeting="m-1", archive=None):
    """huijian-archive verify; returns (exit code, output)."""
    args = [ARCHIVE_TOOL, "--data-dir", srv.data_dir]
    if archive:
        args += ["--archive-dir", archive]
    r = subprocess.run(args + ["verify", meeting], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def discover(path):
    """gst-discoverer-1.0's view of a file: (video streams, audio streams, duration s)."""
    r = subprocess.run(["gst-discoverer-1.0", "-v", path], capture_output=True, text=True, timeout=60)
    out = r.stdout
    video = sum(1 for line in out.splitlines() if line.strip().startswith("video #"))
    audio = sum(1 for line in out.splitlines() if line.strip().startswith("audio #"))
    duration = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Duration:"):
            h, m, s = line.split(":", 1)[1].strip().split(":")
            duration = int(h) * 3600 + int(m) * 60 + float(s)
            break
    return video, audio, duration, out


def decodes_to_end(path):
    r = subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "matroskademux", "!",
                        "h264parse", "!", "avdec_h264", "!", "fakesink"], capture_output=True, text=True, timeout=300)
    return r.returncode == 0, r.stdout + r.stderr


def start_recorded_meeting(srv, seconds, procs):
    """Starts the server and a meeting of `seconds` sending archive_clip() both
    ways; returns once it is connected (the recording has started)."""
    srv.start()
    source = ["--source", f"file:{archive_clip()}"]
    harness.start_meeting(srv, source, source, seconds, procs)
    wait_state(srv, "connected")


def wait_state(srv, state, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{srv.database}?mode=ro", uri=True, timeout=2) as db:
                row = db.execute("SELECT state, connected_at FROM meetings WHERE id='m-1'").fetchone()
                if row and row[0] == state:
                    return row
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    raise AssertionError(f"meeting m-1 never reached {state}:\n" + srv.log()[-3000:])


def stats(srv):
    status, body = officer.https(srv, "GET", "/api/stats", token=srv.admin_token)
    assert status == 200, f"GET /api/stats: {status} {body}"
    return body


def party_footage(manifest, party):
    """(first start s, end s, summed duration s) of a party's segments."""
    segs = [s for s in manifest["segments"] if s["party"] == party]
    if not segs:
        return None
    start = min(s["start_ms"] for s in segs) / 1000
    end = max(s["start_ms"] + s["duration_ms"] for s in segs) / 1000
    return start, end, sum(s["duration_ms"] for s in segs) / 1000


def check_archive_files(srv, manifest, failures):
    """Both parties have segments; nothing but them, the manifest and its
    signature; gst-discoverer finds H.264 video and no audio in each."""
    names = sorted(os.listdir(folder(srv)))
    listed = sorted(s["file"] for s in manifest["segments"])
    extra = [n for n in names if n not in listed + ["manifest.json", "manifest.json.sig"]]
    if extra:
        failures.append(f"unexpected files in the archive: {extra}")
    for party in ("lawyer", "detainee"):
        if not [s for s in manifest["segments"] if s["party"] == party]:
            failures.append(f"no segment of the {party}")
    for s in manifest["segments"]:
        video, audio, duration, out = discover(os.path.join(folder(srv), s["file"]))
        harness.log(f"gst-discoverer {s['file']}: {video} video, {audio} audio, {duration} s")
        if video != 1 or "video/x-h264" not in out:
            failures.append(f"{s['file']}: gst-discoverer finds {video} video streams / no H.264:\n{out[:800]}")
        if audio != 0:
            failures.append(f"{s['file']}: gst-discoverer finds {audio} AUDIO streams")


def scenario_meeting():
    meeting_seconds = 20
    srv = harness.Server()
    procs, capture = [], None
    failures = []
    inputs = None
    try:
        pcap = os.path.join(srv.dir, "lo.pcap")
        capture = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", pcap, "udp"],
                                   stdout=subprocess.DEVNULL, stderr=open(pcap + ".log", "wb"))
        time.sleep(1.0)
        srv.start()
        source = ["--source", f"file:{archive_clip()}"]
        harness.start_meeting(srv, source, source, meeting_seconds, procs)
        wait_state(srv, "connected")
        # Watch the recorder's inputs while the meeting runs.
        while any(p.poll() is None for p in procs):
            body = stats(srv)
            if (body.get("recorder") or {}).get("m-1"):
                inputs = body["recorder"]["m-1"]
            time.sleep(1.0)
        manifest = wait_manifest(srv, 30)
        body = stats(srv)
        if (body.get("recorder") or {}).get("m-1"):
            inputs = body["recorder"]["m-1"]
        with sqlite3.connect(srv.database) as db:
            connected_at, ended_at = db.execute("SELECT connected_at, ended_at FROM meetings WHERE id='m-1'").fetchone()
    finally:
        for p in procs:
            harness.stop_process(p, "terminal")
        srv.stop()
        if capture:
            harness.stop_process(capture, "tcpdump")

    harness.log("manifest:", json.dumps({k: manifest[k] for k in ("recording_started_at", "recording_ended_at",
                                                                   "ended_normally", "end_reason", "gaps")}))
    connected = officer.parse_iso(ended_at) - officer.parse_iso(connected_at)
    check_archive_files(srv, manifest, failures)
    for party in ("lawyer", "detainee"):
        f = party_footage(manifest, party)
        if f is None:
            continue
        harness.log(f"{party}: footage {f[0]:.2f} s .. {f[1]:.2f} s ({f[2]:.2f} s) of a {connected:.2f} s meeting")
        if abs(f[2] - connected) > 1.0:
            failures.append(f"{party}: {f[2]:.2f} s of footage for {connected:.2f} s connected (more than 1 s apart)")
    if not manifest["ended_normally"]:
        failures.append("the manifest says the recording ended abnormally")
    kinds = [e["kind"] for e in manifest["events"]]
    if "state:connected" not in kinds or "state:ended" not in kinds:
        failures.append(f"manifest events lack the handshake/end: {kinds}")

    code, out = verify(srv)
    harness.log("verify:", out.strip().replace("\n", " | ")[:600])
    if code != 0:
        failures.append(f"huijian-archive verify exited {code}:\n{out}")

    # Tampering: each on a copy of the archive, each must fail naming what is wrong.
    seg = manifest["segments"][0]["file"]
    for what, damage, expect in (
            ("a flipped byte", lambda d: flip_byte(os.path.join(d, seg)), seg),
            ("a deleted segment", lambda d: os.remove(os.path.join(d, seg)), seg),
            ("an edited manifest", lambda d: edit_manifest(os.path.join(d, "manifest.json")), "manifest.json")):
        copy_root = os.path.join(srv.dir, "tampered-" + what.replace(" ", "-"))
        shutil.copytree(folder(srv), os.path.join(copy_root, "m-1"))
        damage(os.path.join(copy_root, "m-1"))
        code, out = verify(srv, archive=copy_root)
        harness.log(f"verify after {what}: exit {code}: {out.strip().splitlines()[:3]}")
        if code == 0:
            failures.append(f"verify passed after {what}")
        elif expect not in out:
            failures.append(f"verify after {what} does not name {expect}:\n{out}")

    # Zero audio into the recorder: its inputs against the SSRCs on the wire.
    streams = {}
    for src, dst, payload in wire.udp_datagrams(pcap):
        if wire.kind(payload) != "rtp" or len(payload) < 12:
            continue
        ssrc = int.from_bytes(payload[8:12], "big")
        streams.setdefault(ssrc, []).append(len(payload))
    # Opus in 20 ms frames: small datagrams; the clip's video: most near the 1200-byte MTU.
    audio_ssrcs = {s for s, sizes in streams.items() if len(sizes) > 200 and statistics.median(sizes) < 400}
    video_ssrcs = {s for s, sizes in streams.items() if len(sizes) > 200 and statistics.median(sizes) >= 400}
    harness.log(f"on the wire: {len(audio_ssrcs)} audio-sized SSRCs, {len(video_ssrcs)} video-sized SSRCs")
    if len(audio_ssrcs) < 2:
        failures.append(f"expected both terminals' audio on the wire, found SSRCs {sorted(audio_ssrcs)}")
    if not inputs:
        failures.append("GET /api/stats never showed the recorder's inputs for m-1")
    else:
        harness.log("recorder inputs:", json.dumps(inputs))
        for party in ("lawyer", "detainee"):
            p = inputs[party]
            seen = {s["ssrc"] for s in p["streams"]}
            if seen & audio_ssrcs:
                failures.append(f"the recorder received audio SSRCs {sorted(seen & audio_ssrcs)} from the {party}")
            if not seen or not seen <= video_ssrcs:
                failures.append(f"the recorder's {party} inputs {sorted(seen)} are not video SSRCs of the wire")
            if p["other_packets"]:
                failures.append(f"the recorder's {party} tap counted {p['other_packets']} unaccounted packets")
            if p["packets"] < 100 * meeting_seconds:
                failures.append(f"the recorder got only {p['packets']} packets of the {party}'s video")
    harness.finish(failures, srv)


def flip_byte(path):
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x01]))


def edit_manifest(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace('"ended_normally": true', '"ended_normally": false', 1))


def scenario_crash():
    srv = harness.Server()
    procs = []
    failures = []
    try:
        start_recorded_meeting(srv, 60, procs)
        time.sleep(12)
        killed_at = time.time()
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(timeout=10)
        harness.log(f"huijiand killed with SIGKILL at {killed_at:.3f}")
        for p in procs:
            harness.stop_process(p, "terminal")
        srv.start()
        manifest = wait_manifest(srv, 60)
    finally:
        for p in procs:
            harness.stop_process(p, "terminal")
        srv.stop()

    harness.log("manifest:", json.dumps({k: manifest[k] for k in ("recording_started_at", "recording_ended_at",
                                                                   "ended_normally", "end_reason",
                                                                   "recorder_faults")}, ensure_ascii=False))
    if manifest["ended_normally"]:
        failures.append("the recovered manifest does not say the recording ended abnormally")
    check_archive_files(srv, manifest, failures)
    origin = officer.parse_iso(manifest["recording_started_at"])
    for party in ("lawyer", "detainee"):
        f = party_footage(manifest, party)
        if f is None:
            continue
        lost = killed_at - (origin + f[1])
        harness.log(f"{party}: footage ends {lost:.2f} s before the kill")
        if lost > 2.0:
            failures.append(f"{party}: {lost:.2f} s before the kill are missing (more than 2 s)")
    for s in manifest["segments"]:
        ok, out = decodes_to_end(os.path.join(folder(srv), s["file"]))
        if not ok:
            failures.append(f"{s['file']} does not decode to the end:\n{out[-600:]}")
    code, out = verify(srv)
    harness.log("verify:", out.strip().replace("\n", " | ")[:600])
    if code != 0:
        failures.append(f"huijian-archive verify exited {code}:\n{out}")
    if "abnormal" not in out.lower():
        failures.append("verify does not report the abnormal end")
    harness.finish(failures, srv)


def scenario_gap():
    srv = harness.Server()
    procs = []
    failures = []
    try:
        start_recorded_meeting(srv, 16, procs)
        time.sleep(5)
        detainee = procs[0]
        frozen_at = time.time()
        os.kill(detainee.pid, signal.SIGSTOP)
        time.sleep(3)
        os.kill(detainee.pid, signal.SIGCONT)
        thawed_at = time.time()
        for p in procs:
            p.wait(timeout=60)
        manifest = wait_manifest(srv, 30)
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
            harness.stop_process(p, "terminal")
        srv.stop()

    origin = officer.parse_iso(manifest["recording_started_at"])
    harness.log(f"detainee frozen {frozen_at - origin:.2f} s .. {thawed_at - origin:.2f} s after the origin")
    harness.log("manifest gaps:", json.dumps(manifest["gaps"]))
    gaps = [g for g in manifest["gaps"] if g["party"] == "detainee" and g["reason"] == "no_video"]
    if len(gaps) != 1:
        failures.append(f"expected one no_video gap of the detainee, got {manifest['gaps']}")
    else:
        g = gaps[0]
        start, end = g["from_ms"] / 1000, g["to_ms"] / 1000
        if abs(start - (frozen_at - origin)) > 0.5 or abs(end - (thawed_at - origin)) > 1.0:
            failures.append(f"the gap {start:.2f} .. {end:.2f} s does not match the freeze "
                            f"{frozen_at - origin:.2f} .. {thawed_at - origin:.2f} s")
    if [g for g in manifest["gaps"] if g["party"] == "lawyer" and g["reason"] == "no_video"]:
        failures.append("the lawyer, who was never frozen, has a no_video gap")
    code, out = verify(srv)
    harness.log("verify:", out.strip().replace("\n", " | ")[:600])
    if code != 0:
        failures.append(f"huijian-archive verify exited {code}:\n{out}")
    if "gap: detainee" not in out:
        failures.append("verify does not report the detainee's gap")
    harness.finish(failures, srv)


def scenario_disk_full():
    srv = officer.server()
    procs, clients = [], []
    failures = []
    mounted = False
    try:
        os.makedirs(archive_dir(srv), exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m,mode=0700", "huijian-test-archive",
                        archive_dir(srv)], check=True)
        mounted = True
        srv.start()
        token = officer.login(srv, "wang")["token"]
        console = officer.console(srv, token)
        clients.append(console)
        reports = officer.start_parties(srv, procs, lawyer_extra=["--source", f"file:{archive_clip()}"],
                                        detainee_extra=["--source", f"file:{archive_clip()}"])
        officer.wait_connected(console)
        # ~4 Mbit/s a party: 12 MiB fill in about 12 s.
        msg = officer.wait_for(console, "meetings", 40,
                               lambda j: str((officer.meeting_in(j, "m-1") or {}).get("recording") or "")
                               .startswith("fault"))
        fault = officer.meeting_in(msg, "m-1")["recording"]
        harness.log("officer view:", fault)
        if "space" not in fault.lower():
            failures.append(f"the fault the officer sees does not say the disk is full: {fault}")
        fault_at = time.time()
        time.sleep(8)
        status, body = officer.https(srv, "GET", "/api/health")
        if status != 200:
            failures.append(f"/api/health answers {status} during the recording fault")
        console.send({"type": "terminate", "meeting": "m-1", "code": "technical_fault"})
        officer.wait_for(console, "ok", 10, lambda j: j.get("ref") == "terminate")
        terminated_at = time.time()
        manifest = wait_manifest(srv, 30)
        officer.wait_exit(procs, 30)
    finally:
        officer.stop_all(srv, clients, procs)

    harness.log("manifest gaps:", json.dumps(manifest["gaps"], ensure_ascii=False))
    harness.log("faults:", manifest["recorder_faults"])
    fault_gaps = [g for g in manifest["gaps"] if g["reason"] == "recording_fault"]
    if not fault_gaps:
        failures.append("the manifest records no recording_fault gap")
    for device, r in officer.read_reports(reports, failures):
        frames = r.get("remote_frames_decoded") or 0
        harness.log(f"{device}: {frames} frames decoded, {r.get('remote_audio_packets')} audio packets")
        connected_s = terminated_at - officer.parse_iso(manifest["connected_at"])
        harness.log(f"{device}: connected {connected_s:.1f} s, {terminated_at - fault_at:.1f} s of it after the fault")
        if frames < 30 * (connected_s - 3):
            failures.append(f"{device} decoded only {frames} frames in {connected_s:.1f} s: the meeting did not go on")
    code, out = verify(srv)
    harness.log("verify:", out.strip().replace("\n", " | ")[:800])
    if code != 0:
        failures.append(f"huijian-archive verify exited {code} after the disk filled:\n{out}")
    if "Segmentation fault" in srv.log() or "terminate called" in srv.log():
        failures.append("huijiand crashed")
    if mounted:  # (the private mount namespace goes with the test anyway)
        subprocess.run(["umount", archive_dir(srv)], check=False)
    harness.finish(failures, srv)


if __name__ == "__main__":
    {"meeting": scenario_meeting, "crash": scenario_crash, "gap": scenario_gap,
     "disk_full": scenario_disk_full}[sys.argv[1]]()
