"""The example configuration (ferry.example.yaml at the top of the repository, the file
`make install` installs) is loaded by both daemons' --check-config against the real peers,
as it is and with every commented-out setting switched on, so it cannot drift from what the
daemons accept.
"""

from __future__ import annotations

import pathlib
import re
import subprocess

import pytest

from conftest import REPO

EXAMPLE = REPO / "ferry.example.yaml"
# "  # key: value   # comment" inside a section: a documented setting left at its default
COMMENTED = re.compile(r"^(?P<indent>\s+)# (?P<key>[a-z][a-z0-9_.]*): (?P<rest>\S.*)$")


def _local(text: str, pg, kafka) -> str:
    """Point the example at this session's peers: only addresses change."""
    text = re.sub(r'(?m)^(\s*bootstrap\.servers:).*$', rf'\1 "{kafka.bootstrap}"', text)
    return text


def _database(pg) -> str:
    """A database set up as the README says: the original schema and the extension."""
    db = "example_config"
    if pg.sql1(f"SELECT count(*) FROM pg_database WHERE datname = '{db}'") == "0":
        pg.create_database(db)
        pg.psql("-v", "ON_ERROR_STOP=1", input=(REPO / "sql" / "commerce.sql").read_text(), db=db)
        pg.sql("CREATE EXTENSION ferry", db=db)
    return db


def _env(pg, s3, tmp_path):
    return {
        "FERRY_PG_CONNINFO": f"host={pg.host} port={pg.port} dbname={_database(pg)} user=postgres",
        "FERRY_SINK_TARGET": f"s3://{s3.bucket}/example-config",
        "AWS_ENDPOINT_URL": s3.endpoint,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_REGION": s3.region,
    }


def _check(binary, cfg, env):
    return subprocess.run([str(binary), "-c", str(cfg), "--check-config"], env={**__import__("os").environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_example_config_is_accepted(pg, kafka, s3, ferry_bins, tmp_path):
    assert EXAMPLE.exists(), "ferry.example.yaml is missing"
    cfg = tmp_path / "ferry.yaml"
    cfg.write_text(_local(EXAMPLE.read_text(), pg, kafka))
    env = _env(pg, s3, tmp_path)
    for name in ("relay", "sink"):
        r = _check(ferry_bins.require(name), cfg, env)
        assert r.returncode == 0, f"ferry-{name} --check-config on the example failed:\n{r.stderr}"


def test_every_documented_setting_is_accepted(pg, kafka, s3, ferry_bins, tmp_path):
    """Uncomment each documented-but-commented setting and check the file still loads."""
    lines = EXAMPLE.read_text().splitlines()
    enabled = []
    out = []
    for line in lines:
        m = COMMENTED.match(line)
        if m:
            value = m["rest"].split("  #")[0].rstrip()
            line = f'{m["indent"]}{m["key"]}: {value}'
            enabled.append(m["key"])
        out.append(line)
    assert enabled, "the example documents no optional setting"
    text = _local("\n".join(out) + "\n", pg, kafka)
    # settings that cannot be combined with the ones the example enables
    text = re.sub(r"(?m)^\s+schema\.exclude\.list:.*\n", "", text)
    text = re.sub(r"(?m)^\s+table\.exclude\.list:.*\n", "", text)
    text = re.sub(r"(?m)^\s+(security\.protocol|sasl\.mechanisms|ssl\.[a-z.]+):.*\n", "", text)
    cfg = tmp_path / "ferry-all.yaml"
    cfg.write_text(text)
    env = _env(pg, s3, tmp_path)
    for name in ("relay", "sink"):
        binary = ferry_bins.require(name)
        dump = subprocess.run([str(binary), "-c", str(cfg), "--dump-config"],
                              env={**__import__("os").environ, **env}, capture_output=True, text=True, timeout=60)
        assert dump.returncode == 0, f"ferry-{name} rejects a documented setting:\n{dump.stderr}\n--- file:\n{text}"
