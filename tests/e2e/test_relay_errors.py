"""ferry-relay bad input: each case gives its documented message and exit code
(2 = configuration error, 1 = runtime error), never a crash or a silent skip."""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from conftest import wait_until
from test_relay import Relay, Workload, decode


def run_relay(bin_, config, timeout=60):
    return subprocess.run([str(bin_), "-c", str(config)], capture_output=True, text=True, timeout=timeout)


def test_relay_cli(ferry_bins):
    b = ferry_bins.require("relay")
    r = subprocess.run([str(b), "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for text in ("Exit status", "  0  stopped by SIGTERM", "  1  runtime error", "  2  configuration",
                 "relay/snapshot.mode", "relay/topic.prefix"):
        assert text in r.stdout
    r = subprocess.run([str(b), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ferry-relay ")
    r = subprocess.run([str(b)], capture_output=True, text=True)
    assert r.returncode == 2 and "no configuration file" in r.stderr
    r = subprocess.run([str(b), "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2


def test_relay_config_errors(ferry_bins, rundir):
    b = ferry_bins.require("relay")
    cases = [
        ("malformed", "relay:\n  topic.prefix: [unclosed\n", "malformed.yaml:", "could not parse"),
        ("unknown", "relay:\n  topic.prefix: x\n  no.such.key: 1\n", "unknown.yaml:3:3:",
         'unrecognized configuration key "relay/no.such.key"'),
        ("badenum", "relay:\n  snapshot.mode: sometimes\n", "badenum.yaml:2:", 'invalid value "sometimes"'),
        ("badint", "relay:\n  topic.partitions: lots\n", "badint.yaml:2:", "invalid integer"),
        ("badkafka", "kafka:\n  bootstrap.servers: x:1\n  not.a.property: 1\n", "badkafka.yaml:3:",
         'invalid Kafka property "kafka/not.a.property"'),
        ("badkafkaval", "kafka:\n  acks: sometimes\n", "badkafkaval.yaml:2:", 'invalid Kafka property "kafka/acks"'),
        ("both", "relay:\n  table.include.list: a\\.b\n  table.exclude.list: c\\.d\n", "both.yaml:3:",
         "cannot be set together"),
        ("badslot", "relay:\n  slot.name: Bad-Slot\n", "badslot.yaml:2:", '"relay/slot.name"'),
        ("toplevel", "relya:\n  topic.prefix: x\n", "toplevel.yaml:1:1:", 'unrecognized configuration key "relya"'),
    ]
    for name, text, where, msg in cases:
        path = rundir / f"{name}.yaml"
        path.write_text(text)
        r = run_relay(b, path)
        assert r.returncode == 2, f"{name}: exit {r.returncode}\n{r.stderr}"
        assert where in r.stderr and msg in r.stderr, f"{name}: {r.stderr}"
        assert "Segmentation" not in r.stderr
    r = run_relay(b, rundir / "does-not-exist.yaml")
    assert r.returncode == 2 and "does-not-exist.yaml" in r.stderr


def test_relay_unreachable_broker(pg, ferry_bins, rundir, kafka, spawn):
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "nobroker", partitions=1)
    cfg = r.write_config({"slot.name": r.slot, "kafka.timeout.ms": 2000}, name="nobroker-bad")
    text = cfg.read_text().replace(kafka.bootstrap, "127.0.0.1:1")
    cfg.write_text(text)
    res = run_relay(r.bin, cfg)
    assert res.returncode == 1, res.stderr
    assert 'could not connect to Kafka broker "127.0.0.1:1"' in res.stderr
    # --check-config reports the same, and passes with the right broker
    res = subprocess.run([str(r.bin), "-c", str(cfg), "--check-config"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "could not connect to Kafka broker" in res.stderr
    res = subprocess.run([str(r.bin), "-c", str(r.config), "--check-config"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and "configuration ok" in res.stderr, res.stderr
    # nothing was created by --check-config
    assert pg.sql1(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{r.slot}'") == "0"


def test_relay_wrong_password(pg, ferry_bins, rundir, kafka, spawn):
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "password", partitions=1)
    pg.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relay_pw') THEN "
           "CREATE ROLE relay_pw LOGIN REPLICATION PASSWORD 'right'; END IF; END $$")
    hba = pathlib.Path(pg.socket_dir) / "pgdata" / "pg_hba.conf"
    old = hba.read_text()
    hba.write_text("host all relay_pw 127.0.0.1/32 scram-sha-256\n"
                   "host replication relay_pw 127.0.0.1/32 scram-sha-256\n" + old)
    pg.sql("SELECT pg_reload_conf()")
    try:
        conninfo = f"host=127.0.0.1 port={pg.port} dbname={r.db} user=relay_pw"
        cfg = r.write_config({"slot.name": r.slot}, name="password-bad", conninfo=conninfo)
        res = subprocess.run([str(r.bin), "-c", str(cfg)], capture_output=True, text=True, timeout=60,
                             env={"FERRY_PG_PASSWORD": "wrong", "PATH": "/usr/bin:/bin"})
        assert res.returncode == 1, res.stderr
        assert "could not connect to PostgreSQL" in res.stderr
        assert "password authentication failed" in res.stderr
        # the environment variable overrides the secret: the right one connects
        res = subprocess.run([str(r.bin), "-c", str(cfg), "--check-config"], capture_output=True, text=True,
                             timeout=60, env={"FERRY_PG_PASSWORD": "right", "PATH": "/usr/bin:/bin"})
        assert "password authentication failed" not in res.stderr, res.stderr
    finally:
        hba.write_text(old)
        pg.sql("SELECT pg_reload_conf()")


def test_relay_slot_held(pg, ferry_bins, rundir, kafka, spawn):
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "held", partitions=1, **{"snapshot.mode": "never"})
    r.start()
    r.wait_log("streaming from slot")
    cfg = r.write_config({"slot.name": r.slot, "slot.wait.ms": 1000, "snapshot.mode": "never"}, name="held-2")
    res = run_relay(r.bin, cfg)
    assert res.returncode == 1, res.stderr
    assert f'replication slot "{r.slot}" is active for PID' in res.stderr
    # the first relay is unaffected
    assert r.proc.poll() is None
    r.stop(0)
    # a slot made by another plugin is refused too
    pg.sql("SELECT pg_create_logical_replication_slot('relay_other_plugin', 'test_decoding')", db=r.db)
    cfg = r.write_config({"slot.name": "relay_other_plugin"}, name="held-3")
    res = run_relay(r.bin, cfg)
    assert res.returncode == 1
    assert 'uses output plugin "test_decoding", not "ferry"' in res.stderr
    pg.sql("SELECT pg_drop_replication_slot('relay_other_plugin')", db=r.db)


def test_relay_table_without_primary_key(pg, ferry_bins, rundir, kafka, spawn):
    """Not skipped silently: a warning names the table, and its rows are still sent
    (with a null key, as Debezium does)."""
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "nopk", partitions=1)
    pg.sql("CREATE TABLE commerce.nopk (a int, b text); INSERT INTO commerce.nopk VALUES (1, 'x'), (2, 'y')",
           db=r.db)
    r.start()
    r.wait_log("streaming from slot")
    assert "table commerce.nopk has no primary key" in r.log()
    pg.sql("INSERT INTO commerce.nopk VALUES (3, 'z')", db=r.db)
    recs = kafka.read_topic(f"{r.prefix}.commerce.nopk", timeout=30, min_records=3)
    assert len(recs) == 3
    assert all(rec[2] is None for rec in recs), "keyless table: records must have a null key"
    r.stop(0)


def test_relay_delivery_failure_stops(pg, ferry_bins, rundir, kafka, spawn):
    """A record Kafka refuses for good stops the relay (exit 1) with a clear error, and
    the slot's confirmed position never passes that record's transaction."""
    from confluent_kafka.admin import AdminClient, NewTopic
    r = Relay(pg, kafka, rundir, ferry_bins, spawn, "dfail", partitions=1, **{"snapshot.mode": "never"})
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})
    fs = admin.create_topics([NewTopic(r.topic("products"), num_partitions=1, replication_factor=1,
                                       config={"max.message.bytes": "3000"})])
    for f in fs.values():
        f.result(timeout=30)
    r.start()
    r.wait_log("streaming from slot")
    pg.sql("INSERT INTO commerce.users (username, password) VALUES ('ok', 'ok')", db=r.db)
    wait_until(lambda: kafka.read_topic(r.topic("users"), timeout=5, min_records=1), 30, "the small record")
    before = r.confirmed()
    big_lsn = pg.sql1("SELECT pg_current_wal_lsn()", db=r.db)
    # incompressible (the relay produces lz4 batches): 400 random md5s, 12.8 KB
    pg.sql("INSERT INTO commerce.products (name, description, price) "
           "SELECT 'big', string_agg(md5(random()::text), ''), 1 FROM generate_series(1, 400)",
           db=r.db)
    rc = r.proc.wait(60)
    assert rc == 1, r.log()[-2000:]
    assert "could not deliver record to topic" in r.log() or "fatal Kafka producer error" in r.log()
    from test_relay import lsn_int
    assert r.confirmed() <= lsn_int(big_lsn), "confirmed past a record Kafka refused"
    assert r.confirmed() >= before
