"""sharpgen.theory as a package: the REPL surface it exports, and it never imports torch."""
from __future__ import annotations

import sys

from conftest import assert_fresh_python_runs

import sharpgen.theory as theory
from sharpgen.theory import constructions, minimum, sharpness, symbols


def test_exports_are_the_library_objects():
    assert theory.d is symbols.d and theory.k is symbols.k
    assert theory.trace_hessian is sharpness.trace_hessian
    assert theory.min_sharpness_xor is minimum.min_sharpness_xor
    assert theory.memorizing is constructions.memorizing
    assert all(hasattr(theory, name) for name in theory.__all__)
    assert ">>> from sharpgen.theory import d" in theory.__doc__


def test_theory_never_imports_torch():
    code = ("import importlib, pkgutil, sys, sharpgen.theory as t\n"
            "for m in pkgutil.iter_modules(t.__path__): importlib.import_module('sharpgen.theory.' + m.name)\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "assert 'scipy' not in sys.modules, 'scipy imported before an LP needs it'\n")
    assert_fresh_python_runs(code)
