#!/usr/bin/env python3
"""Integration test of huijiand's control plane with hostile input.

Starts huijiand on a free loopback port with a temporary config and data
directory, verifies TLS against the certificate it generated, runs the meeting
handshake (hello, ready, connect) with a lawyer and a detainee client, then
sends bad input from a third connection and from the parties themselves and
checks that each gets a clear error code while the meeting stays connected.
Finally stops huijiand with SIGTERM and checks the store: the state events in
order, and the meeting ended with reason "server shutdown".

Needs python3 and python3-websocket. Finds huijiand at
$HUIJIAN_BUILD/signaling/huijiand. Only 127.0.0.1 is used.
"""

import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsclient  # noqa: E402  (re-runs this test with /usr/bin/python3 if websocket is missing)
from wsclient import Client, check  # noqa: E402

wsclient.LOG_PREFIX = "[signaling_bad_input]"
log = wsclient.log

ADMIN_TOKEN = "integration-admin-token-0123456789"
MAX_MESSAGE_BYTES = 8192
CONFIG = f"""
[server]
listen = "127.0.0.1:0"
data_dir = "data"
admin_token = "{ADMIN_TOKEN}"
max_message_bytes = {MAX_MESSAGE_BYTES}

[media]
addresses = ["127.0.0.1"]

[[device]]
id = "lawyer-1"
name = "律师会见室 1"
role = "lawyer-terminal"
secret = "lawyer-secret-1"

[[device]]
id = "lawyer-2"
name = "律师会见室 2"
role = "lawyer-terminal"
secret = "lawyer-secret-2"

[[device]]
id = "detainee-1"
name = "会见室 A"
role = "detainee-terminal"
secret = "detainee-secret-1"

[[meeting]]
id = "m-1"
lawyer_device = "lawyer-1"
detainee_device = "detainee-1"
case_id = "(2026)京0105刑初123号"
"""

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
def start_server(binary, workdir):
    config = os.path.join(workdir, "huijiand.toml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(CONFIG)
    stderr = open(os.path.join(workdir, "huijiand.log"), "wb")
    proc = subprocess.Popen([binary, "--config", config], stdout=subprocess.PIPE,
                            stderr=stderr, cwd=workdir)
    deadline = time.monotonic() + 30
    line = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
            m = re.search(rb"huijiand listening on https://127\.0\.0\.1:(\d+) \(wss /ws\)", line)
            if m:
                return proc, int(m.group(1))
        if proc.poll() is not None:
            break
    raise AssertionError("huijiand did not print its listening line; see huijiand.log: "
                         + open(os.path.join(workdir, "huijiand.log"), encoding="utf-8",
                                errors="replace").read()[-2000:])


def stop_server(proc, grace=15):
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        return None


def https(port, ctx, method, path, body=None, token=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, data


def main():
    build = os.environ.get("HUIJIAN_BUILD")
    if not build:
        sys.exit("HUIJIAN_BUILD is not set (the CMake build directory)")
    binary = os.path.join(build, "signaling", "huijiand")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is missing: build the huijiand target first")

    workdir = tempfile.mkdtemp(prefix="hj-signaling-")
    proc = None
    clients = []
    ok = False
    try:
        proc, port = start_server(binary, workdir)
        log(f"huijiand pid {proc.pid} on port {port}")
        data_dir = os.path.join(workdir, "data")
        ca_file = os.path.join(data_dir, "tls", "cert.pem")

        # --- TLS: the generated certificate verifies (hostname 127.0.0.1), and
        # a client that does not trust it is refused.
        check(oct(os.stat(os.path.join(data_dir, "tls", "key.pem")).st_mode & 0o777) == "0o600",
              "key.pem must have mode 0600")
        ctx = ssl.create_default_context(cafile=ca_file)
        status, body = https(port, ctx, "GET", "/api/health")
        check(status == 200 and json.loads(body)["ok"] is True, f"health: {status} {body!r}")
        try:
            https(port, ssl.create_default_context(cafile=None), "GET", "/api/health")
            untrusted_ok = True
        except ssl.SSLCertVerificationError:
            untrusted_ok = False
        check(not untrusted_ok, "a client without the generated CA must not verify the server")
        with open(ca_file, encoding="ascii") as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        with open(os.path.join(workdir, "huijiand.log"), encoding="utf-8") as f:
            check(fingerprint in f.read(), "the log must name the TLS certificate's SHA-256 fingerprint")

        # --- the handshake
        lawyer = Client(port, ca_file, "lawyer-1")
        clients.append(lawyer)
        lawyer.hello("lawyer-1", "lawyer-secret-1", meeting="m-1")
        welcome = lawyer.expect("welcome", device="lawyer-1", role="lawyer-terminal", name="律师会见室 1")
        check(welcome["meeting"]["id"] == "m-1" and welcome["meeting"]["state"] == "waiting",
              f"welcome meeting: {welcome}")
        check(welcome["meeting"]["peer"] == {"device": "detainee-1", "name": "会见室 A"}, f"peer: {welcome}")
        check(welcome["meeting"]["case_id"] == "(2026)京0105刑初123号", "case id")
        lawyer.expect("state", meeting="m-1", state="waiting")

        detainee = Client(port, ca_file, "detainee-1")
        clients.append(detainee)
        detainee.hello("detainee-1", "detainee-secret-1")
        detainee.expect("welcome", device="detainee-1", role="detainee-terminal")
        detainee.expect("state", meeting="m-1", state="waiting")

        # connect before ready: refused, nothing changes
        lawyer.send({"type": "connect"})
        lawyer.expect_error("bad_state", ref="connect")

        detainee.send({"type": "ready"})
        st = detainee.expect("state", meeting="m-1", state="detainee_ready", by="detainee-1",
                             text="已就位，正在接通")
        check(ISO_MS.match(st["at"]), f"state.at must be ISO-8601 UTC with ms: {st}")
        lawyer.expect("state", state="detainee_ready", by="detainee-1")
        lawyer.expect("peer_ready", meeting="m-1", text="对方已就位", action="请按此键接通")

        lawyer.send({"type": "connect"})
        lawyer.expect("state", state="connected", by="lawyer-1")
        detainee.expect("state", state="connected", by="lawyer-1")
        # The call time (supervision.default_minutes, 60) starts at connect.
        for party in (lawyer, detainee):
            t = party.expect("time", meeting="m-1", by="server", remaining_seconds=3600)
            check(ISO_MS.match(t["ends_at"]) and ISO_MS.match(t["now"]), f"time: {t}")
        log("handshake done: meeting m-1 connected")

        # --- bad input from a third connection
        third = Client(port, ca_file, "third")
        clients.append(third)
        third.send("{this is not json")
        third.expect_error("bad_json")
        third.send("[1, 2, 3]")
        third.expect_error("bad_json")
        third.send({"type": "teleport"})
        err = third.expect_error("unknown_type", ref="teleport")
        check("teleport" in err["message"], "unknown_type names the type")
        third.send({"type": "ready"})
        third.expect_error("not_authenticated", ref="ready")
        third.send({"type": "hello", "device": "lawyer-1"})
        err = third.expect_error("missing_field", ref="hello")
        check("secret" in err["message"], "missing_field names the field")
        third.hello("lawyer-1", "lawyer-secret-1")
        third.expect_error("device_busy", ref="hello")
        third.alive()  # still open after all of that
        third.hello("lawyer-1", "not-the-secret")
        msg_wrong_secret = third.expect_error("bad_credentials", ref="hello")["message"]
        third.expect_close(1008)

        unknown = Client(port, ca_file, "unknown-device")
        clients.append(unknown)
        unknown.hello("nobody-9", "whatever-secret")
        msg_unknown = unknown.expect_error("bad_credentials")["message"]
        check(msg_unknown == msg_wrong_secret, "unknown device and wrong secret must read the same")
        unknown.expect_close(1008)

        second_lawyer = Client(port, ca_file, "lawyer-2")
        clients.append(second_lawyer)
        second_lawyer.hello("lawyer-2", "lawyer-secret-2", meeting="m-1")
        second_lawyer.expect_error("not_your_meeting", ref="hello")
        second_lawyer.alive()

        big = Client(port, ca_file, "oversize")
        clients.append(big)
        big.send({"type": "ping", "pad": "x" * (MAX_MESSAGE_BYTES + 100)})
        big.expect_error("too_large")
        big.expect_close(1009)

        # --- bad input from the parties themselves
        detainee.send({"type": "connect"})
        detainee.expect_error("wrong_role", ref="connect")
        lawyer.send({"type": "ready"})
        lawyer.expect_error("wrong_role", ref="ready")
        lawyer.send({"type": "connect"})
        lawyer.expect_error("bad_state", ref="connect")
        lawyer.send({"type": "offer", "sdp": "this is not SDP"})
        lawyer.expect_error("bad_sdp", ref="offer")
        lawyer.send({"type": "offer", "sdp": "v=0\r\nthis is not SDP either\r\n"})
        lawyer.expect_error("bad_sdp", ref="offer")
        detainee.send("\x00\x01 garbage")
        detainee.expect_error("bad_json")
        detainee.send({"type": "candidate", "candidate": "a=candidate:1 1 udp", "sdpMid": "0"})
        detainee.expect_error("bad_candidate", ref="candidate")
        detainee.send({"type": "end", "reason": "x" * 201})
        detainee.expect_error("bad_field", ref="end")
        lawyer.alive()
        detainee.alive()

        # --- REST: auth, conflicts, body cap
        status, body = https(port, ctx, "GET", "/api/meetings/m-1")
        check(status == 401 and json.loads(body)["code"] == "unauthorized", f"no token: {status}")
        status, body = https(port, ctx, "GET", "/api/meetings/m-1", token="wrong-token-wrong-token")
        check(status == 401, f"wrong token: {status}")
        new_meeting = json.dumps({"id": "m-2", "lawyer_device": "lawyer-1", "detainee_device": "detainee-1",
                                  "case_id": "x"})
        status, body = https(port, ctx, "POST", "/api/meetings", body=new_meeting, token=ADMIN_TOKEN)
        check(status == 409 and json.loads(body)["code"] == "meeting_taken", f"meeting_taken: {status} {body!r}")
        status, body = https(port, ctx, "POST", "/api/meetings", body="{", token=ADMIN_TOKEN)
        check(status == 400 and json.loads(body)["code"] == "bad_json", f"bad body: {status}")
        try:
            status, body = https(port, ctx, "POST", "/api/meetings", body="x" * (65 * 1024), token=ADMIN_TOKEN)
            check(status == 413, f"oversize body: {status}")
        except (ConnectionError, ssl.SSLError):
            pass  # the server may close while the client is still sending; either way not accepted

        # --- the meeting went on
        status, body = https(port, ctx, "GET", "/api/meetings/m-1", token=ADMIN_TOKEN)
        check(status == 200, f"GET meeting: {status} {body!r}")
        meeting = json.loads(body)
        check(meeting["state"] == "connected", f"meeting must still be connected: {meeting}")
        kinds = [e["kind"] for e in meeting["events"]]
        check(kinds == ["created", "state:detainee_ready", "state:connected"], f"events: {kinds}")
        log("after all bad input, meeting m-1 is still connected")

        # --- shutdown ends the running meeting and stores why
        rc = stop_server(proc)
        check(rc == 0, f"huijiand exit code {rc} after SIGTERM")
        db = sqlite3.connect(f"file:{os.path.join(data_dir, 'huijian.sqlite3')}?mode=ro", uri=True)
        rows = db.execute("SELECT kind, actor, at, detail FROM meeting_events WHERE meeting_id = 'm-1' "
                          "ORDER BY id").fetchall()
        kinds = [r[0] for r in rows]
        check(kinds == ["created", "state:detainee_ready", "state:connected", "state:ended"],
              f"stored events: {kinds}")
        check([r[1] for r in rows[1:]] == ["detainee-1", "lawyer-1", "server"], f"actors: {rows}")
        times = [r[2] for r in rows]
        check(all(ISO_MS.match(t) for t in times), f"timestamps: {times}")
        check(times == sorted(times), f"timestamps in order: {times}")
        state, reason, ended_by = db.execute(
            "SELECT state, end_reason, ended_by FROM meetings WHERE id = 'm-1'").fetchone()
        db.close()
        check((state, reason, ended_by) == ("ended", "server shutdown", "server"),
              f"meeting after shutdown: {state}, {reason}, {ended_by}")
        ok = True
        log(f"PASS ({wsclient.CHECKS} checks)")
    finally:
        for c in clients:
            c.close()
        if proc is not None and proc.poll() is None:
            stop_server(proc)
        if not ok:
            path = os.path.join(workdir, "huijiand.log")
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    sys.stderr.write("--- huijiand.log (tail)\n" + f.read()[-4000:])
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
