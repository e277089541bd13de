#!/usr/bin/env python3
"""Summarise raw benchmark rows (TSV) into markdown tables. Not a test.

plugin rows:  plugin  CONFIG  TRANSPORT  REP  SECONDS  EVENTS  BYTES
mem rows:     mem     CONFIG  SECONDS  EVENTS  BYTES  MAXRSS_KB  MAXANON_KB  HWM_KB
"""
import statistics
import sys
from collections import defaultdict

TARGETS = {"ferry/relay": 1.2, "ferry/json": 0.8}


def plugin_table(rows):
    by = defaultdict(list)
    order = []
    for r in rows:
        key = (r[1], r[2])
        if key not in by:
            order.append(key)
        by[key].append((float(r[4]), int(r[5]), int(r[6])))
    out = []
    for transport in ("recvlogical", "peek"):
        keys = [k for k in order if k[1] == transport]
        if not keys:
            continue
        med = {}
        for k in keys:
            secs = statistics.median(x[0] for x in by[k])
            ev = by[k][0][1]
            by_ = by[k][0][2]
            med[k[0]] = (secs, ev, by_, len(by[k]), [x[0] for x in by[k]])
        base = med.get("wal2json")
        title = ("(a) replication protocol: pg_recvlogical -f /dev/null --endpos"
                 if transport == "recvlogical" else
                 "(b) SQL: SELECT count(*), sum(length(data)) FROM pg_logical_slot_peek_binary_changes(...)")
        out.append(f"\n{title}\n")
        out.append("| plugin | mode | events/s | MB/s | ratio vs wal2json (events/s) | target | median s (runs) |")
        out.append("|---|---|---:|---:|---:|---|---|")
        for name, (secs, ev, nbytes, n, all_) in med.items():
            plugin, _, mode = name.partition("/")
            eps = ev / secs if secs > 0 else 0
            mbs = nbytes / secs / 1e6 if secs > 0 else 0
            ratio = (eps / (base[1] / base[0])) if base and base[0] > 0 else float("nan")
            tgt = TARGETS.get(name)
            tgts = ""
            if tgt is not None:
                tgts = f"≥{tgt}× {'MET' if ratio >= tgt else 'MISSED'}"
            runs = ", ".join(f"{x:.2f}" for x in all_)
            out.append(f"| {plugin} | {mode or '-'} | {eps:,.0f} | {mbs:.1f} | {ratio:.2f} | {tgts} | {secs:.2f} ({runs}) |")
    return out


def mem_table(rows):
    out = ["\n| plugin | mode | decode s | events/s | walsender peak VmRSS MB | peak RssAnon MB | VmHWM MB |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        name = r[1]
        plugin, _, mode = name.partition("/")
        secs, ev, nbytes = float(r[2]), int(r[3]), int(r[4])
        rss, anon, hwm = (int(x) / 1024 for x in r[5:8])
        eps = ev / secs if secs > 0 else 0
        out.append(f"| {plugin} | {mode or '-'} | {secs:.2f} | {eps:,.0f} | {rss:.1f} | {anon:.1f} | {hwm:.1f} |")
    return out


def main():
    rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
    kind = sys.argv[2] if len(sys.argv) > 2 else "plugin"
    sel = [r for r in rows if r[0] == kind]
    if not sel:
        return
    lines = plugin_table(sel) if kind == "plugin" else mem_table(sel)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
