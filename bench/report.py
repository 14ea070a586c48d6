#!/usr/bin/env python3
"""Turns the JSON written by bench/bench.py into the Markdown report (stdout)."""
import argparse
import json
import os
import platform
import statistics
import subprocess


def k(x):
    return f"{x / 1000:.1f}k"


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--commit", default="unknown")
    a = ap.parse_args()
    with open(a.json) as f:
        r = json.load(f)
    s = r["settings"]
    out = []
    p = out.append
    p(f"# Benchmark report — {r['started'][:10]}, commit {a.commit}\n")
    p(f"Machine: {os.cpu_count()} cores ({cpu_model()}), "
      f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
      f"{platform.platform()}. PostgreSQL 15 with `{os.environ.get('STE_PG_OPTIONS', '')}`, "
      "nats-server 2.9 (JetStream, file storage). Everything (load generator, NATS, ingester, "
      "PostgreSQL, evaluator) shares the same cores.\n")
    shape = r["load_shape"]
    p(f"Load shape: {shape['devices']} devices × {shape['metrics']} metrics = "
      f"{shape['devices'] * shape['metrics']} series; each message is one device's "
      f"{shape['batch']} readings (a JSON array). Run took {r['duration_s'] / 60:.1f} min. "
      f"Figures are medians with [min–max] over {s['repeat']} repetitions (scenario 1, 4) or over "
      "10-second windows (scenarios 2, 5). Raw data: the JSON file of the same name.\n")

    targets = []

    db = r.get("database", [])

    def db_find(method, batch=None, writers=None):
        for d in db:
            if d["method"] == method and (batch is None or d["batch"] == batch) and (
                    writers is None or d["writers"] == writers):
                return d
        return None

    if db:
        p("## 1. Database write paths (no NATS, no parsing)\n")
        p(f"{db[0]['readings']:,} readings per repetition into the partitioned `readings` table, "
          "tables emptied and CHECKPOINT before each repetition, every repetition verified exactly "
          "(rows and rollup counts).\n")
        p("| method | batch | writer connections | rows/s median | [min–max] |")
        p("|---|---|---|---|---|")
        names = {"copy_ceiling": "binary COPY, no conflict check, no rollup (ceiling)",
                 "original": "original design: INSERT … SELECT FROM unnest per 100, rollup included",
                 "copy_no_rollup": "ours without the rollup (COPY to staging + idempotent insert only)",
                 "unnest": "ours, unnest text arrays + rollup", "copy": "ours, binary COPY to staging + rollup"}
        for d in db:
            lo, hi = min(d["rows_per_s"]), max(d["rows_per_s"])
            p(f"| {names[d['method']]} | {d['batch']} | {d['writers']} | {k(d['median'])} | "
              f"{k(lo)}–{k(hi)} |")
        p("")

    pl = r.get("pipeline")
    if pl:
        h = pl["hold"]
        p("## 2. Pipeline throughput (ste-loadgen → NATS → ste-ingester → PostgreSQL)\n")
        p("Offered rates stepped up until one was not sustained (publisher kept pace, stored ≥ 90% of "
          "offered after a 3-s warm-up — the counter moves in whole batches — and, the sharper test, "
          "a backlog at the end ≤ 2 s of load); then the highest sustained "
          f"rate was held for {s['hold_seconds']} s — and if it did not hold, the next lower step. "
          f"Maximum sustained rate: **{pl['max_sustained_rate']:,}/s**.\n")
        p("| offered/s | published/s | stored/s | backlog at end | sustained | CPU s/100k ingester | postgres | nats | loadgen |")
        p("|---|---|---|---|---|---|---|---|---|")
        holds = pl.get("holds", [h])
        for w in pl["steps"] + [dict(x, offered=f"**hold {x['offered']}**") for x in holds]:
            c = w["cpu_s_per_100k"]
            p(f"| {w['offered']} | {k(w['publish_rate'])} | {k(w['stored_rate'])} | "
              f"{w['backlog_at_end']:,.0f} | {'yes' if w['sustained'] else 'no'} | "
              f"{c['ingester']:.2f} | {c['postgres']:.2f} | {c['nats']:.2f} | {c['loadgen']:.2f} |")
        wr = h["window_rates"] or [h["stored_rate"]]
        p(f"\nHold: stored {k(statistics.median(wr))}/s median over 10-s windows "
          f"[{k(min(wr))}–{k(max(wr))}]; exact check: {pl['exact']['rows']:,} rows = "
          f"{pl['exact']['published']:,} published, rollup n = {pl['exact']['rollup_n']:,}. "
          f"Ingester peak RSS {mib(pl['ingester_peak_rss_kib'])}.\n")
        prof = pl.get("profile")
        if prof:
            p(f"Where the time goes, sampled: `perf record -a -g -F 299` for {prof.get('seconds')} s at "
              f"{prof.get('rate', 0):,}/s (share of all samples on the machine).\n")
            if "error" in prof:
                p(f"perf: {prof['error']}\n")
            else:
                p("By process:\n\n```\n" + "\n".join(prof["by_process"]) + "\n```\n")
                p("Hottest symbols:\n\n```\n" + "\n".join(prof["by_symbol"]) + "\n```\n")
        fetches = pl.get("fetch_sizes", [])
        if fetches:
            p(f"Consumer fetch size ({fetches[0]['offered']:,}/s offered for {s['fetch_seconds']} s each, "
              "a fresh ingester per size):\n")
            p("| STE_FETCH_SIZE | stored/s | backlog at end | sustained | CPU s/100k ingester | nats |")
            p("|---|---|---|---|---|---|")
            for w in fetches:
                c = w["cpu_s_per_100k"]
                p(f"| {w['fetch_size']} | {k(w['stored_rate'])} | {w['backlog_at_end']:,.0f} | "
                  f"{'yes' if w['sustained'] else 'no'} | {c['ingester']:.2f} | {c['nats']:.2f} |")
            p("")
        shapes = pl.get("message_shapes", [])
        if shapes:
            p(f"Where the time goes, by message size: the same {s['shape_rate']:,} readings/s for "
              f"{s['shape_seconds']} s in messages of 1 to {shapes[-1]['readings_per_message']} "
              "readings (CPU seconds per 100,000 readings stored).\n")
            p("| readings per message | messages/s | stored/s | ingester | postgres | nats | loadgen | total |")
            p("|---|---|---|---|---|---|---|---|")
            for w in shapes:
                c = w["cpu_s_per_100k"]
                p(f"| {w['readings_per_message']} | {w['publish_rate'] / w['readings_per_message']:,.0f} | "
                  f"{k(w['stored_rate'])} | {c['ingester']:.2f} | {c['postgres']:.2f} | {c['nats']:.2f} | "
                  f"{c['loadgen']:.2f} | {sum(c.values()):.2f} |")
            p("")
        hold_rate = statistics.median(wr)
        targets.append(("Pipeline sustained ≥ 100,000 readings/s", hold_rate >= 100000,
                        f"{k(hold_rate)}/s"))
        orig = db_find("original")
        if orig:
            targets.append(("Pipeline ≥ 1.5× original design's write path", hold_rate >= 1.5 * orig["median"],
                            f"{hold_rate / orig['median']:.2f}× ({k(orig['median'])}/s)"))
        ours = db_find(s["write_method"], s["batch_size"], s["writers"])
        if ours:
            targets.append(("Pipeline ≥ 80% of our write path alone", hold_rate >= 0.8 * ours["median"],
                            f"{100 * hold_rate / ours['median']:.0f}% of {k(ours['median'])}/s "
                            f"({s['write_method']}, batch {s['batch_size']}, {s['writers']} writers)"))
        targets.append(("Ingester peak RSS ≤ 64 MiB at max rate", pl["ingester_peak_rss_kib"] <= 65536,
                        mib(pl["ingester_peak_rss_kib"])))

    lat = r.get("latency")
    if lat:
        pr = lat["probe"]
        c, al = pr["committed"], pr["alerted"]
        p("## 3. Latency at half the maximum sustained rate\n")
        p(f"Background load {lat['background_rate']:,}/s from ste-loadgen; ste-latency-probe publishes "
          f"{pr['published']} stamped readings (each one crosses a threshold rule) and times when the "
          "ingester's batch summary naming it arrives (committed) and when its alert event arrives.\n")
        p("| interval | samples | p50 | p99 | max |")
        p("|---|---|---|---|---|")
        p(f"| publish → committed | {c['count']} | {c['p50_ms']:.0f} ms | {c['p99_ms']:.0f} ms | {c['max_ms']:.0f} ms |")
        p(f"| committed → alert persisted | {al['count']} | {al['p50_ms']:.0f} ms | {al['p99_ms']:.0f} ms | {al['max_ms']:.0f} ms |")
        p(f"\nMissing commits: {pr['missing_commits']}, missing alerts: {pr['missing_alerts']}.\n")
        targets.append(("p99 publish → committed ≤ 1 s", c["count"] > 0 and c["p99_ms"] <= 1000,
                        f"{c['p99_ms']:.0f} ms"))
        targets.append(("p99 committed → alert ≤ 250 ms", al["count"] > 0 and al["p99_ms"] <= 250,
                        f"{al['p99_ms']:.0f} ms"))

    ev = r.get("evaluator")
    if ev:
        p("## 4. Evaluator: set-based vs one query per tuple\n")
        p(f"Summaries of {ev['tuples']} tuples against {ev['rules']} rules (half threshold, half "
          "deviation), 90 minutes of rollup history. The set-based path includes the alert "
          "lifecycle (which fingerprints have an open episode: one query per summary); the "
          "firing row keeps some threshold series crossing, so their episodes stay firing and "
          "each is updated under its fingerprint lock in every summary.\n")
        p("| approach | tuples/s median | [min–max] |")
        p("|---|---|---|")
        for key, name in (("set_based", "set-based, window cache off (first summary of a minute)"),
                          ("set_based_cached", "set-based, windows cached (later summaries of the minute)"),
                          ("per_tuple", "one query per tuple (original design)")):
            xs = ev[key]["tuples_per_s"]
            p(f"| {name} | {k(ev[key]['median'])} | {k(min(xs))}–{k(max(xs))} |")
        if "set_based_firing" in ev:
            xs = ev["set_based_firing"]["tuples_per_s"]
            p(f"| set-based, windows cached, {ev['firing_episodes']} episodes firing | "
              f"{k(ev['set_based_firing']['median'])} | {k(min(xs))}–{k(max(xs))} |")
        p(f"\nRatio to per-tuple: {ev['ratio']:.1f}× with every window queried, "
          f"{ev['ratio_cached']:.0f}× once the minute's windows are cached.\n")
        targets.append(("Set-based evaluation ≥ 20× per-tuple (every window queried)", ev["ratio"] >= 20,
                        f"{ev['ratio']:.1f}×"))
        targets.append(("Set-based evaluation ≥ 20× per-tuple (steady state, windows cached)",
                        ev["ratio_cached"] >= 20, f"{ev['ratio_cached']:.0f}×"))

    nd = r.get("nodata")
    if nd:
        p("## 8. No-data rules: one timer run\n")
        p(f"{nd['devices']:,} devices × {nd['metrics']} metrics = {nd['series']:,} series, one "
          f"tenant-wide no_data rule per metric and one on the whole device (metric `*`): "
          f"{nd['pairs']:,} (rule, device) pairs in the set-based query. One run of "
          "`run_no_data()` (the query, then each changing pair under its locks, one "
          f"transaction); onset: {nd['silent_devices']:,} devices go silent "
          f"({nd['changes_per_onset']:,} episodes fire), recovery: they report again (as many "
          "resolve).\n")
        p("| phase | median | max | runs |")
        p("|---|---|---|---|")
        for key, name in (("steady", "steady: nothing silent"),
                          ("onset", "onset: episodes fire"),
                          ("open", "with those episodes open"),
                          ("recovery", "recovery: episodes resolve")):
            ph = nd[key]
            p(f"| {name} | {ph['median_s']:.3f} s | {ph['max_s']:.3f} s | {ph['runs']} |")
        p("")
        targets.append((f"No-data run at {nd['series']:,} series < 1 s (steady)",
                        nd["steady"]["max_s"] < 1, f"{nd['steady']['median_s']:.3f} s"))

    iso = r.get("isolation")
    if iso:
        p("## 5. Isolation: ingestion while alerting is in trouble\n")
        p("The hold rate again (with a spike every 1,001 readings and a cooldown-0 rule, so alerts fire "
          "continuously), once with both webhook targets pointing at a socket that accepts and never "
          "answers, once with the evaluator stopped.\n")
        p("| case | stored/s | vs clean hold | backlog at end | alerts | deliveries not delivered | "
          "CPU s/100k ingester | postgres | nats | evaluator | exact |")
        p("|---|---|---|---|---|---|---|---|---|---|---|")
        for case, w in iso.items():
            c = w["cpu_s_per_100k"]
            p(f"| {case.replace('_', ' ')} | {k(w['stored_rate'])} | {100 * w['vs_clean']:.1f}% | "
              f"{w['backlog_at_end']:,.0f} | {w['alerts']} | {w['deliveries_pending']} | "
              f"{c['ingester']:.2f} | {c['postgres']:.2f} | {c['nats']:.2f} | {c.get('evaluator', 0):.2f} | "
              f"{'yes' if w['exact'] else 'no'} |")
            targets.append((f"Isolation ({case.replace('_', ' ')}) within 5% of clean",
                            w["vs_clean"] >= 0.95, f"{100 * w['vs_clean']:.1f}%"))
        p("")

    bl = r.get("backlog")
    if bl:
        p("## 6. Memory under backlog: PostgreSQL paused\n")
        p(f"Load at {bl['offered']:,}/s; PostgreSQL stopped (SIGSTOP, every process) for "
          f"{bl['pause_seconds']} s, then resumed.\n")
        p("| phase | ingester RSS (max) |")
        p("|---|---|")
        p(f"| before the pause | {mib(bl['rss_max_kib_before'])} |")
        p(f"| PostgreSQL paused | {mib(bl['rss_max_kib_paused'])} |")
        p(f"| after resume (catching up) | {mib(bl['rss_max_kib_after'])} |")
        p(f"| drained | {mib(bl['rss_kib_drained'])} |")
        p(f"\nPeak backlog ≈ {bl['backlog_peak']:,.0f} readings, held by JetStream; drained "
          f"{bl['drain_seconds_after_load']:.1f} s after the load stopped; exact check: "
          f"{bl['exact']['rows']:,} rows = {bl['exact']['published']:,} published. "
          f"Peak RSS {mib(bl['peak_rss_kib'])}.\n")
        targets.append(("Ingester peak RSS ≤ 64 MiB during backlog", bl["peak_rss_kib"] <= 65536,
                        mib(bl["peak_rss_kib"])))

    sg = r.get("single")
    if sg:
        p("## 7. One reading per message (the devices' own shape)\n")
        p(f"{shape['devices']} devices × {shape['metrics']} metrics, each message one reading (a JSON "
          "object), through JetStream. The load generator publishes as devices do, core NATS into the "
          "SENSORS stream (nothing waits for an ack), except where the table says otherwise.\n")
        levers = sg.get("levers", [])
        if levers:
            p(f"Levers side by side: {s['single_lever_rate']:,}/s offered for "
              f"{s['single_lever_seconds']} s each, fresh NATS store and tables per row; CPU seconds per "
              "100,000 readings stored.\n")
            p("| lever | SENSORS | published/s | stored/s | backlog at end | drained after | ingester "
              "| postgres | nats | loadgen | total |")
            p("|---|---|---|---|---|---|---|---|---|---|---|")
            for w in levers:
                c = w["cpu_s_per_100k"]
                drained = (f"{w['drain_s']:.1f} s" if "drain_s" in w else "not in 300 s")
                p(f"| {w['lever']} | {w.get('sensors_retention', '?')} | {k(w['publish_rate'])} | "
                  f"{k(w['stored_rate'])} | "
                  f"{w['backlog_at_end']:,.0f} | {drained} | {c['ingester']:.2f} | {c['postgres']:.2f} | "
                  f"{c['nats']:.2f} | {c['loadgen']:.2f} | "
                  f"{sum(v for n, v in c.items() if n != 'evaluator'):.2f} |")
            p("")
        p(f"Ramp with the defaults (SENSORS: {sg.get('sensors_retention', '?')}; steps as in "
          "scenario 2):\n")
        p("| offered/s | published/s | stored/s | backlog at end | sustained | CPU s/100k ingester | postgres | nats | loadgen |")
        p("|---|---|---|---|---|---|---|---|---|")
        for w in sg["steps"] + ([sg["hold"]] if "hold" in sg else []):
            c = w["cpu_s_per_100k"]
            label = f"**hold {w['offered']}**" if w is sg.get("hold") else str(w["offered"])
            p(f"| {label} | {k(w['publish_rate'])} | {k(w['stored_rate'])} | {w['backlog_at_end']:,.0f} | "
              f"{'yes' if w['sustained'] else 'no'} | {c['ingester']:.2f} | {c['postgres']:.2f} | "
              f"{c['nats']:.2f} | {c['loadgen']:.2f} |")
        p("")
        hold = sg.get("hold")
        best = sg.get("max_sustained_rate") or 0
        held = best if hold and hold["sustained"] else 0
        if hold:
            wr = hold["window_rates"] or [hold["stored_rate"]]
            p(f"Hold: stored {k(statistics.median(wr))}/s median over 10-s windows "
              f"[{k(min(wr))}–{k(max(wr))}]; ingester peak RSS {mib(sg['ingester_peak_rss_kib'])}.")
        ex = sg["exact"]
        p(f"Exact check over the scenario: {ex['rows']:,} rows = {ex['published']:,} published, "
          f"rollup n = {ex['rollup_n']:,}.\n")
        targets.append(("One reading per message ≥ 50,000 readings/s sustained for 60 s",
                        held >= 50000, f"{k(held)}/s" if held else "no rate sustained"))

    if targets:
        head = ["## Targets\n", "| target | met | measured |", "|---|---|---|"]
        head += [f"| {t} | {'yes' if ok else '**no**'} | {m} |" for t, ok, m in targets]
        out[3:3] = head + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
