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


def relay_table(rows, events):
    """rows: relay NAME REP WALL STEADY RECORDS HWM_KB CPU_S BYTES"""
    by = defaultdict(list)
    for r in rows:
        by[r[1]].append(r)
    med = {}
    for name, rs in by.items():
        wall = statistics.median(float(r[3]) for r in rs)
        steady = statistics.median(float(r[4]) for r in rs)
        hwm = max(int(r[6]) for r in rs)
        cpu = statistics.median(float(r[7]) for r in rs)
        nbytes = int(float(rs[0][8])) if len(rs[0]) > 8 else 0
        med[name] = dict(wall=wall, steady=steady, hwm=hwm, cpu=cpu, n=len(rs), recs=int(rs[0][5]),
                         nbytes=nbytes, walls=[float(r[3]) for r in rs])
    dbz = next((v for k, v in med.items() if k.startswith("Debezium")), None)
    ceil = next((v for k, v in med.items() if k.startswith("pg_recvlogical")), None)
    out = ["\n| system | runs | wall s | events/s (wall) | events/s (steady) | MB/s | peak RSS MB | CPU s | CPU % of wall | vs Debezium (wall) | vs ceiling (wall) | targets |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, v in med.items():
        eps = events / v["wall"]
        seps = events / v["steady"] if v["steady"] > 0 else float("nan")
        mbs = v["nbytes"] / v["wall"] / 1e6
        rss = f"{v['hwm'] / 1024:.1f}" if v["hwm"] else "-"
        cpu = f"{v['cpu']:.1f}" if v["hwm"] else "-"
        cpup = f"{100 * v['cpu'] / v['wall']:.0f}%" if v["hwm"] else "-"
        vd = f"{eps / (events / dbz['wall']):.2f}×" if dbz else "-"
        vc = f"{eps / (events / ceil['wall']):.2f}×" if ceil else "-"
        tg = []
        if name.startswith("ferry"):
            if dbz:
                r = eps / (events / dbz["wall"])
                tg.append(f"≥5× Debezium {'MET' if r >= 5 else 'MISSED'}")
            if ceil:
                r = eps / (events / ceil["wall"])
                tg.append(f"≥0.8× ceiling {'MET' if r >= 0.8 else 'MISSED'}")
            if v["hwm"]:
                tg.append(f"RSS<50MB {'MET' if v['hwm'] / 1024 < 50 else 'MISSED'}")
        out.append(f"| {name} | {v['n']} | {v['wall']:.2f} | {eps:,.0f} | {seps:,.0f} | {mbs:.1f} | {rss} | {cpu} | {cpup} | {vd} | {vc} | {'; '.join(tg)} |")
    out.append("\nMB/s: Kafka log-segment bytes written (ferry-relay, Debezium) or plugin output bytes (pg_recvlogical) per wall second.")
    return out


def sink_table(rows, payload_bytes):
    """rows: sink NAME REP SECONDS RECORDS MAXRSS_KB CPU_S"""
    by = defaultdict(list)
    for r in rows:
        by[r[1]].append(r)
    med = {}
    for name, rs in by.items():
        med[name] = dict(secs=statistics.median(float(r[3]) for r in rs), n=len(rs), recs=int(rs[0][4]),
                         rss=max(int(r[5]) for r in rs), cpu=statistics.median(float(r[6]) for r in rs),
                         all=[float(r[3]) for r in rs])
    ceil = next((v for k, v in med.items() if k.startswith("kcat")), None)
    out = ["\n| system | runs | median s (runs) | records/s | MB/s | peak RSS MB | CPU s | CPU % of wall | vs kcat ceiling | targets |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, v in med.items():
        rps = v["recs"] / v["secs"]
        mbs = payload_bytes / v["secs"] / 1e6
        vc = f"{rps / (ceil['recs'] / ceil['secs']):.2f}×" if ceil else "-"
        tg = ""
        if name.startswith("ferry-sink"):
            tg = f"≥100k rec/s {'MET' if rps >= 100000 else 'MISSED'}"
            if "defaults" in name:
                tg += f"; RSS<64MB {'MET' if v['rss'] / 1024 < 64 else 'MISSED'}"
        runs = ", ".join(f"{x:.2f}" for x in v["all"])
        out.append(f"| {name} | {v['n']} | {v['secs']:.2f} ({runs}) | {rps:,.0f} | {mbs:.1f} | {v['rss'] / 1024:.1f} | {v['cpu']:.1f} | {100 * v['cpu'] / v['secs']:.0f}% | {vc} | {tg} |")
    return out


def main():
    rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
    kind = sys.argv[2] if len(sys.argv) > 2 else "plugin"
    sel = [r for r in rows if r[0] == kind]
    if not sel:
        return
    if kind == "plugin":
        lines = plugin_table(sel)
    elif kind == "mem":
        lines = mem_table(sel)
    elif kind == "sink":
        lines = sink_table(sel, int(sys.argv[3]))
    else:
        lines = relay_table(sel, int(sys.argv[3]))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
