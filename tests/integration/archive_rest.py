"""Archive (REST access): who may read the meeting archive, over the real
huijiand, and that every access is in the audit trail.

Before huijiand starts, a real archive folder m-arch-1 is put under
<data_dir>/archive: two one-second H.264 Matroska segments made with
gst-launch-1.0 (videotestsrc ! x264enc ! h264parse ! matroskamux) and a
manifest.json listing them with their SHA-256; huijiand indexes it at start.
The configuration holds an administrator (root), an officer (wang) and an
archivist (dang).

Then: the administrator creates meeting m-arch-2, sets its case record and
uploads its commission letter (a 200 KB PDF: over the 64 KiB body limit of
every other endpoint, within the 8 MiB of this one), a second archive folder
m-arch-2 is made and indexed with POST /api/archives/reindex. The archivist
searches (by date, lawyer name, detainee device, case), reads an archive's
manifest, downloads a segment (byte for byte, SHA-256 as in the manifest)
and the letter, and has the side-by-side composite exported (202 while it
runs, then 200 with an MP4). Refused, with the exact status and code: the
officer, the admin token, a device secret, a garbage token and no token on
every archive endpoint; a letter upload with no, an officer's or a garbage
token, answered from its header alone while its 8 MB body is never sent;
the archivist on the officer endpoints, the admin
endpoints and the officer console (officer_hello); file names that are paths
or not in the manifest. Last, the audit trail holds each of these, allowed
or refused, with who, what and the outcome, and no password or token.
"""
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402
import wsclient  # noqa: E402
from wsclient import Client, check  # noqa: E402

wsclient.LOG_PREFIX = "[archive_rest]"
log = wsclient.log

ACCOUNTS = {
    "root": ("管理员", "admin", "root-password-" + os.urandom(4).hex()),
    "wang": ("王警官", "officer", "wang-password-" + os.urandom(4).hex()),
    "dang": ("档案员", "archivist", "dang-password-" + os.urandom(4).hex()),
}


def accounts_config():
    lines = [""]
    for username, (name, role, password) in ACCOUNTS.items():
        lines += ["[[officer]]", f'username = "{username}"', f'name = "{name}"', f'role = "{role}"',
                  f'password = "{password}"']
    return "\n".join(lines) + "\n"


def request(srv, method, path, token=None, body=None, content_type=None, timeout=60):
    """One HTTPS request; returns (status, headers dict, raw body bytes)."""
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=timeout)
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if content_type is not None:
        headers["Content-Type"] = content_type
    try:
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        raw = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, raw
    finally:
        conn.close()


def json_of(raw):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def expect(srv, method, path, token, status, code=None, body=None, content_type=None):
    got, headers, raw = request(srv, method, path, token, body, content_type)
    answer = json_of(raw)
    who = "no token" if token is None else f"token {token[:6]}…"
    check(got == status, f"{method} {path} with {who}: {got} {raw[:300]!r}, expected {status}")
    if code is not None:
        check((answer or {}).get("code") == code, f"{method} {path} with {who}: {answer}, expected code {code}")
    return answer if answer is not None else raw, headers


def answer_complete(got):
    """True once `got` holds an HTTP answer's header and its Content-Length of body."""
    if b"\r\n\r\n" not in got:
        return False
    head, body = got.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def refused_before_body(srv, path, token, size):
    """A PUT that declares a body of `size` bytes and sends only its header:
    returns (seconds until the answer, status line, answer JSON). The server
    must answer from the header alone, not wait for the body."""
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pdf\r\n"
        if token is not None:
            head += f"Authorization: Bearer {token}\r\n"
        head += f"Content-Length: {size}\r\n\r\n"
        started = time.monotonic()
        s.sendall(head.encode())
        got = b""
        try:
            while not answer_complete(got):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (socket.timeout, ssl.SSLError, ConnectionError):
            pass
        took = time.monotonic() - started
    status_line = got.split(b"\r\n", 1)[0].decode(errors="replace")
    body = got.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in got else b""
    return took, status_line, json_of(body)


def make_segment(path, pattern):
    """One second of 320x240 H.264 in Matroska, by GStreamer."""
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=30", f"pattern={pattern}", "!",
                    "video/x-raw,width=320,height=240,framerate=30/1", "!", "x264enc", "!", "h264parse", "!",
                    "matroskamux", "!", "filesink", f"location={path}"],
                   check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(path, "rb") as f:
        data = f.read()
    check(data[:4] == b"\x1a\x45\xdf\xa3", f"{path} is not Matroska (EBML header missing)")
    return data


def make_archive(archive_dir, meeting, lawyer, detainee, case_id, started_at, ended_at):
    """A real archive folder: two segments and their manifest. Returns the manifest (dict)."""
    folder = os.path.join(archive_dir, meeting)
    os.makedirs(folder)
    segments = []
    for party, pattern in (("lawyer", "smpte"), ("detainee", "ball")):
        name = f"{party}-00000.mkv"
        data = make_segment(os.path.join(folder, name), pattern)
        segments.append({"party": party, "file": name, "bytes": len(data),
                         "sha256": hashlib.sha256(data).hexdigest(), "start_ms": 0, "duration_ms": 1000,
                         "truncated": False})
    manifest = {
        "format": "huijian-archive/1", "meeting_id": meeting, "case_id": case_id, "case": None,
        "parties": [{"party": "lawyer", "device_id": lawyer, "device_name": "律师会见室"},
                    {"party": "detainee", "device_id": detainee, "device_name": "看守所会见室"}],
        "connected_at": started_at, "recording_started_at": started_at, "recording_ended_at": ended_at,
        "ended_at": ended_at, "ended_normally": True, "end_reason": "time_over", "ended_by": "server",
        "segments": segments, "gaps": [], "events": [], "recorder_faults": "", "signing_key_id": "",
    }
    with open(os.path.join(folder, "manifest.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest


def main():
    srv = harness.Server(extra_config=accounts_config())
    archive_dir = os.path.join(srv.data_dir, "archive")
    clients = []
    ok = False
    try:
        first = make_archive(archive_dir, "m-arch-1", "lawyer-1", "detainee-1", "(2026)京0105刑初1号",
                             "2026-11-20T09:00:00.000Z", "2026-11-20T09:00:01.000Z")
        srv.start()
        tokens = {u: officer.login(srv, u, ACCOUNTS[u][2])["token"] for u in ACCOUNTS}
        dang, wang, root = tokens["dang"], tokens["wang"], tokens["root"]
        check(officer.login(srv, "dang", ACCOUNTS["dang"][2])["role"] == "archivist", "dang's role")

        # --- the start-up scan indexed the first archive
        listed, _ = expect(srv, "GET", "/api/archives", dang, 200)
        check(listed["count"] == 1 and listed["archives"][0]["meeting"] == "m-arch-1", f"start-up index: {listed}")
        log("the archive folder put there before the start is indexed")

        # --- the administrator: a meeting, its case record and letter, and a second archive
        expect(srv, "POST", "/api/meetings", srv.admin_token, 201,
               body=json.dumps({"id": "m-arch-2", "lawyer_device": "lawyer-2", "detainee_device": "detainee-2",
                                "case_id": "(2026)京0105刑初2号"}), content_type="application/json")
        case = {"case_id": "(2026)京0105刑初2号", "lawyer_name": "张三", "lawyer_license": "11101201010000001",
                "lawyer_firm": "北京某律师事务所", "detainee_name": "李四", "detainee_id_number": "110101199001011234"}
        expect(srv, "PUT", "/api/meetings/m-arch-2/case", root, 200, body=json.dumps(case).encode(),
               content_type="application/json")
        expect(srv, "PUT", "/api/meetings/m-arch-2/case", root, 400, "bad_field",
               body=json.dumps({"lawyer_name": "x" * 51}).encode(), content_type="application/json")
        try:  # over 64 KiB: refused (the server may close while the client is still sending)
            expect(srv, "PUT", "/api/meetings/m-arch-2/case", root, 413, "too_large",
                   body=json.dumps({"lawyer_name": "x" * 70000}).encode(), content_type="application/json")
        except (ConnectionError, ssl.SSLError):
            pass
        kept, _ = expect(srv, "GET", "/api/meetings/m-arch-2/case", root, 200)
        check(kept["lawyer_name"] == "张三", f"the case record after refusals: {kept}")
        letter = b"%PDF-1.4\n" + b"%" + b"0123456789" * 20000 + b"\n%%EOF\n"
        check(len(letter) > 64 * 1024, "the letter is bigger than the usual body limit")
        expect(srv, "PUT", "/api/meetings/m-arch-2/letter?kind=commission", root, 400, "bad_file",
               body=b"\x89PNG\r\n\x1a\n" + letter, content_type="application/pdf")
        expect(srv, "PUT", "/api/meetings/m-arch-2/letter?kind=commission", wang, 403, "forbidden",
               body=letter, content_type="application/pdf")
        # Refused on the header alone: an 8 MB letter is never read for a caller who may not upload it.
        for token, status, code in ((None, 401, "unauthorized"), (wang, 403, "forbidden"),
                                    ("garbage-" + os.urandom(8).hex(), 401, "unauthorized")):
            took, line, answer = refused_before_body(srv, "/api/meetings/m-arch-2/letter?kind=commission", token,
                                                     8 * 1024 * 1024)
            check(line.startswith(f"HTTP/1.1 {status}") and (answer or {}).get("code") == code and took < 5,
                  f"a letter upload refused before its body: {line!r} {answer} after {took:.1f} s, expected {status}")
        log("a letter upload without an administrator's credentials is refused before its body is read")
        # A refused client that sends its 200 KB body anyway still reads the refusal (above: wang's 403).
        stored, _ = expect(srv, "PUT", "/api/meetings/m-arch-2/letter?kind=commission", root, 200,
                           body=letter, content_type="application/pdf")
        letter_sha = hashlib.sha256(letter).hexdigest()
        check(stored["letter"]["file"] == letter_sha + ".pdf", f"letter record: {stored}")
        letter_path = os.path.join(srv.data_dir, "documents", letter_sha + ".pdf")
        check(os.stat(letter_path).st_mode & 0o777 == 0o600, "the letter is stored with mode 0600")
        expect(srv, "GET", "/api/meetings/m-arch-2/case", dang, 403, "forbidden")
        make_archive(archive_dir, "m-arch-2", "lawyer-2", "detainee-2", "(2026)京0105刑初2号",
                     "2026-11-22T14:00:00.000Z", "2026-11-22T14:00:01.000Z")
        expect(srv, "POST", "/api/archives/reindex", dang, 403, "forbidden")
        expect(srv, "POST", "/api/archives/reindex", wang, 403, "forbidden")
        reindexed, _ = expect(srv, "POST", "/api/archives/reindex", root, 200)
        check(reindexed == {"indexed": 2, "skipped": []}, f"reindex: {reindexed}")
        log("case record, 200 KB letter and reindex done by the administrator")

        # --- the archivist searches, reads and downloads
        def found(query):
            answer, _ = expect(srv, "GET", "/api/archives" + query, dang, 200)
            return [a["meeting"] for a in answer["archives"]]
        check(found("") == ["m-arch-2", "m-arch-1"], "newest first")
        check(found("?from=2026-11-21") == ["m-arch-2"], "from")
        check(found("?to=2026-11-21") == ["m-arch-1"], "to")
        check(found("?lawyer=%E5%BC%A0%E4%B8%89") == ["m-arch-2"], "lawyer by name (张三)")
        check(found("?lawyer=lawyer-1") == ["m-arch-1"], "lawyer by device")
        check(found("?detainee=detainee-2") == ["m-arch-2"], "detainee by device")
        check(found("?case=%E5%88%91%E5%88%9D1%E5%8F%B7") == ["m-arch-1"], "case (刑初1号)")
        check(found("?limit=1") == ["m-arch-2"], "limit")
        expect(srv, "GET", "/api/archives?from=yesterday", dang, 400, "bad_field")
        listed, _ = expect(srv, "GET", "/api/archives?case=%E5%88%91%E5%88%9D2", dang, 200)
        check(listed["archives"][0]["case"]["lawyer_firm"] == "北京某律师事务所", f"case info: {listed}")

        detail, _ = expect(srv, "GET", "/api/archives/m-arch-1", dang, 200)
        check(detail["manifest"] == first and detail["manifest_matches_index"] is True, f"detail: {detail}")
        path = "/api/archives/m-arch-1/files/lawyer-00000.mkv"
        status, headers, raw = request(srv, "GET", path, dang)
        check(status == 200 and headers.get("content-type") == "video/x-matroska", f"segment: {status} {headers}")
        check(hashlib.sha256(raw).hexdigest() == first["segments"][0]["sha256"], "the segment's bytes")
        with open(os.path.join(archive_dir, "m-arch-1", "lawyer-00000.mkv"), "rb") as f:
            check(raw == f.read(), "the segment byte for byte")
        status, headers, raw = request(srv, "GET", f"/api/archives/m-arch-2/files/{letter_sha}.pdf", dang)
        check(status == 200 and raw == letter and headers.get("content-type") == "application/pdf",
              f"letter download: {status} {headers}")
        log("search, manifest, segment and letter as expected")

        for bad, status, code in [("../huijian.sqlite3", 400, "bad_name"), ("..", 400, "bad_name"),
                                  ("..%2F..%2Fhuijian.sqlite3", 400, "bad_name"), ("manifest.json", 404, "no_file"),
                                  ("manifest.json.sig", 404, "no_file"), ("lawyer-00001.mkv", 404, "no_file"),
                                  (f"{letter_sha}.pdf", 404, "no_file")]:
            expect(srv, "GET", f"/api/archives/m-arch-1/files/{bad}", dang, status, code)
        expect(srv, "GET", "/api/archives/m-nope/files/lawyer-00000.mkv", dang, 404, "no_archive")

        # --- everyone else is refused everywhere in the archive
        endpoints = [("GET", "/api/archives"), ("GET", "/api/archives/m-arch-1"), ("GET", path),
                     ("POST", "/api/archives/m-arch-1/composite"), ("GET", "/api/archives/m-arch-1/composite")]
        refusals = [(wang, 403, "forbidden"), (srv.admin_token, 403, "forbidden"),
                    (srv.secrets["lawyer-1"], 401, "unauthorized"), ("garbage", 401, "unauthorized"),
                    (None, 401, "unauthorized")]
        for method, p in endpoints:
            for token, status, code in refusals:
                answer, _ = expect(srv, method, p, token, status, code)
                check(b"matroska" not in json.dumps(answer).encode().lower(), "no media in a refusal")
        log("officer, admin token, device secret, garbage and anonymous refused on every archive endpoint")

        # --- the archivist may do nothing else
        expect(srv, "GET", "/api/officer/meetings", dang, 403, "forbidden")
        for p in ("/api/violations", "/api/audit", "/api/accounts", "/api/meetings/m-1", "/api/stats"):
            expect(srv, "GET", p, dang, 403, "forbidden")
        expect(srv, "POST", "/api/meetings/m-1/end", dang, 403, "forbidden", body=b"{}", content_type="application/json")
        console = Client(srv.port, srv.ca_file, "archivist console")
        clients.append(console)
        console.send({"type": "officer_hello", "token": dang})
        console.expect_error("not_officer", "officer_hello")
        console.expect_close(1008)
        session, _ = expect(srv, "GET", "/api/session", dang, 200)
        check(session["role"] == "archivist", f"session: {session}")
        log("the archivist is refused the officer console and the admin API")

        # --- the composite: 404 before, 202 while made, 200 with the MP4
        composite = "/api/archives/m-arch-1/composite"
        expect(srv, "GET", composite, dang, 404, "not_exported")
        started, _ = expect(srv, "POST", composite, dang, 202)
        check(started["state"] in ("queued", "running"), f"composite started: {started}")
        deadline = time.monotonic() + 180
        while True:
            status, headers, raw = request(srv, "GET", composite, dang)
            if status != 202 or time.monotonic() > deadline:
                break
            check(json_of(raw)["state"] in ("queued", "running"), f"composite state: {raw!r}")
            time.sleep(0.5)
        check(status == 200, f"composite: {status} {raw[:400]!r}")
        check(headers.get("content-type") == "video/mp4" and raw[4:8] == b"ftyp", "the composite is an MP4")
        check(os.path.exists(os.path.join(srv.data_dir, "exports", "m-arch-1.mp4")), "the composite is cached")
        again, _ = expect(srv, "POST", composite, dang, 200)
        check(again["state"] == "done", f"composite again: {again}")
        log(f"composite exported: {len(raw)} bytes of MP4")

        # --- the audit trail
        audit, _ = expect(srv, "GET", "/api/audit?limit=1000", srv.admin_token, 200)
        entries = audit["entries"]

        def has(actor, action, outcome, target=None):
            return any(e["actor"] == actor and e["action"] == action and e["outcome"] == outcome and
                       (target is None or e["target"] == target) for e in entries)
        check(has("dang", f"GET {path}", "ok", "m-arch-1"), "the archivist's download is audited")
        check(has("dang", "GET /api/archives", "ok"), "the search is audited")
        check(has("dang", "GET /api/archives/m-arch-1", "ok", "m-arch-1"), "the manifest read is audited")
        check(has("dang", f"GET /api/archives/m-arch-2/files/{letter_sha}.pdf", "ok"), "the letter read is audited")
        check(has("dang", "POST /api/archives/m-arch-1/composite", "ok"), "the export is audited")
        check(has("dang", "GET /api/archives/m-arch-1/files/../huijian.sqlite3", "refused:bad_name"), "bad name")
        check(has("dang", "GET /api/archives/m-arch-1/files/manifest.json", "refused:no_file"), "unlisted file")
        check(has("wang", f"GET {path}", "refused:forbidden", "m-arch-1"), "the officer's attempt")
        check(has("admin-token", f"GET {path}", "refused:forbidden"), "the admin token's attempt")
        check(has("anonymous", f"GET {path}", "refused:unauthorized"), "the anonymous attempt")
        check(has("dang", "officer_hello", "refused:not_officer"), "the archivist's officer_hello")
        check(has("dang", "list_violations", "refused:forbidden"), "the archivist on an admin endpoint")
        check(has("root", "PUT /api/meetings/m-arch-2/letter", "ok", "m-arch-2"), "the letter upload")
        check(has("wang", "PUT /api/meetings/m-arch-2/letter", "refused:forbidden"), "the officer's upload")
        check(has("anonymous", "PUT /api/meetings/m-arch-2/letter", "refused:unauthorized", "m-arch-2"),
              "the anonymous upload refused before its body")
        check(has("root", "POST /api/archives/reindex", "ok"), "the reindex")
        dump = json.dumps(entries, ensure_ascii=False)
        for secret in [p for _, _, p in ACCOUNTS.values()] + list(tokens.values()) + [srv.admin_token]:
            check(secret not in dump, "the audit trail holds a password or token")
        ok = True
        log(f"PASS ({wsclient.CHECKS} checks)")
    except (AssertionError, subprocess.SubprocessError, OSError) as e:
        log("FAIL:", repr(e))
    finally:
        for c in clients:
            c.close()
        srv.stop()
    if not ok:
        sys.stdout.write(srv.log()[-6000:])
        sys.exit(1)
    shutil.rmtree(srv.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
