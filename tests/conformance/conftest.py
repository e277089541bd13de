"""The conformance tests use the e2e fixtures (tests/e2e/conftest.py): pg, rundir, ..."""

import importlib.util
import pathlib

_path = pathlib.Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("ferry_e2e_fixtures", _path)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

# re-export the fixtures and the failure-tracking hook
rundir = _mod.rundir
pg = _mod.pg
kafka = _mod.kafka
s3 = _mod.s3
ferry_bins = _mod.ferry_bins
spawn = _mod.spawn
pytest_runtest_makereport = _mod.pytest_runtest_makereport
