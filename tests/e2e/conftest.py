"""Session-scoped pytest fixtures that run Ferry's real peers on 127.0.0.1.

Every peer is started lazily (only when a test asks for it) by the scripts in
tests/tools/peers/, on free ports, with all data and logs in one run directory, and
stopped at the end of the session. The run directory is deleted when every test
passed; it is kept (and the tail of each peer log is printed) when one failed, or
always with FERRY_KEEP_RUNDIR=1. Peers need what tests/tools/deps.sh installs.

Fixtures
--------
``rundir`` -> pathlib.Path
    The session's run directory (``$FERRY_RUN_BASE/ferry-e2e-XXXX``, default under /tmp;
    tests/run.sh sets FERRY_RUN_BASE and stops leftovers there after a crash). Put daemon
    configs/logs here.

``pg`` -> Postgres
    PostgreSQL 15 cluster (wal_level=logical, 20 slots, trust auth, output plugins
    pgoutput/test_decoding/ferry/wal2json/decoderbufs allowed).
    Attributes: ``host`` ('127.0.0.1'), ``port``, ``socket_dir``, ``user`` ('postgres'),
    ``dbname`` ('postgres'), ``dsn`` (libpq keyword string), ``url`` (postgresql://...),
    ``log`` (path of the server log), ``has_ferry`` (ferry.control installed).
    Methods:
      ``sql(query, db=None) -> list[tuple[str|None,...]]``  run SQL with psql (-X, ON_ERROR_STOP,
          one transaction per call unless the text has its own); rows of text values, NULL -> None.
          Raises ``SqlError`` (with psql's stderr) on error.
      ``sql1(query, db=None) -> str|None``  first column of the first row.
      ``psql(*args, input=None, db=None) -> CompletedProcess``  raw psql.
      ``connect(db=None, **kw) -> psycopg.Connection``  autocommit connection (psycopg 3).
      ``dsn_for(db)`` / ``create_database(name) -> dsn``.
      ``slot_changes(slot, *options, peek=False, db=None) -> list[(lsn, xid, data)]``
          ``pg_logical_slot_get_changes(slot, NULL, NULL, *options)`` (or peek).

``kafka`` -> Kafka
    Kafka 3.9.1 KRaft single node, auto-create topics, 1 partition by default.
    Attributes: ``bootstrap`` ('127.0.0.1:PORT'), ``port``, ``log``.
    Methods:
      ``read_topic(topic, timeout=10.0, min_records=0) -> list[(partition, offset, key, value, headers)]``
          everything from the beginning up to the current end of every partition (waits up to
          ``timeout`` for the topic to exist / for at least ``min_records``); key/value are bytes or
          None, headers a list of (name, bytes) tuples (as confluent-kafka gives them), sorted by
          (partition, offset).
      ``produce(topic, value, key=None, headers=None, partition=None)`` (flushes).
      ``topics() -> set[str]``; ``create_topic(name, partitions=1)``.

``s3`` -> S3
    versitygw (posix backend, strict SigV4, region us-east-1) with bucket ``commerce``.
    Attributes: ``endpoint`` ('http://127.0.0.1:PORT'), ``access_key``, ``secret_key``,
    ``region``, ``bucket``, ``data_dir`` (the bucket's files are under data_dir/<bucket>), ``log``,
    ``client`` (boto3 S3 client, path-style).
    Methods: ``client_with(secret_key=..., access_key=...)``; ``keys(prefix='') -> list[str]``
    (sorted); ``get(key) -> bytes``; ``put(key, body)``; ``env() -> dict`` of AWS_* variables for
    subprocesses (awscli, duckdb).

``ferry_bins`` -> FerryBins
    ``relay`` / ``sink``: pathlib.Path of relay/ferry-relay and sink/ferry-sink (the build's);
    ``require(name)`` fails the test with a clear message if that binary was not built.
    ``flavor``: the binary flavour, from env ``FERRY_BIN_FLAVOR`` (default ``plain``):
      ``plain``     the normal build;
      ``asan``      relay/asan/ferry-relay and sink/asan/ferry-sink (``make asan``: ASan + UBSan),
                    run with ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86
                    and UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86, ASan/LSan
                    reports written to ``rundir/sanitizer/asan.<pid>`` (set in os.environ, so
                    daemons run with subprocess.run get them too); UBSan (GCC) ignores log_path and
                    reports on stderr, so the daemon logs of ``spawn`` are searched too;
      ``valgrind``  the normal build, and ``spawn`` runs the daemons under ``valgrind
                    --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=87``
                    with the report in ``rundir/sanitizer/vg-<name>.<pid>`` (slow: small tests only).
    In the asan and valgrind flavours every test FAILS (an error at teardown, after ``spawn`` stopped
    its daemons) when a sanitizer or valgrind log written during the test has a report; the report is
    printed. A daemon stopped by SIGTERM exits normally, so LeakSanitizer/valgrind check it for leaks;
    one killed with SIGKILL leaves no leak report.
    ``FERRY_TIMEOUT_SCALE`` (default 1; 3 under valgrind) multiplies ``wait_until`` timeouts.

``spawn`` -> callable (function-scoped)
    ``spawn(argv, name, env=None, cwd=None) -> subprocess.Popen`` starts a daemon with stdout+stderr
    in ``rundir/<name>.log`` (PID in ``rundir/<name>.pid``, so tests/run.sh can stop it after a crash); the process is terminated (TERM, then KILL after 10 s) when the test
    ends (60 s under valgrind), and its log tail is printed if the test failed. ``proc.log_path`` is
    the log.

Module helpers: ``REPO`` (repo root), ``free_ports(n)``, ``wait_until(pred, timeout, what)``,
``FLAVOR``, ``sanitizer_reports(paths)`` (the reports in sanitizer/valgrind logs, as text).
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PEERS = REPO / "tests" / "tools" / "peers"

os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")

FLAVOR = os.environ.get("FERRY_BIN_FLAVOR", "") or "plain"
if FLAVOR not in ("plain", "asan", "valgrind"):
    raise RuntimeError(f"FERRY_BIN_FLAVOR={FLAVOR!r}: want plain, asan or valgrind")
TIMEOUT_SCALE = float(os.environ.get("FERRY_TIMEOUT_SCALE") or (3 if FLAVOR == "valgrind" else 1))
ASAN_OPTIONS = "detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86"
UBSAN_OPTIONS = "print_stacktrace=1:halt_on_error=1:exitcode=86"
VALGRIND = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=87", "--num-callers=30", "--track-origins=no"]

_failed_tests: list[str] = []
_peer_logs: dict[str, pathlib.Path] = {}


# ------------------------------------------------------------------ helpers

def free_ports(n: int = 1) -> int:
    """First of n consecutive free TCP ports on 127.0.0.1 (random-ish, 20000-45000)."""
    rnd = random.Random(os.getpid() ^ time.time_ns())
    for _ in range(200):
        base = rnd.randrange(20000, 45000 - n)
        socks = []
        try:
            for i in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range found")


def wait_until(pred, timeout: float = 30.0, what: str = "condition", interval: float = 0.2):
    """Poll pred() until it returns a truthy value (returned); raise TimeoutError after timeout s
    (times FERRY_TIMEOUT_SCALE)."""
    timeout *= TIMEOUT_SCALE
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _tail(path: pathlib.Path, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(lines[-n:])


def _run_script(script: str, *args: str, env=None) -> None:
    r = subprocess.run(["bash", str(PEERS / script), *args], capture_output=True, text=True,
                       env=env, timeout=180)
    if r.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed (exit {r.returncode}):\n"
                           f"{r.stdout}\n{r.stderr}")


class SqlError(RuntimeError):
    pass


# ------------------------------------------------------------------ Postgres

class Postgres:
    def __init__(self, rundir: pathlib.Path, port: int):
        self.host = "127.0.0.1"
        self.port = port
        self.socket_dir = str(rundir)
        self.user = "postgres"
        self.dbname = "postgres"
        self.rundir = rundir
        self.log = rundir / "pg.log"
        self.dsn = self.dsn_for(self.dbname)
        self.url = f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"
        sharedir = subprocess.run(["pg_config", "--sharedir"], capture_output=True, text=True).stdout.strip()
        self.has_ferry = bool(sharedir) and os.path.exists(os.path.join(sharedir, "extension", "ferry.control"))

    def dsn_for(self, db: str) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={db}"

    def psql(self, *args: str, input: str | None = None, db: str | None = None,
             check: bool = False) -> subprocess.CompletedProcess:
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port),
               "-U", self.user, "-d", db or self.dbname, *args]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PGTZ": os.environ.get("PGTZ", "UTC")})
        if check and r.returncode != 0:
            raise SqlError(f"psql failed (exit {r.returncode}): {r.stderr.strip()}")
        return r

    def sql(self, query: str, db: str | None = None) -> list[tuple]:
        """Rows as tuples of text (None for NULL). Field/record separators are \\x1f / \\x1e."""
        r = self.psql("-A", "-t", "-P", "null=\x1dNULL\x1d", "-F", "\x1f", "-R", "\x1e",
                      "-c", query, db=db)
        if r.returncode != 0:
            raise SqlError(f"SQL failed: {r.stderr.strip()}\n--- query:\n{query}")
        out = r.stdout
        if out.endswith("\n"):
            out = out[:-1]
        rows = []
        for rec in out.split("\x1e"):
            if rec == "":
                continue
            rows.append(tuple(None if v == "\x1dNULL\x1d" else v for v in rec.split("\x1f")))
        return rows

    def sql1(self, query: str, db: str | None = None):
        rows = self.sql(query, db=db)
        return rows[0][0] if rows and rows[0] else None

    def connect(self, db: str | None = None, **kw):
        import psycopg
        kw.setdefault("autocommit", True)
        return psycopg.connect(self.dsn_for(db or self.dbname), **kw)

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.dsn_for(name)

    def slot_changes(self, slot: str, *options: str, peek: bool = False, db: str | None = None):
        fn = "pg_logical_slot_peek_changes" if peek else "pg_logical_slot_get_changes"
        args = "".join(", " + _sql_literal(o) for o in options)
        return self.sql(f"SELECT lsn, xid, data FROM {fn}({_sql_literal(slot)}, NULL, NULL{args})", db=db)


def _sql_literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# ------------------------------------------------------------------ Kafka

class Kafka:
    def __init__(self, rundir: pathlib.Path, port: int):
        self.port = port
        self.bootstrap = f"127.0.0.1:{port}"
        self.log = rundir / "kafka.log"

    def _admin(self):
        from confluent_kafka.admin import AdminClient
        return AdminClient({"bootstrap.servers": self.bootstrap})

    def topics(self) -> set[str]:
        md = self._admin().list_topics(timeout=10)
        return {t for t in md.topics if not t.startswith("__")}

    def create_topic(self, name: str, partitions: int = 1) -> None:
        from confluent_kafka.admin import NewTopic
        admin = self._admin()   # keep the client alive until the futures resolve
        fs = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        for f in fs.values():
            f.result(timeout=30)
        del admin

    def produce(self, topic: str, value, key=None, headers=None, partition=None) -> None:
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0})
        errs = []
        kw = {"value": value, "key": key, "headers": headers,
              "on_delivery": lambda err, msg: errs.append(err) if err else None}
        if partition is not None:
            kw["partition"] = partition
        p.produce(topic, **kw)
        left = p.flush(30)
        if left or errs:
            raise RuntimeError(f"produce to {topic} failed: {errs or 'not delivered'}")

    def read_topic(self, topic: str, timeout: float = 10.0, min_records: int = 0):
        from confluent_kafka import Consumer, TopicPartition, KafkaException
        deadline = time.monotonic() + timeout
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"ferry-test-{uuid.uuid4()}",
                      "enable.auto.commit": False, "auto.offset.reset": "earliest",
                      "enable.partition.eof": False})
        try:
            while True:
                md = c.list_topics(topic, timeout=5)
                t = md.topics.get(topic)
                if t is not None and t.error is None and t.partitions:
                    parts = sorted(t.partitions)
                    ends = {}
                    for pnum in parts:
                        lo, hi = c.get_watermark_offsets(TopicPartition(topic, pnum), timeout=5)
                        ends[pnum] = (lo, hi)
                    total = sum(hi - lo for lo, hi in ends.values())
                    if total >= min_records or time.monotonic() > deadline:
                        break
                elif time.monotonic() > deadline:
                    return []
                time.sleep(0.2)
            want = {p: hi for p, (lo, hi) in ends.items() if hi > lo}
            if not want:
                return []
            c.assign([TopicPartition(topic, p, ends[p][0]) for p in want])
            out = []
            pos = {p: ends[p][0] for p in want}
            read_deadline = time.monotonic() + max(30.0, timeout)
            while any(pos[p] < want[p] for p in want):
                if time.monotonic() > read_deadline:
                    raise TimeoutError(f"reading {topic}: at {pos}, end {want}")
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    raise KafkaException(m.error())
                pos[m.partition()] = m.offset() + 1
                if m.offset() < want[m.partition()]:
                    out.append((m.partition(), m.offset(), m.key(), m.value(), m.headers() or []))
            out.sort(key=lambda r: (r[0], r[1]))
            return out
        finally:
            c.close()


# ------------------------------------------------------------------ S3

class S3:
    def __init__(self, rundir: pathlib.Path, port: int, access_key: str, secret_key: str,
                 region: str, bucket: str):
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.bucket = bucket
        self.data_dir = rundir / "s3-data"
        self.log = rundir / "s3.log"
        self.client = self.client_with()

    def client_with(self, access_key: str | None = None, secret_key: str | None = None,
                    region: str | None = None):
        import boto3
        from botocore.config import Config
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=region or self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                          signature_version="s3v4"))

    def keys(self, prefix: str = "") -> list[str]:
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(out)

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
                "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}


# ------------------------------------------------------------------ binaries

class FerryBins:
    def __init__(self, flavor: str = "plain"):
        self.flavor = flavor
        sub = "asan/" if flavor == "asan" else ""
        self.relay = REPO / "relay" / f"{sub}ferry-relay"
        self.sink = REPO / "sink" / f"{sub}ferry-sink"

    def require(self, name: str) -> pathlib.Path:
        p = getattr(self, name)
        if not (p.exists() and os.access(p, os.X_OK)):
            pytest.fail(f"{p} is not built ({'make asan' if self.flavor == 'asan' else 'make all'})",
                        pytrace=False)
        return p


# ------------------------------------------------------------------ sanitizer / valgrind logs

_SAN_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                 "AddressSanitizer:DEADLYSIGNAL", "Invalid read", "Invalid write", "Invalid free",
                 "Mismatched free", "uninitialised value", "Syscall param", "Source and destination overlap")
_UBSAN_LINE = re.compile(r"^\S+:\d+:\d+: runtime error: |ERROR: (AddressSanitizer|LeakSanitizer)", re.M)
_VG_COUNTS = re.compile(r"(definitely lost|indirectly lost): ([0-9,]+) bytes|ERROR SUMMARY: ([0-9,]+) errors")


def sanitizer_reports(paths) -> str:
    """The text of every file in paths that holds a sanitizer or valgrind report ("" if none):
    ASan/LSan/UBSan errors, valgrind errors (Invalid read/write, ...), definitely or indirectly
    lost bytes, or a non-zero valgrind ERROR SUMMARY."""
    out = []
    for path in paths:
        try:
            text = pathlib.Path(path).read_text(errors="replace")
        except OSError:
            continue
        bad = any(p in text for p in _SAN_PATTERNS)
        for m in _VG_COUNTS.finditer(text):
            n = m.group(2) or m.group(3)
            if int(n.replace(",", "")) > 0:
                bad = True
        if bad:
            out.append(f"===== {path} =====\n{text.rstrip()}")
    return "\n".join(out)


def _sanitizer_dir(rundir: pathlib.Path) -> pathlib.Path:
    d = rundir / "sanitizer"
    d.mkdir(exist_ok=True)
    return d


def _log_sizes(d: pathlib.Path, pattern: str = "*") -> dict:
    return {p: p.stat().st_size for p in d.glob(pattern) if p.is_file()}


def _daemon_log_reports(before: dict, after: dict) -> str:
    """UBSan/ASan reports in what the daemon logs (rundir/<name>.log, spawn's) gained."""
    out = []
    for path, size in sorted(after.items()):
        start = before.get(path, 0)
        if size == start:
            continue
        with open(path, "rb") as fh:
            fh.seek(start if size > start else 0)
            text = fh.read().decode(errors="replace")
        m = _UBSAN_LINE.search(text)
        if m:
            out.append(f"===== {path} =====\n{text[max(0, m.start() - 2000):].rstrip()}")
    return "\n".join(out)


@pytest.fixture(autouse=True)
def _sanitizer_check(request):
    """asan/valgrind flavours: fail the test when a sanitizer/valgrind log written during it (or
    while its daemons stopped, at teardown of ``spawn``) has a report. Set up before, and so torn
    down after, every other function fixture of the test."""
    if FLAVOR == "plain":
        yield
        return
    rundir = request.getfixturevalue("rundir")
    d = _sanitizer_dir(rundir)
    before, before_logs = _log_sizes(d), _log_sizes(rundir, "*.log")
    yield
    after = _log_sizes(d)
    changed = [p for p, size in sorted(after.items()) if before.get(p) != size]
    report = "\n".join(r for r in (sanitizer_reports(changed),
                                    _daemon_log_reports(before_logs, _log_sizes(rundir, "*.log"))) if r)
    if report:
        pytest.fail(f"{FLAVOR} report(s) while running {request.node.nodeid}:\n{report}",
                    pytrace=False)


# ------------------------------------------------------------------ fixtures

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if rep.failed:
        _failed_tests.append(item.nodeid)


@pytest.fixture(scope="session")
def rundir():
    base = os.environ.get("FERRY_RUN_BASE") or None
    if base:
        os.makedirs(base, exist_ok=True)
    d = pathlib.Path(tempfile.mkdtemp(prefix="ferry-e2e-", dir=base))
    d.chmod(0o755)
    yield d
    if _failed_tests:
        sys.stderr.write(f"\n[ferry fixtures] tests failed; run dir kept: {d}\n")
        for name, log in _peer_logs.items():
            sys.stderr.write(f"----- tail of {name} log ({log}) -----\n{_tail(log)}\n")
    elif not os.environ.get("FERRY_KEEP_RUNDIR"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def pg(rundir):
    port = free_ports(1)
    _run_script("pg.sh", "start", str(rundir), str(port))
    _peer_logs["postgres"] = rundir / "pg.log"
    try:
        yield Postgres(rundir, port)
    finally:
        _run_script("pg.sh", "stop", str(rundir))


@pytest.fixture(scope="session")
def kafka(rundir):
    port = free_ports(2)
    d = rundir / "kafka"
    _peer_logs["kafka"] = d / "kafka.log"
    _run_script("kafka.sh", "start", str(d), str(port))
    k = Kafka(d, port)
    try:
        yield k
    finally:
        _run_script("kafka.sh", "stop", str(d))


@pytest.fixture(scope="session")
def s3(rundir):
    port = free_ports(1)
    d = rundir / "s3"
    ak = os.environ.get("S3_ACCESS_KEY", "ferryadmin")
    sk = os.environ.get("S3_SECRET_KEY", "ferrysecret123")
    env = {**os.environ, "S3_ACCESS_KEY": ak, "S3_SECRET_KEY": sk, "S3_REGION": "us-east-1",
           "S3_BUCKET": "commerce"}
    _peer_logs["s3"] = d / "s3.log"
    _run_script("s3.sh", "start", str(d), str(port), env=env)
    try:
        yield S3(d, port, ak, sk, "us-east-1", "commerce")
    finally:
        _run_script("s3.sh", "stop", str(d))


@pytest.fixture(scope="session")
def ferry_bins(rundir):
    if FLAVOR == "asan":
        # in os.environ, so every way a test starts a daemon (spawn, subprocess.run) gets them
        log = _sanitizer_dir(rundir) / "asan"
        os.environ["ASAN_OPTIONS"] = f"{ASAN_OPTIONS}:log_path={log}"
        os.environ["UBSAN_OPTIONS"] = f"{UBSAN_OPTIONS}:log_path={log}"
    return FerryBins(FLAVOR)


@pytest.fixture
def spawn(rundir, request):
    procs = []

    def _spawn(argv, name, env=None, cwd=None):
        log = rundir / f"{name}.log"
        argv = [str(a) for a in argv]
        if FLAVOR == "valgrind" and os.path.basename(argv[0]) in ("ferry-relay", "ferry-sink"):
            argv = [*VALGRIND, f"--log-file={_sanitizer_dir(rundir) / ('vg-' + name)}.%p", *argv]
        fh = open(log, "ab")
        p = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                             cwd=cwd, start_new_session=True)
        fh.close()
        p.log_path = log
        (rundir / f"{name}.pid").write_text(f"{p.pid}\n")
        procs.append((p, name, log))
        return p

    yield _spawn
    failed = any(getattr(request.node, "rep_" + w, None) is not None and
                 getattr(request.node, "rep_" + w).failed for w in ("setup", "call"))
    for p, name, log in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60 if FLAVOR == "valgrind" else 10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        (rundir / f"{name}.pid").unlink(missing_ok=True)
        if failed:
            sys.stderr.write(f"\n----- tail of {name} ({log}), exit {p.returncode} -----\n{_tail(log, 60)}\n")


def load_jsonl(data: bytes | str) -> list:
    """Parse JSON lines (bytes or str) into a list of objects, skipping blank lines."""
    if isinstance(data, bytes):
        data = data.decode()
    return [json.loads(line) for line in data.splitlines() if line.strip()]
