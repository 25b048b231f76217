"""Every docstring example of the installed ``sharpgen`` packages runs as written.

The examples are collected from the modules as users import them
(``sharpgen.theory.constructions``, ...), one test per docstring, so a
failing example names its function.
"""
from __future__ import annotations

import doctest
import importlib

import pytest

from conftest import package_modules

import sharpgen.numerics
import sharpgen.theory
import sharpgen.verify

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name, missing in package_modules(sharpgen.theory, sharpgen.numerics, sharpgen.verify):
        if missing is not None:
            yield pytest.param(None, id=name, marks=pytest.mark.skip(
                reason=f"{name} needs the optional package {missing!r} (pip install 'sharpgen[{missing}]')"))
            continue
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if test.examples:
                yield pytest.param(test, id=test.name)


EXAMPLES = list(_examples())


def test_examples_were_found():
    assert len(EXAMPLES) > 50


@pytest.mark.parametrize("test", EXAMPLES)
def test_docstring_example(test):
    report = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=report.append)
    if result.failed:
        pytest.fail("".join(report), pytrace=False)
