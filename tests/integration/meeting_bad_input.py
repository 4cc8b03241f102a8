"""Bad input while a 1080p meeting runs: bursts of garbage UDP at the
relay's media ports, and hostile signaling from other connections.

Two headless huijian-terminals hold a meeting through huijiand (each sends a
pre-encoded 1080p30 clip). Once media flows, this test finds huijiand's UDP
sockets (/proc) and which terminal port each one talks to (a packet socket on
lo), then sends two bounded bursts of garbage: random bytes, empty and
oversize datagrams, forged SRTP and SRTCP (RTP/RTCP headers with made-up
SSRCs and tags), DTLS records (a ClientHello, application data, alerts) and
STUN binding requests with bad credentials.

1. From a stranger (a socket of its own on 127.0.0.1): libnice discards
   non-STUN datagrams from addresses that are not a validated candidate.
2. Spoofed from each terminal's own address and port (raw IPv4 socket; we
   are root in the test's network namespace), so it passes libnice and
   reaches the relay's own classifier and SRTP checks.

3. Signaling from other WSS connections: malformed JSON, an unknown message
   type, a message before hello, an oversize message, a wrong secret, a
   second lawyer naming the running meeting, the lawyer's own device logging
   in a second time, and from a lawyer of another meeting a malformed SDP
   offer and a well-formed one the relay refuses (VP8 only). Each must get
   its documented error code (docs/protocol.md).

Checks:
- the relay keeps forwarding: its forwarding rate in the 2 s after each burst
  is at least 80 % of the rate in the 2 s before the first;
- every spoofed datagram the classifier sees is dropped and counted
  (GET /api/stats: dropped_unknown and dropped_srtp grow by at least the
  numbers of such datagrams sent);
- forwarding also holds after the hostile signaling, and each bad message
  got its error code;
- the meeting goes on undisturbed: both terminals decode 1920x1080 at 30 fps
  for the whole meeting, see no ICE/DTLS failure, and the meeting is ended by
  the lawyer at the planned time, not by an error.
"""
import json
import os
import random
import socket
import sqlite3
import ssl
import struct
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsclient  # noqa: E402  (re-runs this test with /usr/bin/python3 if websocket is missing)
import harness  # noqa: E402

MEETING_SECONDS = 22
BURST_PER_PORT = 4000        # datagrams sent to each relay port in each burst
BURST_SECONDS = 1.5          # the burst is paced over about this long
BURST_DEADLINE = 10.0        # and stops by this time whatever happens


def relay_udp_ports(pid):
    """UDP ports (IPv4, IPv6) that process `pid` has open."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[9] in inodes:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            pass
    return sorted(ports)


def stats(server):
    ctx = ssl.create_default_context(cafile=server.ca_file)
    req = urllib.request.Request(f"https://127.0.0.1:{server.port}/api/stats",
                                 headers={"Authorization": f"Bearer {server.admin_token}"})
    with urllib.request.urlopen(req, context=ctx, timeout=5) as res:
        return json.load(res)["relay"]


def garbage(rng):
    """One garbage datagram and the relay counter it should land in
    ("unknown", "srtp") or None when libnice or OpenSSL deal with it first."""
    choice = rng.randrange(9)
    if choice == 0:   # random bytes whose first byte is outside every RFC 7983 range
        return bytes([rng.choice([4, 15, 80, 100, 127, 192, 230, 255])]) + rng.randbytes(rng.randrange(0, 1400)), "unknown"
    if choice == 1:   # the empty datagram (libnice may not pass it on)
        return b"", None
    if choice == 2:   # oversize: more than any MTU, still random
        return bytes([250]) + rng.randbytes(rng.randrange(1500, 9000)), "unknown"
    if choice == 3:   # forged SRTP: an RTP header with an SSRC nobody uses, garbage payload and tag
        pt = rng.choice([96, 102, 111, 127])
        hdr = struct.pack("!BBHII", 0x80, 0x80 | pt, rng.randrange(65536), rng.randrange(2**32), rng.randrange(2**32))
        return hdr + rng.randbytes(rng.randrange(20, 1200)), "srtp"
    if choice == 4:   # forged SRTCP: sender report / PLI headers, garbage tag
        pt = rng.choice([200, 201, 205, 206])
        body = rng.randbytes(rng.randrange(4, 60) * 4)
        return struct.pack("!BBHI", 0x81, pt, len(body) // 4 + 1, rng.randrange(2**32)) + body + rng.randbytes(14), "srtp"
    if choice == 5:   # RTP version bits but too short to be RTP
        return bytes([0x80 | rng.randrange(64), 0x60]) + rng.randbytes(rng.randrange(0, 10)), "unknown"
    if choice == 6:   # a DTLS ClientHello record from a stranger
        body = b"\x01" + struct.pack("!I", rng.randrange(2**24))[1:] + rng.randbytes(rng.randrange(40, 300))
        return struct.pack("!BHHHIH", 22, 0xfefd, 0, 0, rng.randrange(2**32), len(body)) + body, None
    if choice == 7:   # DTLS application data / alert with a garbage body
        ctype = rng.choice([20, 21, 23, 24, 63])
        body = rng.randbytes(rng.randrange(1, 400))
        return struct.pack("!BHHHIH", ctype, 0xfefd, 1, 0, rng.randrange(2**32), len(body)) + body, None
    # A STUN binding request with a made-up username and a garbage MESSAGE-INTEGRITY.
    user = b"nobody:stranger"
    attrs = struct.pack("!HH", 0x0006, len(user)) + user + b"\0"
    attrs += struct.pack("!HH", 0x0008, 20) + rng.randbytes(20)
    return struct.pack("!HHI", 0x0001, len(attrs), 0x2112A442) + rng.randbytes(12) + attrs, None


def udp_flows(relay_ports, seconds=1.0):
    """(relay port, other port) pairs of UDP on lo, watched for `seconds`."""
    flows = set()
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    sniffer.bind(("lo", 0))
    sniffer.settimeout(0.1)
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            frame = sniffer.recv(65536)
        except socket.timeout:
            continue
        ip = frame[14:]  # lo frames carry an all-zero Ethernet header
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        if dport in relay_ports:
            flows.add((dport, sport))
        elif sport in relay_ports:
            flows.add((sport, dport))
    sniffer.close()
    return sorted(flows)


class Sender:
    """Sends datagrams to 127.0.0.1, from a socket of its own or, spoofed, from
    any 127.0.0.1 port through a raw socket (the kernel fills in the IPv4
    checksum and length; the UDP checksum is left 0, which IPv4 allows)."""

    def __init__(self, spoofed):
        self.spoofed = spoofed
        if spoofed:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.ident = 0

    def send(self, data, src_port, dst_port):
        if not self.spoofed:
            self.sock.sendto(data, ("127.0.0.1", dst_port))
            return
        self.ident = (self.ident + 1) & 0xFFFF
        loopback = socket.inet_aton("127.0.0.1")
        udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(data), 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(data), self.ident, 0, 64, 17, 0,
                         loopback, loopback)
        self.sock.sendto(ip + udp + data, ("127.0.0.1", 0))

    def close(self):
        self.sock.close()


def burst(flows, rng, spoofed):
    """BURST_PER_PORT garbage datagrams to each relay port, paced over about
    BURST_SECONDS and stopped at BURST_DEADLINE."""
    sent = {"unknown": 0, "srtp": 0, None: 0}
    sender = Sender(spoofed)
    total = BURST_PER_PORT * len(flows)
    started = time.monotonic()
    try:
        for i in range(total):
            now = time.monotonic()
            if now - started > BURST_DEADLINE:
                break
            ahead = i / total * BURST_SECONDS - (now - started)
            if ahead > 0.002:
                time.sleep(ahead)
            relay_port, terminal_port = flows[i % len(flows)]
            data, counter = garbage(rng)
            try:
                sender.send(data, terminal_port, relay_port)
                sent[counter] += 1
            except BlockingIOError:
                time.sleep(0.001)
    finally:
        sender.close()
    return sent, time.monotonic() - started


# A well-formed offer the relay must refuse: VP8 only, no H.264, no audio.
VP8_ONLY_OFFER = "\r\n".join([
    "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:0", "a=ice-ufrag:Xy12",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:actpass", "a=rtcp-mux", "a=sendrecv",
    "a=rtpmap:96 VP8/90000", ""])


def expect_error_skipping(client, code, limit=10):
    """Reads past welcome/state messages to the error `code`."""
    for _ in range(limit):
        msg = client.recv()
        if msg.get("type") == "error":
            wsclient.check(msg.get("code") == code, f"{client.name}: expected error {code}, got {msg}")
            wsclient.log(f"{client.name}: {code}: {msg.get('message')}")
            return msg
    raise AssertionError(f"{client.name}: no error {code} in {limit} messages")


def hostile_signaling(server):
    """Bad signaling from connections other than the two terminals'.
    Returns the error codes received, in order."""
    codes = []
    clients = []

    def client(name):
        c = wsclient.Client(server.port, server.ca_file, name)
        clients.append(c)
        return c

    def got(msg):
        codes.append(msg["code"])

    try:
        c = client("stranger")
        c.send("{not json")
        got(c.expect_error("bad_json"))
        c.send({"type": "frobnicate"})
        got(c.expect_error("unknown_type"))
        c.send({"type": "connect"})
        got(c.expect_error("not_authenticated"))
        c.send(json.dumps({"type": "ping", "padding": "x" * 70000}))
        got(c.expect_error("too_large"))
        c.expect_close(1009)

        c = client("wrong secret")
        c.hello("detainee-1", "not-the-secret-of-detainee-1")
        got(c.expect_error("bad_credentials"))
        c.expect_close(1008)

        c = client("second lawyer")
        c.hello("lawyer-2", server.secrets["lawyer-2"], meeting="m-1")
        got(expect_error_skipping(c, "not_your_meeting"))

        c = client("lawyer-1 again")
        c.hello("lawyer-1", server.secrets["lawyer-1"])
        got(expect_error_skipping(c, "device_busy"))

        # A lawyer of another meeting offers garbage, then an offer the relay refuses.
        ctx = ssl.create_default_context(cafile=server.ca_file)
        body = json.dumps({"id": "m-2", "lawyer_device": "lawyer-2", "detainee_device": "detainee-2"}).encode()
        req = urllib.request.Request(f"https://127.0.0.1:{server.port}/api/meetings", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {server.admin_token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=5) as res:
            wsclient.check(res.status == 201, f"creating m-2 answered {res.status}")
        c = client("lawyer-2 (m-2)")
        c.hello("lawyer-2", server.secrets["lawyer-2"], meeting="m-2")
        c.expect("welcome")
        c.send({"type": "offer", "sdp": "v=0\r\nthis is not SDP\r\n"})
        got(expect_error_skipping(c, "bad_sdp"))
        c2 = client("lawyer-2 (m-2, second try)")
        c.close()
        time.sleep(0.3)
        c2.hello("lawyer-2", server.secrets["lawyer-2"], meeting="m-2")
        c2.expect("welcome")
        c2.send({"type": "offer", "sdp": VP8_ONLY_OFFER})
        got(expect_error_skipping(c2, "bad_sdp"))
    finally:
        for c in clients:
            c.close()
    return codes


def forwarded(s):
    return s["rtp_forwarded"] + s["rtcp_forwarded"]


def main():
    clip = harness.clip_path("huijian")
    server = harness.Server()
    procs = []
    failures = []
    rng = random.Random(7983)
    try:
        server.start()
        source = ["--source", f"file:{clip}"]
        reports = harness.start_meeting(server, source, source, MEETING_SECONDS, procs)

        # Wait until media is forwarded both ways, then let it settle.
        deadline = time.time() + 60
        while time.time() < deadline and stats(server)["video_forwarded"] < 200:
            time.sleep(0.2)
        time.sleep(2)
        ports = relay_udp_ports(server.proc.pid)
        flows = udp_flows(set(ports))
        harness.log("huijiand's UDP ports:", ports, "talking to terminal ports", flows)
        if len(flows) != 2:
            harness.fail(f"expected two relay<->terminal UDP flows, found {flows}")

        def window(seconds=2.0):
            a, ta = stats(server), time.monotonic()
            time.sleep(seconds)
            b, tb = stats(server), time.monotonic()
            return (forwarded(b) - forwarded(a)) / (tb - ta), b

        rate_before, s0 = window()
        harness.log(f"relay forwarding before the bursts: {rate_before:.0f} packets/s")
        if rate_before < 500:
            failures.append(f"the relay forwarded only {rate_before:.0f} packets/s before the bursts")
        for spoofed in (False, True):
            label = "spoofed from the terminals' addresses" if spoofed else "from a stranger"
            sent, took = burst(flows, rng, spoofed)
            rate_after, s1 = window()
            grown = {k: s1[k] - s0[k] for k in ("dropped_unknown", "dropped_srtp", "dropped_malformed", "dropped_unrouted", "dropped_dtls")}
            harness.log(f"burst {label}: {sum(sent.values())} datagrams to {len(flows)} ports in {took:.2f} s "
                        f"({sent['unknown']} unclassifiable, {sent['srtp']} forged SRTP/SRTCP, {sent[None]} "
                        f"empty/STUN/DTLS); then forwarding {rate_after:.0f} packets/s; drop counters grew by {grown}")
            if rate_after < 0.8 * rate_before:
                failures.append(f"forwarding fell from {rate_before:.0f} to {rate_after:.0f} packets/s after the burst {label}")
            if spoofed:
                if grown["dropped_unknown"] < sent["unknown"]:
                    failures.append(f"dropped_unknown grew by {grown['dropped_unknown']}, but {sent['unknown']} "
                                    "unclassifiable datagrams were sent from the terminals' addresses")
                if grown["dropped_srtp"] < sent["srtp"]:
                    failures.append(f"dropped_srtp grew by {grown['dropped_srtp']}, but {sent['srtp']} forged "
                                    "SRTP/SRTCP datagrams were sent from the terminals' addresses")
            s0 = s1

        try:
            codes = hostile_signaling(server)
            harness.log("hostile signaling got, in order:", codes)
        except AssertionError as e:
            failures.append(f"hostile signaling: {e}")
        rate_after, s1 = window()
        harness.log(f"after the hostile signaling: forwarding {rate_after:.0f} packets/s")
        if rate_after < 0.8 * rate_before:
            failures.append(f"forwarding fell from {rate_before:.0f} to {rate_after:.0f} packets/s after the hostile signaling")

        for p in procs:
            p.wait(timeout=60)
        codes = [p.returncode for p in procs]
        server_alive = server.proc.poll() is None
    finally:
        for p in procs:
            harness.stop_process(p, "terminal")
        server.stop()

    if not server_alive:
        failures.append("huijiand died")
    if codes != [0, 0]:
        failures.append(f"terminal exit codes {codes}")
    for device, path in reports.items():
        harness.check_meeting_report(device, path, MEETING_SECONDS, failures)
    with sqlite3.connect(server.database) as db:
        ended_by = db.execute("SELECT ended_by, end_reason FROM meetings WHERE id='m-1'").fetchone()
    harness.log("meeting ended by", ended_by)
    if not ended_by or ended_by[0] != "lawyer-1":
        failures.append(f"the meeting was ended by {ended_by}, not by the lawyer")

    harness.finish(failures, server)


if __name__ == "__main__":
    main()
