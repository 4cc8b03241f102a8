"""Native <-> native: a whole 1080p meeting through huijiand and the relay.

A lawyer and a detainee huijian-terminal (headless, each sending a pre-encoded
1080p30 clip without re-encoding, live Opus audio) log in, the detainee
presses ready, the lawyer connects, the meeting runs for a while and the
lawyer ends it. Checks: each side decodes the other's video at 1920x1080 and
receives its audio; the handshake states arrive in order in both reports and
in the store; on the wire there are DTLS handshakes and only SRTP/SRTCP (no
plain RTP: no piece of the clip's H.264 appears in any datagram, and every
RTCP datagram carries an SRTCP trailer).
"""
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import wire  # noqa: E402

MEETING_SECONDS = int(os.environ.get("HUIJIAN_MEETING_SECONDS", "12"))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clip_bytes(clip):
    """The clip's H.264 elementary stream, as plain RTP payloads would carry it."""
    raw = clip + ".h264"
    if not os.path.exists(raw):
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={clip}", "!", "matroskademux", "!",
                        "h264parse", "!", "video/x-h264,stream-format=byte-stream", "!", "filesink",
                        f"location={raw}"], check=True, timeout=120)
    with open(raw, "rb") as f:
        return f.read()


def main():
    clip = harness.clip_path("huijian")
    server = harness.Server()
    procs = []
    capture = None
    try:
        pcap = os.path.join(server.dir, "lo.pcap")
        capture = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", pcap, "udp"],
                                   stdout=subprocess.DEVNULL, stderr=open(pcap + ".log", "wb"))
        time.sleep(1.0)
        server.start()
        source = ["--source", f"file:{clip}"]
        reports = harness.start_meeting(server, source, source, MEETING_SECONDS, procs)

        # Measure huijiand's CPU while the meeting is connected.
        deadline = time.time() + 60
        connected = False
        while time.time() < deadline and not connected:
            time.sleep(0.2)
            try:
                with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=2) as db:
                    connected = db.execute("SELECT state FROM meetings WHERE id='m-1'").fetchone()[0] == "connected"
            except sqlite3.Error:
                pass
        if not connected:
            harness.fail("the meeting never became connected:\n" + server.log())
        time.sleep(2)
        c0, t0 = cpu_seconds(server.proc.pid), time.time()
        time.sleep(max(1, MEETING_SECONDS - 4))
        c1, t1 = cpu_seconds(server.proc.pid), time.time()
        cpu_percent = 100.0 * (c1 - c0) / (t1 - t0)

        for p in procs:
            p.wait(timeout=60)
        codes = [p.returncode for p in procs]
        time.sleep(0.5)
    finally:
        for p in procs:
            harness.stop_process(p, "terminal")
        server.stop()
        if capture:
            harness.stop_process(capture, "tcpdump")

    for name in ("detainee", "lawyer"):
        with open(os.path.join(server.dir, f"{name}.log"), encoding="utf-8", errors="replace") as f:
            sys.stdout.write(f"--- {name} log (tail)\n" + "".join(f.readlines()[-15:]))
    failures = []
    if codes != [0, 0]:
        failures.append(f"terminal exit codes {codes}")
    for device, path in reports.items():
        harness.check_meeting_report(device, path, MEETING_SECONDS, failures)

    with sqlite3.connect(server.database) as db:
        rows = db.execute("SELECT at, kind, actor, detail FROM meeting_events WHERE meeting_id='m-1' ORDER BY id").fetchall()
    harness.log("store:", rows)
    stored = [kind.split(":", 1)[1] for at, kind, actor, detail in rows if kind.startswith("state:")]
    order = [s for s in stored if s in ("detainee_ready", "connected", "ended")]
    if order != ["detainee_ready", "connected", "ended"]:
        failures.append(f"store has states {stored}")
    times = [at for at, kind, actor, detail in rows]
    if times != sorted(times):
        failures.append("stored event times are not in order")

    # The wire: DTLS handshakes on both legs, SRTP only.
    raw = clip_bytes(clip)
    probed = 0
    kinds = {}
    client_hellos = 0
    plain_rtcp = 0
    plaintext_hits = 0
    for src, dst, payload in wire.udp_datagrams(pcap):
        k = wire.kind(payload)
        kinds[k] = kinds.get(k, 0) + 1
        if k == "dtls" and 1 in wire.dtls_handshake_types(payload):
            client_hellos += 1
        if k == "rtcp" and wire.rtcp_is_plain(payload):
            plain_rtcp += 1
        if k == "rtp" and len(payload) > 600 and probed < 400:
            # 24 bytes from inside the payload of a video-sized datagram: in
            # plain RTP they are a piece of the clip's slice data.
            probed += 1
            if raw.find(payload[60:84]) >= 0:
                plaintext_hits += 1
    harness.log("on the wire:", kinds, f"ClientHellos={client_hellos} plain RTCP={plain_rtcp} "
                f"RTP datagrams carrying clip bytes={plaintext_hits} of {probed} probed")
    if client_hellos < 2:
        failures.append(f"expected a DTLS ClientHello on each leg, saw {client_hellos}")
    if kinds.get("rtp", 0) < 1000:
        failures.append(f"too few (S)RTP datagrams captured: {kinds.get('rtp', 0)}")
    if plain_rtcp:
        failures.append(f"{plain_rtcp} plain RTCP datagrams on the wire")
    if probed < 100:
        failures.append(f"only {probed} video-sized RTP datagrams to probe")
    if plaintext_hits:
        failures.append(f"{plaintext_hits} RTP datagrams carry plain H.264 from the clip")

    harness.log(f"huijiand CPU during the 1080p meeting: {cpu_percent:.1f}% of one core")
    harness.finish(failures, server)


if __name__ == "__main__":
    main()
