"""Supervision (c): a text notice and an interjection reach both terminals.

The lawyer terminal sends a live test picture (640x360, so the notice is
drawn on it by the overlay), the detainee the pre-encoded clip. While the
meeting runs, officer "wang" sends a text notice, starts an interjection
(push-to-talk; the audio itself is not part of this) and stops it 1.5 s
later; then the lawyer ends the meeting (--duration). Checks: both reports
have the notice text, officer_speaking true then false, and showed
"监管民警插话" and the notice on their status line; the store has the notice
(officer, time, text) and the interjection (officer, duration); the audit
trail has the officer's actions.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402
from wsclient import check  # noqa: E402

NOTICE = "请将手机放到桌外 · test " + os.urandom(3).hex()


def main():
    srv = officer.server()
    procs = []
    clients = []
    failures = []
    reports = {}
    spoke = None
    try:
        srv.start()
        reports = officer.start_parties(
            srv, procs, lawyer_extra=["--source", "test", "--width", "640", "--height", "360", "--duration", "14"])
        console = officer.console(srv, officer.login(srv, "wang")["token"], "officer wang")
        clients.append(console)
        officer.wait_connected(console, "m-1", timeout=60)
        time.sleep(2)
        console.send({"type": "notice", "meeting": "m-1", "text": NOTICE})
        notice_ok = officer.wait_for(console, "ok", 5, lambda j: j.get("ref") == "notice")
        console.send({"type": "interjection_start", "meeting": "m-1"})
        officer.wait_for(console, "ok", 5, lambda j: j.get("ref") == "interjection_start")
        listed = officer.wait_for(console, "meetings", 5,
                                  lambda j: (officer.meeting_in(j, "m-1") or {}).get("officer_speaking"))
        check(officer.meeting_in(listed, "m-1")["officer_speaking"]["username"] == "wang", f"list: {listed}")
        time.sleep(1.5)
        console.send({"type": "interjection_stop", "meeting": "m-1"})
        stop_ok = officer.wait_for(console, "ok", 5, lambda j: j.get("ref") == "interjection_stop")
        spoke = stop_ok["duration_ms"]
        harness.log(f"notice {notice_ok['id']} at {notice_ok['at']}; interjection of {spoke} ms")
        codes = officer.wait_exit(procs, 40)
        if codes != [0, 0]:
            failures.append(f"terminal exit codes {codes}")

        status, meeting = officer.https(srv, "GET", "/api/meetings/m-1", token=srv.admin_token)
        check(status == 200, f"meeting: {status} {meeting}")
        harness.log("stored notices", meeting["notices"], "interjections", meeting["interjections"])
        n = meeting["notices"]
        if len(n) != 1 or n[0]["officer"] != "wang" or n[0]["text"] != NOTICE or n[0]["at"] != notice_ok["at"]:
            failures.append(f"stored notices {n}")
        i = meeting["interjections"]
        if len(i) != 1 or i[0]["officer"] != "wang" or not 1400 <= i[0]["duration_ms"] <= 2500 \
                or i[0]["duration_ms"] != spoke:
            failures.append(f"stored interjections {i} (the officer was told {spoke} ms)")
        status, audit = officer.https(srv, "GET", "/api/audit?limit=1000", token=srv.admin_token)
        mine = [(e["action"], e["outcome"]) for e in audit["entries"] if e["actor"] == "wang"]
        harness.log("audit of wang:", mine)
        for want in [("login", "ok"), ("officer_hello", "ok"), ("notice", "ok"), ("interjection_start", "ok"),
                     ("interjection_stop", "ok")]:
            if want not in mine:
                failures.append(f"audit lacks {want}: {mine}")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        officer.stop_all(srv, clients, procs)

    officer.tail_logs(srv)
    for device, r in officer.read_reports(reports, failures):
        shown = [s["text"] for s in r.get("status_texts", [])]
        harness.log(f"{device}: notices {r.get('notices')}, officer_speaking "
                    f"{[s['speaking'] for s in r.get('officer_speaking', [])]}, status line {shown}")
        if [x["text"] for x in r.get("notices", [])] != [NOTICE]:
            failures.append(f"{device}: notices {r.get('notices')}")
        if [s["speaking"] for s in r.get("officer_speaking", [])] != [True, False]:
            failures.append(f"{device}: officer_speaking {r.get('officer_speaking')}")
        if not any("监管民警插话" in t for t in shown):
            failures.append(f"{device}: '监管民警插话' was never shown: {shown}")
        if not any(("监管民警通知：" + NOTICE) in t for t in shown):
            failures.append(f"{device}: the notice was never shown: {shown}")
        if (r.get("remote_frames_decoded") or 0) < 30:
            failures.append(f"{device}: only {r.get('remote_frames_decoded')} remote frames")
    harness.finish(failures, srv)


if __name__ == "__main__":
    main()
