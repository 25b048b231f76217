"""The red-team harness (experiments/redteam): its classifier on synthetic outcomes, and its case
list's integrity (unique names, known kinds), without running any case."""
import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[2] / "experiments" / "redteam"


def _load(name: str):
    """Import ``experiments/redteam/<name>.py`` (a folder of scripts, not a package)."""
    sys.path.insert(0, str(HERE))
    try:
        spec = importlib.util.spec_from_file_location(f"redteam_{name}", HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(HERE))


run = _load("run")
C = run.C


def _case(**kw):
    """A refusal case with the fields the classifier reads."""
    base = dict(name="x", kind="cli", names=("width",), codes=(2,), deadline=10, hard=30, guard=("out",))
    base.update(kw)
    return C.Case(**base)


def _out(rc=2, err="sharpgen train: error: width: expected an integer >= 1, got -1\n", **kw):
    """A synthetic outcome."""
    return C.Outcome(rc, kw.pop("stdout", ""), err, kw.pop("seconds", 0.5), kw.pop("timed_out", False), "cmd")


def test_one_line_refusal_naming_the_argument_is_good():
    assert run.classify(_out(), _case(), set())[0] == "good"


@pytest.mark.parametrize("outcome, reason", [
    (_out(rc=0), "exit 0"),
    (_out(rc=1), "exit 1"),
    (_out(rc=3), "exit 3"),
    (_out(err="Traceback (most recent call last):\n  ...\nValueError: width\n"), "traceback"),
    (_out(stdout="Traceback (most recent call last):\n"), "traceback"),
    (_out(timed_out=True), "hang"),
])
def test_bad_outcomes(outcome, reason):
    cls, why = run.classify(outcome, _case(), set())
    assert cls == "bad" and reason in why


@pytest.mark.parametrize("outcome, new, reason", [
    (_out(err="sharpgen train: error: expected an integer\n"), set(), "names none"),
    (_out(err="sharpgen train: error: width is bad\n  see the docs\n"), set(), "one 'sharpgen"),
    (_out(err=""), set(), "no message"),
    (_out(), {"out", "out/config.json"}, "new files"),
    (_out(), {"elsewhere/checkpoint.pt.tmp"}, "temp files"),
    (_out(seconds=12.0), set(), "took"),
])
def test_weak_outcomes(outcome, new, reason):
    cls, why = run.classify(outcome, _case(), new)
    assert cls == "weak" and reason in why


def test_files_outside_the_refused_folder_are_allowed():
    assert run.classify(_out(), _case(), {"other/file"})[0] == "good"


def test_signal_codes_and_driver_verdicts():
    assert run.classify(_out(rc=130, err="sharpgen: width resume\n"), _case(codes=(130,)), set())[0] == "good"
    judged = C.verdict(_out(rc=0), "bad", "mixed results")
    assert run.classify(judged, _case(expect="custom"), set()) == ("bad", "mixed results")
    judged = C.verdict(_out(rc=0, err="Traceback (most recent call last):\n"), "good", "fine")
    assert run.classify(judged, _case(expect="custom"), set())[0] == "bad"  # a traceback overrides a verdict


def test_totals_count_every_class():
    rows = [{"kind": "cli", "class": "good"}, {"kind": "cli", "class": "bad"}, {"kind": "api", "class": "weak"}]
    tot = run.totals(rows)
    assert tot["all"] == {"tried": 3, "good": 1, "weak": 1, "bad": 1}
    assert tot["cli"] == {"tried": 2, "good": 1, "weak": 0, "bad": 1}


def test_cases_have_unique_names_and_known_kinds():
    cases = C.all_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names))
    assert {c.kind for c in cases} <= set(C.KINDS)
    assert set(C.KINDS) <= {c.kind for c in cases}
    assert 150 <= len(cases) <= 300
    for case in cases:
        assert case.expect in ("refuse", "custom")
        assert case.driver is not None or case.argv, case.name
        assert case.hard >= case.deadline > 0
