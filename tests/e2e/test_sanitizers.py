"""The sanitizer / valgrind checks of conftest.py (FERRY_BIN_FLAVOR=asan|valgrind) catch what
they are meant to: the report patterns, the ASan/UBSan options really producing a log and the
exit code, and -- in the asan/valgrind flavours -- the daemons really being the instrumented
build / running under valgrind. Fast; part of e2e, e2e-asan and e2e-valgrind.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import (ASAN_OPTIONS, FLAVOR, UBSAN_OPTIONS, _daemon_log_reports, _log_sizes,
                      sanitizer_reports)

CLEAN_VALGRIND = """==1== HEAP SUMMARY:
==1==     in use at exit: 20,691 bytes in 82 blocks
==1== LEAK SUMMARY:
==1==    definitely lost: 0 bytes in 0 blocks
==1==    indirectly lost: 0 bytes in 0 blocks
==1==      possibly lost: 0 bytes in 0 blocks
==1==    still reachable: 20,691 bytes in 82 blocks
==1== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)
"""

REPORTS = {
    "asan": "==7==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020",
    "lsan": "==7==ERROR: LeakSanitizer: detected memory leaks\nDirect leak of 2 byte(s)",
    "ubsan": "stream.c:12:5: runtime error: signed integer overflow",
    "vg-invalid": "==9== Invalid read of size 4\n==9==    at 0x1: f (a.c:1)",
    "vg-uninit": "==9== Conditional jump or move depends on uninitialised value(s)",
    "vg-definite": CLEAN_VALGRIND.replace("definitely lost: 0 bytes", "definitely lost: 1,024 bytes"),
    "vg-indirect": CLEAN_VALGRIND.replace("indirectly lost: 0 bytes", "indirectly lost: 8 bytes"),
    "vg-errors": CLEAN_VALGRIND.replace("ERROR SUMMARY: 0 errors", "ERROR SUMMARY: 3 errors"),
}


def test_report_patterns(tmp_path):
    clean = tmp_path / "clean"
    clean.write_text(CLEAN_VALGRIND)
    assert sanitizer_reports([clean, tmp_path / "missing"]) == ""
    for name, text in REPORTS.items():
        f = tmp_path / name
        f.write_text(text)
        assert sanitizer_reports([clean, f]).startswith(f"===== {f} ====="), name


def test_daemon_log_reports_only_new_text(tmp_path):
    log = tmp_path / "d.log"
    log.write_text("2026-01-01 LOG:  started\nrelay/stream.c:1:2: runtime error: shift exponent\n")
    before = _log_sizes(tmp_path, "*.log")
    assert _daemon_log_reports({}, before)             # a new log with a report
    with open(log, "a") as fh:
        fh.write("2026-01-01 LOG:  stopped\n")
    assert _daemon_log_reports(before, _log_sizes(tmp_path, "*.log")) == ""  # old report, not again
    assert _daemon_log_reports(before, before) == ""


def _cc():
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    return cc


@pytest.mark.parametrize("kind", ["leak", "overflow", "ub"])
def test_asan_options_produce_a_report(tmp_path, kind):
    """A tiny ASan+UBSan program run with the options the asan flavour uses: the report lands in
    log_path (ASan/LSan) or on stderr (UBSan: GCC ignores log_path), the exit code is 86."""
    src = tmp_path / "bad.c"
    src.write_text("""
#include <limits.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    char *p = malloc(8);
    if (strcmp(argv[1], "leak") == 0) { p[0] = 1; p = NULL; return p != NULL; }
    if (strcmp(argv[1], "overflow") == 0) { p[argc + 6] = 1; free(p); return 0; }
    int x = INT_MAX - 1; x += argc; free(p); return x == 0;
}
""")
    exe = tmp_path / "bad"
    r = subprocess.run([_cc(), "-g", "-O0", "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                        "-o", str(exe), str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot build with -fsanitize=address,undefined: {r.stderr[-500:]}")
    logdir = tmp_path / "san"
    logdir.mkdir()
    env = {**os.environ, "ASAN_OPTIONS": f"{ASAN_OPTIONS}:log_path={logdir}/asan",
           "UBSAN_OPTIONS": f"{UBSAN_OPTIONS}:log_path={logdir}/asan"}
    r = subprocess.run([str(exe), kind], capture_output=True, text=True, env=env)
    assert r.returncode == 86, (r.returncode, r.stderr)
    log = tmp_path / "bad.log"
    log.write_text(r.stderr)
    found = sanitizer_reports(sorted(logdir.iterdir())) + _daemon_log_reports({}, {log: 1})
    want = {"leak": "LeakSanitizer", "overflow": "heap-buffer-overflow", "ub": "runtime error:"}[kind]
    assert want in found, found


def test_flavor_binaries(ferry_bins, spawn, rundir):
    """The binaries this run checks are the flavour's: the ASan build (asan), valgrind (valgrind)."""
    relay = ferry_bins.require("relay")
    sink = ferry_bins.require("sink")
    if FLAVOR == "asan":
        for b in (relay, sink):
            assert "/asan/" in str(b)
            syms = subprocess.run(["nm", str(b)], capture_output=True, text=True).stdout
            assert "__asan_init" in syms and "__ubsan_handle" in syms, f"{b} is not an ASan/UBSan build"
        assert "log_path=" in os.environ.get("ASAN_OPTIONS", "")
    elif FLAVOR == "valgrind":
        p = spawn([relay, "--version"], "flavor-relay-version")
        assert p.wait(120) == 0
        logs = list((rundir / "sanitizer").glob("vg-flavor-relay-version.*"))
        assert logs and "Memcheck" in logs[0].read_text()
    else:
        assert "/asan/" not in str(relay)
