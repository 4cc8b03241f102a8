"""The demo behind scripts/demo: one whole local meeting, then a summary."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description="Run one local huijian meeting and print what happened.")
    parser.add_argument("--seconds", type=int, default=10, help="how long the meeting runs once connected")
    parser.add_argument("--live", action="store_true",
                        help="encode the test pattern live on both sides (needs about one core per 1080p stream)")
    args = parser.parse_args()

    workdir = os.path.join(harness.BUILD, "demo", time.strftime("run-%Y%m%d-%H%M%S"))
    os.makedirs(workdir)
    print(f"demo: working in {workdir}")
    sources = {}
    if args.live:
        sources = {"lawyer-1": ["--source", "test"], "detainee-1": ["--source", "test"]}
    else:
        print("demo: preparing the pre-encoded 1080p30 clips (once)")
        sources = {"lawyer-1": ["--source", "file:" + harness.clip_path("lawyer-1")],
                   "detainee-1": ["--source", "file:" + harness.clip_path("detainee-1")]}
    server = harness.Server(workdir)
    procs = []
    try:
        server.start()
        print(f"demo: huijiand is up on {server.ws_url} (data in {server.data_dir})")
        reports = harness.start_meeting(server, sources["detainee-1"], sources["lawyer-1"], args.seconds, procs)
        for p in procs:
            p.wait(timeout=120)
    finally:
        for p in procs:
            harness.stop_process(p, "terminal")
        server.stop()

    ok = all(p.returncode == 0 for p in procs)
    print("\n=== the meeting ===")
    for device, path in reports.items():
        if not os.path.exists(path):
            print(f"{device}: no report (see {workdir}/*.log)")
            ok = False
            continue
        r = harness.read_json(path)
        seen = [s["state"] for s in r.get("meeting_states", [])]
        states = " -> ".join(s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s)
        print(f"{device} ({r.get('role')}):")
        print(f"  handshake seen:            {states}")
        print(f"  first remote frame after:  {r.get('time_to_first_remote_frame_ms')} ms from connected")
        print(f"  remote video decoded:      {r.get('remote_frames_decoded')} frames at "
              f"{r.get('remote_width')}x{r.get('remote_height')}")
        print(f"  remote audio received:     {r.get('remote_audio_packets')} packets")
    live_data = os.path.join(workdir, "live-data")
    print("\nTo watch a meeting live (a fresh data directory, so meeting m-1 is new again):")
    print(f"  {harness.HUIJIAND} --config {server.config} --data-dir {live_data}")
    print(f"  {harness.TERMINAL} --role detainee --server {server.ws_url} --ca {live_data}/tls/cert.pem "
          f"--device detainee-1 --secret {server.secrets['detainee-1']}        # a window; press r for ready")
    print(f"  then open https://127.0.0.1:{server.port}/lawyer.html?device=lawyer-1&secret={server.secrets['lawyer-1']}"
          " in a browser (accept the self-signed certificate), or run the same terminal command with"
          f" --role lawyer --device lawyer-1 --secret {server.secrets['lawyer-1']} and press c.")
    print("  (Run as root, the demo itself ran inside a loopback-only network namespace.)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
