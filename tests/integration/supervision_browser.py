"""Supervision in the browser: the officer console (/officer.html) and the
browser lawyer terminal (/lawyer.html) in Chromium, with a native detainee
terminal (tests/browser/officer_console.mjs drives the pages).

Fails (does not skip) when Chromium, node or playwright-core are missing:
scripts/install-deps installs them. Afterwards the violation the console
recorded is checked over the admin REST API.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import officer  # noqa: E402

BROWSER_DIR = os.path.join(harness.SOURCE, "tests", "browser")
CHROMIUM = os.environ.get("HUIJIAN_CHROMIUM", "/usr/bin/chromium")


def main():
    for what, ok in [(CHROMIUM, os.access(CHROMIUM, os.X_OK)), ("node", shutil.which("node")),
                     ("playwright-core", os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")))]:
        if not ok:
            harness.fail(f"{what} is missing (scripts/install-deps installs it)")
    clip = harness.clip_path("huijian")
    srv = officer.server()
    procs = []
    failures = []
    node = None
    try:
        srv.start()
        report = os.path.join(srv.dir, "detainee-1.json")
        procs.append(harness.start_terminal(srv, "detainee-1", "detainee", report,
                                            ["--source", f"file:{clip}", "--auto-ready", "2", "--exit-after", "150"],
                                            os.path.join(srv.dir, "detainee.log")))
        out = os.path.join(srv.dir, "browser.json")
        node = subprocess.Popen(
            ["node", os.path.join(BROWSER_DIR, "officer_console.mjs"), "--base", f"https://127.0.0.1:{srv.port}",
             "--lawyer-secret", srv.secrets["lawyer-1"], "--officer", "wang", "--password", officer.OFFICERS["wang"][2],
             "--out", out, "--timeout", "150", "--chromium", CHROMIUM,
             "--screenshot", os.path.join(srv.dir, "officer.png")],
            cwd=BROWSER_DIR)
        code = node.wait(timeout=170)
        if code != 0:
            failures.append(f"officer_console.mjs exited {code}")
            if os.path.exists(out):
                r = harness.read_json(out)
                failures += [f"step {s['name']}: {s.get('error')}" for s in r.get("steps", []) if not s["ok"]]
                failures += r.get("errors", [])
                sys.stdout.write("\n".join(r.get("console", [])[-20:]) + "\n")
        codes = officer.wait_exit(procs, 20)
        if codes != [0]:
            failures.append(f"the detainee terminal exited {codes}")
        elif harness.read_json(report).get("end", {}).get("code") != "violation_phone":
            failures.append(f"the detainee terminal's end: {harness.read_json(report).get('end')}")
        status, body = officer.https(srv, "GET", "/api/violations", token=srv.admin_token)
        if status != 200 or [v["code"] for v in body["violations"]] != ["violation_phone"]:
            failures.append(f"violations after the console's termination: {status} {body}")
    except (AssertionError, subprocess.TimeoutExpired) as e:
        failures.append(str(e))
    finally:
        if node is not None:
            harness.stop_process(node, "node")
        for p in procs:
            harness.stop_process(p, "terminal")
        srv.stop()
    officer.tail_logs(srv, names=("detainee",))
    harness.finish(failures, srv)


if __name__ == "__main__":
    main()
