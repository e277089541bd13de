"""The demo (`make demo`) and its helpers: ferry-gen and mock_kafka.

test_demo_runs_and_counts_match runs tests/tools/demo.sh for a short time on its embedded
defaults (throwaway PostgreSQL, librdkafka mock broker, file target) and checks that it
reports matching counts and left the objects laid out as the bucket.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest

from conftest import REPO, wait_until

TOOLS = REPO / "tests" / "tools"
NAME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}/\d{2}/\d{10}-\d{20}\.json$")


@pytest.fixture(scope="module")
def tools_built():
    subprocess.run(["make", "-s", "-C", str(TOOLS)], check=True)
    return TOOLS


def test_generator_summary_matches_database(pg, tools_built):
    pg.sql(open(REPO / "sql" / "commerce.sql").read())
    first = int(pg.sql1("SELECT coalesce(max(id), 0) + 1 FROM commerce.users"))
    out = subprocess.run([str(tools_built / "ferry-gen"), "-q", "-n", "500", "-s", "7", pg.dsn],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["iterations"] == 500
    assert summary["first_id"] == first and summary["last_id"] == first + 499
    for table in ("users", "products"):
        s = summary[table]
        assert s["c"] == 500
        assert 0 < s["u"] < 500 and 0 < s["d"] < 500
        rows = int(pg.sql1("SELECT count(*) FROM commerce.%s WHERE id BETWEEN %d AND %d"
                           % (table, first, first + 499)))
        assert rows == s["c"] - s["d"]
    # the same seed gives the same run
    again = subprocess.run([str(tools_built / "ferry-gen"), "-q", "-n", "500", "-s", "7", pg.dsn],
                           check=True, capture_output=True, text=True, timeout=120).stdout
    again = json.loads(again.strip().splitlines()[-1])
    assert {k: again[k] for k in ("users", "products")} == {k: summary[k] for k in ("users", "products")}


def test_generator_batches_and_rate(pg, tools_built):
    pg.sql(open(REPO / "sql" / "commerce.sql").read())
    out = subprocess.run([str(tools_built / "ferry-gen"), "-q", "-n", "1000", "-b", "100", pg.dsn],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    s = json.loads(out.strip().splitlines()[-1])
    assert s["iterations"] == 1000 and s["transactions"] == 10
    t0 = time.monotonic()
    out = subprocess.run([str(tools_built / "ferry-gen"), "-q", "--rate", "50", "--duration", "2", pg.dsn],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    s = json.loads(out.strip().splitlines()[-1])
    assert 1.5 <= time.monotonic() - t0 < 10
    assert 80 <= s["iterations"] <= 101


def test_mock_kafka_serves_a_consumer_group(tools_built, rundir):
    confluent_kafka = pytest.importorskip("confluent_kafka")
    addr = rundir / "mock.bootstrap"
    proc = subprocess.Popen([str(tools_built / "mock_kafka"), "-f", str(addr), "-t", "t1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: addr.exists(), 10, "mock_kafka bootstrap file")
        bootstrap = addr.read_text().strip()
        p = confluent_kafka.Producer({"bootstrap.servers": bootstrap})
        for i in range(30):
            p.produce("t1", key=b"k%d" % i, value=b"v%d" % i)
        assert p.flush(10) == 0
        c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "g",
                                      "auto.offset.reset": "earliest", "enable.auto.commit": False})
        c.subscribe(["t1"])
        got = []
        deadline = time.monotonic() + 30
        while len(got) < 30 and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got.append(m.value())
        assert got == [b"v%d" % i for i in range(30)]
        c.commit(asynchronous=False)
        tp = c.committed([confluent_kafka.TopicPartition("t1", 0)], timeout=10)
        assert tp[0].offset == 30
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_demo_runs_and_counts_match(tmp_path, ferry_bins):
    ferry_bins.require("relay")
    ferry_bins.require("sink")
    out_dir = tmp_path / "demo"
    env = dict(os.environ)
    for v in ("DEMO_CONFIG", "FERRY_KAFKA_BOOTSTRAP", "FERRY_S3_ENDPOINT", "DEMO_DIR"):
        env.pop(v, None)
    proc = subprocess.run(["bash", str(TOOLS / "demo.sh"), "--duration", "15", "--rate", "20",
                           "--dir", str(out_dir)],
                          env=env, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "counts match" in proc.stdout, output[-4000:]
    bucket = out_dir / "bucket" / "commerce"
    for topic in ("debezium.commerce.users", "debezium.commerce.products"):
        objs = sorted(p.relative_to(bucket / topic).as_posix()
                      for p in (bucket / topic).rglob("*.json"))
        assert objs, "no objects under %s" % (bucket / topic)
        assert all(NAME_RE.match(o) for o in objs), objs[:5]
        first = (bucket / topic / objs[0]).read_text().splitlines()[0]
        rec = json.loads(first)
        assert set(rec) == {"value"}
        assert rec["value"]["op"] in ("c", "r")
    # everything it started is gone: the PIDs it saved are not running
    for pidfile in (out_dir / "run").glob("*.pid"):
        pid = int(pidfile.read_text())
        assert not pathlib.Path("/proc/%d" % pid).exists() or \
            pathlib.Path("/proc/%d/stat" % pid).read_text().split()[2] == "Z", pidfile.name


def test_install_extras_stages_units_and_example(tmp_path):
    env = dict(os.environ, DESTDIR=str(tmp_path), PREFIX="/opt/ferry")
    env.pop("SYSCONFDIR", None)
    env.pop("SYSTEMDUNITDIR", None)
    subprocess.run(["sh", str(TOOLS / "install-extras.sh")], env=env, check=True,
                   capture_output=True, timeout=60)
    unit = (tmp_path / "opt/ferry/lib/systemd/system/ferry-relay.service").read_text()
    assert "ExecStart=/opt/ferry/bin/ferry-relay -c /opt/ferry/etc/ferry/ferry.yaml" in unit
    assert "User=ferry" in unit and "Restart=on-failure" in unit and "KillSignal=SIGTERM" in unit
    sink = (tmp_path / "opt/ferry/lib/systemd/system/ferry-sink.service").read_text()
    assert "ExecStart=/opt/ferry/bin/ferry-sink -c /opt/ferry/etc/ferry/ferry.yaml" in sink
    assert "@" not in unit + sink
    example = tmp_path / "opt/ferry/etc/ferry/ferry.yaml.example"
    assert example.exists() and "relay:" in example.read_text()
    assert (tmp_path / "opt/ferry/share/ferry/sql/commerce.sql").exists()
