"""Supervision (d): who may do what. Every officer action is refused with a
clear error, audited, and changes nothing, when it comes from a lawyer
terminal, a detainee terminal, a connection without a login, or with a bad,
logged-out or expired token; the REST endpoints likewise.

A lawyer and a detainee WSS client (no media) bring meeting m-1 to connected.
Then every officer action is sent from each party and from an anonymous
connection; officer_hello is tried with garbage, a device secret, a
logged-out and an expired token (session_minutes = 1, so the test waits a
minute for that); the officer REST endpoints are called without a token,
with garbage, a device secret, the admin token and an expired token, and
the admin endpoints with an officer's token. Checks: the exact error code for
each, the meeting still connected with its end time unchanged and nothing
stored, the parties got no supervision message, the audit trail has every
refusal and no password or token. Last, a fresh officer login does change the
time, so the refusals were not a broken path.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402
import wsclient  # noqa: E402
from wsclient import Client, check  # noqa: E402

wsclient.LOG_PREFIX = "[supervision_auth]"
log = wsclient.log

ACTIONS = [
    {"type": "set_time", "meeting": "m-1", "remaining_seconds": 5},
    {"type": "set_time", "meeting": "m-1", "minutes": 1},
    {"type": "notice", "meeting": "m-1", "text": "不应送达 · must not arrive"},
    {"type": "interjection_start", "meeting": "m-1"},
    {"type": "interjection_stop", "meeting": "m-1"},
    {"type": "terminate", "meeting": "m-1", "code": "violation_phone"},
    # The pictures: a party or an anonymous connection may not watch (nor hear) a meeting.
    {"type": "watch", "meeting": "m-1", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"},
    {"type": "watch_candidate", "meeting": "m-1", "candidate": "", "sdpMid": "0"},
    {"type": "unwatch", "meeting": "m-1"},
]
SUPERVISION_TYPES = {"time", "time_warning", "notice", "officer_speaking", "ended"}


def drain(client):
    """Everything the server sent `client` up to the answer of a ping."""
    client.send({"type": "ping"})
    seen = []
    officer.wait_for(client, "pong", 10, seen=seen)
    return seen[:-1]


def expect_refused(client, code, ref):
    msg = officer.wait_for(client, "error", 10)
    check(msg.get("code") == code and msg.get("ref") == ref, f"{client.name}: expected {code} for {ref}: {msg}")
    check(isinstance(msg.get("message"), str) and len(msg["message"]) > 10, f"{client.name}: no readable message: {msg}")
    return msg


def rest(srv, method, path, token, status_code, code, body=None):
    status, answer = officer.https(srv, method, path, body=body, token=token)
    check(status == status_code and (answer or {}).get("code") == code,
          f"{method} {path} with {'no token' if token is None else 'token ' + token[:6] + '…'}: "
          f"{status} {answer}, expected {status_code} {code}")
    return answer


def main():
    srv = officer.server(session_minutes=1)
    clients = []
    ok = False
    try:
        srv.start()
        # An officer whose login will expire during the test, with a console open.
        expiring = officer.login(srv, "li")
        expiring_from = time.monotonic()
        li_console = officer.console(srv, expiring["token"], "officer li (expiring)")
        clients.append(li_console)

        lawyer = Client(srv.port, srv.ca_file, "lawyer-1")
        detainee = Client(srv.port, srv.ca_file, "detainee-1")
        anon = Client(srv.port, srv.ca_file, "anonymous")
        clients += [lawyer, detainee, anon]
        lawyer.hello("lawyer-1", srv.secrets["lawyer-1"])
        lawyer.expect("welcome")
        detainee.hello("detainee-1", srv.secrets["detainee-1"])
        detainee.expect("welcome")
        detainee.send({"type": "ready"})
        officer.wait_for(lawyer, "peer_ready", 10)
        lawyer.send({"type": "connect"})
        first_time = officer.wait_for(lawyer, "time", 10)
        officer.wait_for(detainee, "time", 10)
        ends_at = first_time["ends_at"]
        log(f"m-1 connected, ends at {ends_at}")

        # --- officer actions from the parties and from a connection without a login
        for action in ACTIONS:
            for party in (lawyer, detainee):
                party.send(action)
                msg = expect_refused(party, "not_officer", action["type"])
                check("supervising officer" in msg["message"], f"not_officer message: {msg}")
            anon.send(action)
            expect_refused(anon, "not_authenticated", action["type"])
        for c in (lawyer, detainee, anon):
            c.alive()
        log("every officer action from lawyer, detainee and anonymous was refused")

        # --- officer_hello with tokens that are not valid
        for name, token in [("garbage", "not-a-token"), ("64 zeros", "0" * 64),
                            ("a device secret", srv.secrets["lawyer-1"])]:
            c = Client(srv.port, srv.ca_file, f"hello with {name}")
            clients.append(c)
            c.send({"type": "officer_hello", "token": token})
            expect_refused(c, "bad_token", "officer_hello")
            c.expect_close(1008)
        gone = officer.login(srv, "wang")
        gone_console = officer.console(srv, gone["token"], "officer wang (logging out)")
        clients.append(gone_console)
        status, answer = officer.https(srv, "POST", "/api/logout", token=gone["token"])
        check(status == 200 and answer == {"ok": True}, f"logout: {status} {answer}")
        msg = officer.wait_for(gone_console, "error", 10)
        check(msg["code"] == "logged_out", f"the console of a logged-out session: {msg}")
        gone_console.expect_close(1008)
        c = Client(srv.port, srv.ca_file, "hello with a logged-out token")
        clients.append(c)
        c.send({"type": "officer_hello", "token": gone["token"]})
        expect_refused(c, "bad_token", "officer_hello")
        rest(srv, "POST", "/api/logout", gone["token"], 401, "unauthorized")

        # --- REST: the officer endpoints need a login; the admin endpoints an administrator
        for path in ("/api/officer/meetings", "/api/session"):
            rest(srv, "GET", path, None, 401, "unauthorized")
            rest(srv, "GET", path, "garbage", 401, "unauthorized")
            rest(srv, "GET", path, srv.secrets["lawyer-1"], 401, "unauthorized")
            rest(srv, "GET", path, gone["token"], 401, "unauthorized")
            rest(srv, "GET", path, srv.admin_token, 403, "forbidden")
        status, listed = officer.https(srv, "GET", "/api/officer/meetings", token=expiring["token"])
        check(status == 200 and officer.meeting_in(listed, "m-1")["state"] == "connected", f"officer list: {listed}")
        for method, path, body in [("GET", "/api/violations", None), ("GET", "/api/audit", None),
                                   ("GET", "/api/accounts", None),
                                   ("POST", "/api/accounts", {"username": "x1", "name": "x", "password": "0123456789ab"}),
                                   ("POST", "/api/meetings/m-1/end", {"reason": "officer via admin API"}),
                                   ("GET", "/api/meetings/m-1", None)]:
            rest(srv, method, path, expiring["token"], 403, "forbidden", body)
            rest(srv, method, path, None, 401, "unauthorized", body)
            rest(srv, method, path, srv.secrets["detainee-1"], 401, "unauthorized", body)
        time.sleep(1.1)  # the login limit is 5 password checks a second
        wrong = rest(srv, "POST", "/api/login", None, 401, "bad_credentials",
                     {"username": "wang", "password": "not-the-password"})
        unknown = rest(srv, "POST", "/api/login", None, 401, "bad_credentials",
                       {"username": "nobody", "password": "not-the-password"})
        check(wrong == unknown, f"unknown user and wrong password must read the same: {wrong} / {unknown}")
        log("REST refusals as expected")

        # --- nothing changed
        for party in (lawyer, detainee):
            got = [m.get("type") for m in drain(party)]
            check(not SUPERVISION_TYPES & set(got), f"{party.name} received supervision messages: {got}")
        status, meeting = officer.https(srv, "GET", "/api/meetings/m-1", token=srv.admin_token)
        check(status == 200, f"meeting: {status}")
        kinds = [e["kind"] for e in meeting["events"]]
        check(meeting["state"] == "connected" and meeting["ends_at"] == ends_at,
              f"the meeting changed: {meeting['state']}, ends_at {meeting['ends_at']} (was {ends_at})")
        check(kinds == ["created", "state:detainee_ready", "state:connected"], f"events: {kinds}")
        check(meeting["notices"] == [] and meeting["interjections"] == [] and meeting["violations"] == [],
              f"records: {meeting['notices']} {meeting['interjections']} {meeting['violations']}")
        log("meeting m-1 still connected, end time unchanged, nothing stored")

        # --- an expired login: the open console is closed, the token refused everywhere
        wait = 62 - (time.monotonic() - expiring_from)
        log(f"waiting {max(0, wait):.0f} s for li's one-minute session to expire")
        msg = officer.wait_for(li_console, "error", max(1, wait) + 10)
        check(msg["code"] == "session_expired", f"the console of an expired session: {msg}")
        li_console.expect_close(1008)
        c = Client(srv.port, srv.ca_file, "hello with an expired token")
        clients.append(c)
        c.send({"type": "officer_hello", "token": expiring["token"]})
        expect_refused(c, "bad_token", "officer_hello")
        rest(srv, "GET", "/api/officer/meetings", expiring["token"], 401, "unauthorized")
        status, meeting = officer.https(srv, "GET", "/api/meetings/m-1", token=srv.admin_token)
        check(meeting["state"] == "connected" and meeting["ends_at"] == ends_at, f"after expiry: {meeting}")

        # --- a valid officer login does change the time (the path works)
        fresh = officer.console(srv, officer.login(srv, "wang")["token"], "officer wang")
        clients.append(fresh)
        fresh.send({"type": "set_time", "meeting": "m-1", "minutes": 45})
        officer.wait_for(fresh, "ok", 10, lambda j: j.get("ref") == "set_time")
        t = officer.wait_for(lawyer, "time", 10)
        check(t["by"] == "officer" and t["ends_at"] != ends_at, f"time after a valid set_time: {t}")

        # --- the audit trail has every refusal and no secret
        status, audit = officer.https(srv, "GET", "/api/audit?limit=1000", token=srv.admin_token)
        check(status == 200, f"audit: {status}")
        entries = audit["entries"]
        count = {}
        for e in entries:
            count[e["outcome"]] = count.get(e["outcome"], 0) + 1
        log("audit outcomes:", count)
        want = {"refused:not_officer": 2 * len(ACTIONS), "refused:not_authenticated": len(ACTIONS),
                "refused:bad_token": 5, "refused:bad_credentials": 2, "refused:unauthorized": 22,
                "refused:forbidden": 8}
        for outcome, n in want.items():
            check(count.get(outcome, 0) >= n, f"audit has {count.get(outcome, 0)} {outcome}, expected at least {n}")
        by_lawyer = [e for e in entries if e["actor"] == "lawyer-1" and e["outcome"] == "refused:not_officer"]
        check(by_lawyer and by_lawyer[0]["actor_kind"] == "lawyer-terminal" and by_lawyer[0]["target"] == "m-1",
              f"audit entry of the lawyer: {by_lawyer[:1]}")
        check(any(e["action"] == "session_expired" and e["actor"] == "li" for e in entries), "session expiry audited")
        check(any(e["action"] == "logout" and e["actor"] == "wang" for e in entries), "logout audited")
        dump = json.dumps(entries, ensure_ascii=False)
        for secret in [p for _, _, p in officer.OFFICERS.values()] + [expiring["token"], gone["token"],
                                                                      srv.admin_token] + list(srv.secrets.values()):
            check(secret not in dump, "the audit trail contains a password, token or secret")
        ok = True
        log(f"PASS ({wsclient.CHECKS} checks)")
    except AssertionError as e:
        log("FAIL:", e)
    finally:
        for c in clients:
            c.close()
        srv.stop()
    if not ok:
        sys.stdout.write(srv.log()[-4000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
