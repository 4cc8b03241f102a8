#!/usr/bin/python3
"""Speak the Janus videocall flow over Janus's HTTP API, the way the benchmark
load generator must: one Janus session, two handles (A = caller, B = callee)
per call, long-poll for events, call/incomingcall/accept/accepted, hangup,
detach, destroy.

Only the Python standard library. Talks to 127.0.0.1 only.

  probe.py --port 8088 [--transcript FILE] [--errors] [--record-dir DIR]
           [--ice-fail-wait SECS] [--calls N] [--longpoll-keepalive SECS]

Exit status 0 when every step behaved as expected, 1 otherwise.
"""

import argparse
import hashlib
import hmac
import zlib
import http.client
import json
import os
import random
import re
import socket
import string
import struct
import sys
import threading
import time

HOST = "127.0.0.1"


class ProbeError(Exception):
    pass


def rand_token(n, alphabet=string.ascii_letters + string.digits):
    return "".join(random.choice(alphabet) for _ in range(n))


# --------------------------------------------------------------------------
# Transcript: the exact JSON that went over the wire, SDPs also shown as text.

class Transcript:
    def __init__(self):
        self.lines = []
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.sdp_seen = {}
        self.hide_sdp_text = False

    def _stamp(self):
        return "%7.3f" % (time.monotonic() - self.t0)

    def note(self, text):
        with self.lock:
            self.lines.append("")
            self.lines.append("### " + text)

    def wire(self, direction, head, obj):
        """direction: '->' request, '<-' synchronous reply, '<=' long-poll delivery."""
        with self.lock:
            self.lines.append("[%s] %s %s" % (self._stamp(), direction, head))
            if obj is None:
                self.lines.append("    (empty body)")
                return
            sdps = []
            shown = self._strip_sdp(obj, sdps)
            txt = json.dumps(shown, indent=2)
            self.lines.extend("    " + l for l in txt.splitlines())
            for label, sdp in sdps:
                if self.hide_sdp_text:
                    self.lines.append("    %s: same shape as the offers below, text omitted" % label)
                    continue
                self.lines.append("    %s, as text (JSON string with \\r\\n line ends):" % label)
                self.lines.extend("      | " + l for l in sdp.split("\r\n") if l != "")

    def _strip_sdp(self, obj, sdps):
        if isinstance(obj, list):
            return [self._strip_sdp(o, sdps) for o in obj]
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k == "sdp" and isinstance(v, str):
                    label = "SDP#%d" % (len(self.sdp_seen) + 1)
                    self.sdp_seen[label] = v
                    sdps.append((label, v))
                    out[k] = "<%s: %d chars, shown below>" % (label, len(v))
                else:
                    out[k] = self._strip_sdp(v, sdps)
            return out
        return obj

    HEADER = """\
Janus 1.1.2 + janus.plugin.videocall over the plain HTTP transport: a real
exchange, recorded by bench/janus/probe.py (see README.md for the summary).

Notation
  ->  a request we POSTed (URL, then the JSON body)
  <-  the synchronous HTTP reply to that request
  <=  what the pending long poll  GET /janus/<session>?maxev=10  returned
      (with maxev > 1 the body is always a JSON array of events)
  [t] seconds since the probe started.
SDPs are JSON strings with \\r\\n line ends; each is also shown line by line.
Events for a request can reach the long poll BEFORE the HTTP reply with the
"ack" (see the timestamps): match events by transaction / sender, not order.
"""

    def write(self, path):
        with open(path, "w") as f:
            f.write(self.HEADER + "\n".join(self.lines) + "\n")


# --------------------------------------------------------------------------
# HTTP side of the Janus API

class JanusHttp:
    def __init__(self, port, transcript, base="/janus"):
        self.port = port
        self.base = base
        self.tr = transcript
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=15)
        return self.conn

    def post(self, path, body, record=True):
        data = json.dumps(body).encode()
        url = self.base + path
        if record:
            self.tr.wire("->", "POST " + url, body)
        for attempt in (1, 2):
            try:
                c = self._conn()
                c.request("POST", url, body=data, headers={"Content-Type": "application/json"})
                r = c.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt == 2:
                    raise
        reply = json.loads(raw) if raw else None
        if record:
            self.tr.wire("<-", "HTTP %d" % r.status, reply)
        return r.status, reply

    def get(self, path, timeout, record=True):
        c = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            c.request("GET", self.base + path)
            r = c.getresponse()
            raw = r.read()
        finally:
            c.close()
        reply = json.loads(raw) if raw else None
        if record:
            self.tr.wire("<-", "GET %s -> HTTP %d" % (self.base + path, r.status), reply)
        return r.status, reply


class Session:
    """A Janus session with a long-poll thread collecting its events."""

    def __init__(self, api, maxev=10):
        self.api = api
        self.maxev = maxev
        self.events = []          # (monotonic time, event dict)
        self.cond = threading.Condition()
        self.stop = False
        self.sid = None
        self.poll_count = 0
        self.poll_keepalives = 0
        self.poll_404 = False

    def tx(self):
        return rand_token(12)

    def create(self):
        t = self.tx()
        st, r = self.api.post("", {"janus": "create", "transaction": t})
        if st != 200 or r.get("janus") != "success" or r.get("transaction") != t:
            raise ProbeError("create failed: %r" % (r,))
        self.sid = r["data"]["id"]
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self.sid

    def _poll(self):
        first = True
        while not self.stop:
            try:
                st, r = self.api.get("/%d?maxev=%d" % (self.sid, self.maxev), timeout=45,
                                     record=False)
            except (OSError, http.client.HTTPException, ValueError):
                if self.stop:
                    return
                time.sleep(0.2)
                continue
            self.poll_count += 1
            if st == 404:
                self.poll_404 = True
                return
            evs = r if isinstance(r, list) else [r]
            if len(evs) == 1 and evs[0].get("janus") == "keepalive":
                self.poll_keepalives += 1
                if first:
                    self.api.tr.wire("<=", "long poll GET %s/%d?maxev=%d returned after ~30 s idle"
                                     % (self.api.base, self.sid, self.maxev), r)
                    first = False
                continue
            self.api.tr.wire("<=", "long poll GET %s/%d?maxev=%d (%d event%s)"
                             % (self.api.base, self.sid, self.maxev, len(evs),
                                "" if len(evs) == 1 else "s"), r)
            now = time.monotonic()
            with self.cond:
                for e in evs:
                    self.events.append((now, e))
                self.cond.notify_all()

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, (t, e) in enumerate(self.events):
                    if pred(e):
                        del self.events[i]
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProbeError("timed out after %.1f s waiting for %s; pending events: %s"
                                     % (timeout, what, json.dumps([e for _, e in self.events])[:2000]))
                self.cond.wait(left)

    def take_all(self, pred):
        with self.cond:
            out = [e for _, e in self.events if pred(e)]
            self.events = [(t, e) for t, e in self.events if not pred(e)]
            return out

    def attach(self, plugin="janus.plugin.videocall"):
        t = self.tx()
        st, r = self.api.post("/%d" % self.sid, {"janus": "attach", "plugin": plugin, "transaction": t})
        if st != 200 or r.get("janus") != "success":
            raise ProbeError("attach failed: %r" % (r,))
        return r["data"]["id"]

    def message(self, hid, body, jsep=None):
        """Send a plugin message; return (transaction, synchronous reply)."""
        t = self.tx()
        req = {"janus": "message", "transaction": t, "body": body}
        if jsep is not None:
            req["jsep"] = jsep
        st, r = self.api.post("/%d/%d" % (self.sid, hid), req)
        if st != 200:
            raise ProbeError("HTTP %d on message" % st)
        return t, r

    def plugin_call(self, hid, body, jsep=None, timeout=10, expect_error=False):
        """message + expect 'ack' + wait for the event carrying the same transaction."""
        t, r = self.message(hid, body, jsep)
        if r.get("janus") != "ack" or r.get("transaction") != t:
            raise ProbeError("expected ack for %s, got %r" % (body.get("request"), r))
        ev = self.wait(lambda e: e.get("transaction") == t and e.get("janus") == "event",
                       timeout, "event for transaction %s (%s)" % (t, body.get("request")))
        data = ev["plugindata"]["data"]
        if ev.get("sender") != hid:
            raise ProbeError("event sender %r != handle %r" % (ev.get("sender"), hid))
        if expect_error != ("error_code" in data):
            raise ProbeError("%s: unexpected result %r" % (body.get("request"), data))
        return ev

    def detach(self, hid):
        t = self.tx()
        st, r = self.api.post("/%d/%d" % (self.sid, hid), {"janus": "detach", "transaction": t})
        if r.get("janus") != "success":
            raise ProbeError("detach failed: %r" % (r,))

    def keepalive(self):
        t = self.tx()
        st, r = self.api.post("/%d" % self.sid, {"janus": "keepalive", "transaction": t})
        return r

    def destroy(self):
        t = self.tx()
        st, r = self.api.post("/%d" % self.sid, {"janus": "destroy", "transaction": t})
        if r.get("janus") != "success":
            raise ProbeError("destroy failed: %r" % (r,))
        self.stop = True


# --------------------------------------------------------------------------
# SDP


# --------------------------------------------------------------------------
# Minimal ICE (STUN binding with short-term credentials), used only by
# --ice-connect to get Janus past ICE so that its DTLS behaviour is visible.

STUN_COOKIE = 0x2112A442


def stun_attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def stun_finish(msg_type, txid, attrs, key):
    """Append MESSAGE-INTEGRITY (HMAC-SHA1, key) and FINGERPRINT."""
    body = b"".join(attrs)
    hdr = struct.pack("!HHI", msg_type, len(body) + 24, STUN_COOKIE) + txid
    mi = hmac.new(key, hdr + body, hashlib.sha1).digest()
    body += stun_attr(0x0008, mi)
    hdr = struct.pack("!HHI", msg_type, len(body) + 8, STUN_COOKIE) + txid
    crc = (zlib.crc32(hdr + body) & 0xFFFFFFFF) ^ 0x5354554E
    body += stun_attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", msg_type, len(body), STUN_COOKIE) + txid + body


def stun_parse(d):
    if len(d) < 20 or d[0] >= 4 or d[4:8] != b"\x21\x12\xa4\x42":
        return None
    mtype, mlen = struct.unpack("!HH", d[:4])
    attrs = {}
    i = 20
    while i + 4 <= 20 + mlen and i + 4 <= len(d):
        t, l = struct.unpack("!HH", d[i:i + 4])
        attrs[t] = d[i + 4:i + 4 + l]
        i += 4 + l + ((4 - l % 4) % 4)
    return mtype, d[8:20], attrs


def xor_mapped(src):
    ip = struct.unpack("!I", socket.inet_aton(src[0]))[0]
    return stun_attr(0x0020, struct.pack("!BBHI", 0, 1, src[1] ^ (STUN_COOKIE >> 16), ip ^ STUN_COOKIE))


SRTP_PROFILES = {1: "SRTP_AES128_CM_SHA1_80", 2: "SRTP_AES128_CM_SHA1_32",
                 7: "SRTP_AEAD_AES_128_GCM", 8: "SRTP_AEAD_AES_256_GCM"}


def parse_client_hello(d):
    """Return a dict describing a DTLS ClientHello record, or None."""
    if len(d) < 25 or d[0] != 22:
        return None
    rec_ver = d[1:3].hex()
    hs = d[13:]
    if hs[0] != 1:
        return {"record_version": rec_ver, "handshake_type": hs[0]}
    frag_len = int.from_bytes(hs[9:12], "big")
    b = hs[12:12 + frag_len]
    out = {"record_version": rec_ver, "client_version": b[0:2].hex()}
    i = 34
    sid_len = b[i]; i += 1 + sid_len
    cookie_len = b[i]; i += 1 + cookie_len
    cs_len = int.from_bytes(b[i:i + 2], "big"); i += 2
    out["cipher_suites"] = [b[j:j + 2].hex() for j in range(i, i + cs_len, 2)]
    i += cs_len
    comp_len = b[i]; i += 1 + comp_len
    if i + 2 <= len(b):
        ext_len = int.from_bytes(b[i:i + 2], "big"); i += 2
        end = i + ext_len
        exts = []
        while i + 4 <= end and i + 4 <= len(b):
            t = int.from_bytes(b[i:i + 2], "big")
            l = int.from_bytes(b[i + 2:i + 4], "big")
            v = b[i + 4:i + 4 + l]
            exts.append(t)
            if t == 14 and len(v) >= 2:
                pl = int.from_bytes(v[0:2], "big")
                out["use_srtp"] = [SRTP_PROFILES.get(int.from_bytes(v[k:k + 2], "big"),
                                                     v[k:k + 2].hex()) for k in range(2, 2 + pl, 2)]
            if t == 10 and len(v) >= 2:
                gl = int.from_bytes(v[0:2], "big")
                out["supported_groups"] = [v[k:k + 2].hex() for k in range(2, 2 + gl, 2)]
            i += 4 + l
        out["extensions"] = exts
    return out


WITH_EOC = True     # --no-end-of-candidates clears it


def make_jsep(kind, sdp, args):
    j = {"type": kind, "sdp": sdp}
    if args.jsep_trickle == "false":
        j["trickle"] = False
    elif args.jsep_trickle == "true":
        j["trickle"] = True
    return j


def fake_fingerprint():
    return ":".join("%02X" % random.randrange(256) for _ in range(32))


class Endpoint:
    """What one party puts in its SDP; owns a UDP socket whose port is its only candidate."""

    def __init__(self, label):
        self.label = label
        self.ufrag = rand_token(8)
        self.pwd = rand_token(24)
        self.fingerprint = fake_fingerprint()
        self.cname = rand_token(16)
        self.stream = rand_token(16)
        self.audio_track = rand_token(16)
        self.video_track = rand_token(16)
        self.audio_ssrc = random.randrange(1, 2**32)
        self.video_ssrc = random.randrange(1, 2**32)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = []        # (time, src, first bytes)
        self.ice = None           # (janus ufrag, janus pwd, janus addr, controlling) when --ice-connect
        self.stun_answered = 0
        self.stun_success = 0     # binding success responses from Janus to our checks
        self.dtls = []            # (time, src, packet) non-STUN packets from Janus
        self.stop = False
        self.thread = threading.Thread(target=self._recv, daemon=True)
        self.thread.start()

    def _recv(self):
        while not self.stop:
            try:
                data, src = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            self.received.append((now, src, data[:64]))
            st = stun_parse(data)
            if st is None:
                if data and 20 <= data[0] <= 63:
                    self.dtls.append((now, src, data))
                continue
            mtype, txid, attrs = st
            if self.ice is None:
                continue
            if mtype == 0x0001:
                resp = stun_finish(0x0101, txid, [xor_mapped(src)], self.pwd.encode())
                self.sock.sendto(resp, src)
                self.stun_answered += 1
            elif mtype == 0x0101:
                self.stun_success += 1

    def start_ice(self, janus_sdp, controlling):
        f = sdp_facts(janus_sdp)
        p = parse_sdp(janus_sdp)
        pwd = None
        for m in p["media"]:
            for a in m["attrs"]:
                if a.startswith("a=ice-pwd:"):
                    pwd = a[10:]
        cand = f["candidates"][0].split()
        self.ice = (sorted(f["ufrags"])[0], pwd, (cand[4], int(cand[5])), controlling)

    def send_check(self):
        """One connectivity check towards Janus (nominating when controlling)."""
        rufrag, rpwd, addr, controlling = self.ice
        txid = os.urandom(12)
        attrs = [stun_attr(0x0006, ("%s:%s" % (rufrag, self.ufrag)).encode()),
                 stun_attr(0x0024, struct.pack("!I", 1853824767))]
        if controlling:
            attrs.append(stun_attr(0x802A, os.urandom(8)))
            attrs.append(stun_attr(0x0025, b""))
        else:
            attrs.append(stun_attr(0x8029, os.urandom(8)))
        self.sock.sendto(stun_finish(0x0001, txid, attrs, rpwd.encode()), addr)

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()

    def stun_summary(self):
        n = 0
        srcs = set()
        for _, src, d in self.received:
            if len(d) >= 20 and d[0] < 4 and d[4:8] == b"\x21\x12\xa4\x42":
                n += 1
                srcs.add("%s:%d" % src)
        return n, sorted(srcs)

    def media_lines(self, kind, mid, pt, setup):
        c = []
        if kind == "audio":
            c.append("m=audio 9 UDP/TLS/RTP/SAVPF %d" % pt)
        else:
            c.append("m=video 9 UDP/TLS/RTP/SAVPF %d" % pt)
        c.append("c=IN IP4 0.0.0.0")
        c.append("a=rtcp:9 IN IP4 0.0.0.0")
        c.append("a=candidate:1 1 udp 2130706431 %s %d typ host" % (HOST, self.port))
        if WITH_EOC:
            c.append("a=end-of-candidates")
        c.append("a=ice-ufrag:%s" % self.ufrag)
        c.append("a=ice-pwd:%s" % self.pwd)
        c.append("a=fingerprint:sha-256 %s" % self.fingerprint)
        c.append("a=setup:%s" % setup)
        c.append("a=mid:%s" % mid)
        c.append("a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid")
        c.append("a=sendrecv")
        track = self.audio_track if kind == "audio" else self.video_track
        ssrc = self.audio_ssrc if kind == "audio" else self.video_ssrc
        c.append("a=msid:%s %s" % (self.stream, track))
        c.append("a=rtcp-mux")
        if kind == "audio":
            c.append("a=rtpmap:%d opus/48000/2" % pt)
            c.append("a=fmtp:%d minptime=10;useinbandfec=1" % pt)
        else:
            c.append("a=rtcp-rsize")
            c.append("a=rtpmap:%d H264/90000" % pt)
            c.append("a=rtcp-fb:%d goog-remb" % pt)
            c.append("a=rtcp-fb:%d ccm fir" % pt)
            c.append("a=rtcp-fb:%d nack" % pt)
            c.append("a=rtcp-fb:%d nack pli" % pt)
            c.append("a=fmtp:%d level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" % pt)
        c.append("a=ssrc:%d cname:%s" % (ssrc, self.cname))
        c.append("a=ssrc:%d msid:%s %s" % (ssrc, self.stream, track))
        return c

    def sdp(self, setup, audio=("0", 111), video=("1", 102)):
        sess_id = random.randrange(10**15, 10**16)
        lines = ["v=0",
                 "o=- %d 2 IN IP4 127.0.0.1" % sess_id,
                 "s=-",
                 "t=0 0",
                 "a=group:BUNDLE %s %s" % (audio[0], video[0]),
                 "a=msid-semantic: WMS %s" % self.stream]
        lines += self.media_lines("audio", audio[0], audio[1], setup)
        lines += self.media_lines("video", video[0], video[1], setup)
        return "\r\n".join(lines) + "\r\n"

    def offer(self):
        return self.sdp("actpass")

    def answer_to(self, offer_sdp):
        """Answer Janus's offer, keeping its mids and payload types."""
        m = parse_sdp(offer_sdp)
        a = [x for x in m["media"] if x["kind"] == "audio"]
        v = [x for x in m["media"] if x["kind"] == "video"]
        if not a or not v:
            raise ProbeError("Janus offer lacks audio or video m-line")
        apt = codec_pt(a[0], "opus")
        vpt = codec_pt(v[0], "H264")
        if apt is None or vpt is None:
            raise ProbeError("Janus offer lacks opus or H264")
        return self.sdp("active", audio=(a[0]["mid"], apt), video=(v[0]["mid"], vpt))


def parse_sdp(sdp):
    out = {"session": [], "media": []}
    cur = None
    for line in sdp.split("\r\n"):
        if not line:
            continue
        if line.startswith("m="):
            f = line[2:].split()
            cur = {"kind": f[0], "port": f[1], "proto": f[2], "pts": f[3:], "attrs": [], "line": line}
            out["media"].append(cur)
        elif cur is None:
            out["session"].append(line)
        else:
            cur["attrs"].append(line)
            if line.startswith("a=mid:"):
                cur["mid"] = line[6:]
    return out


def codec_pt(media, name):
    for a in media["attrs"]:
        mm = re.match(r"a=rtpmap:(\d+) ([^/]+)/", a)
        if mm and mm.group(2).lower() == name.lower():
            return int(mm.group(1))
    return None


def sdp_facts(sdp):
    """Facts about an SDP Janus produced, for checks and the report."""
    p = parse_sdp(sdp)
    facts = {"candidates": [], "setup": set(), "c_lines": set(), "ssrc": {}, "pts": {},
             "rtpmaps": {}, "trickle_opt": False, "end_of_candidates": 0, "fingerprints": set(),
             "ufrags": set(), "extmaps": {}, "o": None, "bundle": None, "rtx": False}
    for l in p["session"]:
        if l.startswith("o="):
            facts["o"] = l
        if l.startswith("a=group:BUNDLE"):
            facts["bundle"] = l
        if l.startswith("a=ice-options") and "trickle" in l:
            facts["trickle_opt"] = True
        if l.startswith("a=fingerprint:"):
            facts["fingerprints"].add(l[14:])
    for m in p["media"]:
        k = m["kind"]
        facts["pts"][k] = m["pts"]
        for a in m["attrs"]:
            if a.startswith("a=candidate:"):
                facts["candidates"].append(a[2:])
            elif a.startswith("a=setup:"):
                facts["setup"].add(a[8:])
            elif a.startswith("c="):
                facts["c_lines"].add(a)
            elif a.startswith("a=ssrc:"):
                s = int(a[7:].split()[0])
                facts["ssrc"].setdefault(k, set()).add(s)
            elif a.startswith("a=rtpmap:"):
                facts["rtpmaps"].setdefault(k, []).append(a[9:])
                if "rtx/" in a:
                    facts["rtx"] = True
            elif a.startswith("a=ice-options") and "trickle" in a:
                facts["trickle_opt"] = True
            elif a == "a=end-of-candidates":
                facts["end_of_candidates"] += 1
            elif a.startswith("a=fingerprint:"):
                facts["fingerprints"].add(a[14:])
            elif a.startswith("a=ice-ufrag:"):
                facts["ufrags"].add(a[12:])
            elif a.startswith("a=extmap:"):
                facts["extmaps"].setdefault(k, []).append(a[9:])
    return facts


def check_janus_sdp(label, sdp, expect_setup, own):
    """Validate an SDP Janus produced; return printable fact lines."""
    f = sdp_facts(sdp)
    problems = []
    if not f["candidates"]:
        problems.append("no inline candidates")
    for c in f["candidates"]:
        parts = c.split()
        addr = parts[4]
        if addr != HOST:
            problems.append("non-loopback candidate: " + c)
        if "typ" in parts and parts[parts.index("typ") + 1] != "host":
            problems.append("non-host candidate: " + c)
    for c in f["c_lines"]:
        if not c.endswith(" " + HOST) and not c.endswith(" 0.0.0.0"):
            problems.append("unexpected c= line: " + c)
    if f["setup"] != {expect_setup}:
        problems.append("setup %s, expected %s" % (sorted(f["setup"]), expect_setup))
    if own.ufrag in f["ufrags"]:
        problems.append("Janus echoed our ice-ufrag")
    if own.fingerprint in " ".join(f["fingerprints"]):
        problems.append("Janus echoed our fingerprint")
    facts = [
        "%s: setup=%s, candidates=%s, end-of-candidates lines=%d, ice-options:trickle=%s"
        % (label, ",".join(sorted(f["setup"])), f["candidates"], f["end_of_candidates"], f["trickle_opt"]),
        "%s: c= %s; BUNDLE %r; m-line payload types %s; rtpmaps %s; rtx=%s"
        % (label, sorted(f["c_lines"]), f["bundle"], f["pts"], f["rtpmaps"], f["rtx"]),
        "%s: ssrc per kind %s; fingerprints %s; extmaps %s"
        % (label, {k: sorted(v) for k, v in f["ssrc"].items()}, sorted(f["fingerprints"]), f["extmaps"]),
    ]
    return problems, facts, f


# --------------------------------------------------------------------------
# The probe proper

def log(msg):
    print("probe: " + msg, flush=True)


def expect(cond, msg):
    if not cond:
        raise ProbeError(msg)


def plugin_data(ev):
    return ev.get("plugindata", {}).get("data", {})


def vc_event(ev):
    return plugin_data(ev).get("result", {}).get("event")


def run_error_cases(s, tag, taken_name):
    s.api.tr.note("Error cases (on an extra handle C)")
    s.api.tr.hide_sdp_text = True
    c = s.attach()
    # plugin-level error: username already registered by someone else
    ev = s.plugin_call(c, {"request": "register", "username": taken_name}, expect_error=True)
    d = plugin_data(ev)
    expect(d.get("error_code") == 476, "expected 476 username taken, got %r" % d)
    log("register of a taken name -> videocall error_code 476: %s" % d.get("error"))
    # plugin-level error: call before register
    ev = s.plugin_call(c, {"request": "call", "username": taken_name}, expect_error=True)
    expect(plugin_data(ev).get("error_code") == 473, "expected 473 register first")
    log("call before register -> error_code 473")
    cname = "c-" + tag
    ev = s.plugin_call(c, {"request": "register", "username": cname})
    # plugin-level error: call an unknown username (with an offer attached, as a real caller would)
    ep = Endpoint("C")
    try:
        ev = s.plugin_call(c, {"request": "call", "username": "nobody-" + tag},
                           jsep={"type": "offer", "sdp": ep.offer()}, expect_error=True)
        d = plugin_data(ev)
        expect(d.get("error_code") == 478, "expected 478 no such username, got %r" % d)
        log("call of an unknown username -> error_code 478: %s; jsep on the error event: %s"
            % (d.get("error"), "jsep" in ev))
        # the core tears the half-made PeerConnection down: expect a core 'hangup' on C
        try:
            h = s.wait(lambda e: e.get("janus") == "hangup" and e.get("sender") == c, 5,
                       "core hangup on C")
            log("   ... followed by core event {janus: hangup, reason: %r}" % h.get("reason"))
        except ProbeError:
            log("   ... no core hangup event on C within 5 s")
    finally:
        ep.close()
    # plugin-level error: accept without an incoming call
    ev = s.plugin_call(c, {"request": "accept"}, jsep=None, expect_error=True)
    log("accept without an incoming call -> error_code %s" % plugin_data(ev).get("error_code"))
    # plugin-level error: unknown request
    ev = s.plugin_call(c, {"request": "dance"}, expect_error=True)
    log("unknown request -> error_code %s" % plugin_data(ev).get("error_code"))
    # core-level errors: synchronous {"janus":"error"} replies
    t = s.tx()
    st, r = s.api.post("/%d/%d" % (s.sid, 1234567), {"janus": "message", "transaction": t,
                                                      "body": {"request": "list"}})
    expect(r.get("janus") == "error", "expected core error for unknown handle")
    log("message to unknown handle -> HTTP %d, janus=error code %s" % (st, r["error"]["code"]))
    t = s.tx()
    st, r = s.api.post("/%d" % 987654321, {"janus": "keepalive", "transaction": t})
    expect(r.get("janus") == "error", "expected core error for unknown session")
    log("keepalive to unknown session -> HTTP %d, janus=error code %s" % (st, r["error"]["code"]))
    t = s.tx()
    st, r = s.api.post("/%d/%d" % (s.sid, c), {"janus": "message", "transaction": t,
                                                "body": {"request": "call", "username": taken_name},
                                                "jsep": {"type": "offer"}})
    log("jsep without sdp -> janus=%s %s" % (r.get("janus"), r.get("error")))
    st, r = s.api.get("/%d?maxev=1" % 987654321, timeout=5)
    log("long poll on unknown session -> HTTP %d, body %r" % (st, r))
    expect(st == 404, "expected 404 for long poll on unknown session")
    s.detach(c)
    time.sleep(0.3)
    s.take_all(lambda e: e.get("sender") == c)
    s.api.tr.hide_sdp_text = False


def watch_events(s, ha, hb, t0, secs, tick=None):
    """Collect events of handles ha/hb for up to secs; stop once both handles
    got the core 'hangup' and the videocall 'hangup'. Returns [(dt, event)]."""
    got = []
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if tick:
            tick()
        try:
            e = s.wait(lambda e: e.get("sender") in (ha, hb), 0.1 if tick else
                       max(0.1, end - time.monotonic()), "events")
        except ProbeError:
            continue
        got.append((time.monotonic() - t0, e))
        core_hang = {x.get("sender") for _, x in got if x.get("janus") == "hangup"}
        vc_hang = sum(1 for _, x in got if vc_event(x) == "hangup")
        if core_hang >= {ha, hb} and vc_hang >= 2:
            time.sleep(1.0)
            for x in s.take_all(lambda e: e.get("sender") in (ha, hb)):
                got.append((time.monotonic() - t0, x))
            break
    return got


def describe_events(got, ha):
    keep = ("janus", "reason", "type", "uplink", "media", "receiving", "mid", "plugindata")
    return ["+%.1f s: sender=%s %s" % (dt, "A" if e.get("sender") == ha else "B",
                                      json.dumps({k: v for k, v in e.items() if k in keep}))
            for dt, e in got]


def one_call(s, idx, tag, args, report):
    tr = s.api.tr
    verbose = idx == 0
    a_name, b_name = "a-%s-%d" % (tag, idx), "b-%s-%d" % (tag, idx)
    if verbose:
        tr.note("Attach handle A (caller) and handle B (callee)")
    ha = s.attach()
    hb = s.attach()
    if verbose:
        tr.note("Register both usernames (unique per call)")
    ev = s.plugin_call(ha, {"request": "register", "username": a_name})
    expect(vc_event(ev) == "registered", "A not registered: %r" % ev)
    ev = s.plugin_call(hb, {"request": "register", "username": b_name})
    expect(vc_event(ev) == "registered", "B not registered: %r" % ev)

    if verbose:
        tr.note("Optional explicit keepalive (not needed while a long poll is pending: "
                "each GET counts as one)")
        r = s.keepalive()
        expect(r.get("janus") == "ack", "keepalive not acked: %r" % r)

    if verbose and args.errors:
        run_error_cases(s, tag, b_name)

    A, B = Endpoint("A"), Endpoint("B")
    try:
        if verbose:
            tr.note("A calls B with an offer (candidates inline%s, jsep.trickle %s)"
                    % ("" if WITH_EOC else ", no end-of-candidates", args.jsep_trickle))
        offer = A.offer()
        t_call = time.monotonic()
        ev = s.plugin_call(ha, {"request": "call", "username": b_name},
                           jsep=make_jsep("offer", offer, args))
        expect(vc_event(ev) == "calling", "A did not get 'calling': %r" % ev)
        expect("jsep" not in ev, "unexpected jsep on 'calling'")
        inc = s.wait(lambda e: e.get("sender") == hb and vc_event(e) == "incomingcall", 10,
                     "incomingcall on B")
        t_inc = time.monotonic()
        expect(plugin_data(inc)["result"].get("username") == a_name, "incomingcall from wrong user")
        expect(inc.get("jsep", {}).get("type") == "offer", "incomingcall without jsep offer")
        janus_offer = inc["jsep"]["sdp"]
        probs, facts, f_off = check_janus_sdp("Janus offer to B (callee)", janus_offer, "actpass", B)
        expect(not probs, "Janus offer: " + "; ".join(probs))

        if verbose:
            tr.note("B accepts with an answer (setup:active)")
        answer = B.answer_to(janus_offer)
        ev = s.plugin_call(hb, {"request": "accept"},
                           jsep=make_jsep("answer", answer, args))
        expect(vc_event(ev) == "accepted", "B did not get 'accepted': %r" % ev)
        acc = s.wait(lambda e: e.get("sender") == ha and vc_event(e) == "accepted", 10,
                     "accepted on A")
        t_acc = time.monotonic()
        expect(acc.get("jsep", {}).get("type") == "answer", "accepted on A without jsep answer")
        janus_answer = acc["jsep"]["sdp"]
        probs2, facts2, f_ans = check_janus_sdp("Janus answer to A (caller)", janus_answer, "active", A)
        expect(not probs2, "Janus answer: " + "; ".join(probs2))

        if verbose:
            report["facts"] = facts + facts2
            report["offer_ssrc"] = {"A sent audio": A.audio_ssrc, "A sent video": A.video_ssrc,
                                    "B sent audio": B.audio_ssrc, "B sent video": B.video_ssrc}
            report["janus_offer_ssrc"] = {k: sorted(v) for k, v in f_off["ssrc"].items()}
            report["janus_answer_ssrc"] = {k: sorted(v) for k, v in f_ans["ssrc"].items()}
            report["timing"] = "call->incomingcall %.0f ms, incomingcall->accepted(A) %.0f ms" % (
                (t_inc - t_call) * 1000, (t_acc - t_inc) * 1000)

        if args.record_dir and verbose:
            tr.note("Recording: 'set' with record=true on both handles")
            before = set(os.listdir(args.record_dir))
            for h, n in ((ha, a_name), (hb, b_name)):
                ev = s.plugin_call(h, {"request": "set", "record": True,
                                       "filename": os.path.join(args.record_dir, n)})
                expect(vc_event(ev) == "set", "set/record failed: %r" % ev)
            time.sleep(0.5)
            after = set(os.listdir(args.record_dir))
            report["record_after_set"] = {f: os.path.getsize(os.path.join(args.record_dir, f))
                                          for f in sorted(after - before)}
            log("files after set record=true: %s" % report["record_after_set"])

        if args.ice_fail_wait and verbose:
            tr.note("Nobody answers Janus's ICE checks: wait for what Janus does")
            got = watch_events(s, ha, hb, t_acc, args.ice_fail_wait)
            report["ice_fail"] = describe_events(got, ha)
            for line in report["ice_fail"]:
                log("ICE-fail: " + line)
            report["stun"] = {"A": A.stun_summary(), "B": B.stun_summary()}
            for ep in (A, B):
                for src in report["stun"][ep.label][1]:
                    expect(src.startswith(HOST + ":"), "STUN check from non-loopback " + src)
            log("STUN checks Janus sent to A's candidate: %d from %s; to B's: %d from %s"
                % (report["stun"]["A"][0], report["stun"]["A"][1], report["stun"]["B"][0],
                   report["stun"]["B"][1]))

        if args.ice_connect and verbose:
            tr.note("ICE is answered (no DTLS from our side): what Janus does next")
            A.start_ice(janus_answer, controlling=True)
            B.start_ice(janus_offer, controlling=False)
            t_ice = time.monotonic()
            state = {"next": 0.0}

            def tick():
                el = time.monotonic() - t_ice
                if el >= state["next"]:
                    A.send_check()
                    B.send_check()
                    state["next"] = el + (0.1 if el < 2 else 2.0)
            got = watch_events(s, ha, hb, t_ice, args.ice_connect, tick)
            report["ice_connect"] = describe_events(got, ha)
            for line in report["ice_connect"]:
                log("ICE-connect: " + line)
            log("ICE-connect: A answered %d Janus checks, Janus answered %d of A's; "
                "B answered %d, Janus answered %d of B's"
                % (A.stun_answered, A.stun_success, B.stun_answered, B.stun_success))
            for ep, role in ((A, "A (Janus answered setup:active)"), (B, "B (Janus offered actpass, B answered active)")):
                times = ["+%.2f" % (t - t_ice) for t, _, _ in ep.dtls]
                log("ICE-connect: DTLS packets from Janus to %s: %d at %s s" % (role, len(ep.dtls), times))
                if ep.dtls:
                    ch = parse_client_hello(ep.dtls[0][2])
                    log("ICE-connect:   first one from %s:%d: %s" % (ep.dtls[0][1] + (json.dumps(ch),)))
                    report.setdefault("client_hello", {})[ep.label] = ch
            expect(A.dtls, "Janus sent no DTLS ClientHello to A after ICE")
            for ep in (A, B):
                for _, src, _ in ep.received:
                    expect(src[0] == HOST, "packet from non-loopback %s:%d" % src)
            expect(not B.dtls, "Janus sent DTLS to B although B answered setup:active")

        if verbose:
            tr.note("A hangs up")
        ev = s.plugin_call(ha, {"request": "hangup"})
        expect(vc_event(ev) == "hangup", "A hangup: %r" % ev)
        if not ((args.ice_fail_wait or args.ice_connect) and verbose):
            s.wait(lambda e: e.get("sender") == hb and vc_event(e) == "hangup", 10, "hangup on B")
        time.sleep(0.3 if verbose else 0)
        if verbose:
            tr.note("Detach both handles")
        s.detach(ha)
        s.detach(hb)
        if args.record_dir and verbose:
            time.sleep(0.3)
            report["record_after_hangup"] = {f: os.path.getsize(os.path.join(args.record_dir, f))
                                             for f in sorted(os.listdir(args.record_dir))}
            log("files after hangup: %s" % report["record_after_hangup"])
        leftover = s.take_all(lambda e: e.get("sender") in (ha, hb))
        if verbose:
            report["after_hangup"] = [json.dumps({k: v for k, v in e.items()
                                                  if k in ("janus", "sender", "reason", "plugindata")})
                                      for e in leftover]
    finally:
        A.close()
        B.close()


def establish(s, idx, tag):
    """Quiet version of the call setup, for --concurrent: returns the call state."""
    a_name, b_name = "a-%s-%d" % (tag, idx), "b-%s-%d" % (tag, idx)
    ha, hb = s.attach(), s.attach()
    s.plugin_call(ha, {"request": "register", "username": a_name})
    s.plugin_call(hb, {"request": "register", "username": b_name})
    A, B = Endpoint("A"), Endpoint("B")
    s.plugin_call(ha, {"request": "call", "username": b_name},
                  jsep={"type": "offer", "sdp": A.offer(), "trickle": False})
    inc = s.wait(lambda e: e.get("sender") == hb and vc_event(e) == "incomingcall", 10, "incomingcall")
    ev = s.plugin_call(hb, {"request": "accept"},
                       jsep={"type": "answer", "sdp": B.answer_to(inc["jsep"]["sdp"]), "trickle": False})
    acc = s.wait(lambda e: e.get("sender") == ha and vc_event(e) == "accepted", 10, "accepted")
    for sdp in (inc["jsep"]["sdp"], acc["jsep"]["sdp"]):
        for c in sdp_facts(sdp)["candidates"]:
            expect(c.split()[4] == HOST, "non-loopback candidate " + c)
    return (ha, hb, A, B)


def teardown(s, call):
    """Hang up from A, wait until B has seen the hangup, then detach both.
    (Detaching the instant the hangup is acked races with the plugin still
    notifying the peer: Janus then logs 'Invalid plugin session' errors. Waiting
    for the core 'hangup' (Close PC) of both handles avoided it in 10 runs.)"""
    ha, hb, A, B = call
    s.plugin_call(ha, {"request": "hangup"})
    s.wait(lambda e: e.get("sender") == hb and vc_event(e) == "hangup", 10, "hangup on B")
    for h in (ha, hb):      # the PeerConnections' own teardown: {"janus":"hangup","reason":"Close PC"}
        try:
            s.wait(lambda e: e.get("sender") == h and e.get("janus") == "hangup", 3, "core hangup")
        except ProbeError:
            pass
    s.detach(ha)
    s.detach(hb)
    A.close()
    B.close()
    s.take_all(lambda e: e.get("sender") in (ha, hb))


def proc_usage(pid):
    if not pid:
        return "?"
    try:
        th = len(os.listdir("/proc/%d/task" % pid))
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return "?"
    return "%d threads, %d fds" % (th, fds)


def concurrent_calls(api, n, janus_pid):
    """Set up n calls (one session each, as the load generator would), all up at
    once, then hang them all up. Reports Janus's threads/fds before, during, after."""
    tag = rand_token(6).lower()
    before = proc_usage(janus_pid)
    sessions, calls = [], []
    t0 = time.monotonic()
    for i in range(n):
        s = Session(api)
        s.create()
        sessions.append(s)
        calls.append(establish(s, i, tag))
    t1 = time.monotonic()
    time.sleep(0.5)
    during = proc_usage(janus_pid)
    for s, c in zip(sessions, calls):
        teardown(s, c)
        s.destroy()
    time.sleep(1.5)
    after = proc_usage(janus_pid)
    log("%d concurrent calls (1 session + 2 handles each) set up in %.2f s (%.0f ms/call)"
        % (n, t1 - t0, (t1 - t0) * 1000 / n))
    log("janus pid %s: before %s; with %d calls up %s; after teardown %s"
        % (janus_pid, before, n, during, after))
    return True


def longpoll_keepalive_test(api, secs):
    """Session P only long-polls for `secs` seconds, session Q does nothing at
    all; afterwards a keepalive is sent to both. Run with a session_timeout
    shorter than `secs` to see whether the long poll alone keeps P alive."""
    p = Session(api)
    p.create()
    q = Session(api)
    t = q.tx()
    st, r = api.post("", {"janus": "create", "transaction": t})
    q.sid = r["data"]["id"]
    log("keepalive test: session P %d long-polls only, session Q %d stays silent, for %d s"
        % (p.sid, q.sid, secs))
    time.sleep(secs)
    rp = p.keepalive()
    p.stop = True
    rq = q.keepalive()
    log("P after %d s (%d long polls, %d of them returned {janus: keepalive} after ~30 s): %r"
        % (secs, p.poll_count, p.poll_keepalives, rp))
    log("Q after %d s of silence: %r" % (secs, rq))
    log("events P's long polls delivered: %s" % json.dumps([e for _, e in p.events]))
    if rp.get("janus") == "ack":
        p.destroy()
    return rp.get("janus") == "ack" and rq.get("janus") == "error"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8088)
    ap.add_argument("--transcript", help="write the JSON exchange here")
    ap.add_argument("--errors", action="store_true", help="also exercise error cases")
    ap.add_argument("--record-dir", help="also test set/record into this dir")
    ap.add_argument("--ice-fail-wait", type=float, default=0,
                    help="after accept, wait up to this long for Janus to give up on ICE")
    ap.add_argument("--ice-connect", type=float, default=0,
                    help="after accept, answer ICE (no DTLS) and watch Janus for this long")
    ap.add_argument("--calls", type=int, default=1, help="sequential calls in the session")
    ap.add_argument("--longpoll-keepalive", type=int, default=0,
                    help="only test whether long polls alone keep a session alive for N s")
    ap.add_argument("--concurrent", type=int, default=0,
                    help="also hold N calls up at the same time (one session each)")
    ap.add_argument("--jsep-trickle", choices=("false", "true", "omit"), default="false",
                    help="value of jsep.trickle on our offer/answer (default false)")
    ap.add_argument("--no-end-of-candidates", action="store_true",
                    help="leave a=end-of-candidates out of our SDPs")
    ap.add_argument("--janus-pid", type=int, default=0, help="for thread/fd counts")
    args = ap.parse_args()
    global WITH_EOC
    WITH_EOC = not args.no_end_of_candidates

    tr = Transcript()
    api = JanusHttp(args.port, tr)
    ok = True
    report = {}
    try:
        if args.longpoll_keepalive:
            ok = longpoll_keepalive_test(api, args.longpoll_keepalive)
            return 0 if ok else 1
        tr.note("Server info (GET /janus/info), trimmed")
        st, info = api.get("/info", timeout=5, record=False)
        expect(st == 200 and info.get("janus") == "server_info", "no server info")
        tr.wire("<-", "GET /janus/info -> HTTP 200 (trimmed)",
                {k: info.get(k) for k in ("janus", "version_string", "local-ip", "ipv6", "full-trickle",
                                          "static-event-loops", "session-timeout", "plugins")})
        plugins = list(info.get("plugins", {}).keys())
        expect(plugins == ["janus.plugin.videocall"], "plugins loaded: %r" % plugins)
        log("Janus %s, local-ip %s, static-event-loops %s, plugins %s"
            % (info.get("version_string"), info.get("local-ip"), info.get("static-event-loops"), plugins))
        tr.note("Create the session; then one long poll GET /janus/<session>?maxev=10 is kept pending at all times")
        s = Session(api)
        s.create()
        tag = rand_token(6).lower()
        for i in range(args.calls):
            one_call(s, i, tag, args, report)
        log("%d call(s) completed" % args.calls)
        tr.note("Destroy the session")
        s.destroy()
        time.sleep(0.2)
        st, _ = api.get("/%d?maxev=1" % s.sid, timeout=5, record=False)
        expect(st == 404, "session still answers long poll after destroy (HTTP %d)" % st)
        if args.concurrent:
            quiet = JanusHttp(args.port, Transcript())   # not in the transcript
            concurrent_calls(quiet, args.concurrent, args.janus_pid)
        for k in ("facts",):
            for line in report.get(k, []):
                log(line)
        for k in ("offer_ssrc", "janus_offer_ssrc", "janus_answer_ssrc", "timing", "after_hangup"):
            if k in report:
                log("%s: %s" % (k, report[k]))
    except (ProbeError, OSError, http.client.HTTPException, KeyError, ValueError) as e:
        log("FAILED: %s: %s" % (type(e).__name__, e))
        ok = False
    finally:
        if args.transcript:
            tr.write(args.transcript)
    log("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
