"""The whole pipeline on real peers: Postgres 15 -> ferry-relay -> Kafka 3.9 ->
ferry-sink -> versitygw (strict SigV4), checked the way the original setup's users
checked it: objects under table-specific paths, read back with boto3, and DuckDB
(`read_ndjson_objects`) rebuilding the products' SCD2 history ordered by source.lsn.
"""

from __future__ import annotations

import json
import pathlib
import re
import time

import pytest

from conftest import wait_until

PREFIX = "debezium"
TOPICS = {t: f"{PREFIX}.commerce.{t}" for t in ("users", "products")}
KEY_PREFIX = "pipeline"
KEY_RE = re.compile(r"^" + KEY_PREFIX + r"/(?P<topic>[^/]+)/\d{4}-\d{2}-\d{2}/\d{2}/(?P<part>\d{10})-(?P<start>\d{20})\.json$")


def _schema(pg, db):
    sql = (pathlib.Path(__file__).resolve().parents[2] / "sql" / "commerce.sql").read_text()
    pg.psql("-v", "ON_ERROR_STOP=1", input=sql, db=db)
    pg.sql("CREATE EXTENSION IF NOT EXISTS ferry", db=db)


def _write_config(path: pathlib.Path, pg, db, kafka, s3, slot):
    path.write_text(f"""
postgres:
  conninfo: "host={pg.host} port={pg.port} dbname={db} user=postgres"
kafka:
  bootstrap.servers: "{kafka.bootstrap}"
relay:
  slot.name: {slot}
  topic.prefix: {PREFIX}
  schema.include.list: [commerce]
  stats.interval.ms: 1000
  status.interval.ms: 1000
sink:
  topics: ['^{PREFIX}\\.commerce\\..*']
  group.id: pipeline-{slot}
  target: s3://{s3.bucket}/{KEY_PREFIX}
  flush.size: 20
  flush.interval.ms: 1000
  stats.interval.ms: 1000
  kafka:
    auto.offset.reset: earliest
  s3:
    endpoint: "{s3.endpoint}"
    region: {s3.region}
    access.key.id: {s3.access_key}
    secret.access.key: {s3.secret_key}
""")


def _bucket_lines(s3):
    """{topic: [(partition, offset_in_object_order, line_json)]}, checking the layout."""
    out = {}
    for key in s3.keys(KEY_PREFIX + "/"):
        m = KEY_RE.match(key)
        assert m, f"object {key!r} is not at <topic>/<yyyy>-<MM>-<dd>/<HH>/<partition>-<start>.json"
        body = s3.get(key).decode()
        lines = [json.loads(line) for line in body.splitlines() if line]
        start = int(m["start"])
        for i, line in enumerate(lines):
            out.setdefault(m["topic"], []).append((int(m["part"]), start + i, line, key))
    return out


def test_pipeline_to_bucket_and_duckdb_scd2(pg, kafka, s3, rundir, ferry_bins, spawn, tmp_path):
    relay_bin = ferry_bins.require("relay")
    sink_bin = ferry_bins.require("sink")
    db = "pipeline"
    pg.create_database(db)
    _schema(pg, db)

    # History the products go through, kept here as the truth to compare with.
    history: dict[int, list[dict | None]] = {}

    def insert(i):
        pg.sql(f"BEGIN; INSERT INTO commerce.users VALUES ({i}, 'user{i}', 'pw{i}');"
               f"INSERT INTO commerce.products VALUES ({i}, 'product {i}', 'desc {i}', {i}.5); COMMIT;", db=db)
        history[i] = [{"id": i, "name": f"product {i}", "description": f"desc {i}", "price": i + 0.5}]

    def rename(i, n):
        pg.sql(f"BEGIN; UPDATE commerce.users SET username = 'user{i}v{n}' WHERE id = {i};"
               f"UPDATE commerce.products SET name = 'product {i} v{n}' WHERE id = {i}; COMMIT;", db=db)
        history[i].append({**history[i][-1], "name": f"product {i} v{n}"})

    def delete(i):
        pg.sql(f"BEGIN; DELETE FROM commerce.users WHERE id = {i};"
               f"DELETE FROM commerce.products WHERE id = {i}; COMMIT;", db=db)
        history[i].append(None)

    # rows that exist before the relay starts: they arrive as snapshot reads
    for i in range(1, 11):
        insert(i)

    cfg = rundir / "pipeline.yaml"
    _write_config(cfg, pg, db, kafka, s3, "pipeline_slot")
    relay = spawn([relay_bin, "-c", cfg], "pipeline-relay")
    sink = spawn([sink_bin, "-c", cfg], "pipeline-sink")
    # the snapshot holds what exists at the slot's consistent point: write the rest after it
    # (a slow start -- an ASan or valgrind build -- would otherwise snapshot some of them)
    wait_until(lambda: relay.poll() is not None or "consistent point" in relay.log_path.read_text(),
               timeout=60, what="the relay's snapshot slot")
    assert relay.poll() is None, "ferry-relay exited"

    for i in range(11, 61):
        insert(i)
        if i % 10 == 0:
            rename(i, 1)
            rename(i, 2)
        if i % 20 == 0:
            delete(i)
    rename(3, 1)
    delete(5)

    # per table: snapshot 10 + 50 creates + 2*5+1 updates + 4 deletes (+4 tombstones)
    expected = {"users": 10 + 50 + 11 + 4 + 4, "products": 10 + 50 + 11 + 4 + 4}

    def all_in_bucket():
        got = _bucket_lines(s3)
        return all(len(got.get(TOPICS[t], [])) >= n for t, n in expected.items())

    wait_until(all_in_bucket, timeout=120, what="every record in the bucket")
    # let a late duplicate object show up if there is one
    time.sleep(2)
    assert relay.poll() is None, "ferry-relay exited"
    assert sink.poll() is None, "ferry-sink exited"

    got = _bucket_lines(s3)
    for table, topic in TOPICS.items():
        recs = got[topic]
        offsets = sorted((p, o) for p, o, _, _ in recs)
        # exactly once: one line per offset, no gaps, matching the topic's content
        assert offsets == sorted(set(offsets)), f"{topic}: an offset is in two objects"
        kafka_recs = kafka.read_topic(topic, min_records=expected[table])
        assert len(kafka_recs) == expected[table]
        assert offsets == [(p, o) for p, o, _, _, _ in kafka_recs]
        for (p, o, line, key), (kp, ko, kkey, kval, _) in zip(sorted(recs, key=lambda r: (r[0], r[1])), kafka_recs):
            assert (p, o) == (kp, ko)
            if kval is None:
                assert line == {"value": None}, f"tombstone at {topic}/{p}/{o} written as {line}"
            else:
                # the line is the Debezium value without its schema part
                assert line == {"value": json.loads(kval)["payload"]}, f"{key}: line differs from Kafka value"

    # DuckDB over the downloaded objects, as the original setup's users did
    import duckdb

    dl = tmp_path / "bucket"
    for key in s3.keys(KEY_PREFIX + "/"):
        f = dl / key[len(KEY_PREFIX) + 1:]
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(s3.get(key))
    con = duckdb.connect()
    rows = con.execute(f"""
        WITH changes AS (
            SELECT json->'value' AS v
            FROM read_ndjson_objects('{dl}/{TOPICS['products']}/*/*/*.json')
            WHERE (json->>'value') IS NOT NULL AND (json->>'value') <> 'null'
        ), versions AS (
            SELECT coalesce(v->'after'->>'id', v->'before'->>'id')::int AS id,
                   v->>'op' AS op,
                   v->'after'->>'name' AS name,
                   (v->'after'->>'price')::double AS price,
                   (v->'source'->>'lsn')::bigint AS lsn,
                   (v->'source'->>'ts_ms')::bigint AS valid_from
            FROM changes
        )
        SELECT id, op, name, price, valid_from,
               lead(valid_from) OVER (PARTITION BY id ORDER BY lsn) AS valid_to
        FROM versions
        ORDER BY id, lsn
    """).fetchall()

    scd2: dict[int, list] = {}
    for id_, op, name, price, valid_from, valid_to in rows:
        scd2.setdefault(id_, []).append((op, name, price, valid_from, valid_to))

    assert sorted(scd2) == sorted(history), "SCD2 ids differ from the products Postgres had"
    for id_, versions in history.items():
        got_versions = scd2[id_]
        assert len(got_versions) == len(versions), f"product {id_}: {got_versions} vs {versions}"
        first_op = "r" if id_ <= 10 else "c"
        for n, (want, (op, name, price, vf, vt)) in enumerate(zip(versions, got_versions)):
            if want is None:
                assert op == "d" and name is None
            else:
                assert op == (first_op if n == 0 else "u")
                assert name == want["name"] and price == pytest.approx(want["price"])
            assert vf is not None and (vt is None or vt >= vf)
        # the last open version is what Postgres holds now
        now = pg.sql(f"SELECT name FROM commerce.products WHERE id = {id_}", db=db)
        if versions[-1] is None:
            assert now == []
        else:
            assert now == [(versions[-1]["name"],)]
