#!/usr/bin/env python3
"""Runs every benchmark scenario of bench/README.md in one go and writes the report.

Called by bench/run.sh, which builds the release binaries and starts PostgreSQL and NATS
(deploy/local/stack.sh). This script owns the services under test (ste-ingester, ste-evaluator),
the load (ste-loadgen), the probes (ste-dbbench, ste-evalbench, ste-latency-probe) and the
measurements it takes from /proc and the services' /metrics. Standard library only.
"""
import argparse
import datetime
import json
import os
import signal
import socket
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOAD_SHAPE = {"devices": 1000, "metrics": 4, "batch": 20}  # a message: 5 samples of 4 metrics
TENANT = "bench"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes and measurements


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def status_kib(pid, field):
    """A /proc/<pid>/status field in KiB (VmRSS, VmHWM)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]
    except OSError:
        return []


def median(xs):
    return statistics.median(xs) if xs else 0.0


def spread(xs):
    """(min, max) of the repetitions: the report prints median [min–max]."""
    return [min(xs), max(xs)] if xs else [0, 0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.build_dir)
        self.db_url = os.environ["STE_DATABASE_URL"]
        self.nats_url = os.environ["STE_NATS_URL"]
        self.work = args.work_dir
        os.makedirs(self.work, exist_ok=True)
        self.pg_data = self.psql("SHOW data_directory")
        self.services = []

    # -- tools ------------------------------------------------------------------------------
    def exe(self, rel):
        return os.path.join(self.bin, rel)

    def psql(self, sql):
        out = subprocess.run(
            ["/usr/lib/postgresql/15/bin/psql", self.db_url, "-X", "-q", "-tA", "-v",
             "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()} ({sql[:80]})")
        return out.stdout.strip()

    def run_json(self, argv, env=None, timeout=900):
        """Runs a tool that prints one JSON line on stdout; returns it parsed."""
        log("run " + " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv)))
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, **(env or {})})
        if out.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({out.returncode}): {out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def pg_pids(self):
        with open(os.path.join(self.pg_data, "postmaster.pid")) as f:
            master = int(f.readline())
        return [master] + children(master)

    def pg_cpu(self):
        return sum(cpu_seconds(p) for p in self.pg_pids())

    def nats_pid(self):
        with open(os.path.join(os.environ["STE_STATE_DIR"], "nats-server.pid")) as f:
            return int(f.read())

    # -- state ------------------------------------------------------------------------------
    def fresh(self):
        """Empty tables and a fresh JetStream store, so every scenario starts alike."""
        self.stop_services()
        pid = self.nats_pid()
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 20
        while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
            time.sleep(0.1)
        subprocess.run(["rm", "-rf", os.path.join(os.environ["STE_STATE_DIR"], "nats")], check=True)
        subprocess.run(["bash", os.path.join(REPO, "deploy/local/stack.sh"), "start"],
                       check=True, capture_output=True)
        self.psql("TRUNCATE readings, readings_1m, alerts, deliveries, delivery_attempts")
        self.psql("CHECKPOINT")

    def set_up_tenant(self):
        """Tenant `bench` with its devices registered (steady state: devices already known)."""
        if not self.psql(f"SELECT 1 FROM tenants WHERE slug = '{TENANT}'"):
            subprocess.run([self.exe("admin/ste-admin"), "tenant", "create", TENANT],
                           check=True, capture_output=True)
        self.psql(
            "INSERT INTO devices (tenant_id, device_key) "
            f"SELECT (SELECT id FROM tenants WHERE slug = '{TENANT}'), 'dev-' || lpad(g::text, 4, '0') "
            f"FROM generate_series(0, {LOAD_SHAPE['devices'] - 1}) g ON CONFLICT DO NOTHING")

    # -- services ---------------------------------------------------------------------------
    def start_service(self, name, rel, env):
        port = free_port()
        logf = open(os.path.join(self.work, f"{name}.log"), "a")
        full = {**os.environ, "STE_HTTP_ADDR": f"127.0.0.1:{port}", "STE_LOG_LEVEL": "info", **env}
        p = subprocess.Popen([self.exe(rel)], env=full, stdout=logf, stderr=subprocess.STDOUT)
        svc = {"name": name, "proc": p, "port": port, "log": logf}
        self.services.append(svc)
        deadline = time.time() + 30
        while time.time() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode}; see {logf.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return svc
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} not ready within 30 s")

    def start_ingester(self, env=None):
        return self.start_service("ingester", "ingester/ste-ingester",
                                  {"STE_MAX_NEW_DEVICES_PER_MINUTE": "100000", **(env or {})})

    def start_evaluator(self, env=None):
        return self.start_service("evaluator", "evaluator/ste-evaluator", env or {})

    def stop_services(self):
        for svc in self.services:
            if svc["proc"].poll() is None:
                svc["proc"].send_signal(signal.SIGTERM)
                try:
                    svc["proc"].wait(30)
                except subprocess.TimeoutExpired:
                    svc["proc"].kill()
                    svc["proc"].wait()
            svc["log"].close()
        self.services = []

    @staticmethod
    def metrics(svc):
        """Sum of every series of each metric name on the service's /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{svc['port']}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{", 1)[0]
            try:
                out[name] = out.get(name, 0.0) + float(value)
            except ValueError:
                pass
        return out

    def stored(self, ing):
        return self.metrics(ing).get("ste_ingest_readings_stored_total", 0.0)

    # -- load -------------------------------------------------------------------------------
    def loadgen(self, rate, duration, extra=(), batch=None):
        argv = [self.exe("bench/ste-loadgen"), "--tenant", TENANT,
                "--devices", str(LOAD_SHAPE["devices"]), "--metrics", str(LOAD_SHAPE["metrics"]),
                "--batch", str(batch or LOAD_SHAPE["batch"]), "--rate", str(int(rate)),
                "--duration", str(duration), "--ts-mode", "now", *extra]
        errf = open(os.path.join(self.work, "loadgen.log"), "a")
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errf, text=True)

    @staticmethod
    def loadgen_result(p):
        out, _ = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"ste-loadgen failed ({p.returncode}); see loadgen.log")
        return json.loads(out.strip().splitlines()[-1])

    def sample_while(self, p, ing, period=1.0, on_tick=None):
        """Samples (t, stored, cpu of ingester/postgres/nats/loadgen, ingester RSS) until p ends."""
        samples = []
        t0 = time.time()
        while True:
            now = time.time()
            samples.append({
                "t": now - t0, "stored": self.stored(ing),
                "cpu_ingester": cpu_seconds(ing["proc"].pid), "cpu_postgres": self.pg_cpu(),
                "cpu_nats": cpu_seconds(self.nats_pid()), "cpu_loadgen": cpu_seconds(p.pid),
                "cpu_evaluator": sum(cpu_seconds(s["proc"].pid) for s in self.services
                                     if s["name"] == "evaluator"),
                "rss_kib": status_kib(ing["proc"].pid, "VmRSS")})
            if on_tick:
                on_tick(now - t0)
            if p.poll() is not None:
                return samples
            time.sleep(max(0.0, period - (time.time() - now)))

    def wait_drained(self, ing, expected, timeout=180):
        """Polls until the ingester has stored `expected` readings; returns seconds waited."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.stored(ing) >= expected:
                return time.time() - t0
            time.sleep(0.2)
        raise RuntimeError(f"backlog not drained in {timeout} s: stored {self.stored(ing)} of {expected}")

    def verify_exact(self, expected):
        rows = int(self.psql("SELECT count(*) FROM readings"))
        rolled = int(self.psql("SELECT coalesce(sum(n), 0) FROM readings_1m"))
        if rows != expected or rolled != expected:
            raise RuntimeError(f"exactness check failed: {rows} rows, rollup {rolled}, "
                               f"published {expected}")
        return {"rows": rows, "rollup_n": rolled, "published": expected}

    # -- one load window ----------------------------------------------------------------------
    def load_window(self, ing, rate, seconds, published_before, extra=(), warmup=3.0, on_tick=None,
                    batch=None):
        """Offers `rate` for `seconds`; returns throughput per 10-s window, CPU, backlog, RSS."""
        lg = self.loadgen(rate, seconds, extra, batch)
        samples = self.sample_while(lg, ing, on_tick=on_tick)
        res = self.loadgen_result(lg)
        steady = [s for s in samples if s["t"] >= warmup]
        first, last = steady[0], steady[-1]
        span = last["t"] - first["t"]
        stored_delta = last["stored"] - first["stored"]
        windows = []
        w0 = first
        for s in steady[1:]:
            if s["t"] - w0["t"] >= 10.0 - 1e-6:
                windows.append((s["stored"] - w0["stored"]) / (s["t"] - w0["t"]))
                w0 = s
        per100k = 1e5 / stored_delta if stored_delta else 0.0
        backlog = published_before + res["published"] - samples[-1]["stored"]
        return {
            "offered": rate, "seconds": seconds, "published": res["published"],
            "publish_rate": res["rate"], "failed": res["failed"],
            "stored_rate": stored_delta / span if span else 0.0,
            "window_rates": windows,
            "backlog_at_end": backlog,
            "cpu_s_per_100k": {k: (last[f"cpu_{k}"] - first[f"cpu_{k}"]) * per100k
                               for k in ("ingester", "postgres", "nats", "loadgen", "evaluator")},
            "rss_max_kib": max(s["rss_kib"] for s in samples),
            "samples": samples,
        }

    def profile(self, ing, rate, seconds):
        """perf samples of the whole machine at `rate`: CPU share by process, then hot symbols."""
        if shutil.which("perf") is None:
            return {"published": 0, "error": "perf not installed (Debian package linux-perf)"}
        data = os.path.join(self.work, "perf.data")
        lg = self.loadgen(rate, seconds + 3)
        time.sleep(2)
        rec = subprocess.run(["perf", "record", "-a", "-g", "-F", "299", "-o", data, "--",
                              "sleep", str(seconds)], capture_output=True, text=True)
        res = self.loadgen_result(lg)
        out = {"published": res["published"], "rate": rate, "seconds": seconds}
        if rec.returncode != 0:
            out["error"] = rec.stderr.strip()[-500:]
            return out

        def report(sort, limit):
            r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                "--sort", sort, "--percent-limit", str(limit), "-g", "none"],
                               capture_output=True, text=True)
            return [line for line in r.stdout.splitlines() if line.strip() and not line.startswith("#")]

        out["by_process"] = report("comm", 0.5)[:12]
        out["by_symbol"] = report("comm,dso,sym", 0.8)[:30]
        return out

    def sustained(self, w):
        # The stored counter moves in whole batches (20,000 readings), so a 15-s window's rate is
        # only good to a few percent; the backlog is the sharper test: a pipeline that cannot keep
        # up leaves more than 2 s of load behind when the load stops.
        return (w["failed"] == 0 and w["publish_rate"] >= 0.98 * w["offered"]
                and w["stored_rate"] >= 0.90 * w["offered"]
                and w["backlog_at_end"] <= 2.0 * w["offered"])

    # -- scenarios ----------------------------------------------------------------------------
    def s1_database(self):
        a = self.args
        configs = [("copy_ceiling", a.batch_size, 1), ("original", 100, 1)]
        for method in ("unnest", "copy"):
            for writers in (1, 2):
                configs.append((method, a.batch_size, writers))
        configs.append(("copy_no_rollup", a.batch_size, a.writers))
        for b in a.batch_sweep:
            if b != a.batch_size:
                configs.append((a.write_method, b, a.writers))
        results = []
        for method, batch, writers in configs:
            results.append(self.run_json([
                self.exe("bench/dbbench/ste-dbbench"), "--method", method, "--batch", str(batch),
                "--writers", str(writers), "--readings", str(a.db_readings),
                "--repeat", str(a.repeat), "--devices", str(LOAD_SHAPE["devices"]),
                "--metrics", str(LOAD_SHAPE["metrics"]), "--series-rate", "25"]))
        self.psql("TRUNCATE readings, readings_1m")
        return results

    def s2_pipeline(self):
        a = self.args
        self.fresh()
        ing = self.start_ingester()
        published, steps, best = 0, [], None
        for rate in a.rates:
            w = self.load_window(ing, rate, a.step_seconds, published)
            published += w["published"]
            w["sustained"] = self.sustained(w)
            w.pop("samples")
            steps.append(w)
            log(f"step {rate}/s: stored {w['stored_rate']:.0f}/s, backlog {w['backlog_at_end']:.0f}, "
                f"sustained={w['sustained']}")
            self.wait_drained(ing, published)
            if not w["sustained"]:
                break
            best = rate
        if best is None:
            self.partial = {"steps": steps}
            raise RuntimeError(f"no offered rate was sustained (lowest {a.rates[0]}/s)")
        # A 15-s step can hide a slow decline (growing indexes, autovacuum): the hold decides. If
        # the best step does not hold for the full time, the next lower step is held instead.
        holds = []
        candidates = [r for r in a.rates if r <= best][::-1][:2]
        for rate in candidates:
            hold = self.load_window(ing, rate, a.hold_seconds, published)
            published += hold["published"]
            hold["sustained"] = self.sustained(hold)
            hold.pop("samples")
            holds.append(hold)
            log(f"hold {rate}/s: median window {median(hold['window_rates']):.0f}/s, backlog "
                f"{hold['backlog_at_end']:.0f}, sustained={hold['sustained']}")
            self.wait_drained(ing, published, timeout=300)
            if hold["sustained"]:
                break
        hold = holds[-1]
        best = hold["offered"] if hold["sustained"] else best
        hwm = status_kib(ing["proc"].pid, "VmHWM")
        profile = self.profile(ing, best, a.profile_seconds)
        published += profile.pop("published")
        self.wait_drained(ing, published, timeout=300)
        # Where the time goes per message: the same readings in messages of different sizes, at
        # a rate every shape can carry, so CPU per 100,000 readings compares like with like.
        shapes = []
        for batch in a.shape_batches:
            w = self.load_window(ing, a.shape_rate, a.shape_seconds, published, batch=batch,
                                 warmup=1.0)
            published += w["published"]
            w.pop("samples")
            w["readings_per_message"] = batch
            shapes.append(w)
            self.wait_drained(ing, published, timeout=300)
        self.stop_services()
        # Consumer settings: the same load with different fetch sizes, each on a fresh ingester
        # (same database, same consumer), CPU per 100k readings.
        fetches = []
        for fetch in a.fetch_sizes:
            ing = self.start_ingester({"STE_FETCH_SIZE": str(fetch)})
            w = self.load_window(ing, best, a.fetch_seconds, 0, warmup=2.0)  # a fresh counter
            published += w["published"]
            w.pop("samples")
            w["fetch_size"] = fetch
            w["sustained"] = self.sustained(w)
            fetches.append(w)
            self.wait_drained(ing, w["published"], timeout=300)
            self.stop_services()
        exact = self.verify_exact(published)
        return {"steps": steps, "max_sustained_rate": best, "hold": hold, "holds": holds,
                "fetch_sizes": fetches,
                "profile": profile, "exact": exact,
                "ingester_peak_rss_kib": hwm, "message_shapes": shapes}

    # The devices' own shape: one reading per message (issue #14). Levers side by side at one
    # offered rate, then the ramp and the hold with the defaults.
    # Limits retention is only used where the server's purge keeps unacked deliveries
    # (nats-server >= 2.9.15); "auto" rows say which retention the ingester chose on this server.
    LEVERS = [
        # name, ingester settings, load generator flags
        ("before #14: work-queue, fetch 500 as available",
         {"STE_SENSORS_RETENTION": "work-queue", "STE_FETCH_SIZE": "500",
          "STE_FETCH_STYLE": "available"}, ["--core"]),
        ("work-queue, filling fetch of 2000", {"STE_SENSORS_RETENTION": "work-queue"}, ["--core"]),
        ("defaults (retention auto, filling fetch of 2000)", {}, ["--core"]),
        ("defaults, publisher waits for each JetStream ack", {}, []),
    ]

    @staticmethod
    def sensors_retention(svc):
        """The SENSORS retention the ingester's "ingester started" log line reports."""
        with open(svc["log"].name) as f:
            started = [line for line in f if '"ingester started"' in line]
        return json.loads(started[-1]).get("sensors_retention", "?") if started else "?"

    def s7_single(self):
        a = self.args
        levers = []
        published = 0
        for name, env, flags in self.LEVERS:
            self.fresh()
            ing = self.start_ingester(env)
            w = self.load_window(ing, a.single_lever_rate, a.single_lever_seconds, 0, extra=flags,
                                 batch=1)
            w.pop("samples")
            w["lever"], w["settings"], w["publisher"] = name, env, "core" if flags else "jetstream"
            w["sensors_retention"] = self.sensors_retention(ing)
            w["sustained"] = self.sustained(w)
            log(f"lever '{name}': stored {w['stored_rate']:.0f}/s, published {w['publish_rate']:.0f}/s")
            try:
                w["drain_s"] = self.wait_drained(ing, w["published"], timeout=300)
            except RuntimeError as e:
                w["drain_error"] = str(e)
            levers.append(w)
            self.stop_services()
        # The ramp and the hold with the defaults, publishing as devices do (core NATS into the
        # stream: nothing waits for an ack, so the load generator's cost does not cap the figure).
        self.fresh()
        ing = self.start_ingester()
        steps, best = [], None
        for rate in a.single_rates:
            w = self.load_window(ing, rate, a.step_seconds, published, extra=["--core"], batch=1)
            published += w["published"]
            w["sustained"] = self.sustained(w)
            w.pop("samples")
            steps.append(w)
            log(f"single step {rate}/s: stored {w['stored_rate']:.0f}/s, backlog "
                f"{w['backlog_at_end']:.0f}, sustained={w['sustained']}")
            self.wait_drained(ing, published, timeout=300)
            if not w["sustained"]:
                break
            best = rate
        out = {"levers": levers, "steps": steps, "max_sustained_rate": best,
               "sensors_retention": self.sensors_retention(ing)}
        if best is not None:
            hold = self.load_window(ing, best, a.hold_seconds, published, extra=["--core"], batch=1)
            published += hold["published"]
            hold["sustained"] = self.sustained(hold)
            hold.pop("samples")
            log(f"single hold {best}/s: median window {median(hold['window_rates']):.0f}/s, "
                f"sustained={hold['sustained']}")
            self.wait_drained(ing, published, timeout=300)
            out["hold"] = hold
            out["ingester_peak_rss_kib"] = status_kib(ing["proc"].pid, "VmHWM")
        self.stop_services()
        out["exact"] = self.verify_exact(published)
        return out

    def s3_latency(self, max_rate):
        a = self.args
        self.fresh()
        if not self.psql("SELECT 1 FROM tenants WHERE slug = 'probe'"):
            subprocess.run([self.exe("admin/ste-admin"), "tenant", "create", "probe"], check=True,
                           capture_output=True)
        self.psql("DELETE FROM alert_rules WHERE tenant_id = (SELECT id FROM tenants WHERE slug='probe')")
        self.psql("INSERT INTO alert_rules (tenant_id, name, metric, condition, threshold, "
                  "cooldown_minutes) SELECT id, 'probe crossing', 'probe', 'above_threshold', 100, 0 "
                  "FROM tenants WHERE slug = 'probe'")
        self.start_ingester()
        self.start_evaluator()
        rate = int(max_rate * 0.5)
        bg = self.loadgen(rate, a.probe_seconds + 8)
        time.sleep(3)
        probe = self.run_json([self.exe("bench/latency_probe/ste-latency-probe"),
                               "--duration", str(a.probe_seconds)])
        self.loadgen_result(bg)
        self.stop_services()
        return {"background_rate": rate, "probe": probe}

    def s4_evaluator(self):
        return self.run_json([self.exe("bench/evalbench/ste-evalbench"), "--tuples", "1000",
                              "--rules", "1000", "--repeat", str(max(3, self.args.repeat))])

    def s8_nodata(self):
        return self.run_json([self.exe("bench/nodatabench/ste-nodatabench"), "--devices", "10000",
                              "--metrics", "10", "--repeat", str(max(3, self.args.repeat))])

    def s5_isolation(self, rate, clean):
        """The hold again with a black-hole webhook target, then with the evaluator stopped."""
        a = self.args
        out = {}
        # A target that accepts connections and never answers.
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(1024)
        hole_url = f"http://127.0.0.1:{hole.getsockname()[1]}/hook"
        held = []
        stop = threading.Event()

        def accept_forever():
            hole.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(hole.accept()[0])
                except OSError:
                    pass

        acceptor = threading.Thread(target=accept_forever, daemon=True)
        acceptor.start()
        # 1001 is coprime with the 4 metrics, so spikes land on every metric, m0 (the rule's) too.
        spike = ["--spike-every", "1001", "--spike-value", "500"]
        try:
            for case in ("webhook_never_answers", "evaluator_stopped"):
                self.fresh()
                self.psql(f"DELETE FROM alert_rules WHERE tenant_id = (SELECT id FROM tenants WHERE slug='{TENANT}')")
                self.psql("INSERT INTO alert_rules (tenant_id, name, metric, condition, threshold, "
                          "cooldown_minutes) SELECT id, 'bench spike', 'm0', 'above_threshold', 100, 0 "
                          f"FROM tenants WHERE slug = '{TENANT}'")
                ing = self.start_ingester()
                if case == "webhook_never_answers":
                    self.start_evaluator({"STE_NOTIFICATION_HUB_URL": hole_url,
                                          "STE_NOTIFICATION_HUB_API_KEY": "bench-hub-key",
                                          "STE_WORKFLOW_ENGINE_URL": hole_url,
                                          "STE_WORKFLOW_ENGINE_SECRET": "bench-secret"})
                w = self.load_window(ing, rate, a.isolation_seconds, 0, extra=spike)
                w.pop("samples")
                w["sustained"] = self.sustained(w)
                self.wait_drained(ing, w["published"])
                w["exact"] = self.verify_exact(w["published"])
                w["alerts"] = int(self.psql("SELECT count(*) FROM alerts"))
                w["deliveries_pending"] = int(self.psql(
                    "SELECT count(*) FROM deliveries WHERE status <> 'delivered'"))
                w["vs_clean"] = w["stored_rate"] / clean["stored_rate"] if clean["stored_rate"] else 0
                out[case] = w
                self.stop_services()
                log(f"isolation {case}: stored {w['stored_rate']:.0f}/s "
                    f"({100 * w['vs_clean']:.1f}% of clean), alerts {w['alerts']}")
        finally:
            stop.set()
            acceptor.join()
            for c in held:
                c.close()
            hole.close()
        return out

    def s6_backlog(self, rate):
        a = self.args
        self.fresh()
        ing = self.start_ingester()
        before, pause_at, resume_at = 10.0, 10.0, 10.0 + a.pause_seconds
        seconds = int(resume_at + 10)
        state = {"paused": False, "resumed": False}

        def tick(t):
            if not state["paused"] and t >= pause_at:
                for pid in self.pg_pids():
                    os.kill(pid, signal.SIGSTOP)
                state["paused"] = True
                log("PostgreSQL paused (SIGSTOP)")
            if state["paused"] and not state["resumed"] and t >= resume_at:
                for pid in self.pg_pids():
                    os.kill(pid, signal.SIGCONT)
                state["resumed"] = True
                log("PostgreSQL resumed (SIGCONT)")

        try:
            lg = self.loadgen(rate, seconds)
            samples = self.sample_while(lg, ing, period=0.5, on_tick=tick)
        finally:
            if state["paused"] and not state["resumed"]:
                for pid in self.pg_pids():
                    os.kill(pid, signal.SIGCONT)
        res = self.loadgen_result(lg)
        drain = self.wait_drained(ing, res["published"], timeout=300)
        rss_after = status_kib(ing["proc"].pid, "VmRSS")
        exact = self.verify_exact(res["published"])
        hwm = status_kib(ing["proc"].pid, "VmHWM")
        self.stop_services()

        def rss_in(lo, hi):
            xs = [s["rss_kib"] for s in samples if lo <= s["t"] < hi]
            return max(xs) if xs else 0

        return {
            "offered": rate, "pause_seconds": a.pause_seconds, "published": res["published"],
            "rss_max_kib_before": rss_in(2, before), "rss_max_kib_paused": rss_in(pause_at, resume_at),
            "rss_max_kib_after": rss_in(resume_at, 1e9), "rss_kib_drained": rss_after,
            "peak_rss_kib": hwm,
            # Offered so far minus stored: what JetStream (and the ingester's bounded buffer) held.
            "backlog_peak": max(min(s["t"], seconds) * rate - s["stored"] for s in samples),
            "drain_seconds_after_load": drain, "exact": exact,
            "rss_series": [[round(s["t"], 1), s["rss_kib"]] for s in samples],
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--out-dir", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--scenarios", default="1,2,3,4,5,6,7,8")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db-readings", type=int, default=300000)
    ap.add_argument("--batch-size", type=int, default=20000, help="the ingester default under test")
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--write-method", default="copy")
    ap.add_argument("--batch-sweep", type=lambda s: [int(x) for x in s.split(",")],
                    default=[5000, 10000, 40000])
    ap.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")],
                    default=[30000, 45000, 60000, 75000, 90000, 105000])
    ap.add_argument("--step-seconds", type=int, default=15)
    ap.add_argument("--hold-seconds", type=int, default=60)
    ap.add_argument("--probe-seconds", type=int, default=30)
    ap.add_argument("--isolation-seconds", type=int, default=30)
    ap.add_argument("--pause-seconds", type=int, default=30)
    ap.add_argument("--shape-batches", type=lambda s: [int(x) for x in s.split(",")],
                    default=[1, 4, 20, 100])
    ap.add_argument("--shape-rate", type=int, default=15000)
    ap.add_argument("--shape-seconds", type=int, default=8)
    ap.add_argument("--profile-seconds", type=int, default=10)
    ap.add_argument("--fetch-sizes", type=lambda s: [int(x) for x in s.split(",")],
                    default=[100, 500, 2000])
    ap.add_argument("--fetch-seconds", type=int, default=12)
    ap.add_argument("--max-rate", type=int, default=0, help="skip the ramp: use this rate (debug)")
    ap.add_argument("--single-rates", type=lambda s: [int(x) for x in s.split(",")],
                    default=[20000, 30000, 40000, 50000, 60000],
                    help="scenario 7: offered rates, one reading per message")
    ap.add_argument("--single-lever-rate", type=int, default=30000)
    ap.add_argument("--single-lever-seconds", type=int, default=20)
    args = ap.parse_args()

    b = Bench(args)
    wanted = set(args.scenarios.split(","))
    started = time.time()
    report = {"started": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
              "load_shape": LOAD_SHAPE, "settings": vars(args).copy()}
    try:
        b.set_up_tenant()
        if "1" in wanted:
            report["database"] = b.s1_database()
        if "4" in wanted:
            report["evaluator"] = b.s4_evaluator()
        if "8" in wanted:
            report["nodata"] = b.s8_nodata()
        max_rate = args.max_rate
        if "2" in wanted:
            report["pipeline"] = b.s2_pipeline()
            max_rate = report["pipeline"]["max_sustained_rate"]
        if max_rate:
            if "3" in wanted:
                report["latency"] = b.s3_latency(max_rate)
            if "5" in wanted and "pipeline" in report:
                report["isolation"] = b.s5_isolation(max_rate, report["pipeline"]["hold"])
            if "6" in wanted:
                report["backlog"] = b.s6_backlog(max_rate)
        if "7" in wanted:
            report["single"] = b.s7_single()
    except Exception as e:  # the partial report is still written, then the run fails
        report["error"] = f"{type(e).__name__}: {e}"
        if getattr(b, "partial", None):
            report["pipeline_partial"] = b.partial
        log(f"FAILED: {report['error']}")
    finally:
        b.stop_services()
    report["duration_s"] = time.time() - started
    json.dump(report, sys.stdout, indent=1)
    print()
    return 1 if "error" in report else 0


if __name__ == "__main__":
    sys.exit(main())
