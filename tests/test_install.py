"""The install (#24): the locks install as they are, with the pip a fresh `python3 -m venv` brings, from a
wheelhouse with the network cut off; `make run`'s set carries none of the scale-out or test packages; an
optional part that is not installed says in Chinese what to install, at once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

LOCKS = ROOT / "requirements"


def _pins(lock: str) -> dict[str, str]:
    """name → version of every entry of requirements/<lock>.lock; each entry must carry hashes."""
    text = (LOCKS / f"{lock}.lock").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    pins = {}
    for entry in entries:
        m = re.match(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==([^ \\\n]+)", entry)
        assert m, f"{lock}.lock: an entry without an exact pin: {entry[:60]!r}"
        assert "--hash=sha256:" in entry, f"{lock}.lock: {m.group(1)} has no hash"
        pins[m.group(1).lower().replace("_", "-")] = m.group(3)
    return pins


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_three_locks_are_layers_of_one_resolution() -> None:
    """Each package is in one lock only; the project's own requirements are each in the lock its make target
    installs (dependencies → run, the lake and spark extras → scale, dev → dev)."""
    run, scale, dev = _pins("run"), _pins("scale"), _pins("dev")
    assert not (run.keys() & scale.keys()) and not (run.keys() & dev.keys()) and not (scale.keys() & dev.keys())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert {_name(r) for r in project["dependencies"]} <= run.keys()
    assert "setuptools" in run  # the build backend of `pip install --no-build-isolation -e .`
    assert {_name(r) for r in extras["lake"] + extras["spark"]} <= scale.keys()
    assert {_name(r) for r in extras["dev"]} <= dev.keys()
    # the dashboard's set carries nothing of the scale-out or the tests
    assert not {"pyspark", "psycopg", "playwright", "pytest", "mypy", "hypothesis"} & run.keys()


def _base_python() -> str:
    """The interpreter the venv was made from: its own pip is what a fresh `python3 -m venv` brings."""
    return getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare to cut the network off")
def test_the_dashboard_installs_from_a_wheelhouse_with_no_network(tmp_path: Path) -> None:
    """`make wheelhouse`, then `make setup WHEELS=…` in a network namespace with no interface up: the
    dashboard's lock installs with the system Python's own pip, pip check passes and `kaigong` runs."""
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    made = subprocess.run(["make", "-s", "wheelhouse", f"WHEELHOUSE={wheels}", f"PY={_base_python()}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert made.returncode == 0, made.stderr[-2000:]
    assert len(list(wheels.glob("*.whl"))) == len(_pins("run"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env["PIP_CONFIG_FILE"] = os.devnull  # no index or find-links from the machine's pip.conf either
    offline = subprocess.run(
        ["unshare", "-n", "make", "-s", "setup", f"VENV={venv}", f"WHEELS={wheels}", f"PY={_base_python()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert offline.returncode == 0, offline.stdout[-2000:] + offline.stderr[-2000:]
    pip_version = subprocess.run([venv / "bin" / "pip", "--version"], capture_output=True, text=True, env=env)
    base_pip = subprocess.run([_base_python(), "-m", "pip", "--version"], capture_output=True, text=True, env=env)
    assert pip_version.stdout.split()[1] == base_pip.stdout.split()[1]  # nobody upgraded pip
    installed = subprocess.run([venv / "bin" / "pip", "list", "--format=freeze"], capture_output=True, text=True,
                               env=env).stdout
    names = {_name(line) for line in installed.splitlines()}
    assert "pyspark" not in names and "pytest" not in names and "streamlit" in names
    helped = subprocess.run([venv / "bin" / "kaigong", "--help"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert helped.returncode == 0 and "ingest" in helped.stdout


# A child in which the scale-out extras are not installed: their modules cannot be found.
_WITHOUT = """
import importlib.abc, importlib.util, sys
class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"psycopg", "pyspark", "duckdb_extension_ducklake", "duckdb_extension_postgres_scanner"}:
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, _Missing())
_find = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name.split(".")[0] in {
    "psycopg", "pyspark", "duckdb_extension_ducklake", "duckdb_extension_postgres_scanner"} else _find(name, *a)
from pipelines.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _kaigong_without_extras(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WITHOUT, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    return proc, time.perf_counter() - t


def test_a_lake_without_its_extras_says_what_to_install(tmp_path: Path) -> None:
    proc, took = _kaigong_without_extras(
        ["metrics", "--as-of", "2020-03-31"],
        {"KAIGONG_STORE": "lake", "KAIGONG_LAKE_CATALOG": "host=127.0.0.1", "KAIGONG_LAKE_DATA": str(tmp_path)},
        tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "湖仓模式（KAIGONG_STORE=lake）所需的组件未安装" in proc.stderr
    assert "psycopg" in proc.stderr and "duckdb-extension-ducklake" in proc.stderr and "make scale" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert took < 60  # a bound, not a speed target: it answers before touching any catalog


def test_a_spark_rollup_without_pyspark_says_what_to_install(tmp_path: Path) -> None:
    from pipelines.warehouse.province_export import export
    from tests import rollup_data

    out = tmp_path / "national"
    export(rollup_data.load(tmp_path / "p61.duckdb", rollup_data.submissions("61", 5, 1, 1)), out)
    as_of = str(rollup_data.report_dates(1)[-1])
    proc, took = _kaigong_without_extras(["rollup", str(out), "--as-of", as_of, "--engine", "spark"], {}, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "未安装 pyspark" in proc.stderr and "make scale" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert took < 60
