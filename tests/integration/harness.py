"""Shared pieces of the integration tests: a huijiand started on loopback with
a config of our own, terminals started as real processes, and clean stops.

Every process started here is stopped by its own pid (never by name), also
when the test fails. Every wait is bounded.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("HUIJIAN_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.environ.get("HUIJIAN_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
HUIJIAND = os.path.join(BUILD, "signaling", "huijiand")
TERMINAL = os.path.join(BUILD, "terminals", "huijian-terminal")


def log(*args):
    print("[test]", *args, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clip_path(label="huijian"):
    """A pre-encoded 1080p30 H.264 clip, a keyframe a second (made once,
    cached under the build dir)."""
    cache = os.path.join(BUILD, "clips")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, f"{label}-1080p30-k1s.mkv")
    if not os.path.exists(path):
        subprocess.run([os.path.join(SOURCE, "scripts", "make-test-clip"), path, "40", label],
                       check=True, timeout=600)
    return path


DEVICES = [
    ("lawyer-1", "律师会见室 1", "lawyer-terminal"),
    ("detainee-1", "看守所会见室 1", "detainee-terminal"),
    ("lawyer-2", "律师会见室 2", "lawyer-terminal"),
    ("detainee-2", "看守所会见室 2", "detainee-terminal"),
]


class Server:
    """huijiand with a fresh data directory and a config made here."""

    def __init__(self, workdir=None, extra_config=""):
        self.dir = workdir or tempfile.mkdtemp(prefix="huijian-test-")
        self.port = free_port()
        self.admin_token = "admin-" + os.urandom(8).hex()
        self.secrets = {d[0]: os.urandom(12).hex() for d in DEVICES}
        lines = [
            "[server]",
            f'listen = "127.0.0.1:{self.port}"',
            'data_dir = "data"',
            f'admin_token = "{self.admin_token}"',
            "[media]",
            'addresses = ["127.0.0.1"]',
        ]
        for device_id, name, role in DEVICES:
            lines += ["[[device]]", f'id = "{device_id}"', f'name = "{name}"', f'role = "{role}"',
                      f'secret = "{self.secrets[device_id]}"']
        lines += ["[[meeting]]", 'id = "m-1"', 'lawyer_device = "lawyer-1"', 'detainee_device = "detainee-1"',
                  'case_id = "(2026)京0105刑初123号"']
        self.config = os.path.join(self.dir, "huijiand.toml")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_config)
        self.proc = None
        self.log_path = os.path.join(self.dir, "huijiand.log")

    @property
    def data_dir(self):
        return os.path.join(self.dir, "data")

    @property
    def ca_file(self):
        return os.path.join(self.data_dir, "tls", "cert.pem")

    @property
    def database(self):
        return os.path.join(self.data_dir, "huijian.sqlite3")

    @property
    def ws_url(self):
        return f"wss://127.0.0.1:{self.port}/ws"

    def start(self, timeout=20):
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HUIJIAND, "--config", self.config], stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"huijiand exited with {self.proc.returncode}:\n{self.log()}")
            if "huijiand listening on" in self.log():
                return self
            time.sleep(0.1)
        raise RuntimeError("huijiand did not start listening in time:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        stop_process(self.proc, "huijiand")
        self.proc = None


def stop_process(proc, name, grace=10):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        log(f"{name} (pid {proc.pid}) did not stop on SIGTERM; killing it")
        proc.kill()
        proc.wait(timeout=5)


def start_terminal(server, device, role, report, extra, log_path):
    args = [TERMINAL, "--role", role, "--server", server.ws_url, "--ca", server.ca_file,
            "--device", device, "--secret", server.secrets[device], "--headless", "--report", report] + extra
    log("starting", " ".join(a if a != server.secrets[device] else "***" for a in args))
    return subprocess.Popen(args, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)


def start_meeting(server, detainee_source, lawyer_source, seconds, procs):
    """Starts the detainee (ready after 2 s) and the lawyer (connects as soon
    as the detainee is ready, ends the meeting `seconds` after connect), both
    headless with reports and logs in server.dir. Appends the processes to
    `procs` as they start (so the caller stops them whatever happens) and
    returns {device: report path}."""
    reports = {d: os.path.join(server.dir, f"{d}.json") for d in ("detainee-1", "lawyer-1")}
    procs.append(start_terminal(server, "detainee-1", "detainee", reports["detainee-1"],
                                detainee_source + ["--auto-ready", "2", "--exit-after", "90"],
                                os.path.join(server.dir, "detainee.log")))
    procs.append(start_terminal(server, "lawyer-1", "lawyer", reports["lawyer-1"],
                                lawyer_source + ["--auto-connect", "--duration", str(seconds), "--exit-after", "90"],
                                os.path.join(server.dir, "lawyer.log")))
    return reports


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_meeting_report(device, path, meeting_seconds, failures):
    """The checks every 1080p meeting test makes of a terminal's report:
    1920x1080 video at 30 fps and Opus at 50 packets/s for all but 3 s of the
    meeting, no failed or disconnected connection, and the handshake states
    detainee_ready -> connected -> ended in order. Appends what is wrong to
    `failures`; returns the report (None when there is none)."""
    if not os.path.exists(path):
        failures.append(f"{device} wrote no report")
        return None
    r = read_json(path)
    log(f"{device}: first remote frame {r.get('time_to_first_remote_frame_ms')} ms after connected, "
        f"{r.get('remote_frames_decoded')} frames {r.get('remote_width')}x{r.get('remote_height')}, "
        f"{r.get('remote_audio_packets')} audio packets, connection states "
        f"{[s.get('state') for s in r.get('connection_states', [])]}")
    if (r.get("remote_width"), r.get("remote_height")) != (1920, 1080):
        failures.append(f"{device} decoded {r.get('remote_width')}x{r.get('remote_height')}, not 1920x1080")
    if (r.get("remote_frames_decoded") or 0) < 30 * (meeting_seconds - 3):
        failures.append(f"{device} decoded only {r.get('remote_frames_decoded')} remote frames")
    if (r.get("remote_audio_packets") or 0) < 50 * (meeting_seconds - 3):
        failures.append(f"{device} received only {r.get('remote_audio_packets')} remote audio packets")
    bad = [s for s in r.get("connection_states", []) if s.get("state") in ("failed", "disconnected")]
    if bad:
        failures.append(f"{device} saw connection states {bad}")
    states = [s["state"] for s in r.get("meeting_states", [])]
    wanted = ["detainee_ready", "connected", "ended"]
    seen = [s for s in states if s in wanted]
    if [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] != wanted:
        failures.append(f"{device} saw meeting states {states}, want {wanted} in order")
    return r


def finish(failures, server):
    """Ends a test: PASS, or every failure and the tail of huijiand's log and exit 1."""
    if failures:
        for f in failures:
            log("FAIL:", f)
        sys.stdout.write(server.log()[-4000:])
        sys.exit(1)
    log("PASS")


def fail(message):
    log("FAIL:", message)
    sys.exit(1)
