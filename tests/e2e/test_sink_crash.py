"""ferry-sink crash safety: kill -9 under load, an S3 outage under load, two sinks in a group.

Afterwards the bucket must hold each offset of each partition exactly once (no duplicates,
no gaps), compared with the topics' end offsets (see check_exactly_once in test_sink.py).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest

from conftest import wait_until
from test_sink import (BASE_TS, Listing, PrivateS3, check_exactly_once, committed, create_topic,
                       envelope, produce, sink_config, stop, uniq, wait_committed)


class Load(threading.Thread):
    """Produce envelopes to every partition of a topic, in order, at about `rate` records/s."""

    def __init__(self, bootstrap, topic, partitions, per_partition, rate):
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.partitions = bootstrap, topic, partitions
        self.per_partition, self.rate = per_partition, rate
        self.error = None
        self.sent = 0

    def run(self):
        from confluent_kafka import Producer
        try:
            p = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5,
                          "enable.idempotence": True})
            errs = []
            t0 = time.monotonic()
            for seq in range(self.per_partition):
                for part in range(self.partitions):
                    ts = BASE_TS + seq * 1000
                    while True:
                        try:
                            p.produce(self.topic, value=envelope(self.topic, part, seq, ts),
                                      key=b'{"payload":{"id":%d}}' % seq, partition=part,
                                      timestamp=ts,
                                      on_delivery=lambda err, msg: errs.append(err) if err else None)
                            break
                        except BufferError:
                            p.poll(0.05)
                    self.sent += 1
                p.poll(0)
                ahead = self.sent / self.rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            assert p.flush(60) == 0 and not errs, errs
        except BaseException as e:  # reported by finish()
            self.error = e

    def finish(self, timeout=120):
        self.join(timeout)
        assert not self.is_alive(), "producer did not finish"
        if self.error:
            raise self.error


@pytest.mark.parametrize("commit_mode", ["sync", "async"])
def test_sink_kill9_under_load(kafka, s3, rundir, spawn, ferry_bins, commit_mode):
    """kill -9 the sink at random moments (at least 10 times while records flow); restart it.
    With commit.mode async several uncommitted objects may be left: the recovery scan deletes
    those beyond the committed offset."""
    topic = f"{uniq('sk')}.commerce.products"
    parts = 3
    create_topic(kafka, topic, parts)
    group = uniq("g-")
    # time-based cuts (300 ms) on top of flush.size make the cut points differ between runs
    # static membership: a restarted sink takes its partitions back at once (a kill -9 leaves
    # no one to leave the group; without it the group waits for the session timeout)
    cfg = sink_config(rundir, "kill9", kafka, s3, topics=[topic], group=group,
                      kafkaopts={"group.instance.id": "kill9-sink", "session.timeout.ms": 6000},
                      **{"flush.interval.ms": 300, "commit.mode": commit_mode})
    load = Load(kafka.bootstrap, topic, parts, per_partition=2500, rate=400)  # ~19 s of load
    load.start()
    rnd = random.Random(int(os.environ.get("FERRY_TEST_SEED", time.time())))
    kills = under_load = 0
    while (kills < 10 or load.is_alive()) and kills < 30:
        proc = spawn([ferry_bins.require("sink"), "-c", cfg], f"sink-kill9-{kills}")
        wait_until(lambda: "partitions assigned" in proc.log_path.read_text(), 60, "assignment")
        time.sleep(rnd.uniform(0.05, 1.5))
        assert proc.poll() is None, f"sink exited early ({proc.returncode})"
        under_load += load.is_alive()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kills += 1
    assert under_load >= 10, f"only {under_load} of {kills} kills happened while producing"
    load.finish()
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-kill9-final")
    ends = wait_committed(kafka, group, topic, parts, proc, timeout=120)
    assert stop(proc) == 0
    assert kills >= 10 and sum(ends.values()) == parts * 2500
    check_exactly_once(Listing(s3=s3), topic, ends, flush_size=20)


def test_sink_survives_s3_outage(kafka, rundir, spawn, ferry_bins):
    """The S3 server is down for 30 s under load: the sink retries, recovers, loses nothing."""
    s3 = PrivateS3(rundir, spawn, "versitygw-outage")
    topic = f"{uniq('so')}.commerce.users"
    parts = 2
    create_topic(kafka, topic, parts)
    group = uniq("g-")
    cfg = sink_config(rundir, "outage", kafka, target="s3://commerce", topics=[topic], group=group,
                      s3opts={"endpoint": s3.endpoint, **s3.CREDS, "retry.backoff.max.ms": 3000,
                              "connect.timeout.ms": 2000})
    proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-outage")
    load = Load(kafka.bootstrap, topic, parts, per_partition=1200, rate=60)  # ~40 s of records
    load.start()
    wait_until(lambda: len(s3.keys(topic + "/")) >= 4, 60, "first objects")
    s3.stop()
    time.sleep(30)
    assert proc.poll() is None, "sink died during the outage"
    log = proc.log_path.read_text()
    assert "retrying in" in log and "could not upload object" in log
    s3.start()
    load.finish()
    ends = wait_committed(kafka, group, topic, parts, proc, timeout=120)
    assert stop(proc) == 0
    check_exactly_once(Listing(s3=s3), topic, ends, flush_size=20)
    assert "S3 retries" in proc.log_path.read_text()


@pytest.mark.parametrize("assignor", ["range,roundrobin", "cooperative-sticky"])
def test_sink_two_processes_share_partitions(kafka, s3, rundir, spawn, ferry_bins, assignor):
    """Two sinks in one group split 4 partitions; one leaves (SIGTERM) mid-load, one joins later
    (eager and cooperative rebalancing)."""
    topic = f"{uniq('s2')}.commerce.users"
    parts = 4
    create_topic(kafka, topic, parts)
    group = uniq("g-")
    cfg = sink_config(rundir, "two", kafka, s3, topics=[topic], group=group,
                      kafkaopts={"session.timeout.ms": 6000,
                                 "partition.assignment.strategy": assignor},
                      **{"flush.interval.ms": 500})
    load = Load(kafka.bootstrap, topic, parts, per_partition=600, rate=500)
    a = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-two-a")
    b = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-two-b")
    load.start()
    wait_until(lambda: "partitions assigned" in a.log_path.read_text() and
               "partitions assigned" in b.log_path.read_text(), 60, "both sinks assigned")
    time.sleep(2)
    assert stop(a) == 0
    c = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-two-c")
    load.finish()
    ends = wait_committed(kafka, group, topic, parts, b, timeout=120)
    assert stop(b) == 0 and stop(c) == 0
    check_exactly_once(Listing(s3=s3), topic, ends, flush_size=20)


class _ScriptedS3:
    """A fake S3 endpoint on 127.0.0.1 that answers PUTs from a script (status, body, delay)
    and everything else with success; records each PUT. It does not check signatures (the
    real server in the other tests does), only that x-amz-content-sha256 matches the body."""

    def __init__(self, script):
        import hashlib
        import http.server
        self.script = list(script)
        self.puts = []
        self.bad_hash = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _reply(self, status, body=b"", ctype="application/xml"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"0123"')
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._reply(200, b'<?xml version="1.0"?><ListBucketResult><IsTruncated>false'
                                 b'</IsTruncated></ListBucketResult>')

            def do_DELETE(self):
                self._reply(204)

            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if hashlib.sha256(body).hexdigest() != self.headers.get("x-amz-content-sha256"):
                    outer.bad_hash += 1
                status, text, delay = outer.script.pop(0) if outer.script else (200, b"", 0)
                outer.puts.append((self.path, status, body))
                time.sleep(delay)
                try:
                    self._reply(status, text)
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def _err(code):
    return f"<Error><Code>{code}</Code><Message>scripted {code}</Message></Error>".encode()


def test_sink_retries_throttling_errors_and_timeouts(kafka, rundir, spawn, ferry_bins):
    """503 SlowDown, 429, 500 InternalError and a timeout are retried with backoff until the
    object is stored; then a 403 AccessDenied stops the sink with exit code 3."""
    topic = f"{uniq('sy')}.commerce.users"
    create_topic(kafka, topic, 1)
    produce(kafka.bootstrap, topic, 0, range(5))
    fake = _ScriptedS3([(503, _err("SlowDown"), 0), (429, b"", 0), (500, _err("InternalError"), 0),
                        (200, b"", 2.5)])
    try:
        group = uniq("g-")
        s3opts = {"endpoint": fake.endpoint, "access.key.id": "k", "secret.access.key": "s",
                  "request.timeout.ms": 1000, "retry.backoff.ms": 50, "retry.backoff.max.ms": 400}
        cfg = sink_config(rundir, "scripted", kafka, target="s3://commerce", topics=[topic],
                          group=group, s3opts=s3opts)
        proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-scripted")
        wait_committed(kafka, group, topic, 1, proc, timeout=60)
        assert stop(proc) == 0
        assert [p[1] for p in fake.puts] == [503, 429, 500, 200, 200], fake.puts
        assert len({p[2] for p in fake.puts}) == 1 and fake.bad_hash == 0
        assert fake.puts[-1][0].endswith("/0000000000-00000000000000000000.json")
        assert len(fake.puts[-1][2].splitlines()) == 5
        log = proc.log_path.read_text()
        for text in ("SlowDown", "HTTP status 429", "InternalError", "timed out",
                     "retrying in"):
            assert text in log, text

        produce(kafka.bootstrap, topic, 0, range(5, 8))
        fake.script = [(403, _err("AccessDenied"), 0)]
        proc = spawn([ferry_bins.require("sink"), "-c", cfg], "sink-scripted-denied")
        assert proc.wait(60) == 3
        log = proc.log_path.read_text()
        assert "could not upload object" in log and "AccessDenied" in log
        assert committed(kafka, group, topic, 1)[0] == 5
    finally:
        fake.close()
