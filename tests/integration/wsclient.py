"""A WSS client of huijiand's terminal protocol for the integration tests:
JSON in and out, every receive bounded in time, failed expectations raised
as AssertionError. Needs python3-websocket (Debian); when the python3 first
on PATH lacks it (pyenv, a venv), the test re-runs itself with
/usr/bin/python3, where the Debian package is.
"""
import json
import os
import ssl
import sys
import time

try:
    import websocket  # Debian: python3-websocket
except ImportError:
    # Another python3 first on PATH (pyenv, venv): use the system one, where
    # the Debian package is installed.
    if os.path.exists("/usr/bin/python3") and not os.environ.get("HJ_REEXEC"):
        os.environ["HJ_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("python3-websocket is missing: apt-get install python3-websocket")

CHECKS = 0
LOG_PREFIX = "[test]"


def log(*args):
    print(LOG_PREFIX, *args, flush=True)


def check(condition, what):
    global CHECKS
    CHECKS += 1
    if not condition:
        raise AssertionError(what)


class Client:
    """One WSS connection, JSON in and out, every receive bounded in time."""

    def __init__(self, port, ca_file, name):
        self.name = name
        self.ws = websocket.create_connection(
            f"wss://127.0.0.1:{port}/ws", timeout=10,
            sslopt={"ca_certs": ca_file, "cert_reqs": ssl.CERT_REQUIRED, "check_hostname": True})

    def send(self, message):
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self):
        opcode, data = self.ws.recv_data(control_frame=False)
        check(opcode == websocket.ABNF.OPCODE_TEXT, f"{self.name}: expected a text message")
        return json.loads(data.decode("utf-8"))

    def expect(self, type_, **fields):
        msg = self.recv()
        check(msg.get("type") == type_, f"{self.name}: expected {type_}, got {msg}")
        for k, v in fields.items():
            check(msg.get(k) == v, f"{self.name}: expected {k}={v!r} in {msg}")
        return msg

    def expect_error(self, code, ref=None):
        msg = self.expect("error", code=code)
        check(isinstance(msg.get("message"), str) and len(msg["message"]) > 5,
              f"{self.name}: error {code} has no readable message: {msg}")
        if ref is not None:
            check(msg.get("ref") == ref, f"{self.name}: error {code} should have ref {ref}: {msg}")
        log(f"{self.name}: {code}: {msg['message']}")
        return msg

    def alive(self):
        self.send({"type": "ping"})
        self.expect("pong")

    def expect_close(self, status):
        """Reads until the server's close frame and returns its status code."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                opcode, frame = self.ws.recv_data_frame(control_frame=True)
            except websocket.WebSocketConnectionClosedException:
                raise AssertionError(f"{self.name}: closed without a close frame")
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
                check(code == status, f"{self.name}: close code {code}, expected {status}")
                return code
        raise AssertionError(f"{self.name}: no close frame within 10 s")

    def hello(self, device, secret, **extra):
        self.send({"type": "hello", "device": device, "secret": secret, **extra})

    def close(self):
        try:
            self.ws.close(timeout=2)
        except Exception:
            pass
