"""Smoke tests of the test peers themselves (Postgres, Kafka, versitygw), no Ferry code."""

import hashlib
import urllib.error
import urllib.request

import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import pytest


def test_pg_logical_decoding(pg):
    assert pg.sql1("SHOW wal_level") == "logical"
    if pg.sql1("SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'") == "1":
        libs = pg.sql1("SHOW output_plugin_libraries")
        for name in ("pgoutput", "test_decoding", "ferry", "wal2json", "decoderbufs"):
            assert name in libs
    pg.sql("CREATE TABLE infra_t (id int PRIMARY KEY, v text)")
    pg.sql("SELECT pg_create_logical_replication_slot('infra_slot', 'test_decoding')")
    try:
        pg.sql("INSERT INTO infra_t VALUES (1, 'héllo'), (2, NULL)")
        data = [r[2] for r in pg.slot_changes("infra_slot")]
        assert any("id[integer]:1 v[text]:'héllo'" in d for d in data), data
        assert any("v[text]:null" in d for d in data), data
    finally:
        pg.sql("SELECT pg_drop_replication_slot('infra_slot')")
        pg.sql("DROP TABLE infra_t")
    with pg.connect() as conn:
        assert conn.execute("SELECT 1 + 1").fetchone()[0] == 2


def test_kafka_produce_consume(kafka):
    kafka.produce("infra.topic", b'{"v":1}', key=b"k1", headers=[("h", b"x")])
    kafka.produce("infra.topic", None, key=b"k1")  # tombstone
    recs = kafka.read_topic("infra.topic", timeout=20, min_records=2)
    assert [(r[0], r[1], r[2], r[3]) for r in recs] == [(0, 0, b"k1", b'{"v":1}'), (0, 1, b"k1", None)]
    assert recs[0][4] == [("h", b"x")]
    assert "infra.topic" in kafka.topics()


def test_s3_put_get_and_strict_sigv4(s3):
    s3.put("infra/a b/x.json", b'{"value":1}\n')
    assert s3.get("infra/a b/x.json") == b'{"value":1}\n'
    assert "infra/a b/x.json" in s3.keys("infra/")
    assert (s3.data_dir / s3.bucket / "infra" / "a b" / "x.json").exists()
    bad = s3.client_with(secret_key=s3.secret_key + "x")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        bad.get_object(Bucket=s3.bucket, Key="infra/a b/x.json")
    assert ei.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    # the signed payload hash must match the body (versitygw does not check the region)
    url = f"{s3.endpoint}/{s3.bucket}/infra/h.json"
    req = AWSRequest(method="PUT", url=url, data=b"real body",
                     headers={"x-amz-content-sha256": hashlib.sha256(b"other body").hexdigest()})
    SigV4Auth(Credentials(s3.access_key, s3.secret_key), "s3", s3.region).add_auth(req)
    r = urllib.request.Request(url, data=b"real body", method="PUT", headers=dict(req.prepare().headers))
    with pytest.raises(urllib.error.HTTPError) as he:
        urllib.request.urlopen(r, timeout=10)
    assert he.value.code == 400 and b"XAmzContentSHA256Mismatch" in he.value.read()
