#!/usr/bin/env python3
"""Crash harness for skyd (issue 8, durability).

Each cycle drives a random mixed load through skyctl (cluster launches and
execs on local and simulated clouds, managed jobs, cancels, teardowns),
kills skyd with SIGKILL at a random moment while commands are in flight
(sometimes a second time during its recovery), restarts it, and checks:

  acked      every acknowledged submission (skyctl exit 0 with an id) exists
  twice      no job ran twice (each job appends its token to a marker file
             once; a managed job may run once more per recovery)
  unseen     every job that ran is known to skyd (its submission is in the
             event log): nothing ran that skyd did not record first
  orphans    no process or instance of this SKYD_HOME belongs to a cluster
             (or a job) that is gone or over
  converge   clusters, jobs and managed jobs all reach a settled state, and
             a job nobody cancelled ends SUCCEEDED (the load only succeeds)
  events     the event log's seqs are 1..N without a gap and N is the
             daemon's last seq

then tears everything down and checks that nothing of it is left.

Cycle i of a run with --seed S uses seed S+i, so a failing cycle is re-run
alone with `--seed S+i --cycles 1` (thread timing still varies; a failure
that depends on it may need a few tries).

    tests/crash/crash_harness.py --cycles 100 --seed 1 \\
        --skyctl build/bin/skyctl --skyd build/bin/skyd

Exit status: 0 when every cycle passed, 1 when a check failed, 2 on bad
usage or when skyd could not be started.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# How long the state may take to settle after a restart: the load's jobs
# sleep at most MAX_SLEEP seconds, managed jobs relaunch with sub-second
# retry gaps, so anything still moving after this is stuck.
CONVERGE_SECONDS = 45
MAX_SLEEP = 2.0
# In-flight commands get this long after the kill before the harness kills
# them (a stream waits 16 s for a dead skyd; a killed client is just one
# more unacknowledged command).
INFLIGHT_GRACE = 2.0

FINAL_JOB = {"SUCCEEDED", "FAILED", "FAILED_SETUP", "FAILED_DRIVER",
             "CANCELLED"}
SETTLED_CLUSTER = {"UP", "STOPPED"}

SCENARIO = """\
seed: {seed}
provisioning_delay: 200ms
clouds:
  gcp:
    regions:
      us-central1:
        failures:
          - error: no_capacity
            times: 2
            scope: zone
"""

CONFIG = """\
sim:
  clouds: [aws, gcp]
  scenario: {scenario}
  mode: real
events:
  sync: true
jobs:
  retry_gap_seconds: 0.2
  max_retry_gap_seconds: 1
"""


def log(msg):
    print(msg, flush=True)


class Daemon:
    """One SKYD_HOME and the binaries that serve it."""

    def __init__(self, home, skyctl, skyd):
        self.home = home
        self.skyctl_bin = skyctl
        self.env = dict(os.environ, SKYD_HOME=home, SKYD_BIN=skyd)
        self.procs_lock = threading.Lock()
        self.inflight = set()

    def skyctl(self, args, timeout=60, autostart=True):
        """Runs skyctl; returns (exit code, stdout, stderr). A client the
        harness killed (or that hung) reports exit code -9."""
        cmd = [self.skyctl_bin]
        if not autostart:
            cmd.append("--no-autostart")
        cmd += args
        p = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        with self.procs_lock:
            self.inflight.add(p)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err += "\n[harness: timed out after %ss]" % timeout
        finally:
            with self.procs_lock:
                self.inflight.discard(p)
        return p.returncode, out, err

    def kill_inflight(self):
        with self.procs_lock:
            procs = list(self.inflight)
        for p in procs:
            try:
                p.kill()
            except ProcessLookupError:
                pass
        return len(procs)

    def json(self, args):
        rc, out, err = self.skyctl(args + ["-o", "json"])
        if rc != 0:
            raise HarnessError("skyctl %s failed (%d): %s" %
                               (" ".join(args), rc, err.strip()))
        return json.loads(out)

    def start(self):
        rc, _, err = self.skyctl(["daemon", "start"])
        if rc != 0:
            raise HarnessError("skyd did not start: " + err.strip())
        return self.pid()

    def pid(self):
        rc, out, _ = self.skyctl(["daemon", "status", "-o", "json"],
                                 autostart=False)
        return json.loads(out)["pid"] if rc == 0 else None

    def kill9(self, pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        # The lock is free once the process is gone.
        for _ in range(500):
            if not os.path.exists("/proc/%d" % pid):
                return
            try:
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().split(") ")[1].startswith("Z"):
                        return
            except OSError:
                return
            time.sleep(0.01)

    def stop(self):
        pid = self.pid()
        self.skyctl(["daemon", "stop"], timeout=30, autostart=False)
        if pid and os.path.exists("/proc/%d" % pid):
            self.kill9(pid)


class HarnessError(Exception):
    pass


class Ledger:
    """What the load did, as skyctl told it: the acknowledged commands are
    the promises skyd must keep after the crash."""

    def __init__(self):
        self.lock = threading.Lock()
        # cluster name -> {"infra", "acked", "down_issued", "down_acked"}
        self.clusters = {}
        # token -> {"cluster", "id", "acked", "cancel_issued"}
        self.jobs = {}
        # token -> {"id", "acked", "cancel_issued", "infra"}
        self.managed = {}
        self.commands = []  # (seconds since load start, argv, rc)
        self.counter = 0

    def next_name(self, prefix, cycle):
        with self.lock:
            self.counter += 1
            return "%s%d-%d" % (prefix, cycle, self.counter)


def parse_id(out, label):
    m = re.search(r"^%s: (\d+)$" % label, out, re.M)
    return int(m.group(1)) if m else None


class Load:
    """Random skyctl commands from a few threads until told to stop."""

    def __init__(self, daemon, ledger, cycle, seed, markers):
        self.d = daemon
        self.ledger = ledger
        self.cycle = cycle
        self.seed = seed
        self.markers = markers
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def command(self, rng, token):
        # The token goes to the marker file once per run of the job.
        return "echo %s >> %s; sleep %.1f" % (token, self.markers,
                                               rng.uniform(0, MAX_SLEEP))

    def run(self, args):
        rc, out, err = self.d.skyctl(["--timeout", "10"] + args,
                                     timeout=60, autostart=False)
        with self.ledger.lock:
            self.ledger.commands.append(
                (time.monotonic() - self.t0, args, rc))
        return rc, out

    def live_clusters(self):
        with self.ledger.lock:
            return [n for n, c in self.ledger.clusters.items()
                    if c["acked"] and not c["down_issued"]]

    def op_launch(self, rng, infra):
        kind = "l" if infra == "local" else "s"
        name = self.ledger.next_name("c" + kind, self.cycle)
        token = self.ledger.next_name("t", self.cycle)
        with self.ledger.lock:
            self.ledger.clusters[name] = {"infra": infra, "acked": False,
                                          "down_issued": False,
                                          "down_acked": False}
            self.ledger.jobs[token] = {"cluster": name, "id": None,
                                       "acked": False, "cancel_issued": False}
        rc, out = self.run(["launch", "-d", "-y", "-c", name, "--infra",
                            infra, "-n", token, "--",
                            self.command(rng, token)])
        job_id = parse_id(out, "Job ID")
        if rc == 0 and job_id is not None:
            with self.ledger.lock:
                self.ledger.clusters[name]["acked"] = True
                self.ledger.jobs[token].update(id=job_id, acked=True)

    def op_exec(self, rng, reuse_with_launch=False):
        live = self.live_clusters()
        if not live:
            return
        name = rng.choice(live)
        token = self.ledger.next_name("t", self.cycle)
        with self.ledger.lock:
            self.ledger.jobs[token] = {"cluster": name, "id": None,
                                       "acked": False, "cancel_issued": False}
        verb = ["launch", "-d", "-y", "-c", name] if reuse_with_launch \
            else ["exec", name, "-d"]
        rc, out = self.run(verb + ["-n", token, "--",
                                   self.command(rng, token)])
        job_id = parse_id(out, "Job ID")
        if rc == 0 and job_id is not None:
            with self.ledger.lock:
                self.ledger.jobs[token].update(id=job_id, acked=True)

    def op_managed(self, rng):
        infra = rng.choice(["local", "aws", "gcp"])
        token = self.ledger.next_name("m", self.cycle)
        with self.ledger.lock:
            self.ledger.managed[token] = {"id": None, "acked": False,
                                          "cancel_issued": False,
                                          "infra": infra}
        rc, out = self.run(["jobs", "launch", "-d", "-y", "-n", token,
                            "--infra", infra, "--",
                            self.command(rng, token)])
        job_id = parse_id(out, "Managed job ID")
        if rc == 0 and job_id is not None:
            with self.ledger.lock:
                self.ledger.managed[token].update(id=job_id, acked=True)

    def op_cancel(self, rng):
        with self.ledger.lock:
            acked = [(t, j) for t, j in self.ledger.jobs.items()
                     if j["acked"] and not j["cancel_issued"]]
            if not acked:
                return
            token, job = rng.choice(acked)
            job["cancel_issued"] = True
        self.run(["cancel", "-y", job["cluster"], str(job["id"])])

    def op_jobs_cancel(self, rng):
        with self.ledger.lock:
            acked = [(t, j) for t, j in self.ledger.managed.items()
                     if j["acked"] and not j["cancel_issued"]]
            if not acked:
                return
            token, job = rng.choice(acked)
            job["cancel_issued"] = True
        self.run(["jobs", "cancel", "-y", str(job["id"])])

    def op_down(self, rng):
        live = self.live_clusters()
        if not live:
            return
        name = rng.choice(live)
        with self.ledger.lock:
            self.ledger.clusters[name]["down_issued"] = True
        rc, _ = self.run(["down", "-y", name])
        if rc == 0:
            with self.ledger.lock:
                self.ledger.clusters[name]["down_acked"] = True

    def worker(self, index):
        rng = random.Random("%d/%d" % (self.seed, index))
        ops = [
            (2, lambda: self.op_launch(rng, "local")),
            (2, lambda: self.op_launch(rng, rng.choice(["aws", "gcp"]))),
            (4, lambda: self.op_exec(rng)),
            (1, lambda: self.op_exec(rng, reuse_with_launch=True)),
            (3, lambda: self.op_managed(rng)),
            (1.5, lambda: self.op_cancel(rng)),
            (1, lambda: self.op_jobs_cancel(rng)),
            (0.7, lambda: self.op_down(rng)),
        ]
        weights = [w for w, _ in ops]
        while not self.stop.is_set():
            rng.choices(ops, weights)[0][1]()
            self.stop.wait(rng.uniform(0, 0.25))


def read_environ(pid):
    try:
        with open("/proc/%s/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def node_processes(home):
    """Processes started on a node of this SKYD_HOME: skyd gives each one
    SKYD_NODE_HOME (the node's sandbox), and its children inherit it.
    Returns {pid: (cluster, SKYPILOT_TASK_ID or "", cmdline)}."""
    nodes = os.path.join(home, "nodes") + "/"
    sim = os.path.join(home, "sim") + "/"
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        env = read_environ(pid)
        if not env or "SKYD_NODE_HOME" not in env:
            continue
        node = env["SKYD_NODE_HOME"]
        if node.startswith(nodes):  # nodes/<cluster>/<rank>
            cluster = node[len(nodes):].split("/")[0]
        elif node.startswith(sim):  # sim/<cloud>/<cluster>/<rank>
            parts = node[len(sim):].split("/")
            cluster = parts[1] if len(parts) > 1 else node
        else:
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(
                    errors="replace").strip()
        except OSError:
            continue
        found[int(pid)] = (cluster, env.get("SKYPILOT_TASK_ID", ""), cmdline)
    return found


def instance_records(home):
    """Clusters the providers keep on disk (instances that exist as far as
    the infra is concerned): local cluster directories, sim cluster files."""
    names = set()
    nodes = os.path.join(home, "nodes")
    if os.path.isdir(nodes):
        for n in os.listdir(nodes):
            if os.path.isdir(os.path.join(nodes, n)) and not n.startswith("."):
                names.add(("local", n))
    sim = os.path.join(home, "sim", ".sim", "clusters")
    if os.path.isdir(sim):
        for cloud in os.listdir(sim):
            for f in os.listdir(os.path.join(sim, cloud)):
                if f.endswith(".json"):
                    names.add((cloud, f[:-len(".json")]))
    return names


def read_markers(path):
    counts = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                token = line.strip()
                if token:
                    counts[token] = counts.get(token, 0) + 1
    return counts


class Snapshot:
    """skyd's view: clusters, cluster jobs and managed jobs (three requests,
    so not one instant: see unsettled)."""

    def __init__(self, d):
        self.clusters = {c["name"]: c
                         for c in d.json(["status"])["clusters"]}
        self.jobs = {(j["cluster"], j["job_id"]): j
                     for j in d.json(["queue"])["jobs"]}
        self.managed = {j["job_id"]: j
                        for j in d.json(["jobs", "queue"])["jobs"]}

    def unsettled(self):
        """What is still moving (empty when settled)."""
        # INIT with a reason is settled too: a launch the crash interrupted
        # waits for the user ("launch it again"); INIT without one is a
        # launch in progress.
        out = ["cluster %s %s" % (n, c["status"])
               for n, c in self.clusters.items()
               if c["status"] not in SETTLED_CLUSTER
               and not (c["status"] == "INIT" and c["reason"])]
        out += ["job %s/%d %s" % (k[0], k[1], j["status"])
                for k, j in self.jobs.items() if j["status"] not in FINAL_JOB]
        out += ["managed job %d %s" % (i, j["status"])
                for i, j in self.managed.items()
                if not final_managed(j["status"])]
        # A managed job ends before its cluster's teardown does.
        out += ["managed job %d %s, its cluster %s still listed" % (
                    i, j["status"], j["cluster"])
                for i, j in self.managed.items()
                if final_managed(j["status"]) and j["cluster"] in self.clusters]
        return out


def final_managed(status):
    return status in ("SUCCEEDED", "CANCELLED") or status.startswith("FAILED")


def read_events(d):
    rc, out, err = d.skyctl(["events", "-o", "json"], timeout=120)
    if rc != 0:
        raise HarnessError("skyctl events failed: " + err.strip())
    return [json.loads(line) for line in out.splitlines() if line.strip()]


class Cycle:
    def __init__(self, d, index, seed, markers, args, deadline):
        self.d = d
        self.deadline = deadline  # monotonic; None: no limit
        self.index = index
        self.seed = seed
        self.markers = markers
        self.args = args
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.failures = []
        self.notes = []

    def fail(self, check, what):
        self.failures.append("%s: %s" % (check, what))

    def wait_limit(self):
        """How long a wait for convergence may last: CONVERGE_SECONDS, less
        when the run's time limit comes first (the harness must clean up
        before ctest's TIMEOUT kills it)."""
        limit = CONVERGE_SECONDS
        if self.deadline is not None:
            limit = min(limit, max(5, self.deadline - time.monotonic()))
        return limit

    # --- the crash -------------------------------------------------------

    def drive_and_kill(self):
        pid = self.d.start()
        load = Load(self.d, self.ledger, self.index, self.seed, self.markers)
        threads = [threading.Thread(target=load.worker, args=(i,),
                                    daemon=True)
                   for i in range(self.args.workers)]
        kill_at = self.rng.uniform(0.2, self.args.load_seconds)
        for t in threads:
            t.start()
        time.sleep(kill_at)
        self.d.kill9(pid)
        load.stop.set()
        self.notes.append("kill -9 at %.2fs" % kill_at)
        deadline = time.monotonic() + INFLIGHT_GRACE
        for t in threads:
            t.join(max(0, deadline - time.monotonic()))
        killed = self.d.kill_inflight()
        for t in threads:
            t.join()
        if killed:
            self.notes.append("%d in-flight client(s) killed" % killed)
        # Sometimes a second crash, in the middle of recovery.
        if self.rng.random() < 0.3:
            pid = self.d.start()
            again = self.rng.uniform(0, 0.5)
            time.sleep(again)
            self.d.kill9(pid)
            self.notes.append("second kill -9 %.2fs into recovery" % again)
        self.d.start()

    # --- the checks ------------------------------------------------------

    def converge(self):
        """Polls until nothing is moving; returns the settled snapshot."""
        limit = self.wait_limit()
        deadline = time.monotonic() + limit
        while True:
            snap = Snapshot(self.d)
            moving = snap.unsettled()
            if not moving:
                return snap
            if time.monotonic() > deadline:
                self.fail("converge", "still moving after %ds: %s" %
                          (limit, ", ".join(moving)))
                return snap
            time.sleep(0.5)

    def check_acked(self, snap):
        led = self.ledger
        for name, c in led.clusters.items():
            if c["down_acked"] and name in snap.clusters:
                self.fail("acked", "cluster %s exists after an acknowledged "
                          "down" % name)
            elif c["acked"] and not c["down_issued"]:
                # An acknowledged launch had its cluster UP: its instances
                # are still there, so the restart must find it UP again.
                row = snap.clusters.get(name)
                if row is None:
                    self.fail("acked", "cluster %s (launch acknowledged) is "
                              "gone" % name)
                elif row["status"] != "UP":
                    self.fail("acked", "cluster %s (launch acknowledged) is "
                              "%s: %s" % (name, row["status"], row["reason"]))
        for token, j in led.jobs.items():
            cluster = led.clusters.get(j["cluster"], {})
            if not j["acked"] or cluster.get("down_issued"):
                continue
            row = snap.jobs.get((j["cluster"], j["id"]))
            if row is None:
                self.fail("acked", "job %s/%d (%s) acknowledged, missing" %
                          (j["cluster"], j["id"], token))
            elif row["name"] != token:
                self.fail("acked", "job %s/%d is %s, acknowledged as %s" %
                          (j["cluster"], j["id"], row["name"], token))
        for token, m in led.managed.items():
            if not m["acked"]:
                continue
            row = snap.managed.get(m["id"])
            if row is None:
                self.fail("acked", "managed job %d (%s) acknowledged, missing"
                          % (m["id"], token))
            elif row["name"] != token:
                self.fail("acked", "managed job %d is %s, acknowledged as %s"
                          % (m["id"], row["name"], token))

    def check_outcomes(self, snap, events):
        """Nothing ran twice, nothing ran unseen, and what nobody cancelled
        succeeded."""
        led = self.ledger
        ran = read_markers(self.markers)
        submitted = set()
        for e in events:
            if e["kind"] in ("job.submitted", "managed_job.submitted"):
                submitted.add(e["fields"].get("name"))
        mine = "t%d-" % self.index, "m%d-" % self.index
        managed_rows = {j["name"]: j for j in snap.managed.values()}
        for token, n in ran.items():
            if not token.startswith(mine):
                continue
            if token not in submitted:
                self.fail("unseen", "%s ran %d time(s) but skyd never "
                          "recorded its submission" % (token, n))
            if token.startswith("m"):
                row = managed_rows.get(token)
                allowed = 1 + (row["recoveries"] if row else 0)
                if n > allowed:
                    self.fail("twice", "managed job %s ran %d times with %d "
                              "recoveries" % (token, n, allowed - 1))
            elif n > 1:
                self.fail("twice", "job %s ran %d times" % (token, n))
        # Final states of the jobs the load submitted.
        by_name = {}
        for (cluster, job_id), row in snap.jobs.items():
            by_name.setdefault(row["name"], []).append(row)
        for token, rows in by_name.items():
            if not token.startswith(mine[0]):
                continue
            if len(rows) > 1:
                self.fail("twice", "job %s submitted %d times: %s" % (
                    token, len(rows),
                    ", ".join("%s/%d" % (r["cluster"], r["job_id"])
                              for r in rows)))
            j = led.jobs.get(token, {})
            for row in rows:
                if row["status"] == "SUCCEEDED" and ran.get(token, 0) != 1:
                    self.fail("twice", "job %s SUCCEEDED but ran %d times"
                              % (token, ran.get(token, 0)))
                if row["status"] != "SUCCEEDED" and not j.get(
                        "cancel_issued"):
                    self.fail("converge", "job %s/%d (%s) ended %s (exit %s)"
                              " though nobody cancelled it" % (
                                  row["cluster"], row["job_id"], token,
                                  row["status"], row["exit_code"]))
        for name, row in managed_rows.items():
            if not name.startswith(mine[1]):
                continue
            m = led.managed.get(name, {})
            if row["status"] == "SUCCEEDED" and ran.get(name, 0) < 1:
                self.fail("twice", "managed job %s SUCCEEDED but never ran"
                          % name)
            if row["status"] != "SUCCEEDED" and not m.get("cancel_issued"):
                self.fail("converge", "managed job %d (%s) ended %s (%s) "
                          "though nobody cancelled it" % (
                              row["job_id"], name, row["status"],
                              row["reason"]))

    def check_orphans(self, snap, when):
        """Processes and instances must belong to a live cluster, and a
        process with a task id to a job that is not over. Looked at twice,
        a second apart: a process that just ended may still be exiting."""
        def suspects():
            procs = node_processes(self.d.home)
            out = {}
            for pid, (cluster, task, cmd) in procs.items():
                if cluster not in snap.clusters:
                    out[pid] = "pid %d of cluster %s (gone): %s" % (
                        pid, cluster, cmd)
                    continue
                # sky-<ms>_<cluster>_<id> is a cluster job's task id.
                m = re.match(r"sky-\d+_(.+)_(\d+)$", task)
                if m:
                    row = snap.jobs.get((m.group(1), int(m.group(2))))
                    if row is None or row["status"] in FINAL_JOB:
                        out[pid] = "pid %d of job %s/%s (%s): %s" % (
                            pid, m.group(1), m.group(2),
                            row["status"] if row else "unknown", cmd)
            return out
        first = suspects()
        if first:
            time.sleep(1)
            for pid, what in suspects().items():
                if pid in first:
                    self.fail("orphans", "%s: %s" % (when, what))
        for row in snap.managed.values():
            if final_managed(row["status"]) and row["cluster"] \
                    and row["cluster"] in snap.clusters:
                self.fail("orphans", "%s: cluster %s of managed job %d (%s)"
                          " outlives it" % (when, row["cluster"],
                                            row["job_id"], row["status"]))
        for infra, name in sorted(instance_records(self.d.home)):
            if name not in snap.clusters:
                self.fail("orphans", "%s: %s instance record of cluster %s, "
                          "which skyd does not list" % (when, infra, name))

    def check_events(self, when):
        events = read_events(self.d)
        seqs = [e["seq"] for e in events]
        if seqs != list(range(1, len(seqs) + 1)):
            gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
            self.fail("events", "%s: seqs not 1..%d: first breaks %s" % (
                when, len(seqs), gaps[:5]))
        status = self.d.json(["daemon", "status"])
        if seqs and status["last_seq"] < seqs[-1]:
            self.fail("events", "%s: daemon last_seq %d < last event %d" % (
                when, status["last_seq"], seqs[-1]))
        return events

    # --- teardown --------------------------------------------------------

    def teardown(self):
        self.d.skyctl(["jobs", "cancel", "-a", "-y"])
        deadline = time.monotonic() + self.wait_limit()
        while True:
            self.d.skyctl(["down", "-a", "-y"], timeout=60)
            snap = Snapshot(self.d)
            busy = [i for i, j in snap.managed.items()
                    if not final_managed(j["status"])]
            if not snap.clusters and not busy:
                break
            if time.monotonic() > deadline:
                self.fail("teardown", "left after down -a: clusters %s, "
                          "managed jobs %s" % (sorted(snap.clusters), busy))
                break
            time.sleep(0.5)
        self.check_orphans(snap, "after teardown")
        for pid, (cluster, _, cmd) in node_processes(self.d.home).items():
            self.fail("teardown", "pid %d of %s still runs: %s" % (
                pid, cluster, cmd))

    def run(self):
        t0 = time.monotonic()
        self.drive_and_kill()
        snap = self.converge()
        waiting = [n for n, c in snap.clusters.items() if c["status"] == "INIT"]
        if waiting:
            self.notes.append("INIT after restart (interrupted launches): %s"
                              % ", ".join(sorted(waiting)))
        self.check_acked(snap)
        events = self.check_events("after restart")
        self.check_outcomes(snap, events)
        self.check_orphans(snap, "after restart")
        self.teardown()
        self.check_events("after teardown")
        return time.monotonic() - t0

    def summary(self):
        led = self.ledger
        acked = sum(1 for _, _, rc in led.commands if rc == 0)
        return ("%d commands (%d acknowledged): %d clusters, %d jobs, "
                "%d managed jobs; %s" % (
                    len(led.commands), acked, len(led.clusters),
                    len(led.jobs), len(led.managed), "; ".join(self.notes)))


def kill_leftovers(home):
    """Last resort (the harness failed half-way): nothing it started may
    outlive it."""
    for pid in node_processes(home):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def find_binary(explicit, env_name, name):
    if explicit:
        return os.path.abspath(explicit)
    if os.environ.get(env_name):
        return os.environ[env_name]
    return shutil.which(name)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None,
                    help="cycle i uses seed+i (default: random)")
    ap.add_argument("--skyctl", help="skyctl binary (or $SKYCTL_BIN)")
    ap.add_argument("--skyd", help="skyd binary (or $SKYD_BIN)")
    ap.add_argument("--workers", type=int, default=3,
                    help="threads issuing commands (default 3)")
    ap.add_argument("--load-seconds", type=float, default=4.0,
                    help="the kill comes within this long (default 4)")
    ap.add_argument("--time-limit", type=float, default=0,
                    help="fail when the cycles do not fit in this many "
                    "seconds (waits are shortened to end near it)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the SKYD_HOME (kept anyway on a failure)")
    args = ap.parse_args()
    skyctl = find_binary(args.skyctl, "SKYCTL_BIN", "skyctl")
    skyd = find_binary(args.skyd, "SKYD_BIN", "skyd")
    if not skyctl or not skyd:
        ap.error("need --skyctl and --skyd (or SKYCTL_BIN, SKYD_BIN)")
    seed = args.seed if args.seed is not None else random.randrange(10**6)

    home = tempfile.mkdtemp(prefix="skyd-crash-")
    scenario = os.path.join(home, "scenario.yaml")
    with open(scenario, "w") as f:
        f.write(SCENARIO.format(seed=seed))
    with open(os.path.join(home, "config.yaml"), "w") as f:
        f.write(CONFIG.format(scenario=scenario))
    markers = os.path.join(home, "markers")
    d = Daemon(home, skyctl, skyd)
    log("crash harness: %d cycle(s), seed %d, SKYD_HOME=%s" %
        (args.cycles, seed, home))
    # SIGTERM (ctest's timeout, a CI cancel) must still run the cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    failed = []
    deadline = time.monotonic() + args.time_limit if args.time_limit \
        else None
    ran = 0
    out_of_time = False
    try:
        for i in range(args.cycles):
            if deadline is not None and time.monotonic() > deadline:
                log("time limit (%ss) reached after %d of %d cycle(s)" % (
                    args.time_limit, ran, args.cycles))
                out_of_time = True
                break
            cycle = Cycle(d, i, seed + i, markers, args, deadline)
            try:
                took = cycle.run()
            except HarnessError as e:
                cycle.fail("harness", str(e))
                took = 0
            ran += 1
            verdict = "FAIL" if cycle.failures else "ok"
            log("cycle %d (seed %d) %s in %.1fs: %s" % (
                i, seed + i, verdict, took, cycle.summary()))
            for f in cycle.failures:
                log("  - " + f)
            if cycle.failures:
                failed.append(i)
                log("  reproduce: %s --cycles 1 --seed %d" % (
                    sys.argv[0], seed + i))
                # Later cycles would run on top of the wreck: stop here.
                break
    finally:
        d.kill_inflight()
        try:
            d.stop()
        except Exception as e:  # still clean up the processes below
            log("stopping skyd: %s" % e)
        kill_leftovers(home)
        if failed or args.keep:
            log("SKYD_HOME kept: %s (logs/skyd.log, markers)" % home)
        else:
            shutil.rmtree(home, ignore_errors=True)
    log("%d of %d cycle(s) passed (seed %d)" % (ran - len(failed), ran, seed))
    return 1 if failed or out_of_time else 0


if __name__ == "__main__":
    sys.exit(main())
