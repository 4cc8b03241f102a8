"""Supervision (a): an officer changes the call time of a running native <->
native meeting, and the server ends it on time.

A lawyer and a detainee huijian-terminal (headless, sending the pre-encoded
1080p clip) connect. Officer "wang" logs in (POST /api/login), opens the
console (officer_hello), sees the meeting connected with both terminals and
its end time, and sets the time so that it ends 8 s later
(set_time remaining_seconds = 8; warnings are configured at 300, 60 and 5 s).
Checks: both terminals' reports show the server's end time at connect and the
officer's new one, the 5-second warning about 5 s before the end, and the end
with code time_over from the server; the server ended the meeting within 1 s
of the end time (store and terminals); the officer's list drops the meeting.
"""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402
from wsclient import check  # noqa: E402

REMAINING = 8


def main():
    srv = officer.server(default_minutes=30, warning_seconds=(300, 60, 5))
    procs = []
    clients = []
    failures = []
    reports = {}
    sent = None
    try:
        srv.start()
        reports = officer.start_parties(srv, procs)
        session = officer.login(srv, "wang")
        check(session["role"] == "officer" and session["name"] == "王警官", f"login answer: {session}")
        console = officer.console(srv, session["token"], "officer wang")
        clients.append(console)
        check(console.welcome["username"] == "wang", f"welcome: {console.welcome}")
        check([r["code"] for r in console.welcome["reasons"]][:2] == ["time_over", "violation_phone"],
              f"reasons: {console.welcome['reasons']}")

        m = officer.wait_connected(console, "m-1", timeout=60)
        harness.log("officer sees:", m)
        check(m["lawyer"] == {"device": "lawyer-1", "name": "律师会见室 1", "online": True}, f"lawyer: {m}")
        check(m["detainee"]["device"] == "detainee-1" and m["detainee"]["online"], f"detainee: {m}")
        check(m["ends_at"] and 1790 <= m["remaining_seconds"] <= 1800, f"30 min call time: {m}")
        check(m["connected_at"], f"connected_at: {m}")

        time.sleep(3)  # some media first
        sent = time.time()
        console.send({"type": "set_time", "meeting": "m-1", "remaining_seconds": REMAINING})
        ok = officer.wait_for(console, "ok", 5, lambda j: j.get("ref") == "set_time")
        ends_at = ok["ends_at"]
        end_time = officer.parse_iso(ends_at)
        harness.log(f"set_time answered after {1000 * (time.time() - sent):.0f} ms: ends at {ends_at}")
        check(abs(end_time - (sent + REMAINING)) < 1.0, f"ends_at {ends_at} is not {REMAINING} s after sending")
        listed = officer.wait_for(console, "meetings", 5,
                                  lambda j: (officer.meeting_in(j, "m-1") or {}).get("ends_at") == ends_at)
        check(officer.meeting_in(listed, "m-1")["remaining_seconds"] <= REMAINING, "list shows the new end")

        # The server ends the meeting by itself; the list then drops it.
        officer.wait_for(console, "meetings", REMAINING + 10, lambda j: officer.meeting_in(j, "m-1") is None)
        codes = officer.wait_exit(procs, 30)
        if codes != [0, 0]:
            failures.append(f"terminal exit codes {codes}")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        officer.stop_all(srv, clients, procs)

    officer.tail_logs(srv)
    if failures:
        harness.finish(failures, srv)
    end_time = officer.parse_iso(ends_at)

    with sqlite3.connect(f"file:{srv.database}?mode=ro", uri=True) as db:
        state, ended_at, stored_end, ended_by, reason = db.execute(
            "SELECT state, ended_at, ends_at, ended_by, end_reason FROM meetings WHERE id='m-1'").fetchone()
        kinds = [r[0] for r in db.execute("SELECT kind, actor FROM meeting_events WHERE meeting_id='m-1' ORDER BY id")]
        time_events = db.execute("SELECT actor, detail FROM meeting_events WHERE meeting_id='m-1' AND kind='time'").fetchall()
    harness.log("store:", state, ended_at, stored_end, ended_by, reason, kinds)
    if (state, ended_by) != ("ended", "server") or "会见时间已到" not in (reason or ""):
        failures.append(f"store: {state} by {ended_by}: {reason}")
    if stored_end != ends_at:
        failures.append(f"stored ends_at {stored_end}, the officer was told {ends_at}")
    server_lateness = officer.parse_iso(ended_at) - end_time
    harness.log(f"server ended the meeting {1000 * server_lateness:.0f} ms after its end time")
    if not 0 <= server_lateness <= 1.0:
        failures.append(f"the server ended the meeting {server_lateness:.3f} s after the end time (limit 1 s)")
    if len(time_events) != 1 or time_events[0][0] != "officer:wang":
        failures.append(f"time events in the store: {time_events}")

    for device, r in officer.read_reports(reports, failures):
        calls = r.get("call_time", [])
        harness.log(f"{device}: call_time {[(c['by'], c['ends_at'], c['remaining_seconds']) for c in calls]}, "
                    f"warnings {[(w['remaining_seconds'], w['at']) for w in r.get('time_warnings', [])]}, end {r.get('end')}")
        if len(calls) != 2 or calls[0]["by"] != "server" or calls[0]["length_seconds"] != 1800:
            failures.append(f"{device}: expected the server's 30-minute call time first: {calls}")
        if not calls or calls[-1]["by"] != "officer" or calls[-1]["ends_at"] != ends_at or r.get("ends_at") != ends_at:
            failures.append(f"{device}: the report does not show the officer's end time {ends_at}: {calls}")
        elif "会见时间已调整" not in calls[-1].get("text", ""):
            failures.append(f"{device}: the time change has no text: {calls[-1]}")
        warnings = r.get("time_warnings", [])
        if [w["remaining_seconds"] for w in warnings] != [5]:
            failures.append(f"{device}: expected one 5-second warning, got {warnings}")
        else:
            early = end_time - officer.parse_iso(warnings[0]["at"])
            harness.log(f"{device}: 5 s warning arrived {early:.2f} s before the end")
            if not 4.0 <= early <= 5.5:
                failures.append(f"{device}: the 5 s warning came {early:.2f} s before the end")
        end = r.get("end") or {}
        if end.get("code") != "time_over" or end.get("by") != "server" or end.get("text_zh") != "会见时间已到":
            failures.append(f"{device}: end {end}")
        else:
            late = officer.parse_iso(end["at"]) - end_time
            harness.log(f"{device}: 'ended' arrived {1000 * late:.0f} ms after the end time")
            if not -0.05 <= late <= 1.0:
                failures.append(f"{device}: 'ended' arrived {late:.3f} s after the end time (limit 1 s)")
        if not any("会见已结束" in s["text"] and "会见时间已到" in s["text"] for s in r.get("status_texts", [])):
            failures.append(f"{device}: the end reason was not shown: {r.get('status_texts')}")
        if (r.get("remote_frames_decoded") or 0) < 30:
            failures.append(f"{device}: only {r.get('remote_frames_decoded')} remote frames: media did not flow")
    harness.finish(failures, srv)


if __name__ == "__main__":
    main()
