"""Debezium 3.6.1 conformance oracle for the `ferry` output plugin.

One Postgres cluster, one type-rich schema, one workload, two decoders of the same WAL, in
several scenarios (SCENARIOS: the same options given to both sides):

* ferry:    slot `ferry_<scenario>` (plugin `ferry`), read with pg_logical_slot_get_changes(...,
            'topic.prefix','conf', <options>), format json: each row is
            {"topic":…,"key":…,"value":…,"headers":{…}} (docs/wire-format.md).
* Debezium: the real PostgreSQL connector 3.6.1 in the embedded engine (DbzDump.java), with
            its own pgoutput slot `dbz_<scenario>` + publication `dbz_conf_pub` (created before
            the workload, snapshot.mode=no_data), JsonConverter, SimpleHeaderConverter for
            headers; started after the workload, stopped when it has emitted the end marker (a
            logical decoding message with prefix conf_end).

Records are compared per topic, in order (aligned on (op, key), so a missing or extra record
shows as such), field by field, after removing only the change envelope's ts_ms/ts_us/ts_ns and
source.version (and the random value of the __debezium.context.runId header, and the identity
hash in Debezium's "…LogicalDecodingMessageId@1a2b3c" transaction data_collection name, which
also makes that entry's place in data_collections random: it is moved first on both sides). Numbers are
compared as their JSON text (3 vs 3.0 differ), object key order and schema field order are
checked, and when the parsed records are equal the raw JSON text is compared too (escaping).

When relay/ferry-relay is built, the pipeline is checked too: ferry-relay streams a fourth
ferry slot (format relay, the "defaults" options) into a real Kafka 3.9 broker, and the Kafka
records (key/value bytes, headers) are compared with the same Debezium records, per topic
(build/conformance/relay/). Then both snapshot the tables the workload left (Debezium
snapshot.mode=initial, ferry-relay snapshot.mode=initial_only, topic prefix "snap"), compared
the same way except for each side's own source ts/lsn/txId/sequence (build/conformance/snapshot/).

Known, accepted differences go into ACCEPTED ("<scenario>/<topic>:<path>" pattern -> reason).
Per scenario, build/conformance/<scenario>/ gets debezium.jsonl, ferry.jsonl and report.txt
(the full diff report).  Run just this: tests/conformance/run.sh [-k modes]
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CACHE = pathlib.Path(os.environ.get("FERRY_CACHE", os.path.expanduser("~/.cache/ferry")))
OUT_DIR = REPO / "build" / "conformance"
PREFIX = "conf"
DBZ_PUB = "dbz_conf_pub"
END_PREFIX = "conf_end"

# Topics the workload writes; `conf.message` holds the logical decoding messages.
TOPICS = [
    "conf.public.types",
    "conf.public.full_t",
    "conf.public.idx_t",
    "conf.public.nothing_t",
    "conf.public.nopk_t",
    "conf.public.nopk_full",
    "conf.public.toast_t",
    "conf.public.defaults_t",
    "conf.shop.orders",
    "conf.message",
]

# Scenarios: the same options are given to ferry (slot options) and to Debezium (connector
# properties; schemas.enable becomes the JsonConverter's converter.schemas.enable).
# Each has its own ferry slot ferry_<name> and Debezium slot dbz_<name>, all created before
# the workload, so every scenario decodes the same WAL. `topics` is what it must produce.
SCENARIOS = {
    # Debezium's defaults (as the original setup), truncates on
    "defaults": {
        "options": {"skipped.operations": "none"},
        "topics": TOPICS,
    },
    # every other value mode, transaction metadata, no tombstones, unknown types, filters
    "modes": {
        "options": {
            "skipped.operations": "none",
            "decimal.handling.mode": "string",
            "time.precision.mode": "connect",
            "binary.handling.mode": "hex",
            "interval.handling.mode": "string",
            "tombstones.on.delete": "false",
            "provide.transaction.metadata": "true",
            "include.unknown.datatypes": "true",
            "table.exclude.list": "public.nopk_t",
            "column.exclude.list": "public.types.c_text,public.toast_t.t",
            "message.prefix.exclude.list": "bin",
        },
        "topics": [t for t in TOPICS if t != "conf.public.nopk_t"] + ["conf.transaction"],
    },
    # schemas off, doubles for decimals, microsecond times, base64 bytes, no context headers,
    # one schema only, default skipped.operations (truncates dropped)
    "compact": {
        "options": {
            "schemas.enable": "false",
            "decimal.handling.mode": "double",
            "time.precision.mode": "adaptive_time_microseconds",
            "binary.handling.mode": "base64",
            "extended.headers.enabled": "false",
            "schema.include.list": "public",
            "message.prefix.include.list": "shop,conf_end",
        },
        "topics": [t for t in TOPICS if t != "conf.shop.orders"],
    },
}

# Accepted differences: fnmatch pattern on "<scenario>/<topic>:<path>" (path as printed in the
# report, array indices generalised to [*]) -> reason. Keep this short and justified.
ACCEPTED: dict[str, str] = {
    "relay/*:value.payload.source.sequence":
        "the relay starts on a slot created before it (to see the same WAL as Debezium), so it "
        "passes the slot's confirmed position as offset.lsn.commit and the first transaction's "
        "sequence[0] is that LSN, where Debezium, starting with no offsets, writes null; "
        "sequence itself is checked byte for byte in the plugin scenarios",
}

SCHEMA_SQL = r"""
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN short_text AS varchar(20);
CREATE SCHEMA shop;

CREATE TABLE types (
    id          serial PRIMARY KEY,
    c_int2      int2,
    c_int4      int4,
    c_int8      int8,
    c_oid       oid,
    c_num       numeric(10,2),
    c_num_p     numeric(6),
    c_num_big   numeric(38,10),
    c_num_u     numeric,
    c_real      real,
    c_double    double precision,
    c_money     money,
    c_bool      boolean,
    c_text      text,
    c_varchar   varchar(50),
    c_char      char(10),
    c_char1     char,
    c_name      name,
    c_bytea     bytea,
    c_uuid      uuid,
    c_json      json,
    c_jsonb     jsonb,
    c_xml       xml,
    c_mood      mood,
    c_bit1      bit,
    c_bit       bit(12),
    c_varbit    varbit(20),
    c_varbit_u  varbit,
    c_inet      inet,
    c_cidr      cidr,
    c_macaddr   macaddr,
    c_macaddr8  macaddr8,
    c_interval  interval,
    c_date      date,
    c_time      time,
    c_time0     time(0),
    c_time3     time(3),
    c_timetz    timetz,
    c_timetz3   timetz(3),
    c_ts        timestamp,
    c_ts0       timestamp(0),
    c_ts3       timestamp(3),
    c_tstz      timestamptz,
    c_tstz0     timestamptz(0),
    c_tstz3     timestamptz(3),
    c_hstore    hstore,
    c_int4range int4range,
    c_int8range int8range,
    c_numrange  numrange,
    c_tsrange   tsrange,
    c_tstzrange tstzrange,
    c_daterange daterange,
    c_posint    posint,
    c_short     short_text,
    c_point     point,
    c_tsvector  tsvector,
    c_box       box,
    c_int_arr   int[],
    c_int8_arr  int8[],
    c_text_arr  text[],
    c_char_arr  char(4)[],
    c_num_arr   numeric(6,2)[],
    c_numu_arr  numeric[],
    c_float_arr float8[],
    c_bool_arr  boolean[],
    c_date_arr  date[],
    c_ts_arr    timestamp[],
    c_tstz_arr  timestamptz[],
    c_uuid_arr  uuid[],
    c_jsonb_arr jsonb[],
    c_bytea_arr bytea[],
    c_mood_arr  mood[],
    c_inet_arr  inet[]
);

CREATE TABLE full_t (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    qty     integer,
    price   numeric(8,3),
    big     text,
    tags    text[]
);
ALTER TABLE full_t REPLICA IDENTITY FULL;

CREATE TABLE idx_t (
    id      integer PRIMARY KEY,
    code    varchar(10) NOT NULL,
    v       integer,
    note    text NOT NULL DEFAULT 'n/a'
);
CREATE UNIQUE INDEX idx_t_code ON idx_t (code);
ALTER TABLE idx_t REPLICA IDENTITY USING INDEX idx_t_code;

CREATE TABLE nothing_t (id integer PRIMARY KEY, v text);
ALTER TABLE nothing_t REPLICA IDENTITY NOTHING;

CREATE TABLE nopk_t (a integer, b text);

CREATE TABLE nopk_full (a integer, b text, c double precision);
ALTER TABLE nopk_full REPLICA IDENTITY FULL;

CREATE TABLE toast_t (
    id      integer PRIMARY KEY,
    small   integer,
    t       text,
    b       bytea,
    ta      text[],
    ia      integer[],
    j       jsonb,
    h       hstore
);
ALTER TABLE toast_t ALTER COLUMN t SET STORAGE EXTERNAL;
ALTER TABLE toast_t ALTER COLUMN b SET STORAGE EXTERNAL;

CREATE TABLE defaults_t (
    id      bigserial PRIMARY KEY,
    s       smallserial,
    txt     varchar(20) DEFAULT 'abc',
    n       integer DEFAULT 42,
    flag    boolean DEFAULT true,
    created timestamp DEFAULT now(),
    created_tz timestamptz DEFAULT current_timestamp,
    u       uuid DEFAULT gen_random_uuid(),
    num     numeric(5,2) DEFAULT 1.5,
    m       mood DEFAULT 'ok',
    j       jsonb DEFAULT '{}',
    req     text NOT NULL DEFAULT '',
    d       date DEFAULT '2020-02-02',
    big     bigint DEFAULT 9223372036854775807
);

CREATE TABLE shop.orders (
    order_id bigint,
    line     smallint,
    sku      text NOT NULL,
    amount   numeric(12,4),
    PRIMARY KEY (order_id, line)
);
"""

# Big, poorly compressible values, so that they are stored out of line (TOAST).
BIG_TEXT = "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i)"
BIG_BYTEA = "(SELECT string_agg(decode(md5(i::text), 'hex'), '') FROM generate_series(1, 400) i)"
BIG_TEXT_ARR = "(SELECT array_agg(md5(i::text)) FROM generate_series(1, 300) i)"
BIG_INT_ARR = "(SELECT array_agg((i * 2654435761::bigint % 2147483647)::int) FROM generate_series(1, 2000) i)"
BIG_JSONB = "(SELECT jsonb_object_agg('k' || i, md5(i::text)) FROM generate_series(1, 200) i)"
BIG_HSTORE = "(SELECT hstore(array_agg('k' || i), array_agg(md5(i::text))) FROM generate_series(1, 200) i)"

TYPES_ROW1 = r"""
INSERT INTO types (c_int2, c_int4, c_int8, c_oid, c_num, c_num_p, c_num_big, c_num_u, c_real, c_double,
  c_money, c_bool, c_text, c_varchar, c_char, c_char1, c_name, c_bytea, c_uuid, c_json, c_jsonb, c_xml,
  c_mood, c_bit1, c_bit, c_varbit, c_varbit_u, c_inet, c_cidr, c_macaddr, c_macaddr8, c_interval,
  c_date, c_time, c_time0, c_time3, c_timetz, c_timetz3, c_ts, c_ts0, c_ts3, c_tstz, c_tstz0, c_tstz3,
  c_hstore, c_int4range, c_int8range, c_numrange, c_tsrange, c_tstzrange, c_daterange, c_posint, c_short,
  c_point, c_tsvector, c_box, c_int_arr, c_int8_arr, c_text_arr, c_char_arr, c_num_arr, c_numu_arr,
  c_float_arr, c_bool_arr, c_date_arr, c_ts_arr, c_tstz_arr, c_uuid_arr, c_jsonb_arr, c_bytea_arr,
  c_mood_arr, c_inet_arr)
VALUES (1, 123456, 1234567890123, 4000000000, 1.1, 10, 12345678901234567890.0123456789, 10.1111, 3.3, 4.44,
  '$1234.11', true, 'some text', 'varchar', 'cone', 'x', 'a_name', '\x010203',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"bar": "baz", "n": [1, 2.50]}', '{"bar": "baz", "a": 1, "a": 2}',
  '<foo>bar</foo><foo>bar</foo>', 'happy', B'1', B'000000000011', B'101', B'111011010001000110000001000000001',
  '192.168.2.0/12', '192.168.100.128/25', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
  'P1Y2M3DT4H5M6.78S', '2016-11-04', '13:51:30.123456', '13:51:30', '13:51:30.123',
  '13:51:30.123789+02:00', '13:51:30.123+02', '2016-11-04 13:51:30.123456', '2016-11-04 13:51:30',
  '2016-11-04 13:51:30.123456', '2016-11-04T13:51:30.123456+02:00', '2016-11-04T13:51:30+02:00',
  '2016-11-04T13:51:30.1+02:00', '"key1"=>"val1", "key2"=>NULL, "key3"=>"val3"', '[1000,6000)',
  '[1000000,6000000)', '[5.3,6.3)', '[2019-03-31 15:30:00,infinity)', '[2017-06-05 11:29:12.549426+00,)',
  '[2019-03-31,2019-04-30)', 7, 'domain text', '(1,1)', 'a fat cat sat on a mat and ate a fat rat',
  '((0,0),(1,1))', '{1,2,3}', '{1550166368505037572}', '{"one","two","three"}', '{"cone","ctwo"}',
  '{1.2,3.4,5.6}', '{1.1,22.22,NULL}', '{1.5,-2.25}', '{true,false,NULL}', '{2016-11-04,2016-11-05}',
  '{"2016-11-04 00:01:02","2016-11-04 01:02:03.5"}', '{"2020-04-01 13:51:02+02"}',
  '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"bar": "baz"}'::jsonb, '{"foo": "qux"}'::jsonb],
  '{"\\x000102","\\x030405"}', '{sad,happy}', '{192.168.1.1,10.0.0.0/8}');
"""

TYPES_ROW_EXTREMES = r"""
INSERT INTO types (c_int2, c_int4, c_int8, c_oid, c_num, c_num_p, c_num_big, c_num_u, c_real, c_double,
  c_money, c_bool, c_text, c_varchar, c_char, c_bytea, c_json, c_jsonb, c_interval, c_date, c_time,
  c_timetz, c_ts, c_ts3, c_tstz, c_tstz0, c_hstore, c_bit, c_varbit, c_int_arr, c_text_arr, c_point,
  c_tsvector, c_numrange)
VALUES (-32768, -2147483648, -9223372036854775808, 0, -99999999.99, -999999,
  -0.0000000001, -123456789012345678901234567890.123456789, 'NaN', '-Infinity',
  '-$92233720368547758.08', false, E'unicode: žš 日本 🎉, ctl: \t\n\r\x01 quote: " backslash: \\ <>&''',
  '', '          ', '\x00ff', '{"k": "\u00e9\n", "esc": "a\"b"}', '{"emoji": "🎉", "nested": {"z": [], "a": null}}',
  '-178000000 years', '0001-01-01', '24:00:00', '00:00:00+14:59', 'infinity', '1970-01-01 00:00:00.001',
  '21016-11-04T13:51:30.123456+02:00', '-infinity', '', B'000000000000', B'', '{}', '{NULL,"",x}',
  '(-1.5,1e300)', '', 'empty');
INSERT INTO types (c_real, c_double, c_num_u, c_num, c_interval, c_tstz)
VALUES ('Infinity', 'NaN', 'NaN', 0, '-1 day -00:00:01.5', '1999-12-31 23:59:59.999999-12:00');
INSERT INTO types (c_real, c_double, c_num_u, c_tstz3) VALUES (-0.0, 1e-300, 0.000, '2020-01-01 00:00:00+00');
"""


def workload_sql() -> list[str]:
    """Each string is one transaction (psql -c, one implicit transaction per call)."""
    return [
        TYPES_ROW1,
        "INSERT INTO types (id) VALUES (DEFAULT)",  # all NULLs
        TYPES_ROW_EXTREMES,
        "UPDATE types SET c_text = 'updated', c_int4 = c_int4 + 1, c_jsonb = '[]' WHERE id = 1",
        "DELETE FROM types WHERE id = 2",
        # FULL identity
        f"""INSERT INTO full_t VALUES (1, 'one', 10, 1.5, {BIG_TEXT}, '{{a,b}}'),
                                      (2, 'two', NULL, NULL, NULL, NULL),
                                      (3, 'three', 3, -3.333, 'small', '{{}}')""",
        "UPDATE full_t SET qty = 11 WHERE id = 1",               # unchanged TOAST, FULL
        "UPDATE full_t SET name = 'TWO', qty = 2 WHERE id = 2",
        "UPDATE full_t SET id = 20 WHERE id = 2",                 # PK change
        "UPDATE full_t SET qty = qty WHERE id = 3",               # no-op update
        "DELETE FROM full_t WHERE id = 1",
        # USING INDEX identity
        "INSERT INTO idx_t VALUES (1, 'A', 1, 'first'), (2, 'B', 2, DEFAULT)",
        "UPDATE idx_t SET v = 10 WHERE id = 1",
        "UPDATE idx_t SET code = 'AA' WHERE id = 1",              # identity key change
        "UPDATE idx_t SET id = 3 WHERE id = 2",                   # PK change, identity unchanged
        "DELETE FROM idx_t WHERE id = 1",
        # NOTHING identity / no PK: inserts only (published UPDATE/DELETE would fail)
        "INSERT INTO nothing_t VALUES (1, 'x'), (2, NULL)",
        "INSERT INTO nopk_t VALUES (1, 'a'), (NULL, NULL), (1, 'a')",
        "INSERT INTO nopk_full VALUES (1, 'a', 1.0), (2, 'b', 2.5)",
        "UPDATE nopk_full SET b = 'bb' WHERE a = 2",
        "DELETE FROM nopk_full WHERE a = 1",
        # TOAST, DEFAULT identity
        f"""INSERT INTO toast_t VALUES (1, 1, {BIG_TEXT}, {BIG_BYTEA}, {BIG_TEXT_ARR}, {BIG_INT_ARR},
                                         {BIG_JSONB}, {BIG_HSTORE}),
                                        (2, 2, 'short', '\\x00', '{{x}}', '{{1}}', '{{}}', 'a=>b')""",
        "UPDATE toast_t SET small = 10 WHERE id = 1",              # unchanged TOAST -> placeholders
        f"UPDATE toast_t SET t = {BIG_TEXT} || 'x', small = 11 WHERE id = 1",
        "UPDATE toast_t SET small = 20 WHERE id = 2",
        "DELETE FROM toast_t WHERE id = 1",
        # defaults
        "INSERT INTO defaults_t DEFAULT VALUES",
        "INSERT INTO defaults_t (txt, n, flag, created, created_tz, u, num, m, j, d, big) "
        "VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        "INSERT INTO defaults_t (txt, n, req) VALUES ('given', 7, 'req')",
        # other schema, composite key; several tables in one transaction
        """BEGIN;
           INSERT INTO shop.orders VALUES (1, 1, 'sku-1', 9.99), (1, 2, 'sku-2', 0.0001);
           INSERT INTO nopk_t VALUES (42, 'in tx');
           SELECT pg_logical_emit_message(true, 'shop', 'order 1 created');
           UPDATE shop.orders SET amount = amount * 2 WHERE order_id = 1;
           UPDATE shop.orders SET line = 3 WHERE order_id = 1 AND line = 2;
           DELETE FROM shop.orders WHERE order_id = 1 AND line = 1;
           COMMIT;""",
        # a rolled back transaction produces nothing
        "BEGIN; INSERT INTO nopk_t VALUES (-1, 'rolled back'); ROLLBACK;",
        # a bigger transaction
        "INSERT INTO shop.orders SELECT 2, i, 'bulk-' || i, i / 7.0 FROM generate_series(1, 200) i",
        # messages: transactional, binary content
        "SELECT pg_logical_emit_message(true, 'bin', '\\x00ff10'::bytea)",
        # truncates (skipped.operations=none on both sides)
        "TRUNCATE nothing_t",
        "TRUNCATE nopk_t, shop.orders",
        # end marker: Debezium is stopped once it has emitted this
        f"SELECT pg_logical_emit_message(true, '{END_PREFIX}', 'done')",
    ]


# ------------------------------------------------------------------ JSON with literal numbers

class Num:
    """A JSON number or NaN/Infinity literal, compared by its exact text."""
    __slots__ = ("raw",)

    def __init__(self, raw):
        self.raw = raw

    def __eq__(self, other):
        return isinstance(other, Num) and other.raw == self.raw

    def __hash__(self):
        return hash(self.raw)

    def __repr__(self):
        return self.raw


def jloads(text: str):
    def pairs(items):
        d = {}
        dups = []
        for k, v in items:
            if k in d:
                dups.append(k)
            d[k] = v
        if dups:
            d["<duplicate keys>"] = dups
        return d
    return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=Num, object_pairs_hook=pairs)


def jdump(v) -> str:
    if isinstance(v, Num):
        return v.raw
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + jdump(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(jdump(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def short(v, n=160) -> str:
    s = jdump(v)
    return s if len(s) <= n else s[:n] + f"…(+{len(s) - n} chars)"


def split_record(line: str) -> dict[str, str]:
    """Raw text of each top-level member of a {"topic":…,"key":…,…} line."""
    dec = json.JSONDecoder()
    i = 0
    n = len(line)

    def ws(j):
        while j < n and line[j] in " \t\r\n":
            j += 1
        return j

    i = ws(i)
    if line[i] != "{":
        raise ValueError("record is not a JSON object")
    i = ws(i + 1)
    out = {}
    while i < n and line[i] != "}":
        name, i = dec.raw_decode(line, i)
        i = ws(i)
        if line[i] != ":":
            raise ValueError(f"expected ':' at {i}")
        i = ws(i + 1)
        _, end = dec.raw_decode(line, i)
        out[name] = line[i:end]
        i = ws(end)
        if i < n and line[i] == ",":
            i = ws(i + 1)
    return out


class Rec:
    def __init__(self, line: str, snapshot: bool = False):
        self.snapshot = snapshot
        raw = split_record(line)
        self.raw_exempt = False     # raw text not comparable (normalised a random part)
        self.raw_key = raw.get("key", "null")
        self.raw_value = raw.get("value", "null")
        self.topic = json.loads(raw["topic"])
        self.key = jloads(self.raw_key)
        self.value = jloads(self.raw_value)
        h = jloads(raw["headers"]) if "headers" in raw else {}
        self.headers = {k: ("<runId>" if k == "__debezium.context.runId" and v else v) for k, v in h.items()}
        norm = jloads(self.raw_value)
        p = norm.get("payload") if isinstance(norm, dict) and "schema" in norm and "payload" in norm else norm
        if isinstance(p, dict) and "op" in p:   # a change event envelope (not a transaction record)
            for f in ("ts_ms", "ts_us", "ts_ns"):
                p.pop(f, None)
            if isinstance(p.get("source"), dict):
                p["source"].pop("version", None)
                if snapshot:   # each side reads its own snapshot: its own time, LSN, xid
                    for f in SNAPSHOT_SOURCE_DROP:
                        p["source"].pop(f, None)
        if isinstance(p, dict) and isinstance(p.get("data_collections"), list):
            # Debezium names transactional messages' pseudo collection by a Java object's
            # toString(): "...LogicalDecodingMessageId@<identity hash>", random per run
            # ... and that random name decides its place in the HashMap order: put it first
            dcs = p["data_collections"]
            for dc in dcs:
                if isinstance(dc, dict) and isinstance(dc.get("data_collection"), str):
                    dc["data_collection"] = IDHASH.sub(r"\1@<hash>", dc["data_collection"])
            msg = [dc for dc in dcs if isinstance(dc, dict) and "@<hash>" in str(dc.get("data_collection"))]
            if msg:
                p["data_collections"] = msg + [dc for dc in dcs if dc not in msg]
                self.raw_exempt = True
        self.norm_value = norm

    @property
    def op(self):
        v = self.value
        if v is None:
            return "tombstone"
        p = v.get("payload") if isinstance(v, dict) and "schema" in v and "payload" in v else v
        if isinstance(p, dict):
            return p.get("op") or p.get("status") or "?"
        return "?"

    def key_payload(self):
        k = self.key
        if isinstance(k, dict) and "schema" in k and "payload" in k:
            return k["payload"]
        return k

    def sig(self):
        return (self.op, jdump(self.key_payload()))

    def label(self):
        return f"op={self.op} key={short(self.key_payload(), 80)}"


IDHASH = re.compile(r"^(.*\$LogicalDecodingMessageId)@[0-9a-f]+$")
RAW_NORM = [(re.compile(r'"ts_(ms|us|ns)":-?\d+'), r'"ts_\1":0'),
            (re.compile(r'"version":"[^"]*"'), '"version":""'),
            (re.compile(r'(\$LogicalDecodingMessageId)@[0-9a-f]+"'), r'\1@<hash>"')]


SNAPSHOT_SOURCE_DROP = ("ts_ms", "ts_us", "ts_ns", "lsn", "txId", "sequence")
RAW_NORM_SNAPSHOT = [(re.compile(r'"(lsn|txId)":-?\d+'), r'"\1":0'),
                     (re.compile(r'"sequence":"(?:[^"\\]|\\.)*"'), '"sequence":""')]


def raw_norm(s: str, snapshot: bool = False) -> str:
    for rx, rep in RAW_NORM + (RAW_NORM_SNAPSHOT if snapshot else []):
        s = rx.sub(rep, s)
    return s


# ------------------------------------------------------------------ structural diff

def _label_list(lst):
    """Labels for a list of schema fields (by their "field" name), else None."""
    if lst and all(isinstance(x, dict) and isinstance(x.get("field"), str) for x in lst):
        labels = [x["field"] for x in lst]
        if len(set(labels)) == len(labels):
            return labels
    return None


def diff(a, b, path: str, out: list):
    """Append (path, debezium, ferry, what) for each difference of a (debezium) vs b (ferry)."""
    if type(a) is not type(b):
        out.append((path, a, b, "type"))
        return
    if isinstance(a, dict):
        for k in a:
            if k not in b:
                out.append((f"{path}.{k}", a[k], "<missing>", "missing in ferry"))
        for k in b:
            if k not in a:
                out.append((f"{path}.{k}", "<missing>", b[k], "extra in ferry"))
        common_a = [k for k in a if k in b]
        common_b = [k for k in b if k in a]
        if common_a != common_b:
            out.append((path, *_order_ctx(common_a, common_b), "key order"))
        for k in common_a:
            diff(a[k], b[k], f"{path}.{k}", out)
        return
    if isinstance(a, list):
        la, lb = _label_list(a), _label_list(b)
        if la is not None and lb is not None:
            for name in la:
                if name not in lb:
                    out.append((f"{path}[{name}]", a[la.index(name)], "<missing>", "field missing in ferry"))
            for name in lb:
                if name not in la:
                    out.append((f"{path}[{name}]", "<missing>", b[lb.index(name)], "extra field in ferry"))
            ca = [x for x in la if x in lb]
            cb = [x for x in lb if x in la]
            if ca != cb:
                out.append((path, *_order_ctx(ca, cb), "field order"))
            for name in ca:
                diff(a[la.index(name)], b[lb.index(name)], f"{path}[{name}]", out)
            return
        if len(a) != len(b):
            out.append((path, a, b, f"length {len(a)} vs {len(b)}"))
            return
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
        return
    if a != b:
        out.append((path, a, b, "value"))


def _order_ctx(a: list, b: list):
    i = 0
    while a[i] == b[i]:
        i += 1
    lo = max(0, i - 2)
    return (f"from #{i}: " + ",".join(a[lo:i + 4]) + ",…", f"from #{i}: " + ",".join(b[lo:i + 4]) + ",…")


def compare_records(d: Rec, f: Rec) -> list:
    out = []
    diff(d.key, f.key, "key", out)
    diff(d.norm_value, f.norm_value, "value", out)
    diff(d.headers, f.headers, "headers", out)
    if not out:
        if d.raw_key != f.raw_key:
            out.append(("key", _raw_ctx(d.raw_key, f.raw_key), "", "raw JSON text differs"))
        rd, rf = raw_norm(d.raw_value, d.snapshot), raw_norm(f.raw_value, f.snapshot)
        if rd != rf and not (d.raw_exempt or f.raw_exempt):
            out.append(("value", _raw_ctx(rd, rf), "", "raw JSON text differs"))
    return out


def _raw_ctx(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return f"at char {i}: debezium …{a[max(0, i - 40):i + 40]!r}… ferry …{b[max(0, i - 40):i + 40]!r}…"


def accepted(scenario: str, topic: str, path: str) -> str | None:
    gen = re.sub(r"\[\d+\]", "[*]", path)
    for pat, reason in ACCEPTED.items():
        if fnmatch.fnmatchcase(f"{scenario}/{topic}:{gen}", pat):
            return reason
    return None


# ------------------------------------------------------------------ running both sides

def _dbz_classpath() -> str:
    lib = CACHE / "debezium" / "lib"
    if not any(lib.glob("debezium-connector-postgres-*.jar")):
        pytest.fail(f"Debezium jars missing in {lib}: run bash tests/tools/deps.sh", pytrace=False)
    src = pathlib.Path(__file__).with_name("DbzDump.java")
    cls = CACHE / "debezium" / "classes"
    stamp = cls / (".src-" + hashlib.sha256(src.read_bytes()).hexdigest()[:16])
    if not (stamp.exists() and (cls / "DbzDump.class").exists()):
        cls.mkdir(parents=True, exist_ok=True)
        for f in cls.glob("*"):
            f.unlink()
        subprocess.run(["javac", "-nowarn", "--release", "17", "-cp", f"{lib}/*", "-d", str(cls), str(src)],
                       check=True, capture_output=True, text=True)
        stamp.touch()
    return f"{cls}:{lib}/*"


def run_debezium(pg, db: str, scenario: str, workdir: pathlib.Path, timeout: float = 150.0,
                 options: dict | None = None, done_marker: str = f'"prefix":"{END_PREFIX}"') -> list[str]:
    """DbzDump with slot dbz_<scenario>; options default to the scenario's (plus topic.prefix,
    slot.name, snapshot.mode=no_data, which they may override). Stops once done_marker is in
    the output (or after 20 s without new records)."""
    settings = {"topic.prefix": PREFIX, "plugin.name": "pgoutput", "slot.name": f"dbz_{scenario}",
                "publication.name": DBZ_PUB, "publication.autocreate.mode": "disabled",
                "snapshot.mode": "no_data"}
    for k, v in (SCENARIOS[scenario]["options"] if options is None else options).items():
        settings["converter.schemas.enable" if k == "schemas.enable" else k] = v
    props = {
        "name": f"ferry-conformance-{scenario}",
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
        "offset.storage.file.filename": str(workdir / "dbz-offsets.dat"),
        "offset.flush.interval.ms": "0",
        "database.hostname": pg.host,
        "database.port": str(pg.port),
        "database.user": pg.user,
        "database.password": "postgres",
        "database.dbname": db,
        "header.converter.class": "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        **settings,
    }
    (workdir / "engine.properties").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    (workdir / "log4j2.properties").write_text(
        "status = warn\nappender.err.type = Console\nappender.err.name = STDERR\n"
        "appender.err.target = SYSTEM_ERR\nappender.err.layout.type = PatternLayout\n"
        "appender.err.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = INFO\n"
        "rootLogger.appenderRef.err.ref = STDERR\n")
    out = workdir / "debezium.raw.jsonl"
    out.unlink(missing_ok=True)
    log = workdir / "debezium.log"
    cmd = ["java", "-Xms256m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
           "-Duser.timezone=UTC", f"-Dlog4j2.configurationFile={workdir / 'log4j2.properties'}",
           "-cp", _dbz_classpath(), "DbzDump", str(workdir / "engine.properties"), str(out)]
    with open(log, "wb") as lf:
        proc = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    (workdir / "debezium.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    done = False
    size, since = -1, time.monotonic()
    try:
        while time.monotonic() < deadline:
            text = out.read_text(errors="replace") if out.exists() else ""
            if done_marker in text:
                done = True
                break
            if len(text) != size:
                size, since = len(text), time.monotonic()
            elif size > 0 and time.monotonic() - since > 20:
                done = True   # no end marker (filtered out?) but quiet for 20 s
                (workdir / "NO_END_MARKER").touch()
                break
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    finally:
        _terminate(proc, workdir / "debezium.pid", 40)
    if not done:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        pytest.fail(f"Debezium did not reach the end marker within {timeout:.0f}s "
                    f"(exit {proc.returncode}); log {log}:\n{tail}", pytrace=False)
    return [ln for ln in out.read_text().splitlines() if ln.strip()]


def read_ferry(pg, db: str, scenario: str) -> list[str]:
    opts = ["topic.prefix", PREFIX]
    for k, v in SCENARIOS[scenario]["options"].items():
        opts += [k, v]
    rows = pg.slot_changes(f"ferry_{scenario}", *opts, db=db)
    return [r[2] for r in rows]


RELAY_BIN = REPO / "relay" / "ferry-relay"
RELAY_SCENARIO = "defaults"   # the relay is compared with this scenario's Debezium records
# Snapshot check: after the workload, Debezium (snapshot.mode=initial, new slot) and ferry-relay
# (snapshot.mode=initial_only) both snapshot the tables under topic prefix "snap"; the source
# block's ts/lsn/txId/sequence are each side's own and are left out of the comparison.
SNAP_PREFIX = "snap"
SNAPSHOT_TOPICS = [f"{SNAP_PREFIX}.public.{t}" for t in
                   ("types", "full_t", "idx_t", "nopk_full", "toast_t", "defaults_t")]


def _yaml_value(k: str, v: str) -> str:
    if k.endswith(".list"):
        return "[" + ", ".join(json.dumps(x.strip()) for x in v.split(",") if x.strip()) + "]"
    if v in ("true", "false") or v.lstrip("-").isdigit():
        return v
    return json.dumps(v)


def _terminate(proc: subprocess.Popen, pidfile: pathlib.Path, grace: float) -> None:
    """SIGTERM a process still running, KILL it after `grace` seconds; forget its PID file."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    pidfile.unlink(missing_ok=True)


def run_relay(pg, kafka, db: str, slot: str, workdir: pathlib.Path, timeout: float = 120.0,
              prefix: str = PREFIX, snapshot_mode: str = "never") -> list[str]:
    """ferry-relay on slot -> Kafka, with the RELAY_SCENARIO options. snapshot_mode "never":
    streams the slot (created before the workload) until the end marker is in Kafka, then
    SIGTERM; "initial_only": runs until the relay exits by itself. Returns the records of
    every <prefix>.* topic as {"topic","key","value","headers"} lines (the Kafka bytes)."""
    opts = {"slot.name": slot, "topic.prefix": prefix, "snapshot.mode": snapshot_mode,
            "schema.include.list": "public,shop", "topic.partitions": "1", "log.level": "info",
            **SCENARIOS[RELAY_SCENARIO]["options"]}
    lines = ["postgres:", f"  conninfo: {json.dumps(pg.dsn_for(db))}",
             "kafka:", f"  bootstrap.servers: {json.dumps(kafka.bootstrap)}", "relay:"]
    lines += [f"  {k}: {_yaml_value(k, v)}" for k, v in opts.items()]
    cfg = workdir / "relay.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    log = workdir / "relay.log"

    def tail():
        return f"log {log}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:])

    with open(log, "wb") as lf:
        proc = subprocess.Popen([str(RELAY_BIN), "-c", str(cfg)], stdout=lf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    (workdir / "relay.pid").write_text(f"{proc.pid}\n")
    try:
        deadline = time.monotonic() + timeout
        while True:
            if snapshot_mode == "never":
                msgs = kafka.read_topic(f"{prefix}.message", timeout=1)
                if any(m[2] and END_PREFIX.encode() in m[2] for m in msgs):
                    break
            if proc.poll() is not None:
                if snapshot_mode != "never" and proc.returncode == 0:
                    break
                raise RuntimeError(f"ferry-relay exited ({proc.returncode}) before it was done; {tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ferry-relay not done within {timeout:.0f}s; {tail()}")
            time.sleep(0.5)
    finally:
        _terminate(proc, workdir / "relay.pid", 30)
    return kafka_lines(kafka, prefix)


def kafka_lines(kafka, prefix: str = PREFIX) -> list[str]:
    """Every record of the <prefix>.* topics as a {"topic","key","value","headers"} line."""
    out = []
    for topic in sorted(t for t in kafka.topics() if t.startswith(prefix + ".")):
        for _part, _off, key, value, headers in kafka.read_topic(topic, timeout=5):
            h = ",".join(json.dumps(n) + ":" + json.dumps(v.decode("utf-8", "replace") if v is not None else None)
                         for n, v in headers)
            out.append("{" + f'"topic":{json.dumps(topic)},'
                       f'"key":{key.decode() if key is not None else "null"},'
                       f'"value":{value.decode() if value is not None else "null"},'
                       f'"headers":{{{h}}}' + "}")
    return out


class Outcome:
    def __init__(self, scenario: str, options: dict | None = None, global_order: bool = True):
        self.scenario = scenario
        self.options = SCENARIOS[scenario]["options"] if options is None else options
        self.global_order = global_order
        self.dbz: list[Rec] = []
        self.ferry: list[Rec] = []
        self.error: str | None = None
        self.by_topic: dict[str, list[str]] = {}      # failing lines per topic
        self.summary: dict[str, int] = {}              # generalised path -> count
        self.report = ""


def compare_all(dbz: list[Rec], fer: list[Rec], o: Outcome):
    topics = []
    for r in dbz + fer:
        if r.topic not in topics:
            topics.append(r.topic)
    lines = []
    for t in topics:
        dl = [r for r in dbz if r.topic == t]
        fl = [r for r in fer if r.topic == t]
        bad, ok_acc = [], []
        groups: dict[tuple, list[str]] = {}    # (path, what, debezium, ferry) -> record labels
        sm = difflib.SequenceMatcher(a=[r.sig() for r in dl], b=[r.sig() for r in fl], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for i, j in zip(range(i1, i2), range(j1, j2)):
                    for path, a, b, what in compare_records(dl[i], fl[j]):
                        sa = a if what == "raw JSON text differs" else short(a)
                        sb = "" if what == "raw JSON text differs" else short(b)
                        groups.setdefault((path, what, sa, sb), []).append(f"#{i} {dl[i].label()}")
            else:
                for i in range(i1, i2):
                    bad.append(f"  #{i} {dl[i].label()}\n      missing in ferry: {short(dl[i].norm_value, 300)}")
                    o.summary[f"{t}: record missing in ferry"] = o.summary.get(f"{t}: record missing in ferry", 0) + 1
                for j in range(j1, j2):
                    bad.append(f"  ferry #{j} {fl[j].label()}\n      extra in ferry: {short(fl[j].norm_value, 300)}")
                    o.summary[f"{t}: extra record in ferry"] = o.summary.get(f"{t}: extra record in ferry", 0) + 1
        for (path, what, sa, sb), recs in groups.items():
            where = ", ".join(recs[:3]) + (f" (+{len(recs) - 3} more)" if len(recs) > 3 else "")
            line = (f"  {path}: {what}  [{len(recs)} record(s): {where}]\n        debezium: {sa}"
                    + (f"\n        ferry:    {sb}" if sb else ""))
            reason = accepted(o.scenario, t, path)
            if reason:
                ok_acc.append(line + f"\n        accepted: {reason}")
            else:
                bad.append(line)
                gen = re.sub(r"\[\d+\]", "[*]", path)
                key = f"{t}:{gen} ({what})"
                o.summary[key] = o.summary.get(key, 0) + len(recs)
        o.by_topic[t] = bad
        lines.append(f"== {t}: debezium {len(dl)} records, ferry {len(fl)}; "
                     f"{len(bad)} differences, {len(ok_acc)} accepted")
        lines.extend(bad[:60])
        if len(bad) > 60:
            lines.append(f"  … {len(bad) - 60} more differences")
        lines.extend(ok_acc[:10])
    # cross-topic order: the sequence of (topic, op, key) must match as a whole
    ds = [(r.topic,) + r.sig() for r in dbz]
    fs = [(r.topic,) + r.sig() for r in fer]
    if o.global_order and ds != fs and sorted(ds) == sorted(fs):
        lines.append("== overall record order differs across topics (same records)")
        o.by_topic.setdefault("<order>", []).append("overall order differs")
    head = [f"Debezium conformance report, scenario {o.scenario}: options "
            + json.dumps(o.options),
            f"records: debezium {len(dbz)}, ferry {len(fer)}",
            "summary (path: count), unaccepted differences:"]
    head += [f"  {n:4d}  {k}" for k, n in sorted(o.summary.items(), key=lambda kv: (-kv[1], kv[0]))] or ["  none"]
    o.report = "\n".join(head + [""] + lines) + "\n"


@pytest.fixture(scope="module")
def conformance(pg, rundir, request):
    """Runs the workload once; returns {scenario: Outcome}."""
    outcomes = {sc: Outcome(sc) for sc in SCENARIOS}
    work = rundir / "conformance"
    work.mkdir(exist_ok=True)
    db = "conformance"
    pg.sql(f"CREATE DATABASE {db}")
    try:
        pg.psql("-c", SCHEMA_SQL, db=db, check=True)
        # ferry slots first: a clear error if the plugin is not there (Debezium still runs,
        # so the harness itself is checked)
        ferry_ok = True
        for sc, o in outcomes.items():
            try:
                pg.sql(f"SELECT pg_create_logical_replication_slot('ferry_{sc}', 'ferry')", db=db)
            except Exception as e:  # noqa: BLE001
                ferry_ok = False
                o.error = (f"cannot create a slot with the ferry plugin (is plugin/ built and installed? "
                           f"make -C plugin install): {e}")
        relay = RELAY_BIN.exists() and ferry_ok
        if relay:
            try:
                pg.sql("CREATE EXTENSION IF NOT EXISTS ferry", db=db)
                pg.sql("SELECT pg_create_logical_replication_slot('ferry_relay', 'ferry')", db=db)
            except Exception as e:  # noqa: BLE001
                relay = False
                outcomes["relay"] = Outcome("relay", SCENARIOS[RELAY_SCENARIO]["options"], False)
                outcomes["relay"].error = f"relay setup failed: {e}"
        pg.sql(f"CREATE PUBLICATION {DBZ_PUB} FOR ALL TABLES", db=db)
        for sc in SCENARIOS:
            pg.sql(f"SELECT pg_create_logical_replication_slot('dbz_{sc}', 'pgoutput')", db=db)
        for stmt in workload_sql():
            pg.psql("-c", stmt, db=db, check=True)

        for sc, o in outcomes.items():
            out_dir = OUT_DIR / sc
            out_dir.mkdir(parents=True, exist_ok=True)
            for f in ("debezium.jsonl", "ferry.jsonl", "report.txt"):
                (out_dir / f).unlink(missing_ok=True)
            flines = []
            if ferry_ok:
                try:
                    flines = read_ferry(pg, db, sc)
                except Exception as e:  # noqa: BLE001
                    o.error = f"pg_logical_slot_get_changes on slot ferry_{sc} failed: {e}"
            sc_work = work / sc
            sc_work.mkdir(exist_ok=True)
            dlines = run_debezium(pg, db, sc, sc_work)
            (out_dir / "debezium.jsonl").write_text("\n".join(dlines) + "\n")
            (out_dir / "ferry.jsonl").write_text("\n".join(flines) + "\n")
            o.dbz = [Rec(ln) for ln in dlines]
            bad_lines = []
            for ln in flines:
                try:
                    o.ferry.append(Rec(ln))
                except Exception as e:  # noqa: BLE001
                    bad_lines.append(f"{e}: {ln[:200]}")
            if bad_lines and not o.error:
                o.error = f"{len(bad_lines)} ferry rows are not valid records, e.g. {bad_lines[0]}"
            compare_all(o.dbz, o.ferry, o)
            if o.error:
                o.report = f"ERROR: {o.error}\n\n" + o.report
            (out_dir / "report.txt").write_text(o.report)
            print(o.report)
        if relay:
            o = outcomes["relay"] = Outcome("relay", SCENARIOS[RELAY_SCENARIO]["options"], False)
            rwork = work / "relay"
            rwork.mkdir(exist_ok=True)
            rlines = []
            try:
                rlines = run_relay(pg, request.getfixturevalue("kafka"), db, "ferry_relay", rwork)
            except Exception as e:  # noqa: BLE001
                o.error = f"relay run failed: {e}"
            out_dir = OUT_DIR / "relay"
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "ferry.jsonl").write_text("\n".join(rlines) + "\n")
            o.dbz = outcomes[RELAY_SCENARIO].dbz
            for ln in rlines:
                try:
                    o.ferry.append(Rec(ln))
                except Exception as e:  # noqa: BLE001
                    o.error = o.error or f"a Kafka record written by the relay is not JSON: {e}: {ln[:200]}"
            compare_all(o.dbz, o.ferry, o)
            if o.error:
                o.report = f"ERROR: {o.error}\n\n" + o.report
            (out_dir / "report.txt").write_text(o.report)
            print(o.report)

            # snapshots of what the workload left, by both
            o = outcomes["snapshot"] = Outcome("snapshot", SCENARIOS[RELAY_SCENARIO]["options"], False)
            swork = work / "snapshot"
            swork.mkdir(exist_ok=True)
            dopts = {**SCENARIOS[RELAY_SCENARIO]["options"], "topic.prefix": SNAP_PREFIX,
                     "snapshot.mode": "initial"}
            dlines = run_debezium(pg, db, "snap", swork, options=dopts, done_marker='"snapshot":"last"')
            slines = []
            try:
                slines = run_relay(pg, request.getfixturevalue("kafka"), db, "ferry_snap", swork,
                                   prefix=SNAP_PREFIX, snapshot_mode="initial_only")
            except Exception as e:  # noqa: BLE001
                o.error = f"relay snapshot failed: {e}"
            out_dir = OUT_DIR / "snapshot"
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "debezium.jsonl").write_text("\n".join(dlines) + "\n")
            (out_dir / "ferry.jsonl").write_text("\n".join(slines) + "\n")
            o.dbz = [Rec(ln, snapshot=True) for ln in dlines]
            for ln in slines:
                try:
                    o.ferry.append(Rec(ln, snapshot=True))
                except Exception as e:  # noqa: BLE001
                    o.error = o.error or f"a Kafka record written by the relay is not JSON: {e}: {ln[:200]}"
            compare_all(o.dbz, o.ferry, o)
            if o.error:
                o.report = f"ERROR: {o.error}\n\n" + o.report
            (out_dir / "report.txt").write_text(o.report)
            print(o.report)
        yield outcomes
    finally:
        for slot in [f"{side}_{sc}" for sc in SCENARIOS for side in ("ferry", "dbz")] + [
                "ferry_relay", "ferry_snap", "dbz_snap"]:
            try:
                pg.sql(f"SELECT pg_drop_replication_slot('{slot}') FROM pg_replication_slots "
                       f"WHERE slot_name = '{slot}' AND NOT active", db=db)
            except Exception:  # noqa: BLE001
                pass


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_oracle_topics(conformance, scenario):
    """The harness itself: Debezium produced exactly the topics the scenario expects."""
    o = conformance[scenario]
    seen = {r.topic for r in o.dbz}
    want = set(SCENARIOS[scenario]["topics"])
    assert seen == want, f"Debezium topics: missing {sorted(want - seen)}, unexpected {sorted(seen - want)}"


CASES = [(sc, t) for sc, spec in SCENARIOS.items() for t in spec["topics"]]


@pytest.mark.parametrize("scenario,topic", CASES, ids=[f"{sc}/{t}" for sc, t in CASES])
def test_topic_matches_debezium(conformance, scenario, topic):
    o = conformance[scenario]
    if o.error:
        pytest.fail(o.error, pytrace=False)
    bad = o.by_topic.get(topic)
    if bad is None:
        pytest.fail(f"no records for {topic} on either side", pytrace=False)
    if bad:
        n_d = sum(r.topic == topic for r in o.dbz)
        n_f = sum(r.topic == topic for r in o.ferry)
        msg = [f"{scenario}/{topic}: {len(bad)} differences (debezium {n_d} records, ferry {n_f}); "
               f"full report: {OUT_DIR / scenario / 'report.txt'}"]
        msg += bad[:25]
        if len(bad) > 25:
            msg.append(f"  … {len(bad) - 25} more")
        pytest.fail("\n".join(msg), pytrace=False)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_extra_topics_and_order(conformance, scenario):
    o = conformance[scenario]
    if o.error:
        pytest.fail(o.error, pytrace=False)
    extra = sorted({r.topic for r in o.ferry} - set(SCENARIOS[scenario]["topics"]))
    assert not extra, f"ferry wrote topics Debezium does not: {extra}"
    assert "<order>" not in o.by_topic, "records are in a different order across topics"


@pytest.mark.parametrize("topic", SCENARIOS[RELAY_SCENARIO]["topics"])
def test_relay_kafka_matches_debezium(conformance, topic):
    """The same comparison for what ferry-relay wrote to Kafka (key/value bytes, headers)."""
    o = conformance.get("relay")
    if o is None:
        pytest.skip("relay/ferry-relay is not built")
    if o.error:
        pytest.fail(o.error, pytrace=False)
    bad = o.by_topic.get(topic)
    if bad is None:
        pytest.fail(f"no records for {topic} on either side", pytrace=False)
    if bad:
        msg = [f"relay/{topic}: {len(bad)} differences; full report: {OUT_DIR / 'relay' / 'report.txt'}"]
        msg += bad[:25]
        pytest.fail("\n".join(msg), pytrace=False)


@pytest.mark.parametrize("topic", SNAPSHOT_TOPICS)
def test_relay_snapshot_matches_debezium(conformance, topic):
    """Snapshot records (op r) of ferry-relay vs Debezium's initial snapshot."""
    o = conformance.get("snapshot")
    if o is None:
        pytest.skip("relay/ferry-relay is not built")
    if not o.dbz:
        pytest.fail("Debezium produced no snapshot records (harness problem)", pytrace=False)
    if o.error:
        pytest.fail(o.error, pytrace=False)
    bad = o.by_topic.get(topic)
    if bad is None:
        pytest.fail(f"no records for {topic} on either side", pytrace=False)
    if bad:
        msg = [f"snapshot/{topic}: {len(bad)} differences; full report: {OUT_DIR / 'snapshot' / 'report.txt'}"]
        msg += bad[:25]
        pytest.fail("\n".join(msg), pytrace=False)
