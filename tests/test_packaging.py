"""The built wheel installs under the ``sharpgen`` namespace, complete, beside other
distributions' top-level ``verify`` and ``numerics`` packages, and ``sharpgen verify`` runs
from outside the repository."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = ("theory", "numerics", "verify")


def _packages_on_disk() -> set[str]:
    found = set()
    for top in TOP:
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).parts
            found.add("sharpgen." + ".".join(rel))
    return found


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert listed == _packages_on_disk()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(out), str(ROOT)], check=True, capture_output=True, text=True)
    (path,) = out.glob("sharpgen-*.whl")
    return path


def test_wheel_holds_the_namespace_and_the_c_source(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "sharpgen/numerics/engine/c/sam_steps.c" in names and "sharpgen/numerics/engine/c/steps_common.h" in names
    assert not [n for n in names if n.split("/")[0] in TOP]  # nothing installs as a top-level theory/numerics/verify
    for pkg in _packages_on_disk():
        assert pkg.replace(".", "/") + "/__init__.py" in names


def test_wheel_works_beside_other_verify_and_numerics(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    for other in ("verify", "numerics"):  # stand-ins for the PyPI distributions of those names
        (target / other).mkdir()
        (target / other / "__init__.py").write_text(f"OWNER = 'the other {other}'\n")
    code = ("import verify, numerics, sharpgen.verify.cli as cli, sharpgen.numerics.engine.c.loops as ck\n"
            "assert verify.OWNER == 'the other verify' and numerics.OWNER == 'the other numerics'\n"
            "assert ck.c_source().startswith('/*')\n"
            "raise SystemExit(cli.main(['verify', '--only', 'thm-3.1', '--kind', 'exact']))\n")
    env = dict(os.environ, PYTHONPATH=str(target))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert str(target) in subprocess.run(
        [sys.executable, "-c", "import sharpgen.theory; print(sharpgen.theory.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True).stdout


@pytest.mark.parametrize("package", sorted(_packages_on_disk()))
def test_every_package_names_its_api_and_every_name_resolves(package):
    import importlib
    module = importlib.import_module(package)
    assert isinstance(getattr(module, "__all__", None), (list, tuple)) and module.__all__, package
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not have: {missing}"
