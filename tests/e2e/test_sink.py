"""ferry-sink against the real peers: Kafka 3.9 and versitygw (strict SigV4).

Records are ~1 KB Debezium-like envelopes produced with confluent-kafka; the bucket is read
back with boto3 and checked for exactly-once: every offset of every partition in exactly
one object, objects named <topic>/<yyyy>-<MM>-<dd>/<HH>/<partition:10>-<start offset:20>.json
after the Kafka timestamp of their first record, lines in offset order.

The helpers here are also used by test_sink_crash.py.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import time
import uuid
from datetime import datetime, timezone

import pytest

from conftest import wait_until

KEY_RE = re.compile(r"^(?P<topic>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<hour>\d{2})/"
                    r"(?P<partition>\d{10})-(?P<start>\d{20})\.json(?P<gz>\.gz)?$")

SCHEMA = {
    "type": "struct", "optional": False, "name": "debezium.commerce.products.Envelope", "version": 1,
    "fields": [
        {"type": "struct", "optional": True, "field": "before", "name": "debezium.commerce.products.Value",
         "fields": [{"type": "int32", "optional": False, "field": "id"},
                    {"type": "string", "optional": False, "field": "name"},
                    {"type": "string", "optional": True, "field": "description"},
                    {"type": "float", "optional": False, "field": "price"}]},
        {"type": "string", "optional": False, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"},
    ],
}

# Record timestamps start 3 hours ago (on a :14:44.960 mark), so objects spread over a few
# hours; not further back, or the broker's retention (7 days by record time) deletes them.
BASE_TS = (int(time.time()) // 3600 - 3) * 3600 * 1000 + 884960


def uniq(tag: str) -> str:
    return f"{tag}{uuid.uuid4().hex[:8]}"


def envelope(topic: str, partition: int, seq: int, ts_ms: int) -> bytes:
    """A ~1 KB JsonConverter envelope whose payload identifies (partition, seq)."""
    payload = {
        "before": None,
        "after": {"id": seq, "name": f"p{partition}-{seq}",
                  "description": ("Treat one role individual activity gun. " * 12)[:480],
                  "price": 19.99},
        "source": {"version": "2.2.0.Alpha2", "connector": "postgresql", "name": "debezium",
                   "ts_ms": ts_ms, "snapshot": "false", "db": "postgres", "schema": "commerce",
                   "table": topic.rsplit(".", 1)[-1], "txId": 811 + seq, "lsn": 23137328 + seq},
        "op": "c", "ts_ms": ts_ms + 194, "transaction": None,
    }
    return json.dumps({"schema": SCHEMA, "payload": payload}, separators=(",", ":")).encode()


def produce(bootstrap: str, topic: str, partition: int, seqs, ts_fn=None, values=None) -> None:
    """Produce envelopes (or the given raw values) to one partition, in order."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    errs = []
    for i, seq in enumerate(seqs):
        ts = ts_fn(seq) if ts_fn else BASE_TS + seq * 1000
        value = values[i] if values is not None else envelope(topic, partition, seq, ts)
        key = json.dumps({"schema": {"type": "struct"}, "payload": {"id": seq}}).encode()
        while True:
            try:
                p.produce(topic, value=value, key=key, partition=partition, timestamp=ts,
                          on_delivery=lambda err, msg: errs.append(err) if err else None)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(60) == 0 and not errs, errs


def create_topic(kafka, name: str, partitions: int) -> None:
    """Create a topic (keeping the AdminClient alive until the futures resolve)."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})
    for f in admin.create_topics([NewTopic(name, num_partitions=partitions,
                                           replication_factor=1)]).values():
        f.result(timeout=30)
    wait_until(lambda: name in admin.list_topics(timeout=5).topics, 30, f"topic {name}")


def to_yaml(d: dict, indent: int = 0) -> str:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.append(" " * indent + f"{k}:\n" + to_yaml(v, indent + 2))
        else:
            out.append(" " * indent + f"{k}: {json.dumps(v)}\n")
    return "".join(out)


def sink_config(rundir, name: str, kafka, s3=None, target=None, s3opts=None, kafkaopts=None,
                **sink) -> str:
    """Write a ferry.yaml (with foreign sections, as the shared file has) and return its path."""
    s = {"topics": sink.pop("topics"), "group.id": sink.pop("group", None) or uniq("g-"),
         "flush.interval.ms": 1000, "stats.interval.ms": 2000}
    if s3 is not None:
        s["target"] = target or f"s3://{s3.bucket}"
        s["s3"] = {"endpoint": s3.endpoint, "region": s3.region, "access.key.id": s3.access_key,
                   "secret.access.key": s3.secret_key, "retry.backoff.max.ms": 2000}
    else:
        s["target"] = target
    s3extra = s3opts or {}
    s.update(sink)
    if kafkaopts:
        s["kafka"] = kafkaopts
    if s3extra:
        s.setdefault("s3", {}).update(s3extra)
    cfg = {"postgres": {"conninfo": "host=127.0.0.1 dbname=postgres"},
           "relay": {"topic.prefix": "debezium"},
           "kafka": {"bootstrap.servers": kafka.bootstrap},
           "sink": s}
    path = rundir / f"{name}.yaml"
    path.write_text(to_yaml(cfg))
    return str(path)


def committed(kafka, group: str, topic: str, partitions: int) -> dict[int, int]:
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        for attempt in range(20):
            try:
                tps = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
                return {tp.partition: tp.offset for tp in tps}
            except Exception:  # NOT_COORDINATOR and the like while the group topic settles
                if attempt == 19:
                    raise
                time.sleep(0.5)
    finally:
        c.close()


def end_offsets(kafka, topic: str, partitions: int) -> dict[int, int]:
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": uniq("wm-")})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in range(partitions)}
    finally:
        c.close()


def wait_committed(kafka, group, topic, partitions, proc=None, timeout=90):
    ends = end_offsets(kafka, topic, partitions)

    def done():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"ferry-sink exited with {proc.returncode}")
        return committed(kafka, group, topic, partitions) == ends
    wait_until(done, timeout=timeout, what=f"group {group} to commit {ends} on {topic}", interval=0.5)
    return ends


class Listing:
    """Object names and bodies, from the bucket (boto3) or a directory."""

    def __init__(self, s3=None, root=None, prefix=""):
        self.s3, self.root, self.prefix = s3, root, prefix

    def keys(self, under: str = "") -> list[str]:
        if self.s3 is not None:
            return [k[len(self.prefix):] for k in self.s3.keys(self.prefix + under)]
        out = []
        base = self.root
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                rel = os.path.relpath(os.path.join(dirpath, f), base)
                if rel.startswith(under):
                    out.append(rel)
        return sorted(out)

    def get(self, key: str) -> bytes:
        if self.s3 is not None:
            return self.s3.get(self.prefix + key)
        with open(os.path.join(self.root, key), "rb") as f:
            return f.read()


def check_exactly_once(listing: Listing, topic: str, ends: dict[int, int], ts_fn=None,
                       flush_size: int | None = None) -> dict[int, list[str]]:
    """Every offset [0, end) of every partition of topic in exactly one object, in order."""
    ts_fn = ts_fn or (lambda seq: BASE_TS + seq * 1000)
    by_part: dict[int, list[tuple[int, str]]] = {}
    for key in listing.keys(topic + "/"):
        m = KEY_RE.match(key)
        assert m, f"unexpected object name {key!r}"
        assert m["topic"] == topic
        by_part.setdefault(int(m["partition"]), []).append((int(m["start"]), key))
    assert set(by_part) == {p for p, e in ends.items() if e > 0}, (sorted(by_part), ends)
    for part, objs in by_part.items():
        objs.sort()
        nxt = 0
        for start, key in objs:
            assert start == nxt, f"partition {part}: object {key} starts at {start}, expected {nxt}" \
                                 f" (gap or overlap)"
            body = listing.get(key)
            if key.endswith(".gz"):
                body = gzip.decompress(body)
            text = body.decode()
            assert text.endswith("\n")
            lines = [json.loads(line) for line in text.splitlines()]
            assert lines, f"empty object {key}"
            if flush_size:
                assert len(lines) <= flush_size
            first = datetime.fromtimestamp(ts_fn(start) / 1000, tz=timezone.utc)
            m = KEY_RE.match(key)
            assert m["date"] == first.strftime("%Y-%m-%d") and m["hour"] == first.strftime("%H"), \
                f"{key}: path should follow the first record's timestamp {first}"
            for i, line in enumerate(lines):
                assert set(line) == {"value"}, line
                after = line["value"]["after"]
                assert after["id"] == start + i and after["name"] == f"p{part}-{start + i}", \
                    f"{key} line {i}: {after['id']} {after['name']}"
                assert line["value"]["op"] == "c" and "schema" not in line["value"]
            nxt = start + len(lines)
        assert nxt == ends[part], f"partition {part}: objects end at {nxt}, topic at {ends[part]}"
    return {p: [k for _, k in objs] for p, objs in by_part.items()}


def stop(proc, timeout=30) -> int:
    proc.terminate()
    return proc.wait(timeout)


def run_sink(ferry_bins, cfg, *args, env=None, timeout=60):
    return subprocess.run([str(ferry_bins.require("sink")), "-c", cfg, *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


# ------------------------------------------------------------------ tests

def test_sink_s3_exactly_once_layout(kafka, s3, rundir, spawn, ferry_bins):
    """Two topics (1 and 3 partitions) by regex -> the original layout, every record once."""
    ns = uniq("st")
    users, products = f"{ns}.commerce.users", f"{ns}.commerce.products"
    create_topic(kafka, users, 1)
    create_topic(kafka, products, 3)
    produce(kafka.bootstrap, users, 0, range(0, 107))
    # products: one record per 2 minutes so batches cross hours (names follow the first record)
    pts = lambda seq: BASE_TS + seq * 120_000  # noqa: E731
    for p in range(3):
        produce(kafka.bootstrap, products, p, range(0, 45 + p), ts_fn=pts)
    group = uniq("g-")
    cfg = sink_config(rundir, "s3-basic", kafka, s3, topics=[f"^{re.escape(ns)}\\..*"], group=group)
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-s3-basic")
    ends_u = wait_committed(kafka, group, users, 1, proc)
    ends_p = wait_committed(kafka, group, products, 3, proc)
    listing = Listing(s3=s3)
    check_exactly_once(listing, users, ends_u, flush_size=20)
    objs = check_exactly_once(listing, products, ends_p, ts_fn=pts, flush_size=20)
    # flush.size 20 cuts at 0, 20, 40 (the tail by flush.interval.ms)
    assert [KEY_RE.match(k)["start"] for k in objs[0]] == ["%020d" % i for i in (0, 20, 40)]
    first = datetime.fromtimestamp(BASE_TS / 1000, tz=timezone.utc).strftime("%Y-%m-%d/%H")
    assert listing.keys(users + "/")[0] == f"{users}/{first}/0000000000-00000000000000000000.json"

    # more records and a tombstone while it runs; then SIGTERM stores and commits the rest
    produce(kafka.bootstrap, users, 0, range(107, 110))
    from confluent_kafka import Producer
    pr = Producer({"bootstrap.servers": kafka.bootstrap})
    pr.produce(users, value=None, key=b'{"payload":{"id":1}}', partition=0, timestamp=BASE_TS)
    pr.flush(30)
    wait_committed(kafka, group, users, 1, proc)
    assert stop(proc) == 0
    lines = []
    for k in listing.keys(users + "/"):
        lines += [json.loads(x) for x in listing.get(k).decode().splitlines()]
    assert len(lines) == 111 and lines[-1] == {"value": None}
    assert [x["value"]["after"]["id"] for x in lines[:-1]] == list(range(110))

    # a restart consumes nothing again: no object changes, nothing new
    before = {k: listing.get(k) for k in listing.keys(users + "/")}
    proc2 = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-s3-basic-2")
    wait_until(lambda: "partitions assigned" in proc2.log_path.read_text(), 30, "assignment")
    time.sleep(2.5)
    assert stop(proc2) == 0
    assert {k: listing.get(k) for k in listing.keys(users + "/")} == before
    log = proc.log_path.read_text()
    assert "stats:" in log and "lag:" in log


def test_sink_file_target(kafka, rundir, spawn, ferry_bins):
    """file:// target: same layout in a directory, written atomically (no temp files left)."""
    topic = f"{uniq('sf')}.commerce.users"
    create_topic(kafka, topic, 2)
    for p in range(2):
        produce(kafka.bootstrap, topic, p, range(0, 33 + 10 * p))
    out = rundir / uniq("file-out-")
    group = uniq("g-")
    cfg = sink_config(rundir, "file", kafka, target=f"file://{out}", topics=[topic], group=group)
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-file")
    ends = wait_committed(kafka, group, topic, 2, proc)
    assert stop(proc) == 0
    check_exactly_once(Listing(root=str(out)), topic, ends, flush_size=20)
    leftovers = [f for _d, _s, files in os.walk(out) for f in files if f.startswith(".")]
    assert leftovers == []


def test_sink_gzip_multipart_and_prefix(kafka, s3, rundir, spawn, ferry_bins):
    """gzip objects larger than part.size go up as multipart uploads under a key prefix."""
    topic = f"{uniq('sg')}.commerce.products"
    create_topic(kafka, topic, 1)
    n = 6500  # ~6.5 MB of JSON: gzip of repetitive text is small, so use raw random padding
    values = []
    for seq in range(n):
        v = json.loads(envelope(topic, 0, seq, BASE_TS + seq * 1000))
        v["payload"]["after"]["description"] = os.urandom(700).hex()
        values.append(json.dumps(v).encode())
    produce(kafka.bootstrap, topic, 0, range(n), values=values)
    group = uniq("g-")
    cfg = sink_config(rundir, "gzip", kafka, s3, target=f"s3://{s3.bucket}/archive/x", topics=[topic],
                      group=group, compression="gzip", s3opts={"part.size": 5 * 1024 * 1024},
                      **{"flush.size": n, "flush.interval.ms": 0})
    proc = spawn([ferry_bins.require("sink"), "-c", cfg, "-v"], "sink-gzip")
    ends = wait_committed(kafka, group, topic, 1, proc, timeout=120)
    assert stop(proc) == 0
    listing = Listing(s3=s3, prefix="archive/x/")
    keys = listing.keys(topic + "/")
    first = datetime.fromtimestamp(BASE_TS / 1000, tz=timezone.utc).strftime("%Y-%m-%d/%H")
    assert keys == [f"{topic}/{first}/0000000000-00000000000000000000.json.gz"]
    assert len(listing.get(keys[0])) > 5 * 1024 * 1024
    check_exactly_once(listing, topic, ends)
    assert "uploadId=" in proc.log_path.read_text()  # went through multipart


def test_sink_recovery_scan_deletes_stale_objects(kafka, s3, rundir, spawn, ferry_bins):
    """Objects starting beyond the committed offset (left by a failed commit) are deleted."""
    topic = f"{uniq('sr')}.commerce.users"
    create_topic(kafka, topic, 1)
    produce(kafka.bootstrap, topic, 0, range(25))
    group = uniq("g-")
    cfg = sink_config(rundir, "scan", kafka, s3, topics=[topic], group=group)
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-scan-1")
    ends = wait_committed(kafka, group, topic, 1, proc)
    assert stop(proc) == 0
    stale = f"{topic}/2023-03-01/11/0000000000-00000000000000000030.json"  # any date: scanned
    other_part = f"{topic}/2023-03-01/11/0000000001-00000000000000000030.json"
    s3.put(stale, b'{"value":"stale"}\n')
    s3.put(other_part, b'{"value":"not ours"}\n')
    produce(kafka.bootstrap, topic, 0, range(25, 40))
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-scan-2")
    ends = wait_committed(kafka, group, topic, 1, proc)
    assert stop(proc) == 0
    keys = s3.keys(topic + "/")
    assert stale not in keys and other_part in keys
    s3.client.delete_object(Bucket=s3.bucket, Key=other_part)
    check_exactly_once(Listing(s3=s3), topic, ends)
    assert f'deleting stale object "{stale}"' in proc.log_path.read_text()


def test_sink_invalid_records(kafka, s3, rundir, spawn, ferry_bins):
    """stop (default): exit 1, nothing past it committed; dlq: stored aside; raw: a JSON string."""
    topic = f"{uniq('si')}.commerce.users"
    create_topic(kafka, topic, 1)
    good = [envelope(topic, 0, i, BASE_TS) for i in range(3)]
    produce(kafka.bootstrap, topic, 0, range(4), values=good[:2] + [b"not json {"] + good[2:])
    group = uniq("g-")
    cfg = sink_config(rundir, "inv-stop", kafka, s3, topics=[topic], group=group)
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-inv-stop")
    assert proc.wait(60) == 1
    log = proc.log_path.read_text()
    assert "value of record at offset 2 of partition 0 of topic" in log and "is not valid JSON" in log
    assert committed(kafka, group, topic, 1)[0] < 0  # nothing committed

    cfg = sink_config(rundir, "inv-dlq", kafka, s3, topics=[topic], group=group,
                      **{"invalid.records": "dlq"})
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-inv-dlq")
    wait_committed(kafka, group, topic, 1, proc)
    assert stop(proc) == 0
    assert s3.get(f"dead-letter/{topic}/0000000000-00000000000000000002.bin") == b"not json {"
    lines = [json.loads(x) for k in s3.keys(topic + "/") for x in s3.get(k).decode().splitlines()]
    assert len(lines) == 3

    group2 = uniq("g-")
    out = rundir / uniq("raw-")
    cfg = sink_config(rundir, "inv-raw", kafka, target=f"file://{out}", topics=[topic], group=group2,
                      **{"invalid.records": "raw", "fields": ["offset", "value"]})
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-inv-raw")
    wait_committed(kafka, group2, topic, 1, proc)
    assert stop(proc) == 0
    listing = Listing(root=str(out))
    lines = [json.loads(x) for k in listing.keys() for x in listing.get(k).decode().splitlines()]
    assert [x["offset"] for x in lines] == [0, 1, 2, 3] and lines[2]["value"] == "not json {"


def test_sink_check_config_and_errors(kafka, s3, rundir, ferry_bins):
    """--check-config, wrong credentials, missing bucket, malformed config: message and exit code."""
    topic = f"{uniq('sc')}.commerce.users"
    ok = sink_config(rundir, "chk-ok", kafka, s3, topics=[topic])
    r = run_sink(ferry_bins, ok, "--check-config")
    assert r.returncode == 0, r.stderr
    assert "is valid" in r.stdout

    cases = [
        ({"s3opts": {"secret.access.key": s3.secret_key + "x"}}, 3, "SignatureDoesNotMatch"),
        # AWS says InvalidAccessKeyId; versitygw says XAdminUserNotFound
        ({"s3opts": {"access.key.id": "NOSUCHKEY"}}, 3, ("InvalidAccessKeyId", "XAdminUserNotFound")),
        ({"target": "s3://no-such-bucket-here"}, 3, "NoSuchBucket"),
    ]
    for i, (over, code, text) in enumerate(cases):
        target = over.pop("target", None)
        cfg = sink_config(rundir, f"chk-bad{i}", kafka, s3, target=target, topics=[topic], **over)
        for args in (("--check-config",), ()):
            r = run_sink(ferry_bins, cfg, *args)
            texts = text if isinstance(text, tuple) else (text,)
            assert r.returncode == code and any(t in r.stderr for t in texts), \
                (args, r.returncode, r.stderr)
            assert "could not list bucket" in r.stderr

    # environment overrides the file (AWS_SECRET_ACCESS_KEY)
    r = run_sink(ferry_bins, ok, "--check-config", env={"AWS_SECRET_ACCESS_KEY": "wrong"})
    assert r.returncode == 3 and "SignatureDoesNotMatch" in r.stderr

    bad = rundir / "chk-malformed.yaml"
    bad.write_text("kafka:\n  bootstrap.servers: 127.0.0.1:1\nsink:\n  topics: [a]\n  flush.sise: 10\n")
    r = run_sink(ferry_bins, str(bad))
    assert r.returncode == 2 and f"{bad}:5:" in r.stderr and "flush.sise" in r.stderr, r.stderr
    bad.write_text("sink:\n  topics: [a]\n  template: '{topic}/{partition}.json'\n")
    r = run_sink(ferry_bins, str(bad))
    assert r.returncode == 2 and "start_offset" in r.stderr, r.stderr
    bad.write_text("sink:\n  topics: [a]\n  kafka:\n    enable.auto.commit: true\n")
    r = run_sink(ferry_bins, str(bad))
    assert r.returncode == 2 and ":4:" in r.stderr and "enable.auto.commit" in r.stderr, r.stderr
    bad.write_text("sink:\n  topics: [a]\n  kafka:\n    no.such.property: 1\n")
    r = run_sink(ferry_bins, str(bad))
    assert r.returncode == 2 and "no.such.property" in r.stderr, r.stderr
    bad.write_text("sink:\n  topics: [a]\n  target: ftp://x\n")
    r = run_sink(ferry_bins, str(bad))
    assert r.returncode == 2 and "invalid target" in r.stderr, r.stderr

    # Kafka unreachable: --check-config says so (exit 4)
    cfg = rundir / "chk-nokafka.yaml"
    cfg.write_text(to_yaml({"kafka": {"bootstrap.servers": "127.0.0.1:1"},
                            "sink": {"topics": ["a"], "target": f"file://{rundir}/nokafka"}}))
    r = run_sink(ferry_bins, str(cfg), "--check-config")
    assert r.returncode == 4 and "could not reach Kafka" in r.stderr, r.stderr

    r = subprocess.run([str(ferry_bins.require("sink")), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "sink/flush.size" in r.stdout and "Exit status" in r.stdout
    r = subprocess.run([str(ferry_bins.require("sink")), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ferry-sink ")
    r = subprocess.run([str(ferry_bins.require("sink"))], capture_output=True, text=True)
    assert r.returncode == 2 and "-c" in r.stderr


class PrivateS3:
    """A versitygw of one test (extra server args: TLS, virtual domain) with bucket "commerce",
    that can be stopped and started again on the same data. keys()/get() for Listing."""

    CREDS = {"access.key.id": "privadmin", "secret.access.key": "privsecret123"}

    def __init__(self, rundir, spawn, name, *args, https_cert=None):
        import shutil
        import boto3
        from botocore.config import Config
        from conftest import free_ports
        vgw = next((c for c in (os.environ.get("VERSITYGW"), shutil.which("versitygw"),
                                os.path.expanduser("~/go/bin/versitygw"))
                    if c and os.access(c, os.X_OK)), None)
        if vgw is None:
            pytest.skip("versitygw not found")
        d = rundir / uniq(name + "-")
        (d / "data").mkdir(parents=True)
        (d / "meta").mkdir()
        self.port = free_ports(1)
        self.argv = [vgw, "--port", f"127.0.0.1:{self.port}", "--region", "us-east-1", *args,
                     "--quiet", "posix", "--sidecar", str(d / "meta"), str(d / "data")]
        self.spawn, self.name, self.starts = spawn, name, 0
        scheme = "https" if https_cert else "http"
        self.endpoint = f"{scheme}://127.0.0.1:{self.port}"
        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            verify=str(https_cert) if https_cert else None,
            aws_access_key_id=self.CREDS["access.key.id"],
            aws_secret_access_key=self.CREDS["secret.access.key"],
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        self.start()
        self.client.create_bucket(Bucket="commerce")

    def start(self):
        self.starts += 1
        self.proc = self.spawn(self.argv, f"{self.name}-{self.starts}",
                               env={"ROOT_ACCESS_KEY": self.CREDS["access.key.id"],
                                    "ROOT_SECRET_KEY": self.CREDS["secret.access.key"]})

        def serving():
            try:
                self.client.list_buckets()
                return True
            except Exception:
                return False
        wait_until(serving, 30, f"{self.name} to serve")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(20)

    def keys(self, prefix=""):
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket="commerce",
                                                                           Prefix=prefix):
            out.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(out)

    def get(self, key):
        return self.client.get_object(Bucket="commerce", Key=key)["Body"].read()


def test_sink_https_certificate_verification(kafka, rundir, spawn, ferry_bins):
    """HTTPS endpoint: verified with ca.file; an unknown CA is fatal (exit 3); tls.verify=false."""
    d = rundir / uniq("tls-")
    d.mkdir()
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    ps = PrivateS3(rundir, spawn, "versitygw-tls", "--cert", str(cert), "--key", str(key),
                   https_cert=cert)

    topic = f"{uniq('tls')}.commerce.users"
    create_topic(kafka, topic, 1)
    produce(kafka.bootstrap, topic, 0, range(45))
    group = uniq("g-")
    creds = {"endpoint": ps.endpoint, **ps.CREDS}
    cfg = sink_config(rundir, "tls-nocas", kafka, target="s3://commerce", topics=[topic], group=group,
                      s3opts=creds)
    r = run_sink(ferry_bins, cfg, "--check-config")
    assert r.returncode == 3 and "certificate" in r.stderr.lower(), r.stderr
    r = run_sink(ferry_bins, cfg)
    assert r.returncode == 3 and "could not list bucket" in r.stderr, r.stderr
    cfg = sink_config(rundir, "tls-noverify", kafka, target="s3://commerce", topics=[topic],
                      group=group, s3opts={**creds, "tls.verify": False})
    assert run_sink(ferry_bins, cfg, "--check-config").returncode == 0
    cfg = sink_config(rundir, "tls-ca", kafka, target="s3://commerce", topics=[topic], group=group,
                      s3opts={**creds, "ca.file": str(cert)})
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-tls")
    ends = wait_committed(kafka, group, topic, 1, proc)
    assert stop(proc) == 0
    check_exactly_once(Listing(s3=ps), topic, ends, flush_size=20)


def test_sink_buffer_limit_and_shutdown_flush(kafka, rundir, spawn, ferry_bins):
    """buffer.max.bytes bounds memory over all partitions (largest batch stored early); SIGTERM
    stores and commits what is left."""
    topic = f"{uniq('sb')}.commerce.users"
    parts = 4
    create_topic(kafka, topic, parts)
    for p in range(parts):
        produce(kafka.bootstrap, topic, p, range(150))
    out = rundir / uniq("buf-")
    group = uniq("g-")
    cfg = sink_config(rundir, "buffer", kafka, target=f"file://{out}", topics=[topic], group=group,
                      **{"flush.size": 100000, "flush.interval.ms": 0, "buffer.max.bytes": 30000})
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-buffer")

    def mostly_done():
        c = committed(kafka, group, topic, parts)
        return all(c[p] >= 150 - 40 for p in range(parts))
    wait_until(mostly_done, 60, "batches stored because of buffer.max.bytes")
    assert stop(proc) == 0
    assert committed(kafka, group, topic, parts) == {p: 150 for p in range(parts)}
    listing = Listing(root=str(out))
    check_exactly_once(listing, topic, {p: 150 for p in range(parts)})
    sizes = [os.path.getsize(out / k) for k in listing.keys()]
    assert len(sizes) > 8 and max(sizes) < 30000 + 2000, sizes


def test_sink_virtual_hosted_style(kafka, rundir, spawn, ferry_bins):
    """path.style=false: requests go to <bucket>.localhost (curl resolves *.localhost to the
    loopback), versitygw with --virtual-domain checks the signature of that Host."""
    ps = PrivateS3(rundir, spawn, "versitygw-vh", "--virtual-domain", "localhost")
    topic = f"{uniq('vh')}.commerce.users"
    create_topic(kafka, topic, 1)
    produce(kafka.bootstrap, topic, 0, range(27))
    group = uniq("g-")
    cfg = sink_config(rundir, "vh", kafka, target="s3://commerce/vh", topics=[topic], group=group,
                      s3opts={"endpoint": f"http://localhost:{ps.port}", "path.style": "false",
                              **ps.CREDS})
    proc = spawn([ferry_bins.require("sink"), "-c", cfg, "-v"], "sink-vh")
    ends = wait_committed(kafka, group, topic, 1, proc)
    assert stop(proc) == 0
    assert f"PUT http://commerce.localhost:{ps.port}/vh/{topic}/" in proc.log_path.read_text()
    check_exactly_once(Listing(s3=ps, prefix="vh/"), topic, ends)
