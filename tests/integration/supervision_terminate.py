"""Supervision (b): an officer terminates a running native <-> native meeting
for a violation.

Officer "wang" ends meeting m-1 with reason violation_other and a text.
Checks: both terminals get the reason (code, Chinese and English text, the
officer's words) in "ended" and show it; the relay forwards no more media
from the moment the officer is answered (relay counters stand still); the
violation record exists over the admin REST API (admin token and an
administrator's login) with lawyer device, meeting, code, text and officer;
the meeting's record says who ended it. Prints the time from the officer's
terminate message to each terminal's "ended".
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402
from wsclient import check  # noqa: E402

TEXT = "传递纸条 (integration test)"


def forwarded(srv):
    status, body = officer.https(srv, "GET", "/api/stats", token=srv.admin_token)
    check(status == 200, f"stats: {status} {body}")
    return body["relay"]["rtp_forwarded"]


def main():
    srv = officer.server()
    procs = []
    clients = []
    failures = []
    reports = {}
    sent = None
    latencies = {}
    try:
        srv.start()
        reports = officer.start_parties(srv, procs)
        console = officer.console(srv, officer.login(srv, "wang")["token"], "officer wang")
        clients.append(console)
        officer.wait_connected(console, "m-1", timeout=60)
        time.sleep(3)
        before = forwarded(srv)
        time.sleep(1)
        flowing = forwarded(srv)
        check(flowing > before, f"media is not flowing before the termination ({before} -> {flowing})")

        sent = time.time()
        console.send({"type": "terminate", "meeting": "m-1", "code": "violation_other", "text": TEXT})
        ok = officer.wait_for(console, "ok", 5, lambda j: j.get("ref") == "terminate")
        answered = time.time()
        stopped_at = forwarded(srv)
        time.sleep(1.0)
        still = forwarded(srv)
        harness.log(f"officer answered after {1000 * (answered - sent):.0f} ms; relay RTP forwarded "
                    f"{flowing} -> {stopped_at} at the answer -> {still} 1 s later")
        if still != stopped_at:
            failures.append(f"the relay still forwarded {still - stopped_at} RTP packets after the termination")
        violation_id = ok.get("violation")
        check(isinstance(violation_id, int), f"ok without a violation id: {ok}")

        codes = officer.wait_exit(procs, 20)
        if codes != [0, 0]:
            failures.append(f"terminal exit codes {codes}")

        # The violation record, over REST: the admin token, an administrator's login, a filter.
        status, body = officer.https(srv, "GET", "/api/violations", token=srv.admin_token)
        check(status == 200, f"violations: {status} {body}")
        harness.log("violations:", body)
        v = body["violations"]
        if len(v) != 1 or body["total"] != 1 or body["counts"] != {"violation_other": 1}:
            failures.append(f"expected one violation_other record: {body}")
        else:
            want = {"id": violation_id, "meeting": "m-1", "lawyer_device": "lawyer-1", "detainee_device": "detainee-1",
                    "code": "violation_other", "text": TEXT, "officer": "wang"}
            got = {k: v[0].get(k) for k in want}
            if got != want:
                failures.append(f"violation record {v[0]}, want {want}")
            if abs(officer.parse_iso(v[0]["at"]) - sent) > 2:
                failures.append(f"violation time {v[0]['at']} is not the time of the termination")
        admin = officer.login(srv, "root")
        status, body = officer.https(srv, "GET", "/api/violations?lawyer_device=lawyer-1", token=admin["token"])
        if status != 200 or body["total"] != 1:
            failures.append(f"an administrator's login reading violations of lawyer-1: {status} {body}")
        status, body = officer.https(srv, "GET", "/api/violations?lawyer_device=lawyer-2", token=admin["token"])
        if status != 200 or body["total"] != 0:
            failures.append(f"violations of lawyer-2: {status} {body}")
        status, meeting = officer.https(srv, "GET", "/api/meetings/m-1", token=srv.admin_token)
        if status != 200 or meeting["state"] != "ended" or meeting["ended_by"] != "officer:wang" \
                or TEXT not in meeting["end_reason"] or len(meeting["violations"]) != 1:
            failures.append(f"meeting record: {status} {meeting}")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        officer.stop_all(srv, clients, procs)

    officer.tail_logs(srv)
    for device, r in officer.read_reports(reports, failures):
        end = r.get("end") or {}
        want = {"by": "officer", "code": "violation_other", "text_zh": "违规：其他", "text_en": "Violation: other",
                "detail": TEXT}
        if {k: end.get(k) for k in want} != want:
            failures.append(f"{device}: end {end}, want {want}")
            continue
        if sent is not None:
            latencies[device] = 1000 * (officer.parse_iso(end["at"]) - sent)
        if not any(TEXT in s["text"] and "违规" in s["text"] for s in r.get("status_texts", [])):
            failures.append(f"{device}: the reason was not shown: {r.get('status_texts')}")
        if r.get("meeting_states", [{}])[-1].get("state") != "ended":
            failures.append(f"{device}: last meeting state {r.get('meeting_states')}")
        if (r.get("remote_frames_decoded") or 0) < 30:
            failures.append(f"{device}: only {r.get('remote_frames_decoded')} remote frames before the end")
    harness.log("terminate -> ended: " + ", ".join(f"{d} {ms:.1f} ms" for d, ms in sorted(latencies.items())))
    for device, ms in latencies.items():
        if not 0 <= ms <= 500:
            failures.append(f"{device}: 'ended' arrived {ms:.0f} ms after the terminate message (limit 500 ms)")
    harness.finish(failures, srv)


if __name__ == "__main__":
    main()
