"""Shared pieces of the supervision tests: a huijiand with officer accounts
(plain test passwords that huijiand hashes at start), login over HTTPS, an
officer console over WSS, and waits that are all bounded in time.

Only 127.0.0.1 is used. Every process is started and stopped through
harness.py (by pid, also on failure).
"""
import datetime
import http.client
import json
import os
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import wsclient  # noqa: E402  (re-runs the test with /usr/bin/python3 if websocket is missing)
from wsclient import Client, check  # noqa: E402

# username -> (display name, role, password). Test passwords only.
OFFICERS = {
    "wang": ("王警官", "officer", "wang-password-" + os.urandom(4).hex()),
    "li": ("李警官", "officer", "li-password-" + os.urandom(4).hex()),
    "root": ("管理员", "admin", "root-password-" + os.urandom(4).hex()),
}


def supervision_config(default_minutes=30, warning_seconds=(300, 60), session_minutes=60):
    lines = ["", "[supervision]", f"default_minutes = {default_minutes}",
             f"warning_seconds = [{', '.join(str(s) for s in warning_seconds)}]",
             f"session_minutes = {session_minutes}"]
    for username, (name, role, password) in OFFICERS.items():
        lines += ["[[officer]]", f'username = "{username}"', f'name = "{name}"', f'role = "{role}"',
                  f'password = "{password}"']
    return "\n".join(lines) + "\n"


def server(**kwargs):
    return harness.Server(extra_config=supervision_config(**kwargs))


def https(srv, method, path, body=None, token=None, timeout=10):
    """One HTTPS request to huijiand; returns (status, parsed JSON body or None)."""
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=timeout)
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        raw = res.read()
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return res.status, parsed


def login(srv, username, password=None):
    """POST /api/login; returns the answer (token, expires_at, role, ...).
    Waits out the server's limit of 5 password checks a second (bounded)."""
    if password is None:
        password = OFFICERS[username][2]
    for _ in range(5):
        status, body = https(srv, "POST", "/api/login", {"username": username, "password": password})
        if status != 429:
            break
        time.sleep(1.1)
    check(status == 200, f"login of {username}: {status} {body}")
    check(len(body["token"]) == 64, f"token of {username} is not 64 hex digits")
    return body


def console(srv, token, name="officer"):
    """An officer console: officer_hello with the token; returns the client
    after officer_welcome and the first meetings list (client.welcome, client.meetings)."""
    c = Client(srv.port, srv.ca_file, name)
    c.send({"type": "officer_hello", "token": token})
    c.welcome = c.expect("officer_welcome")
    c.meetings = c.expect("meetings")
    return c


def wait_for(client, type_, timeout, pred=None, seen=None):
    """Reads messages until one of `type_` for which pred(msg) holds; others
    are skipped (and appended to `seen`). Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{client.name}: no {type_} within {timeout} s")
        client.ws.settimeout(left)
        try:
            msg = client.recv()
        except Exception as e:  # websocket timeout or close
            raise AssertionError(f"{client.name}: waiting for {type_}: {e!r}")
        if seen is not None:
            seen.append(msg)
        if msg.get("type") == type_ and (pred is None or pred(msg)):
            client.ws.settimeout(10)
            return msg


def meeting_in(msg, meeting_id):
    for m in msg.get("meetings", []):
        if m.get("id") == meeting_id:
            return m
    return None


def wait_connected(officer_client, meeting_id="m-1", timeout=60):
    """Waits until the officer's meetings list shows the meeting connected."""
    if (m := meeting_in(officer_client.meetings, meeting_id)) and m["state"] == "connected":
        return m
    msg = wait_for(officer_client, "meetings", timeout,
                   lambda j: (meeting_in(j, meeting_id) or {}).get("state") == "connected")
    return meeting_in(msg, meeting_id)


def parse_iso(text):
    """Seconds since 1970 of '2026-11-23T09:00:00.123Z'."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def start_parties(srv, procs, lawyer_extra=(), detainee_extra=(), exit_after=90):
    """Starts the detainee (ready after 2 s) and the lawyer (connects when the
    detainee is ready), both headless with reports, sending the test clip
    unless told otherwise. Returns {device: report path}."""
    clip = harness.clip_path("huijian")
    source = ["--source", f"file:{clip}"]
    reports = {d: os.path.join(srv.dir, f"{d}.json") for d in ("detainee-1", "lawyer-1")}
    procs.append(harness.start_terminal(
        srv, "detainee-1", "detainee", reports["detainee-1"],
        (list(detainee_extra) or source) + ["--auto-ready", "2", "--exit-after", str(exit_after)],
        os.path.join(srv.dir, "detainee.log")))
    procs.append(harness.start_terminal(
        srv, "lawyer-1", "lawyer", reports["lawyer-1"],
        (list(lawyer_extra) or source) + ["--auto-connect", "--exit-after", str(exit_after)],
        os.path.join(srv.dir, "lawyer.log")))
    return reports


def wait_exit(procs, timeout):
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:
            raise AssertionError(f"terminal pid {p.pid} did not exit within {timeout} s")
    return [p.returncode for p in procs]


def stop_all(srv, clients, procs):
    """Closes the test's WebSocket clients, stops its terminals (by pid) and
    the server; for a test's `finally`."""
    for c in clients:
        c.close()
    for p in procs:
        harness.stop_process(p, "terminal")
    srv.stop()


def read_reports(reports, failures):
    """(device, report) for every terminal report that exists; a missing one
    is a failure."""
    for device, path in reports.items():
        if not os.path.exists(path):
            failures.append(f"{device} wrote no report")
            continue
        yield device, harness.read_json(path)


def tail_logs(srv, names=("detainee", "lawyer"), lines=12):
    for name in names:
        path = os.path.join(srv.dir, f"{name}.log")
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                sys.stdout.write(f"--- {name} log (tail)\n" + "".join(f.readlines()[-lines:]))
