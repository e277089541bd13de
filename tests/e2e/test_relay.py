"""ferry-relay end to end: real PostgreSQL 15 (ferry plugin) -> relay -> real Kafka 3.9.

Each test uses its own database, slot and topic prefix, so tests are independent.
The workload is the original setup's (insert a user and a product per iteration and
commit; 10% update both; 5% delete both), run from Python so the expected events per
key are known exactly.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import REPO, wait_until

COMMERCE_SQL = REPO / "sql" / "commerce.sql"


# ------------------------------------------------------------------ helpers

def murmur2(data: bytes) -> int:
    """Kafka's Java client murmur2 (Utils.murmur2)."""
    m = 0x5BD1E995
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = int.from_bytes(data[i * 4:i * 4 + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    idx = length & ~3
    if rest == 3:
        h ^= data[idx + 2] << 16
    if rest >= 2:
        h ^= data[idx + 1] << 8
    if rest >= 1:
        h ^= data[idx]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def java_partition(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def test_murmur2_vectors():
    # values of org.apache.kafka.common.utils.Utils.murmur2 (Kafka's UtilsTest)
    assert murmur2(b"21") == (-973932308) & 0xFFFFFFFF
    assert murmur2(b"foobar") == (-790332482) & 0xFFFFFFFF
    assert murmur2(b"a-little-bit-long-string") == (-985981536) & 0xFFFFFFFF
    assert murmur2(b"a-little-bit-longer-string") == (-1486304829) & 0xFFFFFFFF
    assert murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == (-58897971) & 0xFFFFFFFF
    assert murmur2(b"abc") == 479470107


def lsn_int(text: str) -> int:
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


class Relay:
    """One relay setup: database, config file, slot, topic prefix."""

    def __init__(self, pg, kafka, rundir: pathlib.Path, ferry_bins, spawn, name: str,
                 partitions: int = 3, **relay_opts):
        self.pg = pg
        self.kafka = kafka
        self.name = name
        self.db = f"relay_{name}"
        self.prefix = f"rt_{name}"
        self.slot = f"relay_{name}"
        self.partitions = partitions
        self.bin = ferry_bins.require("relay")
        self.spawn = spawn
        self.rundir = rundir
        self.runs = 0
        self.proc = None
        pg.create_database(self.db)
        pg.psql("-f", str(COMMERCE_SQL), db=self.db, check=True)
        pg.sql("CREATE EXTENSION IF NOT EXISTS ferry", db=self.db)
        opts = {
            "slot.name": self.slot,
            "topic.prefix": self.prefix,
            "schema.include.list": "commerce",
            "topic.partitions": partitions,
            "stats.interval.ms": 2000,
            "status.interval.ms": 1000,
            "reconnect.backoff.ms": 200,
            "reconnect.backoff.max.ms": 2000,
            "slot.wait.ms": 10000,
            "log.level": "info",
        }
        opts.update(relay_opts)
        self.config = self.write_config(opts)

    def write_config(self, opts: dict, kafka_extra: dict | None = None, name: str | None = None,
                     conninfo: str | None = None) -> pathlib.Path:
        lines = ["# written by tests/e2e/test_relay.py", "postgres:",
                 f"  conninfo: \"{conninfo or self.pg.dsn_for(self.db)}\"",
                 "kafka:", f"  bootstrap.servers: \"{self.kafka.bootstrap}\""]
        for k, v in (kafka_extra or {}).items():
            lines.append(f"  {k}: \"{v}\"")
        lines.append("relay:")
        for k, v in opts.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            lines.append(f"  {k}: {json.dumps(v) if isinstance(v, str) else v}")
        lines += ["sink:", "  ignored.by.the.relay: true", ""]
        path = self.rundir / f"{name or self.name}.yaml"
        path.write_text("\n".join(lines))
        return path

    def topic(self, table: str) -> str:
        return f"{self.prefix}.commerce.{table}"

    def start(self, config: pathlib.Path | None = None):
        self.runs += 1
        self.proc = self.spawn([self.bin, "-c", config or self.config], f"relay-{self.name}-{self.runs}")
        return self.proc

    def log(self, proc=None) -> str:
        p = proc or self.proc
        return pathlib.Path(p.log_path).read_text(errors="replace")

    def wait_log(self, text: str, timeout: float = 60.0, proc=None):
        p = proc or self.proc

        def seen():
            if text in self.log(p):
                return True
            if p.poll() is not None:
                raise AssertionError(f"relay exited ({p.returncode}) before logging {text!r}:\n"
                                     + self.log(p)[-3000:])
            return False
        wait_until(seen, timeout, f"relay log line {text!r}")

    def stop(self, expect: int = 0, timeout: float = 60.0):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        assert rc == expect, f"relay exit {rc}, log:\n{self.log()[-3000:]}"
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def confirmed(self) -> int:
        v = self.pg.sql1(f"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{self.slot}'")
        return lsn_int(v) if v else 0


class Workload:
    """The original generator, with the expected Debezium events per key."""

    def __init__(self, pg, db: str, seed: int = 7):
        self.conn = pg.connect(db)
        self.rnd = random.Random(seed)
        self.expected: dict[tuple[str, int], list[tuple]] = {}
        self.rows: dict[tuple[str, int], dict] = {}
        self.iterations = 0
        self.lock = threading.Lock()

    def _ev(self, table, id_, ev):
        self.expected.setdefault((table, id_), []).append(ev)

    def _user(self):
        return {"username": f"user{self.rnd.randrange(10**6)}'\"\\é",
                "password": f"pw{self.rnd.randrange(10**9)}"}

    def _product(self):
        return {"name": f"product {self.rnd.randrange(10**6)}",
                "description": None if self.rnd.random() < 0.2 else "desc " * self.rnd.randrange(1, 20),
                "price": self.rnd.randrange(1, 40000) / 4.0}

    def preload(self, n: int):
        """Rows that exist before the relay starts: they arrive as snapshot reads."""
        for _ in range(n):
            u, p = self._user(), self._product()
            with self.conn.transaction():
                uid = self.conn.execute("INSERT INTO commerce.users (username, password) VALUES (%s, %s) RETURNING id",
                                        (u["username"], u["password"])).fetchone()[0]
                pid = self.conn.execute("INSERT INTO commerce.products (id, name, description, price) "
                                        "VALUES (%s, %s, %s, %s) RETURNING id",
                                        (uid, p["name"], p["description"], p["price"])).fetchone()[0]
            self.rows[("users", uid)] = {"id": uid, **u}
            self.rows[("products", pid)] = {"id": pid, **p}
        # a few updates and deletes before the snapshot: only the final state is read
        for (t, i) in list(self.rows)[: n // 3]:
            if t == "users":
                self.conn.execute("UPDATE commerce.users SET username = username || '-pre' WHERE id = %s", (i,))
                self.rows[(t, i)]["username"] += "-pre"
        for (t, i) in list(self.rows)[-4:]:
            self.conn.execute(f"DELETE FROM commerce.{t} WHERE id = %s", (i,))
            del self.rows[(t, i)]
        for key, row in sorted(self.rows.items()):
            self._ev(key[0], key[1], ("r", None, dict(row)))

    def step(self):
        u, p = self._user(), self._product()
        with self.lock:
            with self.conn.transaction():
                uid = self.conn.execute("INSERT INTO commerce.users (username, password) VALUES (%s, %s) RETURNING id",
                                        (u["username"], u["password"])).fetchone()[0]
                self.conn.execute("INSERT INTO commerce.products (id, name, description, price) VALUES (%s, %s, %s, %s)",
                                  (uid, p["name"], p["description"], p["price"]))
            urow, prow = {"id": uid, **u}, {"id": uid, **p}
            self._ev("users", uid, ("c", None, dict(urow)))
            self._ev("products", uid, ("c", None, dict(prow)))
            if self.rnd.random() < 0.10:
                nu, np_ = dict(urow), dict(prow)
                nu["username"] = f"renamed{self.rnd.randrange(10**6)}"
                np_["name"] = f"renamed product {self.rnd.randrange(10**6)}"
                with self.conn.transaction():
                    self.conn.execute("UPDATE commerce.users SET username = %s WHERE id = %s", (nu["username"], uid))
                    self.conn.execute("UPDATE commerce.products SET name = %s WHERE id = %s", (np_["name"], uid))
                self._ev("users", uid, ("u", dict(urow), dict(nu)))
                self._ev("products", uid, ("u", dict(prow), dict(np_)))
                urow, prow = nu, np_
            if self.rnd.random() < 0.05:
                with self.conn.transaction():
                    self.conn.execute("DELETE FROM commerce.users WHERE id = %s", (uid,))
                    self.conn.execute("DELETE FROM commerce.products WHERE id = %s", (uid,))
                for t, row in (("users", urow), ("products", prow)):
                    self._ev(t, uid, ("d", dict(row), None))
                    self._ev(t, uid, ("tombstone",))
            self.iterations += 1

    def multi_row(self, n: int = 50):
        """One transaction with many events (they share one commit LSN)."""
        with self.lock:
            with self.conn.transaction():
                for _ in range(n):
                    u = self._user()
                    uid = self.conn.execute("INSERT INTO commerce.users (username, password) VALUES (%s, %s) "
                                            "RETURNING id", (u["username"], u["password"])).fetchone()[0]
                    self._ev("users", uid, ("c", None, {"id": uid, **u}))

    def count(self, table: str) -> int:
        return sum(len(v) for (t, _), v in self.expected.items() if t == table)

    def run_background(self, stop: threading.Event, rate: float = 100.0):
        def loop():
            while not stop.is_set():
                self.step()
                if self.iterations % 40 == 0:
                    self.multi_row(20)
                time.sleep(1.0 / rate)
        th = threading.Thread(target=loop, daemon=True)
        th.start()
        return th


def decode(records, table: str):
    """Kafka records -> list of (partition, offset, key_bytes, id, event, value_json) in topic order."""
    out = []
    for part, off, key, value, headers in records:
        k = json.loads(key)
        assert set(k) == {"schema", "payload"}, k
        id_ = k["payload"]["id"]
        if value is None:
            out.append((part, off, key, id_, ("tombstone",), None, headers))
            continue
        v = json.loads(value)
        assert set(v) == {"schema", "payload"}, v
        pl = v["payload"]
        out.append((part, off, key, id_, (pl["op"], pl["before"], pl["after"]), pl, headers))
    return out


def by_key(decoded, table):
    got: dict[tuple[str, int], list] = {}
    for rec in decoded:
        got.setdefault((table, rec[3]), []).append(rec)
    return got


def read_all(kafka, relay: Relay, wl: Workload, timeout: float = 90.0):
    res = {}
    for t in ("users", "products"):
        want = wl.count(t)
        recs = kafka.read_topic(relay.topic(t), timeout=timeout, min_records=want)
        res[t] = decode(recs, t)
    return res


# ------------------------------------------------------------------ tests

def test_relay_snapshot_and_stream(pg, kafka, rundir, ferry_bins, spawn):
    """Snapshot of pre-existing rows, then the streamed workload: exactly the expected
    events per key, Debezium keys/values/tombstones, murmur2 partitions, SIGTERM exit 0
    with everything confirmed."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "main", partitions=3,
              **{"heartbeat.interval.ms": 500})
    wl = Workload(pg, r.db)
    wl.preload(30)
    r.start()
    r.wait_log("snapshot done")
    r.wait_log("streaming from slot")
    for i in range(150):
        wl.step()
        if i % 50 == 0:
            wl.multi_row(30)
    last_lsn = lsn_int(pg.sql1("SELECT pg_current_wal_lsn()", db=r.db))

    got = read_all(kafka, r, wl)
    for t in ("users", "products"):
        recs = got[t]
        assert len(recs) == wl.count(t), f"{t}: {len(recs)} records, want {wl.count(t)}"
        # partitions: Java murmur2 of the key bytes, 3 partitions
        for part, off, key, id_, ev, pl, headers in recs:
            assert part == java_partition(key, 3), (t, id_, part)
        # per key: exactly the expected sequence
        per = by_key(sorted(recs, key=lambda x: (x[0], x[1])), t)
        exp = {k: v for k, v in wl.expected.items() if k[0] == t}
        assert set(per) == set(exp), f"{t}: key sets differ"
        for k, evs in exp.items():
            assert [x[4] for x in per[k]] == evs, f"{k}: got {[x[4] for x in per[k]]}, want {evs}"
        # envelope details
        for part, off, key, id_, ev, pl, headers in recs:
            if pl is None:
                continue
            src = pl["source"]
            assert src["schema"] == "commerce" and src["table"] == t
            assert src["name"] == r.prefix
            if ev[0] == "r":
                assert src["snapshot"] in ("first", "true", "last", "first_in_data_collection",
                                           "last_in_data_collection")
            else:
                assert src["snapshot"] == "false"
                assert src["lsn"] <= last_lsn
    markers = [pl["source"]["snapshot"] for t in got for *_, pl, h in got[t] if pl and pl["op"] == "r"]
    assert markers.count("first") == 1 and markers.count("last") == 1, markers

    # heartbeats: Debezium's topic, key and value shape, partition 0
    hb = kafka.read_topic(f"__debezium-heartbeat.{r.prefix}", timeout=20, min_records=1)
    assert hb, "no heartbeat records"
    k = json.loads(hb[0][2])
    v = json.loads(hb[0][3])
    assert k["payload"] == {"serverName": r.prefix}
    assert k["schema"]["name"] == "io.debezium.connector.common.ServerNameKey"
    assert v["schema"]["name"] == "io.debezium.connector.common.Heartbeat"
    assert isinstance(v["payload"]["ts_ms"], int)
    assert all(rec[0] == 0 for rec in hb)

    # everything delivered -> the slot's confirmed position passes the last change
    wait_until(lambda: r.confirmed() >= max(pl["source"]["lsn"] for t in got for *_, pl, h in got[t] if pl),
               20, "slot confirmed position to pass the last change")
    r.stop(0)
    log = r.log()
    assert "stopped; confirmed flush position" in log
    assert "stats:" in log and "events/s" in log

    # a restart streams nothing again: no duplicates after a clean stop
    before = {t: len(kafka.read_topic(r.topic(t), timeout=5)) for t in ("users", "products")}
    r.start()
    r.wait_log("streaming from slot")
    wl.step()
    for t in ("users", "products"):
        recs = kafka.read_topic(r.topic(t), timeout=30, min_records=wl.count(t))
        assert len(recs) == wl.count(t), f"{t}: {len(recs)} after restart, want {wl.count(t)} (was {before[t]})"
    r.stop(0)


def test_relay_idle_slot_advances(pg, kafka, rundir, ferry_bins, spawn):
    """Captured tables idle, another table busy: the slot's confirmed position follows
    the server (keepalives answered when nothing is in flight)."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "idle", partitions=1,
              **{"snapshot.mode": "never", "slot.retained.wal.warn.bytes": 1, "slot.check.interval.ms": 1000,
                 "heartbeat.interval.ms": 300,
                 "heartbeat.action.query": "SELECT pg_logical_emit_message(false, 'ferry-heartbeat', now()::text)"})
    pg.sql("CREATE TABLE public.noise (id serial primary key, v text)", db=r.db)
    r.start()
    r.wait_log("streaming from slot")
    for _ in range(5):
        pg.sql("INSERT INTO public.noise (v) SELECT repeat('x', 100) FROM generate_series(1, 500)", db=r.db)
    target = lsn_int(pg.sql1("SELECT pg_current_wal_lsn()", db=r.db))
    wait_until(lambda: r.confirmed() >= target, 30, "confirmed_flush_lsn to pass the noise writes")
    # the retained-WAL warning (threshold 1 byte here) and the heartbeat query
    r.wait_log(f'replication slot "{r.slot}" retains', timeout=15)
    assert "could not run heartbeat.action.query" not in r.log()
    assert kafka.read_topic(f"__debezium-heartbeat.{r.prefix}", timeout=10, min_records=1)
    r.stop(0)


def _crash_check(wl: Workload, kafka, r: Relay, segments: list[tuple[dict, int]],
                 xid_end: dict[int, int] | None = None):
    """Every expected event at least once, per-key order preserved, and no incarnation
    writes a record of a transaction that was confirmed before it started.

    xid_end maps each transaction id to the end LSN of its commit (from an independent
    test_decoding slot): a transaction is confirmed by position C when its end LSN is
    at or below C."""
    # barrier: the slot confirms a position only once Kafka acknowledged everything before it
    end = lsn_int(r.pg.sql1("SELECT pg_current_wal_lsn()", db=r.db))
    wait_until(lambda: r.confirmed() >= end, 90, "the relay to confirm the end of the workload")
    for t in ("users", "products"):
        recs = kafka.read_topic(r.topic(t), timeout=90, min_records=wl.count(t))
        dec = decode(recs, t)
        # (1) at least once + per-key order: the per-key stream, with replays, covers the
        # expected sequence in order; a replay restarts at an earlier event.
        per = by_key(dec, t)
        for k, evs in ((k, v) for k, v in wl.expected.items() if k[0] == t):
            got = [x[4] for x in per.get(k, [])]
            # greedy subsequence match of the expected sequence in what was written
            i = 0
            for ev in got:
                if i < len(evs) and ev == evs[i]:
                    i += 1
                elif ev in evs[:i]:
                    # a replayed event: must repeat a suffix of what was already written
                    continue
                else:
                    raise AssertionError(f"{k}: unexpected event {ev} at position {i}; got {got}, want {evs}")
            assert i == len(evs), f"{k}: only {i} of {len(evs)} expected events; got {got}, want {evs}"
        # (2) duplicates only after the last confirmed position: an incarnation that started
        # at confirmed position C writes no record of a transaction committed at or before C.
        if not xid_end:
            continue
        checked = 0
        for high_watermarks, confirmed in segments:
            start = high_watermarks.get(t, 0)
            for part, off, key, id_, ev, pl, headers in dec:
                if off >= start and pl is not None and pl["op"] != "r":
                    end = xid_end.get(pl["source"]["txId"])
                    assert end is not None, f"{t} offset {off}: unknown txId {pl['source']['txId']}"
                    assert end > confirmed, (
                        f"{t} offset {off}: transaction {pl['source']['txId']} (end {end:X}) was "
                        f"confirmed ({confirmed:X}) before this incarnation started")
                    checked += 1
        assert checked > 0, f"{t}: no record written after a restart was checked"


def _oracle_slot(pg, db: str, name: str) -> None:
    pg.sql(f"SELECT pg_create_logical_replication_slot('{name}', 'test_decoding')", db=db)


def _oracle_commits(pg, db: str, name: str) -> dict[int, int]:
    """xid -> end LSN of its commit, from the test_decoding slot, which is then dropped."""
    rows = pg.slot_changes(name, "include-xids", "1", "skip-empty-xacts", "1", peek=True, db=db)
    out = {}
    for lsn, xid, data in rows:
        if data.startswith("COMMIT"):
            out[int(xid)] = lsn_int(lsn)
    pg.sql(f"SELECT pg_drop_replication_slot('{name}')", db=db)
    return out


def _end_offsets(kafka, topic: str) -> int:
    recs = kafka.read_topic(topic, timeout=2)
    return (recs[-1][1] + 1) if recs else 0


def test_relay_kill9_crash_safety(pg, kafka, rundir, ferry_bins, spawn):
    """kill -9 the relay at random moments (10 times) during a running workload."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "crash", partitions=1)
    wl = Workload(pg, r.db, seed=11)
    wl.preload(20)
    r.start()
    r.wait_log("streaming from slot")
    _oracle_slot(pg, r.db, "oracle_crash")
    stop = threading.Event()
    th = wl.run_background(stop, rate=150)
    rnd = random.Random(3)
    segments = []
    try:
        for _ in range(10):
            time.sleep(rnd.uniform(0.3, 1.5))
            r.kill9()
            time.sleep(0.3)
            confirmed = r.confirmed()
            hw = {t: _end_offsets(kafka, r.topic(t)) for t in ("users", "products")}
            segments.append((hw, confirmed))
            r.start()
            r.wait_log("streaming from slot", timeout=30)
    finally:
        stop.set()
        th.join(10)
    assert wl.iterations > 100
    _crash_check(wl, kafka, r, segments, _oracle_commits(pg, r.db, "oracle_crash"))
    r.stop(0)


def test_relay_postgres_restart(pg, kafka, rundir, ferry_bins, spawn):
    """Postgres restarts mid-stream, then the walsender is terminated: the relay
    reconnects with backoff and resumes from the confirmed position, nothing lost."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "pgrestart", partitions=1,
              **{"snapshot.mode": "never"})
    wl = Workload(pg, r.db, seed=5)
    r.start()
    r.wait_log("streaming from slot")
    for _ in range(100):
        wl.step()
    pgbin = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    data = pathlib.Path(pg.socket_dir) / "pgdata"
    cmd = [f"{pgbin}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "60", "-l", str(pg.log), "restart"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    confirmed = r.confirmed()
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    wl.conn = pg.connect(r.db)
    for _ in range(100):
        wl.step()
    # network loss as the relay sees it: the server ends the walsender mid-stream
    r.wait_log("streaming from slot", timeout=30)
    wait_until(lambda: pg.sql1(f"SELECT active_pid FROM pg_replication_slots WHERE slot_name = '{r.slot}'"),
               30, "the relay to be streaming again")
    pg.sql(f"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '{r.slot}'")
    for _ in range(50):
        wl.step()
    _crash_check(wl, kafka, r, [({"users": 0, "products": 0}, 0)])
    assert r.proc.poll() is None, "relay exited on a Postgres restart"
    log = r.log()
    assert "reconnecting" in log or "retrying" in log, log[-2000:]
    assert r.confirmed() > confirmed
    r.stop(0)


def _kafka_restart(kafka, down_seconds: float, during=None):
    """Stop the session broker by its PID and start it again on the same data."""
    d = pathlib.Path(kafka.log).parent
    pidfile = d / "kafka.pid"
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 60, "kafka broker to stop")
    t_end = time.monotonic() + down_seconds
    while time.monotonic() < t_end:
        if during:
            during()
        time.sleep(0.05)
    cache = pathlib.Path(os.environ.get("FERRY_CACHE", os.path.expanduser("~/.cache/ferry")))
    jopts = ["-Xms512m", "-Xmx512m", "-server", "-XX:+UseG1GC", "-Djava.awt.headless=true",
             f"-Dkafka.logs.dir={d}", f"-Dlog4j.configuration=file:{d}/log4j.properties"]
    with open(d / "kafka.log", "ab") as log:
        p = subprocess.Popen(["java", *jopts, "-cp", f"{cache}/kafka3/lib/*", "kafka.Kafka",
                              str(d / "server.properties")], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    pidfile.write_text(str(p.pid))

    def up():
        r = subprocess.run(["kcat", "-b", kafka.bootstrap, "-L", "-m", "2"], capture_output=True, text=True)
        return "1 brokers" in r.stdout
    wait_until(up, 90, "kafka broker to come back")


def test_relay_kafka_restart(pg, kafka, rundir, ferry_bins, spawn):
    """The broker goes down mid-stream: the relay buffers, waits, and resumes."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "kafkarestart", partitions=1,
              **{"snapshot.mode": "never"})
    # a tiny producer queue: the outage fills it, and the relay must stop reading
    # (backpressure) rather than buffer without bound
    r.config = r.write_config({"slot.name": r.slot, "topic.prefix": r.prefix, "snapshot.mode": "never",
                               "schema.include.list": "commerce", "status.interval.ms": 1000},
                              kafka_extra={"queue.buffering.max.messages": 20})
    wl = Workload(pg, r.db, seed=9)
    r.start()
    r.wait_log("streaming from slot")
    for _ in range(50):
        wl.step()
    read_all(kafka, r, wl)
    _kafka_restart(kafka, 3.0, during=wl.step)
    for _ in range(50):
        wl.step()
    assert r.proc.poll() is None, "relay exited while the broker was down:\n" + r.log()[-2000:]
    _crash_check(wl, kafka, r, [({"users": 0, "products": 0}, 0)])
    assert "Kafka brokers are reachable again" in r.log() or "all Kafka brokers are down" not in r.log()
    r.stop(0)


def test_relay_kill9_during_snapshot(pg, kafka, rundir, ferry_bins, spawn):
    """A relay killed in the middle of the initial snapshot leaves no slot behind, so
    the next start takes the whole snapshot again: nothing is lost at the seam."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "snapcrash", partitions=1)
    pg.sql("INSERT INTO commerce.users (username, password) "
           "SELECT 'u' || g, 'p' || g FROM generate_series(1, 5000) g", db=r.db)
    # first run: a producer that can hold only 10 records and waits 500 ms to send
    # them, so the snapshot is still running (backpressure) when it is killed
    slow = r.write_config({"slot.name": r.slot, "topic.prefix": r.prefix, "schema.include.list": "commerce",
                           "snapshot.fetch.size": 1},
                          kafka_extra={"queue.buffering.max.messages": 10, "linger.ms": 500},
                          name="snapcrash-slow")
    r.start(slow)
    r.wait_log("snapshot of table commerce.products done")
    time.sleep(1.0)
    r.kill9()
    assert "snapshot done" not in r.log()
    time.sleep(0.5)
    assert pg.sql1(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{r.slot}'") == "0"
    r.start()
    r.wait_log("snapshot done", timeout=120)
    r.wait_log("streaming from slot")
    pg.sql("INSERT INTO commerce.users (username, password) VALUES ('after', 'snapshot')", db=r.db)
    # the first run's partial snapshot is in the topic too: wait for the confirmation
    end = lsn_int(pg.sql1("SELECT pg_current_wal_lsn()", db=r.db))
    wait_until(lambda: r.confirmed() >= end, 60, "the relay to confirm the insert")
    recs = decode(kafka.read_topic(r.topic("users"), timeout=60, min_records=5001), "users")
    ids = {rec[3] for rec in recs if rec[4][0] == "r"}
    assert ids == set(range(1, 5001))
    assert any(rec[4][0] == "c" and rec[4][2]["username"] == "after" for rec in recs)
    r.stop(0)


def test_relay_snapshot_modes(pg, kafka, rundir, ferry_bins, spawn):
    """initial_only: snapshot and exit 0, no slot; never: a slot, no snapshot;
    always: a snapshot at every start, then streaming from the slot."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "modes", partitions=1, **{"snapshot.mode": "initial_only"})
    pg.sql("INSERT INTO commerce.users (username, password) SELECT 'u' || g, 'p' FROM generate_series(1, 10) g",
           db=r.db)
    res = subprocess.run([str(r.bin), "-c", str(r.config)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "snapshot done: 10 rows" in res.stderr
    assert pg.sql1(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{r.slot}'") == "0"
    recs = decode(kafka.read_topic(r.topic("users"), timeout=30, min_records=10), "users")
    assert [x[4][0] for x in recs] == ["r"] * 10

    base = {"slot.name": r.slot, "topic.prefix": r.prefix, "schema.include.list": "commerce",
            "status.interval.ms": 500}
    r.config = r.write_config({**base, "snapshot.mode": "never"}, name="modes-never")
    r.start()
    r.wait_log("streaming from slot")
    assert "snapshot of" not in r.log()
    pg.sql("INSERT INTO commerce.users (username, password) VALUES ('new', 'p')", db=r.db)
    recs = decode(kafka.read_topic(r.topic("users"), timeout=30, min_records=11), "users")
    assert [x[4][0] for x in recs] == ["r"] * 10 + ["c"]
    r.stop(0)

    r.config = r.write_config({**base, "snapshot.mode": "always"}, name="modes-always")
    r.start()
    r.wait_log("streaming from slot")
    assert "snapshot done: 11 rows" in r.log()
    recs = decode(kafka.read_topic(r.topic("users"), timeout=30, min_records=22), "users")
    assert [x[4][0] for x in recs] == ["r"] * 10 + ["c"] + ["r"] * 11
    r.stop(0)


def test_relay_second_signal_exits_at_once(pg, kafka, rundir, ferry_bins, spawn):
    """One SIGTERM: orderly stop, exit 0.  While the relay is blocked on Kafka (here an
    unreachable broker at start-up), a second SIGTERM exits at once (exit 1)."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "sig2", partitions=1,
              **{"snapshot.mode": "never", "shutdown.timeout.ms": 60000})
    r.start()
    r.wait_log("streaming from slot")
    r.proc.send_signal(signal.SIGTERM)
    assert r.proc.wait(30) == 0
    assert "stopped; confirmed flush position" in r.log()
    cfg = r.write_config({"slot.name": r.slot, "topic.prefix": r.prefix, "snapshot.mode": "never",
                          "schema.include.list": "commerce", "kafka.timeout.ms": 60000}, name="sig2-dead")
    cfg.write_text(cfg.read_text().replace(kafka.bootstrap, "127.0.0.1:1"))
    p = r.start(cfg)
    r.wait_log("starting ferry-relay", proc=p)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == 1
    assert "second signal, exiting at once" in r.log(p)


def test_relay_inline_topics(pg, kafka, rundir, ferry_bins, spawn):
    """Records the plugin sends with their topic inline (schema id 0): transaction
    metadata and logical decoding messages, transactional or not."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "inline", partitions=1,
              **{"snapshot.mode": "never", "provide.transaction.metadata": True})
    r.start()
    r.wait_log("streaming from slot")
    pg.sql("BEGIN; INSERT INTO commerce.users (username, password) VALUES ('tx', 'meta'); "
           "SELECT pg_logical_emit_message(true, 'ferry-test', 'in a transaction'); COMMIT", db=r.db)
    pg.sql("SELECT pg_logical_emit_message(false, 'ferry-test', 'on its own')", db=r.db)
    end = lsn_int(pg.sql1("SELECT pg_current_wal_lsn()", db=r.db))
    wait_until(lambda: r.confirmed() >= end, 30, "the relay to confirm the messages")
    tx = kafka.read_topic(f"{r.prefix}.transaction", timeout=20, min_records=2)
    status = [json.loads(v)["payload"]["status"] for _, _, k, v, _ in tx]
    assert status == ["BEGIN", "END"], status
    msgs = kafka.read_topic(f"{r.prefix}.message", timeout=20, min_records=2)
    assert len(msgs) == 2, msgs
    users = decode(kafka.read_topic(r.topic("users"), timeout=20, min_records=1), "users")
    assert users[0][5]["transaction"] is not None
    r.stop(0)


def test_relay_alter_table_mid_stream(pg, kafka, rundir, ferry_bins, spawn):
    """ALTER TABLE while streaming: the plugin sends a new 'S' frame and the relay's
    values carry the new schema from the next change on."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "alter", partitions=1, **{"snapshot.mode": "never"})
    r.start()
    r.wait_log("streaming from slot")
    pg.sql("INSERT INTO commerce.users (username, password) VALUES ('before', 'x')", db=r.db)
    pg.sql("ALTER TABLE commerce.users ADD COLUMN email text", db=r.db)
    pg.sql("INSERT INTO commerce.users (username, password, email) VALUES ('after', 'x', 'a@b')", db=r.db)
    recs = decode(kafka.read_topic(r.topic("users"), timeout=30, min_records=2), "users")
    assert [x[5]["after"]["username"] for x in recs] == ["before", "after"]
    assert "email" not in recs[0][5]["after"]
    assert recs[1][5]["after"]["email"] == "a@b"
    r.stop(0)
