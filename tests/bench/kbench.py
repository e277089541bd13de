#!/usr/bin/env python3
"""Kafka helpers for tests/bench (a benchmark, not a test). confluent-kafka (PyPI).

  kbench.py wait BOOTSTRAP PREFIX EXPECTED TIMEOUT_S [PIDFILE]
      poll the end offsets of every topic whose name starts with PREFIX until their sum
      reaches EXPECTED; print JSON {"first": t_first_record, "done": t_done, "count": n}
      (epoch seconds). Exits 1 on timeout (or when the process in PIDFILE dies).
  kbench.py committed BOOTSTRAP GROUP TOPIC EXPECTED TIMEOUT_S [PIDFILE]
      wait until GROUP's committed offsets on TOPIC sum to EXPECTED; print JSON {"done": t}.
  kbench.py create BOOTSTRAP TOPIC[,TOPIC...] [key=value ...]
      create topics (1 partition, RF 1) with the given topic configs.
  kbench.py produce BOOTSTRAP TOPIC COUNT SIZE
      fill TOPIC with COUNT Debezium-shaped JSON records of about SIZE bytes (key + value).
  kbench.py latency BOOTSTRAP TOPIC COUNTFILE TIMEOUT_S
      read TOPIC from the beginning until COUNTFILE exists and that many records were read; print JSON latency percentiles of
      (LogAppendTime or CreateTime - commit time) and (receive time - commit time), commit
      time = payload.source.ts_us (or ts_ms) of the Debezium value.
"""
import json
import os
import re
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def end_offsets(consumer, topics, per=None):
    total = 0
    for t in topics:
        md = topics[t]
        for p in md:
            lo, hi = consumer.get_watermark_offsets(TopicPartition(t, p), timeout=5, cached=False)
            total += hi
            if per is not None:
                per[t] = per.get(t, 0) + hi
    return total


def cmd_wait(bootstrap, prefix, expected, timeout, pidfile=None):
    expected = int(expected)
    deadline = time.time() + float(timeout)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "kbench-wait", "enable.auto.commit": False})
    first = None
    n = 0
    topics = {}
    last_md = 0
    while time.time() < deadline:
        now = time.time()
        if now - last_md > 1.0 or not topics:
            md = c.list_topics(timeout=5)
            topics = {t: list(tm.partitions) for t, tm in md.topics.items() if t.startswith(prefix)}
            last_md = now
        n = end_offsets(c, topics) if topics else 0
        if n > 0 and first is None:
            first = time.time()
        if n >= expected:
            done = time.time()
            per = {}
            end_offsets(c, topics, per)
            print(json.dumps({"first": first, "done": done, "count": n, "topics": per}))
            return 0
        if pidfile:
            try:
                os.kill(int(open(pidfile).read().split()[0]), 0)
            except (OSError, ValueError):
                print(json.dumps({"first": first, "done": None, "count": n, "error": "process exited"}))
                return 1
        time.sleep(0.1)
    print(json.dumps({"first": first, "done": None, "count": n, "error": "timeout"}))
    return 1


def cmd_committed(bootstrap, group, topic, expected, timeout, pidfile=None):
    """wait until GROUP's committed offsets on TOPIC sum to EXPECTED"""
    expected = int(expected)
    deadline = time.time() + float(timeout)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    parts = None
    n = 0
    while time.time() < deadline:
        if parts is None:
            md = c.list_topics(topic, timeout=5)
            parts = [TopicPartition(topic, p) for p in md.topics[topic].partitions]
        try:
            n = sum(max(tp.offset, 0) for tp in c.committed(parts, timeout=5))
        except Exception:
            n = 0
        if n >= expected:
            print(json.dumps({"done": time.time(), "count": n}))
            return 0
        if pidfile:
            try:
                os.kill(int(open(pidfile).read().split()[0]), 0)
            except (OSError, ValueError):
                print(json.dumps({"done": None, "count": n, "error": "process exited"}))
                return 1
        time.sleep(0.2)
    print(json.dumps({"done": None, "count": n, "error": "timeout"}))
    return 1


def cmd_create(bootstrap, topics, *cfgs):
    a = AdminClient({"bootstrap.servers": bootstrap})
    conf = dict(kv.split("=", 1) for kv in cfgs)
    fs = a.create_topics([NewTopic(t, 1, 1, config=conf) for t in topics.split(",")])
    for t, f in fs.items():
        try:
            f.result()
        except Exception as e:  # already exists is fine
            if "already exists" not in str(e).lower() and "TOPIC_ALREADY_EXISTS" not in str(e):
                raise
    return 0


def dbz_schema():
    """the value schema of a Debezium users-table record (trimmed to ~1 KB: after + source + op)"""
    row = [{"type": "int32", "optional": False, "default": 0, "field": "id"},
           {"type": "string", "optional": False, "field": "username"},
           {"type": "string", "optional": False, "field": "password"}]
    return {"type": "struct", "fields": [
        {"type": "struct", "fields": row, "optional": True, "name": "debezium.commerce.users.Value", "field": "after"},
        {"type": "struct", "fields": [
            {"type": "string", "optional": False, "field": "connector"},
            {"type": "int64", "optional": False, "field": "ts_ms"},
            {"type": "int64", "optional": True, "field": "lsn"}],
         "optional": False, "name": "io.debezium.connector.postgresql.Source", "field": "source"},
        {"type": "string", "optional": False, "field": "op"}],
        "optional": False, "name": "debezium.commerce.users.Envelope", "version": 2}


def cmd_produce(bootstrap, topic, count, size):
    count, size = int(count), int(size)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.num.messages": 10000,
                  "queue.buffering.max.messages": 500000, "queue.buffering.max.kbytes": 1048576,
                  "compression.type": "none", "acks": "all"})
    schema_json = json.dumps(dbz_schema(), separators=(",", ":"))
    ts0 = int(time.time() * 1000)
    # value = {"schema":...,"payload":{...}} padded to `size` through the password field
    head = '{"schema":' + schema_json + ',"payload":{"before":null,"after":{"id":'
    t0 = time.time()
    nbytes = 0
    for i in range(1, count + 1):
        key = b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"default":0,"field":"id"}],"optional":false,"name":"debezium.commerce.users.Key"},"payload":{"id":%d}}' % i
        key = key.decode()
        body = (head + str(i) + ',"username":"user_' + str(i) + '","password":"')
        tail = ('"},"source":{"connector":"postgresql","ts_ms":' + str(ts0 + i // 1000) + ',"lsn":'
                + str(23000000 + i * 120) + '},"op":"c"}}')
        pad = max(0, size - len(key) - len(body) - len(tail))
        key = key.encode()
        val = (body + ("x" * pad) + tail).encode()
        nbytes += len(key) + len(val)
        while True:
            try:
                p.produce(topic, val, key)
                break
            except BufferError:
                p.poll(0.05)
        if i % 10000 == 0:
            p.poll(0)
    left = p.flush(120)
    dt = time.time() - t0
    print(json.dumps({"produced": count - left, "seconds": round(dt, 2), "bytes": nbytes}))
    return 0 if left == 0 else 1


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(q / 100.0 * (len(xs) - 1)))))
    return xs[k]


TS_US = re.compile(rb'"ts_us":(\d+)')
TS_MS = re.compile(rb'"ts_ms":(\d+)')


def cmd_latency(bootstrap, topic, countfile, timeout):
    """read TOPIC from the beginning until COUNTFILE exists and holds N and N records were read"""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "kbench-lat", "enable.auto.commit": False,
                  "fetch.wait.max.ms": 5, "fetch.min.bytes": 1, "auto.offset.reset": "earliest"})
    deadline = time.time() + float(timeout)
    tm = None
    while time.time() < deadline:
        md = c.list_topics(topic, timeout=5)
        tm = md.topics.get(topic)
        if tm is not None and tm.error is None and tm.partitions:
            break
        time.sleep(0.05)
    c.assign([TopicPartition(topic, p, 0) for p in tm.partitions])
    append_lat, recv_lat = [], []
    tstype_seen = None
    n = 0
    expected = None
    while time.time() < deadline:
        if expected is None and os.path.exists(countfile):
            try:
                expected = int(open(countfile).read().strip())
            except ValueError:
                pass
        if expected is not None and n >= expected:
            break
        m = c.poll(0.05)
        if m is None:
            continue
        now_us = time.time() * 1e6
        if m.error() or m.value() is None or m.offset() == 0:
            continue   # offset 0: the warm-up row
        n += 1
        # the first ts_us of a Debezium value is source.ts_us (commit time); the envelope's comes later
        v = m.value()
        mt = TS_US.search(v)
        if mt:
            commit_us = int(mt.group(1))
        else:
            mt = TS_MS.search(v)
            if not mt:
                continue
            commit_us = int(mt.group(1)) * 1000
        tstype, ts_ms = m.timestamp()
        tstype_seen = tstype
        append_lat.append(ts_ms * 1000 - commit_us)
        recv_lat.append(now_us - commit_us)
    res = {"records": n, "expected": expected,
           "timestamp_type": {0: "none", 1: "CreateTime", 2: "LogAppendTime"}.get(tstype_seen)}
    for name, xs in (("append", append_lat), ("receive", recv_lat)):
        for q in (50, 99, 99.9):
            v = pct(xs, q)
            res[f"{name}_p{q}_ms"] = None if v is None else round(v / 1000.0, 2)
        res[f"{name}_max_ms"] = round(max(xs) / 1000.0, 2) if xs else None
    print(json.dumps(res))
    return 0 if expected is not None and n >= expected else 1


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    sys.exit({"wait": cmd_wait, "create": cmd_create, "produce": cmd_produce,
              "latency": cmd_latency, "committed": cmd_committed}[cmd](*args))
