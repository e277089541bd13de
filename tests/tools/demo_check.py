#!/usr/bin/env python3
"""Count what ferry-sink wrote, for the demo (tests/tools/demo.sh) and tests.

    demo_check.py count  TARGET [--since-ms MS]            one JSON object on stdout
    demo_check.py report TARGET --expected GEN.json [--since-ms MS] [--tables users,products]
    demo_check.py yaml-get FILE KEY/PATH                    print a scalar of ferry.yaml

TARGET is the sink's target: file:///dir[/prefix] or s3://bucket[/prefix]. For s3:// the
endpoint and credentials come from FERRY_S3_ENDPOINT (or AWS_ENDPOINT_URL), AWS_REGION
(default us-east-1), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; path-style
addressing. Standard library only (a fresh Debian 12 has python3 but no boto3).

Objects are expected at <prefix>/<topic>/<yyyy>-<MM>-<dd>/<HH>/<partition:10>-<offset:20>.json,
one {"value": <Debezium payload>} per line. Records whose source.ts_ms is older than
--since-ms are left out (a reused Kafka or bucket holds earlier runs); tombstones
({"value":null}) carry no timestamp and are counted apart.
"""
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

NAME_RE = re.compile(r"^(?P<topic>[^/]+)/\d{4}-\d{2}-\d{2}/\d{2}/\d{10}-\d{20}\.json$")


# ---------------------------------------------------------------- targets
class FileTarget:
    def __init__(self, path):
        self.root = path

    def describe(self):
        return self.root

    def list(self):
        out = []
        if not os.path.isdir(self.root):
            return out
        for d, _, files in os.walk(self.root):
            for f in files:
                full = os.path.join(d, f)
                rel = os.path.relpath(full, self.root)
                if f.startswith(".") or f.endswith(".tmp"):
                    continue  # the sink's temporary files
                out.append(rel)
        return sorted(out)

    def get(self, name):
        with open(os.path.join(self.root, name), "rb") as fh:
            return fh.read()


class S3Target:
    """Just enough of S3 (ListObjectsV2, GetObject) with SigV4, path-style."""

    def __init__(self, bucket, prefix):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint = (os.environ.get("FERRY_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
                         or "https://s3.amazonaws.com").rstrip("/")
        self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.key = os.environ.get("AWS_ACCESS_KEY_ID", "")
        self.secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        self.token = os.environ.get("AWS_SESSION_TOKEN")

    def describe(self):
        return "s3://%s/%s (%s)" % (self.bucket, self.prefix, self.endpoint)

    def _request(self, path, query):
        u = urllib.parse.urlsplit(self.endpoint)
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        payload_hash = hashlib.sha256(b"").hexdigest()
        canon_path = urllib.parse.quote(path, safe="/-_.~")
        canon_query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                               for k, v in sorted(query.items()))
        headers = {"host": u.netloc, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
        if self.token:
            headers["x-amz-security-token"] = self.token
        signed = ";".join(sorted(headers))
        canon_headers = "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers))
        creq = "\n".join(["GET", canon_path, canon_query, canon_headers, signed, payload_hash])
        scope = "%s/%s/s3/aws4_request" % (day, self.region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])

        def h(k, m):
            return hmac.new(k, m.encode(), hashlib.sha256).digest()

        k = h(h(h(h(("AWS4" + self.secret).encode(), day), self.region), "s3"), "aws4_request")
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            self.key, scope, signed, sig)
        url = "%s://%s%s" % (u.scheme, u.netloc, canon_path) + ("?" + canon_query if canon_query else "")
        req = urllib.request.Request(url, headers={k: v for k, v in headers.items() if k != "host"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def list(self):
        out, token = [], None
        ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
        while True:
            q = {"list-type": "2", "prefix": self.prefix}
            if token:
                q["continuation-token"] = token
            root = ET.fromstring(self._request("/" + self.bucket, q))
            for c in root.iter(ns + "Contents"):
                out.append(c.find(ns + "Key").text[len(self.prefix):])
            if (root.findtext(ns + "IsTruncated") or "false") != "true":
                break
            token = root.findtext(ns + "NextContinuationToken")
        return sorted(out)

    def get(self, name):
        return self._request("/%s/%s%s" % (self.bucket, self.prefix, name), {})


def open_target(url):
    if url.startswith("file://"):
        return FileTarget(url[len("file://"):])
    if url.startswith("s3://"):
        rest = url[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        return S3Target(bucket, prefix)
    if url.startswith("/"):
        return FileTarget(url)
    raise SystemExit("demo_check: unsupported target \"%s\"" % url)


# ---------------------------------------------------------------- counting
def count(target, since_ms=0):
    """{"topics": {topic: {"objects","lines","c","u","d","r","tombstones","older","bad"}}, "misnamed": [...]}"""
    topics, misnamed, sample = {}, [], None
    for name in target.list():
        m = NAME_RE.match(name)
        if not m:
            misnamed.append(name)
            continue
        t = topics.setdefault(m.group("topic"), {"objects": 0, "lines": 0, "c": 0, "u": 0, "d": 0, "r": 0,
                                                   "tombstones": 0, "older": 0, "bad": 0, "last_object": None})
        t["objects"] += 1
        t["last_object"] = name
        for line in target.get(name).splitlines():
            if not line.strip():
                continue
            t["lines"] += 1
            try:
                rec = json.loads(line)
                value = rec["value"]
            except (ValueError, KeyError, TypeError):
                t["bad"] += 1
                continue
            if value is None:
                t["tombstones"] += 1
                continue
            payload = value.get("payload", value) if isinstance(value, dict) else None
            if not isinstance(payload, dict) or "op" not in payload:
                t["bad"] += 1
                continue
            ts = (payload.get("source") or {}).get("ts_ms") or 0
            if since_ms and ts and ts < since_ms:
                t["older"] += 1
                continue
            op = payload["op"]
            if op in ("c", "u", "d", "r"):
                t[op] += 1
            if sample is None and op == "c":
                sample = {"object": name, "line": line.decode("utf-8", "replace")}
    return {"target": target.describe(), "topics": topics, "misnamed": misnamed, "sample": sample}


def table_of(topic):
    return topic.rsplit(".", 1)[-1]


def report(result, expected, tables):
    """print the per-table comparison; return True when every count matches"""
    ok = True
    print("%-10s %-8s %10s %10s %10s   %s" % ("table", "op", "generated", "in bucket", "", "objects/lines"))
    for table in tables:
        found = {}
        for topic, t in result["topics"].items():
            if table_of(topic) == table:
                found = t
        exp = expected.get(table, {})
        for op, label in (("c", "create"), ("u", "update"), ("d", "delete")):
            want, got = exp.get(op, 0), found.get(op, 0)
            # a row present when the slot was created arrives as a snapshot read
            if op == "c":
                got += found.get("r", 0)
            mark = "ok" if want == got else "MISMATCH"
            ok = ok and want == got
            extra = ""
            if op == "c" and found:
                extra = "%d objects, %d lines (%d tombstones)" % (found["objects"], found["lines"], found["tombstones"])
            print("%-10s %-8s %10d %10d %10s   %s" % (table, label, want, got, mark, extra))
        if found.get("bad"):
            print("%-10s %d lines are not {\"value\": <Debezium payload>}" % (table, found["bad"]))
            ok = False
    if result["misnamed"]:
        print("objects not named <topic>/<yyyy>-<MM>-<dd>/<HH>/<partition:10>-<offset:20>.json: %s"
              % ", ".join(result["misnamed"][:5]))
        ok = False
    return ok


def yaml_get(path, keypath):
    """the scalar at keypath ("sink/s3/endpoint") of ferry.yaml, or "".

    PyYAML when present; otherwise a reader of block maps with scalar values, which is
    what ferry.yaml uses (flow sequences are returned as written)."""
    keys = keypath.split("/")
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        yaml = None
    if yaml is not None:
        with open(path) as fh:
            node = yaml.safe_load(fh) or {}
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        if node is None or isinstance(node, (dict, list)):
            return ""
        return str(node).lower() if isinstance(node, bool) else str(node)
    stack = []  # (indent, key) of the open maps
    with open(path) as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            body = line.lstrip(" ")
            if not body or body.startswith("#") or body.startswith("- "):
                continue
            indent = len(line) - len(body)
            k, sep, v = body.partition(":")
            if not sep:
                continue
            while stack and stack[-1][0] >= indent:
                stack.pop()
            v = v.strip()
            if v.startswith(("'", '"')):
                q = v[0]
                v = v[1:v.index(q, 1)] if q in v[1:] else v[1:]
            else:
                v = v.split(" #", 1)[0].strip()
            if [key for _, key in stack] + [k.strip()] == keys:
                return v
            if not v:
                stack.append((indent, k.strip()))
    return ""


def main(argv):
    if len(argv) == 4 and argv[1] == "yaml-get":
        print(yaml_get(argv[2], argv[3]))
        return 0
    if len(argv) < 3 or argv[1] not in ("count", "report"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, url, rest = argv[1], argv[2], argv[3:]
    since_ms, expected_file, tables = 0, None, ["users", "products"]
    while rest:
        opt = rest.pop(0)
        if opt == "--since-ms":
            since_ms = int(rest.pop(0))
        elif opt == "--expected":
            expected_file = rest.pop(0)
        elif opt == "--tables":
            tables = rest.pop(0).split(",")
        else:
            print("demo_check: unknown option %s" % opt, file=sys.stderr)
            return 2
    result = count(open_target(url), since_ms)
    if cmd == "count":
        json.dump(result, sys.stdout)
        print()
        return 0
    with open(expected_file) as fh:
        expected = json.load(fh)
    ok = report(result, expected, tables)
    if result["sample"]:
        print("\nsample line (%s):\n%s" % (result["sample"]["object"], result["sample"]["line"]))
    print("\ncounts match" if ok else "\ncounts DO NOT match")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
