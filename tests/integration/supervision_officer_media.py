"""Supervision with media: the officer console in Chromium watches a native
<-> native meeting (both pictures, never the sound), interjects by voice with
push-to-talk, and terminates the meeting (tests/browser/officer_media.mjs
drives the console).

1. huijiand with officer accounts; native lawyer-1 and detainee-1 terminals
   sending the pre-encoded 1080p clip, ready/connect by themselves, --report.
2. The console watches m-1: both pictures decode; the officer's peer has no
   receiving audio (getStats and both SDPs are checked in the page).
3. Push-to-talk held 3 s (talk_start_ms/talk_stop_ms from the page's clock);
   3 s without talking.
4. Terminate with violation_phone (terminate_click_ms right before the
   confirming second press); the tile goes away.
5. Both terminals' reports: the officer's voice arrived (media.officer_audio_*)
   only within the talk, the remote media stopped < 500 ms after the click,
   the end code is violation_phone, officer_speaking was announced.
6. The relay's officer counters (/api/stats): pictures forwarded to the
   officer, no other RTP sent to the officer, the voice forwarded.
7. The violation record exists.

Every figure measured is printed as one "[test] MEASURED ..." line. Fails (does
not skip) when Chromium, node or playwright-core are missing.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402

BROWSER_DIR = os.path.join(harness.SOURCE, "tests", "browser")
CHROMIUM = os.environ.get("HUIJIAN_CHROMIUM", "/usr/bin/chromium")
MEETING = "m-1"
TALK_SECONDS = 3
NODE_TIMEOUT = 150

# The officer's voice is timed on two clocks of this machine: the page's
# Date.now() around the press/release and the terminals' receive times. The
# first packet may not arrive before the press (50 ms for the two clocks'
# reading granularity); the last may arrive up to 300 ms after the release
# (packets already in flight through the browser's jitter-free send path, the
# relay and the terminal's jitter buffer when interjection_stop is handled).
VOICE_EARLY_MS = 50
VOICE_LATE_MS = 300
# Termination: the last remote media (picture or sound of the other party) a
# terminal receives, after the officer's confirming click.
TERMINATION_LIMIT_MS = 500
# A last media time this long BEFORE the click means media was not flowing at
# the click at all (30 fps video leaves gaps of ~33 ms), which would make the
# latency check vacuous.
MEDIA_STALE_MS = 250
RELAY_COUNTERS = ("officer_video_forwarded", "officer_audio_sent", "officer_voice_forwarded", "officer_voice_held")


def measured(text):
    harness.log("MEASURED " + text)


def iso_ms(value):
    """Milliseconds since 1970 of '2026-11-23T09:06:00.123Z', or None."""
    if not isinstance(value, str):
        return None
    try:
        return officer.parse_iso(value) * 1000.0
    except ValueError:
        return None


def check_prerequisites():
    for what, ok in [(CHROMIUM, os.access(CHROMIUM, os.X_OK)), ("node", shutil.which("node")),
                     ("playwright-core", os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")))]:
        if not ok:
            harness.fail(f"{what} is missing (scripts/install-deps installs it)")


def run_console(srv, out, failures):
    """Runs officer_media.mjs; returns its report (None if it wrote none)."""
    node = subprocess.Popen(
        ["node", os.path.join(BROWSER_DIR, "officer_media.mjs"), "--base", f"https://127.0.0.1:{srv.port}",
         "--officer", "wang", "--password", officer.OFFICERS["wang"][2], "--meeting", MEETING,
         "--talk-seconds", str(TALK_SECONDS), "--out", out, "--timeout", str(NODE_TIMEOUT),
         "--chromium", CHROMIUM, "--screenshot", os.path.join(srv.dir, "officer-media.png")],
        cwd=BROWSER_DIR)
    try:
        code = node.wait(timeout=NODE_TIMEOUT + 20)
    finally:
        harness.stop_process(node, "node")
    r = harness.read_json(out) if os.path.exists(out) else None
    if code != 0:
        failures.append(f"officer_media.mjs exited {code}: {(r or {}).get('exit', {}).get('why')}")
        if r:
            failures += [f"console step '{s['name']}': {s.get('error')}" for s in r.get("steps", []) if not s["ok"]]
            failures += r.get("errors", [])
            sys.stdout.write("--- console events (tail)\n" + "\n".join(
                str(e) for e in (r.get("officer_events") or [])[-25:]) + "\n")
            sys.stdout.write("--- console log (tail)\n" + "\n".join(r.get("console", [])[-20:]) + "\n")
    return r


def report_console(r):
    for party in ("lawyer", "detainee"):
        p = ((r or {}).get("pictures") or {}).get(party)
        if p:
            measured(f"officer picture {party}: {p['frameWidth']}x{p['frameHeight']}, "
                     f"framesDecoded {p['framesDecoded']}, packetsReceived {p['packetsReceived']}")
    for s in (r or {}).get("audio_samples", []):
        measured(f"officer inbound audio ({s['label']}): {s['inboundAudio']} inbound-rtp audio entries, "
                 f"{s['inboundAudioPackets']} packets; officer outbound audio packets {s['outboundAudioPackets']}")
    if (r or {}).get("talk_start_ms") and r.get("talk_stop_ms"):
        measured(f"push-to-talk held {r['talk_stop_ms'] - r['talk_start_ms']} ms, "
                 f"{r.get('outbound_audio_during_talk')} audio packets sent by the console meanwhile")


def check_terminals(reports, r, failures):
    talk_start, talk_stop = (r or {}).get("talk_start_ms"), (r or {}).get("talk_stop_ms")
    click = (r or {}).get("terminate_click_ms")
    for device, rep in officer.read_reports(reports, failures):
        media = rep.get("media")
        if not isinstance(media, dict):
            failures.append(f"{device}: the report has no 'media' object (the terminal's officer-voice report "
                            f"is not there yet?); keys: {sorted(rep)}")
            media = {}
        packets = media.get("officer_audio_packets")
        first, last = media.get("officer_audio_first_at"), media.get("officer_audio_last_at")
        remote_last = media.get("remote_media_last_at")
        first_ms, last_ms, remote_last_ms = iso_ms(first), iso_ms(last), iso_ms(remote_last)
        voice = f"{device}: officer audio packets {packets}, first {first}, last {last}"
        if talk_start and first_ms is not None and last_ms is not None:
            voice += (f" (first {first_ms - talk_start:+.0f} ms after the press, "
                      f"last {last_ms - talk_stop:+.0f} ms after the release)")
        measured(voice)
        if not isinstance(packets, int) or packets <= 20:
            failures.append(f"{device}: officer_audio_packets {packets}, want > 20 for {TALK_SECONDS} s of talk")
        if talk_start is None or talk_stop is None:
            failures.append(f"{device}: no talk times from the console, the voice cannot be timed")
        elif first_ms is None or last_ms is None:
            failures.append(f"{device}: officer_audio_first_at {first!r} / officer_audio_last_at {last!r} missing")
        else:
            if first_ms < talk_start - VOICE_EARLY_MS:
                failures.append(f"{device}: the officer's voice arrived {talk_start - first_ms:.0f} ms BEFORE "
                                f"the talk button was pressed (tolerance {VOICE_EARLY_MS} ms)")
            if last_ms > talk_stop + VOICE_LATE_MS:
                failures.append(f"{device}: the officer's voice still arrived {last_ms - talk_stop:.0f} ms after "
                                f"the talk button was released (tolerance {VOICE_LATE_MS} ms)")
        if click is None:
            failures.append(f"{device}: no terminate click time from the console")
        elif remote_last_ms is None:
            failures.append(f"{device}: remote_media_last_at is {remote_last!r}")
        else:
            latency = remote_last_ms - click
            measured(f"{device}: termination latency (remote_media_last_at - terminate click) {latency:.0f} ms")
            if latency >= TERMINATION_LIMIT_MS:
                failures.append(f"{device}: remote media still arrived {latency:.0f} ms after the officer's "
                                f"confirming click (limit {TERMINATION_LIMIT_MS} ms)")
            if latency < -MEDIA_STALE_MS:
                failures.append(f"{device}: remote media had stopped {-latency:.0f} ms before the terminate click: "
                                f"it was not flowing, so the termination cannot be timed")
        end = rep.get("end") or {}
        if end.get("code") != "violation_phone" or end.get("by") != "officer":
            failures.append(f"{device}: end {end}, want by officer with code violation_phone")
        speaking = [s.get("speaking") for s in rep.get("officer_speaking", [])]
        if speaking != [True, False]:
            failures.append(f"{device}: officer_speaking {rep.get('officer_speaking')}, want true then false")


def check_relay(srv, failures):
    status, body = officer.https(srv, "GET", "/api/stats", token=srv.admin_token)
    if status != 200:
        failures.append(f"/api/stats: {status} {body}")
        return
    relay = body.get("relay", {})
    measured("relay: " + ", ".join(f"{k} {relay.get(k)}" for k in RELAY_COUNTERS)
             + f"; rtp_forwarded {relay.get('rtp_forwarded')}, audio_forwarded {relay.get('audio_forwarded')}")
    missing = [k for k in RELAY_COUNTERS if not isinstance(relay.get(k), int)]
    if missing:
        failures.append(f"/api/stats has no relay counters {missing} (the relay's watch is not there yet?)")
        return
    if relay["officer_video_forwarded"] <= 0:
        failures.append("the relay forwarded no picture to the officer (officer_video_forwarded 0)")
    if relay["officer_audio_sent"] != 0:
        failures.append(f"the relay SENT {relay['officer_audio_sent']} RTP packets other than the pictures to the "
                        f"officer (officer_audio_sent must be 0)")
    if relay["officer_voice_forwarded"] <= 0:
        failures.append("the relay forwarded none of the officer's voice to the terminals (officer_voice_forwarded 0)")


def main():
    check_prerequisites()
    srv = officer.server()
    procs = []
    failures = []
    reports = {}
    r = None
    terminated = False
    try:
        srv.start()
        reports = officer.start_parties(srv, procs, exit_after=NODE_TIMEOUT + 30)
        r = run_console(srv, os.path.join(srv.dir, "officer-media.json"), failures)
        report_console(r)
        terminated = bool(r) and any(s["ok"] and s["name"].startswith("terminate") for s in r.get("steps", []))
        if terminated:
            codes = officer.wait_exit(procs, 20)
            if codes != [0, 0]:
                failures.append(f"terminal exit codes {codes}")
        else:
            failures.append("the console did not terminate the meeting; the terminals are stopped")
            for p in procs:
                harness.stop_process(p, "terminal")
            time.sleep(0.5)
        # The relay's counters since the start, before the server stops.
        check_relay(srv, failures)
        status, body = officer.https(srv, "GET", "/api/violations", token=srv.admin_token)
        codes = [v["code"] for v in (body or {}).get("violations", [])]
        measured(f"violations: {codes}")
        if terminated and (status != 200 or codes != ["violation_phone"]):
            failures.append(f"violations after the console's termination: {status} {body}")
    except (AssertionError, subprocess.TimeoutExpired, RuntimeError) as e:
        failures.append(str(e))
    finally:
        for p in procs:
            harness.stop_process(p, "terminal")
        srv.stop()
    officer.tail_logs(srv)
    if terminated:
        check_terminals(reports, r, failures)
    else:
        harness.log("the terminals' reports are not checked: the console did not get through its steps")
    harness.finish(failures, srv)


if __name__ == "__main__":
    main()
