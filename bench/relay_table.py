#!/usr/bin/python3
"""Prints the table of bench/relay.sh from its results.jsonl (one JSON line
per step, as huijian-loadgen printed it plus the variant), the largest meeting
count each server carried at < 0.1 % loss and p99 < 5 ms, and the ratios
ours / Janus. With several rounds per step (relay.sh --rounds), every round
is listed, then one line per step with the medians (CPU, loss, latency) and
the spread of the CPU, and the summary is made of those medians. With --check-smoke: exits 1 unless every variant ran its step
with zero loss and nothing misrouted (the smoke test of scripts/test)."""
import json
import sys

LOSS_LIMIT = 0.1       # percent
P99_LIMIT_US = 5000


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def passes(r):
    return ("error" not in r and r["loss_pct"] < LOSS_LIMIT and r["latency_us"]["p99"] < P99_LIMIT_US
            and not r.get("misrouted") and not r.get("undecryptable"))


def saturated(r):
    return r.get("loadgen_cpu_pct", 0) > 85 or r.get("sender_late_resets", 0) > 0


def median(values):
    s = sorted(values)
    k = len(s)
    return s[k // 2] if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2.0


def merge_rounds(rows):
    """One row per (variant, meetings): the medians of its rounds. A step
    with an error in any round keeps that error."""
    groups = {}
    order = []
    for r in rows:
        key = (r.get("variant"), r.get("meetings"))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    merged = []
    for key in order:
        g = groups[key]
        errors = [r for r in g if "error" in r]
        if errors or len(g) == 1:
            merged.append(dict(errors[0] if errors else g[0], rounds=len(g)))
            continue
        m = dict(g[0])
        m["rounds"] = len(g)
        for k in ("loss_pct", "arrived_per_s", "mbit_per_s", "loadgen_cpu_pct", "sender_late_resets"):
            if all(k in r for r in g):
                m[k] = median([r[k] for r in g])
        m["latency_us"] = {k: median([r["latency_us"][k] for r in g]) for k in g[0]["latency_us"]}
        for k in ("misrouted", "undecryptable", "sequence_gaps"):
            m[k] = max(r.get(k, 0) for r in g)
        if all("server_cpu_pct" in r for r in g):
            for k in ("server_cpu_pct", "server_softirq_pct", "cpu_us_per_packet", "server_rss_kib"):
                m[k] = median([r[k] for r in g])
            m["cpu_spread"] = (min(r["server_cpu_pct"] for r in g), max(r["server_cpu_pct"] for r in g))
        merged.append(m)
    return merged


def ms(us):
    return "%.2f" % (us / 1000.0)


def table(rows, rounds_label=False):
    head = ("server", "meetings", "CPU %", "softirq %", "us/pkt", "pkt/s", "Mbit/s", "loss %",
            "p50 ms", "p99 ms", "p99.9 ms", "RSS MiB", "loadgen %", "")
    lines = [head]
    for r in rows:
        label = r.get("variant", "?") + (" #%d" % r.get("round", 1) if rounds_label else "")
        if "error" in r:
            lines.append((label, str(r.get("meetings", "?")), "-", "-", "-", "-", "-", "-", "-", "-",
                          "-", "-", "-", "error: " + r["error"][:60]))
            continue
        lat = r["latency_us"]
        note = "ok" if passes(r) else "over the limits"
        if passes(r) and saturated(r):
            note = "ok (load generator saturated)"
        if "cpu_spread" in r:
            note += "; median of %d, CPU %.1f to %.1f %%" % (r["rounds"], r["cpu_spread"][0], r["cpu_spread"][1])
        server = "server_cpu_pct" in r

        def cpu(key, fmt):
            return fmt % r[key] if server else "-"
        lines.append((label, str(r["meetings"]), cpu("server_cpu_pct", "%.1f"),
                      cpu("server_softirq_pct", "%.1f"), cpu("cpu_us_per_packet", "%.1f"),
                      "%.0f" % r["arrived_per_s"], "%.1f" % r["mbit_per_s"], "%.3f" % r["loss_pct"],
                      ms(lat["p50"]), ms(lat["p99"]), ms(lat["p999"]),
                      "%.0f" % (r["server_rss_kib"] / 1024.0) if server else "-",
                      "%.0f" % r.get("loadgen_cpu_pct", 0), note))
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    out = []
    for i, l in enumerate(lines):
        out.append("  ".join(c.rjust(widths[j]) if 0 < j < len(head) - 1 else c.ljust(widths[j])
                             for j, c in enumerate(l)).rstrip())
        if i == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def summary(rows):
    variants = []
    for r in rows:
        if r.get("variant") not in variants:
            variants.append(r.get("variant"))
    best = {}
    for v in variants:
        ok = [r for r in rows if r.get("variant") == v and passes(r)]
        if not ok:
            best[v] = None
            continue
        top = max(ok, key=lambda r: r["meetings"])
        # Meetings one whole core would carry at the CPU cost per meeting of that step.
        per_core = top["meetings"] * 100.0 / top["server_cpu_pct"] if top.get("server_cpu_pct") else 0.0
        best[v] = {"meetings": top["meetings"], "per_core": per_core, "us_per_packet": top.get("cpu_us_per_packet", 0),
                   "loadgen_bound": saturated(top) or any(
                       r.get("variant") == v and r["meetings"] > top["meetings"] and "error" not in r
                       and saturated(r) and passes(r) for r in rows)}
    out = ["", "Largest meeting count at < %.1f %% loss and p99 < %d ms (server on one core):" % (LOSS_LIMIT, P99_LIMIT_US // 1000)]
    for v in variants:
        b = best[v]
        if v == "direct":
            if b:
                out.append("  %-18s %3d meetings without a server (the load generator's own limit: %s)" % (
                    v, b["meetings"], "saturated" if b["loadgen_bound"] else "not reached"))
            continue
        if b is None:
            out.append("  %-18s none" % v)
            continue
        tried = max(r["meetings"] for r in rows if r.get("variant") == v)
        limit = "load generator saturated" if b["loadgen_bound"] else (
            "larger steps over the limits" if tried > b["meetings"] else "largest step tried")
        out.append("  %-18s %3d meetings (%s); %.1f us CPU per forwarded packet; %.0f meetings per core at that cost"
                   % (v, b["meetings"], limit, b["us_per_packet"], b["per_core"]))
    direct = {r["meetings"]: r for r in rows if r.get("variant") == "direct" and "error" not in r}
    lat_lines = []
    for v in variants:
        if v == "direct":
            continue
        for r in rows:
            if r.get("variant") != v or "error" in r or r["meetings"] not in direct:
                continue
            d = direct[r["meetings"]]["latency_us"]
            lat_lines.append("  %-18s %3d meetings: p50 %s ms, p99 %s ms, p99.9 %s ms over the direct run's" % (
                v, r["meetings"], ms(r["latency_us"]["p50"] - d["p50"]), ms(r["latency_us"]["p99"] - d["p99"]),
                ms(r["latency_us"]["p999"] - d["p999"])))
    if lat_lines:
        out.append("")
        out.append("Latency the server adds (its run minus the direct run at the same meeting count):")
        out.extend(lat_lines)
    janus = [v for v in variants if v and v.startswith("janus") and best[v]]
    ours = best.get("huijiand")
    if janus and ours:
        jv = max(janus, key=lambda v: (best[v]["meetings"], -best[v]["us_per_packet"]))
        j = best[jv]
        out.append("")
        out.append("Ratios huijiand / Janus (Janus's better variant: %s):" % jv)
        out.append("  meetings carried at the limits:     %.2f (%d / %d)%s" % (
            ours["meetings"] / j["meetings"], ours["meetings"], j["meetings"],
            "  [ours limited by the load generator]" if ours["loadgen_bound"] else ""))
        out.append("  meetings per core (CPU per meeting): %.2f (%.0f / %.0f)" % (ours["per_core"] / j["per_core"],
                                                                              ours["per_core"], j["per_core"]))
        cheapest = max(janus, key=lambda v: best[v]["per_core"])
        if cheapest != jv:
            c = best[cheapest]
            out.append("  meetings per core against Janus's cheapest variant (%s): %.2f (%.0f / %.0f)" % (
                cheapest, ours["per_core"] / c["per_core"], ours["per_core"], c["per_core"]))
        out.append("  CPU per forwarded packet, Janus / ours: %.2f (%.1f us / %.1f us)" % (
            j["us_per_packet"] / ours["us_per_packet"], j["us_per_packet"], ours["us_per_packet"]))
        common = sorted({r["meetings"] for r in rows if r.get("variant") == "huijiand" and passes(r)} &
                        {r["meetings"] for r in rows if r.get("variant") == jv and passes(r)})
        for n in common:
            o = next(r for r in rows if r.get("variant") == "huijiand" and r["meetings"] == n)
            q = next(r for r in rows if r.get("variant") == jv and r["meetings"] == n)
            out.append("  at %3d meetings: CPU %5.1f %% vs %5.1f %% (Janus uses %.2fx), p99 %s vs %s ms" % (
                n, o["server_cpu_pct"], q["server_cpu_pct"],
                q["server_cpu_pct"] / o["server_cpu_pct"] if o["server_cpu_pct"] else 0,
                ms(o["latency_us"]["p99"]), ms(q["latency_us"]["p99"])))
    return "\n".join(out)


def check_smoke(rows):
    problems = []
    if not rows:
        problems.append("no results")
    for r in rows:
        v = r.get("variant", "?")
        if "error" in r:
            problems.append("%s: %s" % (v, r["error"]))
            continue
        if r["received_in_window"] == 0 or r["sent_in_window"] == 0:
            problems.append("%s: no media measured" % v)
        if r.get("video_received", 0) == 0 or r.get("audio_received", 0) == 0:
            problems.append("%s: video %d and audio %d packets received: both must flow" % (
                v, r.get("video_received", 0), r.get("audio_received", 0)))
        if r["loss_pct"] != 0:
            problems.append("%s: loss %.4f %% on loopback (sent %d, received %d)" % (
                v, r["loss_pct"], r["sent_in_window"], r["received_in_window"]))
        for key in ("misrouted", "undecryptable", "sequence_gaps"):
            if r.get(key):
                problems.append("%s: %s = %d" % (v, key, r[key]))
    for p in problems:
        print("smoke: " + p, file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--check-smoke":
        return check_smoke(load(argv[2]))
    if len(argv) != 2:
        print("usage: relay_table.py [--check-smoke] results.jsonl", file=sys.stderr)
        return 2
    rows = load(argv[1])
    if any(r.get("round", 1) > 1 for r in rows):
        print(table(rows, rounds_label=True))
        print("")
        print("Medians per step (the summary below is made of these):")
        rows = merge_rounds(rows)
    print(table(rows))
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
