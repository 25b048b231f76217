"""The red-team cases of the reliability issue, as data: each a real invocation with a deadline.

A :class:`Case` is a name, a kind (one of :data:`KINDS`), an optional setup that prepares its work
folder, the command (a subprocess of the ``sharpgen`` CLI, or ``python -c`` for API cases) and the
rule its outcome is judged by (``expect``): ``refuse`` (exit 2, or the codes in ``codes``, with a
one-line message naming one of ``names``) or ``custom`` (a driver runs the processes and returns
its own verdict on the results). The classifier itself lives in ``run.py``; this module holds the
cases and the process helpers the drivers share.

Classes (applied by ``run.classify``):

* good: what a careful user expects. Bad input / infrastructure faults: exit 2 (130/143 for
  signals), stderr's last line a one-line ``sharpgen ...`` message naming the argument or the
  file, no ``Traceback`` on stdout/stderr, no new file in a folder the command was refused for,
  no ``*.tmp`` left. Correctness cases: the expected results (a rerun after a kill gives the
  statuses and numbers of an uninterrupted run; a table's rows agree with the run folders).
* weak: refused correctly but the message lacks the file/argument, or is multi-line, or a temp
  file or new file is left, or it took longer than the stated deadline.
* bad: a traceback, a hang past the hard deadline (killed), exit 0 / a result where it should
  refuse, exit 1 (a failed claim) for a fault, mixed or mislabelled results, lost rows.
"""
from __future__ import annotations

import csv
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

KINDS = ("cli", "rundir", "concurrency", "signals", "dask", "api", "limits")
VENV_BIN = Path(sys.executable).parent
SHARPGEN = str(VENV_BIN / "sharpgen")
PY = sys.executable
MEM_LIMIT = 6 << 30  # address space per case: a runaway allocation fails instead of swapping the machine
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
          "--inh-caps=-dac_override,-dac_read_search,-fowner"]  # root that honours read-only modes
TRAIN = ["--arch", "bias", "--d", "3", "--n", "6", "--n-test", "8", "--width", "4", "--data", "xor",
         "--phases", "0.01,0.05,1,0,20", "--eval-every", "10", "--no-theory", "--progress", "off"]
LONG_EPOCHS = "100000"  # about 8 s of training: long enough to be signalled mid-run
TRAIN_LONG = TRAIN[:12] + ["--phases", f"0.01,0.05,1,0,{LONG_EPOCHS}", "--eval-every", "10000"] + TRAIN[16:]


@dataclass
class Outcome:
    """What one case's processes did: the judged process's exit, output and time, and a driver's
    verdict (``(class, reason)``) when the case checks results itself."""
    rc: int | None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    command: str = ""
    verdict: tuple[str, str] | None = None


@dataclass
class Case:
    """One red-team case: ``argv`` may hold ``{w}`` (the case's work folder); ``guard`` lists folders
    (relative to it) that a refused command must leave without new files."""
    name: str
    kind: str
    argv: list[str] = field(default_factory=list)
    setup: Callable[[Path], None] | None = None
    expect: str = "refuse"
    names: tuple[str, ...] = ()
    codes: tuple[int, ...] = (2,)
    deadline: float = 15.0
    hard: float = 60.0
    guard: tuple[str, ...] = ()
    driver: Callable[["Case", Path], Outcome] | None = None


def _limit_memory() -> None:
    """Child setup: cap the address space and start a new session (so the group can be killed)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
    os.setsid()


def spawn(argv: list[str], cwd: Path) -> subprocess.Popen:
    """Start ``argv`` in ``cwd`` in its own session, output captured, memory capped."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    return subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, preexec_fn=_limit_memory)


def finish(proc: subprocess.Popen, hard: float, started: float, argv: list[str]) -> Outcome:
    """Wait for ``proc`` until ``hard`` seconds after ``started``; past it kill its whole group."""
    try:
        out, err = proc.communicate(timeout=max(0.1, hard - (time.monotonic() - started)))
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        timed_out = True
    return Outcome(proc.returncode, out, err, time.monotonic() - started, timed_out, " ".join(argv))


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the session ``proc`` leads (its workers included); it is ours by construction."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_cmd(argv: list[str], cwd: Path, hard: float) -> Outcome:
    """Run ``argv`` to its end or its hard deadline."""
    started = time.monotonic()
    return finish(spawn(argv, cwd), hard, started, argv)


def wait_for(path_glob: str, cwd: Path, limit: float, proc: subprocess.Popen | None = None) -> bool:
    """Poll until a file matching ``path_glob`` exists under ``cwd`` (or ``proc`` ended)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if list(cwd.glob(path_glob)):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def survivors(marker: str) -> list[int]:
    """Pids whose command line holds ``marker`` (a case's unique work path): orphaned workers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmd:
                pids.append(int(entry.name))
    return pids


def reap(pids: list[int]) -> None:
    """SIGKILL orphans this harness started (found by their unique work path), one pid at a time."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def verdict(outcome: Outcome, cls: str, reason: str) -> Outcome:
    """``outcome`` with a driver's verdict attached."""
    outcome.verdict = (cls, reason)
    return outcome


# ---------------------------------------------------------------- files and comparisons

def write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path``, making its parents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def metrics_rows(run: Path) -> list[dict]:
    """``run``'s metrics.csv without its wall-clock column (the only one allowed to differ)."""
    with open(run / "metrics.csv", newline="") as fh:
        return [{k: v for k, v in row.items() if "wall" not in k} for row in csv.DictReader(fh)]


def table_rows(sweep: Path) -> list[dict]:
    """A sweep's results.csv rows without wall-clock columns, sorted by run id."""
    with open(sweep / "results.csv", newline="") as fh:
        rows = [{k: v for k, v in row.items() if "wall" not in k} for row in csv.DictReader(fh)]
    return sorted(rows, key=lambda r: r.get("run_id", ""))


def _strip_times(value):
    """A JSON value without the keys that hold times (they differ between runs by nature)."""
    if isinstance(value, dict):
        return {k: _strip_times(v) for k, v in value.items()
                if not (k.endswith("_s") or any(t in k for t in ("time", "wall", "started", "seconds")))}
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


def report_entries(out: Path) -> list:
    """The statuses and numbers of a verify report (report.json's entries, times dropped)."""
    entries = json.loads((out / "report.json").read_text())["entries"]
    return [_strip_times(e) for e in entries if e.get("status") != "not run"]


# ---------------------------------------------------------------- shared baselines

ROOT: dict[str, Path] = {}  # "shared": the folder of baselines, set by run.py
_BASE: dict[str, Path] = {}


def shared() -> Path:
    """The folder that holds the uninterrupted baselines (made once per harness run)."""
    return ROOT.setdefault("shared", Path("/tmp/redteam-work/shared"))


def baseline(key: str, make: Callable[[Path], None]) -> Path:
    """The baseline ``key``, made by ``make(folder)`` on first use."""
    if key not in _BASE:
        folder = shared() / key
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        make(folder)
        _BASE[key] = folder
    return _BASE[key]


def _make_train_long(folder: Path) -> None:
    """An uninterrupted long training run, ``folder/run``."""
    run_cmd([SHARPGEN, "train", *TRAIN_LONG, "--out", "run"], folder, 120)


def _make_interrupted(folder: Path) -> None:
    """A run stopped by SIGTERM mid-schedule (status interrupted, a checkpoint): the template of the
    run-directory faults, since resuming it reads every run file."""
    started = time.monotonic()
    argv = [SHARPGEN, "train", *TRAIN_LONG, "--out", "run"]
    proc = spawn(argv, folder)
    wait_for("run/checkpoint.pt", folder, 30, proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    finish(proc, 60, started, argv)


def copy_interrupted(work: Path) -> Path:
    """A fresh copy of the interrupted template as ``work/run``."""
    src = baseline("interrupted", _make_interrupted) / "run"
    shutil.copytree(src, work / "run")
    return work / "run"


SWEEP_TOML = """[sweep]
name = "rt"
record = ["test_error", "trace"]

[base]
arch = "bias"
d = 3
n = 6
n_test = 8
width = {width}
data = "xor"
phases = "0.01,0.05,1,0,{epochs}"
eval_every = {every}

[axes]
seed = {seeds}
"""


def sweep_spec(width: int = 4, epochs: int = 20, seeds: str = "[0, 1]", extra: str = "") -> str:
    """A tiny sweep file over seeds (``extra`` appended: overrides, more axes)."""
    every = max(10, epochs // 10)
    return SWEEP_TOML.format(width=width, epochs=epochs, every=every, seeds=seeds) + extra


SWEEP_LONG = sweep_spec(epochs=60000, seeds="[0, 1, 2, 3]")


def _make_sweep_long(folder: Path) -> None:
    """An uninterrupted sweep of four long runs on two embedded workers."""
    write(folder / "s.toml", SWEEP_LONG)
    run_cmd([SHARPGEN, "sweep", "s.toml", "--out", "out", "--workers", "2", "--progress", "off"], folder, 180)


def _make_sweep_small(folder: Path) -> None:
    """A finished tiny sweep: the template of sweep-folder faults."""
    write(folder / "s.toml", sweep_spec())
    run_cmd([SHARPGEN, "sweep", "s.toml", "--out", "out", "--workers", "1", "--progress", "off"], folder, 90)


VERIFY_TRAINED = ["verify", "--kind", "trained", "--only", "thm-3.2"]  # the cheapest trained entry measured (15 s)


def _make_verify(folder: Path) -> None:
    """An uninterrupted ``sharpgen verify --kind trained --only thm-3.2``."""
    run_cmd([SHARPGEN, *VERIFY_TRAINED, "--out", "out"], folder, 240)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def silent_listener() -> tuple[socket.socket, int]:
    """A listener that accepts connections and never answers (closed by the caller)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held = []

    def accept():
        while True:
            try:
                held.append(sock.accept()[0])
            except OSError:
                return
    threading.Thread(target=accept, daemon=True).start()
    return sock, sock.getsockname()[1]


# ---------------------------------------------------------------- 1. bad CLI input

BAD_VALUES = ("-1", "0", "nan", "inf", "abc", "1e300")
SHORT_BAD = ("-1", "nan", "abc", "99999999999999999999")
VALID = {("train", "rho", "0"), ("train", "seed", "0"), ("train", "data-seed", "0"),
         ("train", "eval-log-points", "0"), ("train", "init-gamma", "-1"),
         ("train", "init-scale-first-layer", "-1"), ("search", "seed", "0"), ("search", "data-seed", "0"),
         ("search", "kappa", "0"), ("verify", "seed", "0")}  # values these options legitimately take
ACCEPT_OK = {("train", "project-radius", "1e300"), ("train", "eval-every", "1e300"),
             ("train", "checkpoint-every", "1e300"), ("search", "kappa", "99999999999999999999")}
# ^ huge but meaningful (no projection, evaluate only at the end, a loose bound): refusing or running is right
DIVERGE_OK = {"lr", "rho"}  # a huge step size is valid input: reporting the divergence (exit 3) is right
BASES = {
    "train": (TRAIN + ["--out", "out"],
              ("lr", "rho", "epochs", "d", "n", "n-test", "width", "depth", "data-seed", "project-radius", "eval-every", "eval-log-points",
               "checkpoint-every", "seed", "threads", "seeds"), BAD_VALUES),
    "search": (["--data", "xor", "--d", "3", "--n", "4", "--width", "4", "--starts", "1", "--iterations", "5",
                "--progress", "off", "--out", "out"],
               ("width", "depth", "d", "n", "kappa", "starts", "iterations"),
               SHORT_BAD),
    "bench": (["--cases", "nobias", "--d", "3", "--n", "4", "--width", "4", "--replicas", "1", "--seconds", "0.01"],
              ("replicas", "width", "threads", "seconds"), SHORT_BAD),
    "verify": (["--kind", "exact", "--only", "lemma-4.1", "--out", "out"], ("seed", "examples"), SHORT_BAD),
    "reproduce": (["1", "--out", "out", "--progress", "off"], ("seeds",), SHORT_BAD),
    "table1": (["--out", "out", "--progress", "off"], ("seeds",), SHORT_BAD),
    "sweep": (["s.toml", "--out", "out", "--progress", "off"], ("workers", "replicas"), SHORT_BAD),
}


def _names(opt: str) -> tuple[str, ...]:
    """The spellings a message may use for option ``opt``."""
    return (opt, opt.replace("-", "_"))


def _spec_setup(text: str) -> Callable[[Path], None]:
    """A setup that writes sweep file ``s.toml`` with ``text``."""
    return lambda work: write(work / "s.toml", text)


def numeric_cases() -> list[Case]:
    """Every bad value of every numeric option of every subcommand."""
    cases = []
    for cmd, (base, options, values) in BASES.items():
        for opt in options:
            for val in values:
                if (cmd, opt, val) in VALID:
                    continue
                codes = (2, 3) if cmd == "train" and opt in DIVERGE_OK and val == "1e300" else (2,)
                codes = (0, 2) if (cmd, opt, val) in ACCEPT_OK else codes
                setup = _spec_setup(sweep_spec()) if cmd == "sweep" else None
                guard = () if codes == (2, 3) else ("out",)  # a diverged run keeps its last good checkpoint
                cases.append(Case(f"{cmd}-{opt}={val}", "cli", [SHARPGEN, cmd, *base, f"--{opt}={val}"],
                                  setup=setup, names=_names(opt), codes=codes, guard=guard,
                                  deadline=10, hard=40))
    return cases


def _file_setup(work: Path) -> None:
    """A plain file ``f`` where a folder is expected."""
    write(work / "f", "not a folder\n")


OUT_ARGS = {"train": TRAIN, "verify": ["--kind", "exact", "--only", "lemma-4.1"],
            "reproduce": ["1", "--progress", "off"], "table1": ["--progress", "off"],
            "search": BASES["search"][0][:-2], "sweep": ["s.toml", "--progress", "off"]}


def out_cases() -> list[Case]:
    """--out empty, a file, below a file, for every subcommand with --out."""
    cases = []
    for cmd, args in OUT_ARGS.items():
        def setup(work, cmd=cmd):
            _file_setup(work)
            if cmd == "sweep":
                write(work / "s.toml", sweep_spec())
        for label, out, names in (("empty", "", ("out",)), ("file", "f", ("f", "out")),
                                  ("below-file", "f/sub", ("f/sub", "f", "out"))):
            cases.append(Case(f"{cmd}-out-{label}", "cli", [SHARPGEN, cmd, *args, "--out", out], setup=setup,
                              names=names, guard=("f",), deadline=10, hard=40))
    return cases


def choice_cases() -> list[Case]:
    """Unknown presets, architectures, devices and other named choices, and malformed strings."""
    t, o = [SHARPGEN, "train", *TRAIN], ["--out", "out"]
    rows = [("train-preset-unknown", [SHARPGEN, "train", "--preset", "nosuch", "--quick", *o], ("preset", "nosuch")),
            ("train-arch-unknown", t + ["--arch", "resnet"] + o, ("arch",)),
            ("train-device-bogus", t + ["--device", "tpu9"] + o, ("device",)),
            ("train-dtype-bogus", t + ["--dtype", "int8"] + o, ("dtype",)),
            ("train-backend-bogus", t + ["--backend", "fortran"] + o, ("backend",)),
            ("train-optimizer-bogus", t + ["--optimizer", "adam9"] + o, ("optimizer",)),
            ("train-loss-bogus", t + ["--loss", "hinge"] + o, ("loss",)),
            ("train-data-bogus", t + ["--data", "mnist"] + o, ("data",)),
            ("train-activation-bogus", t + ["--activation", "tanh"] + o, ("activation",)),
            ("train-phases-garbage", t + ["--phases", "a;b;c"] + o, ("phases",)),
            ("train-phases-short", t + ["--phases", "0.01,0.05,1,0"] + o, ("phases",)),
            ("train-phases-empty", t + ["--phases", ""] + o, ("phases",)),
            ("train-seeds-range-bad", t + ["--seeds", "5-2"] + o, ("seeds",)),
            ("train-resume-fresh", t + ["--resume"] + o, ("out", "resume", "checkpoint")),
            ("verify-only-unknown", [SHARPGEN, "verify", "--only", "lemma-9.9", *o], ("lemma-9.9", "only")),
            ("verify-kind-unknown", [SHARPGEN, "verify", "--kind", "vibes", *o], ("kind", "vibes")),
            ("verify-device-bogus", [SHARPGEN, "verify", "--kind", "exact", "--only", "lemma-4.1",
                                     "--device", "tpu9", *o], ("device",)),
            ("reproduce-fig-unknown", [SHARPGEN, "reproduce", "99", *o], ("99", "fig")),
            ("reproduce-device-bogus", [SHARPGEN, "reproduce", "1", "--device", "tpu9", *o], ("device",)),
            ("table1-device-bogus", [SHARPGEN, "table1", "--device", "tpu9", *o], ("device",)),
            ("plot-missing-dir", [SHARPGEN, "plot", "nosuchrun", "--out", "p"], ("nosuchrun",)),
            ("plot-file-as-run", [SHARPGEN, "plot", "f", "--out", "p"], ("f",)),
            ("plot-empty-dir", [SHARPGEN, "plot", "emptyrun", "--out", "p"], ("emptyrun",)),
            ("search-train-missing", [SHARPGEN, "search", "--train", "nosuch.csv", *o], ("nosuch.csv", "train")),
            ("search-train-junk", [SHARPGEN, "search", "--train", "f", *o], ("f", "train")),
            ("bench-cases-bogus", [SHARPGEN, "bench", "--cases", "resnet"], ("cases", "resnet")),
            ("bench-device-bogus", [SHARPGEN, "bench", "--device", "tpu9", "--cases", "nobias"], ("device",)),
            ("bench-dtype-bogus", [SHARPGEN, "bench", "--dtype", "int8", "--cases", "nobias"], ("dtype",))]

    def setup(work):
        _file_setup(work)
        (work / "emptyrun").mkdir()
    return [Case(name, "cli", argv, setup=setup, names=names, guard=("out", "p.png"), deadline=10, hard=40)
            for name, argv, names in rows]


SPEC_FAULTS = {
    "sweep-spec-missing": (None, ("nosuch.toml",)),
    "sweep-spec-junk-toml": ("[sweep\nname = ", ("s.toml",)),
    "sweep-spec-width-negative": (sweep_spec(width=-1), ("width",)),
    "sweep-spec-width-nan": (sweep_spec().replace("width = 4", "width = nan"), ("width",)),
    "sweep-spec-width-string": (sweep_spec().replace("width = 4", 'width = "abc"'), ("width",)),
    "sweep-spec-axis-empty": (sweep_spec(seeds="[]"), ("seed", "axis", "axes")),
    "sweep-spec-axis-unknown": (sweep_spec() + "colour = [1, 2]\n", ("colour",)),
    "sweep-spec-phases-nan": (sweep_spec().replace("0.01,0.05", "nan,0.05"), ("phases", "lr")),
    "sweep-spec-unknown-section": (sweep_spec() + "[bogus]\nx = 1\n", ("bogus",)),
}


def spec_cases() -> list[Case]:
    """Bad sweep files and an unknown study name, --dry-run where it suffices."""
    cases = [Case("sweep-study-unknown", "cli", [SHARPGEN, "sweep", "nosuch_study", "--out", "out"],
                  names=("nosuch_study",), guard=("out",), deadline=10, hard=40)]
    for name, (text, names) in SPEC_FAULTS.items():
        spec = "nosuch.toml" if text is None else "s.toml"
        cases.append(Case(name, "cli", [SHARPGEN, "sweep", spec, "--out", "out", "--dry-run"],
                          setup=None if text is None else _spec_setup(text), names=names, guard=("out",),
                          deadline=10, hard=40))
    return cases


# ---------------------------------------------------------------- 2. run-directory faults

def _corrupt(rel: str, how: str) -> Callable[[Path], None]:
    """A setup: the interrupted template copied to ``work/run``, then ``run/rel`` damaged ``how``."""
    def setup(work: Path) -> None:
        run = copy_interrupted(work)
        damage(run / rel, how)
    return setup


def damage(path: Path, how: str) -> None:
    """Damage one run file: random bytes, empty, halved, junk, a NaN, or a cut line."""
    data = path.read_bytes()
    if how == "random":
        path.write_bytes(os.urandom(max(64, len(data) // 4)))
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "junk":
        path.write_bytes(b"{not json\n")
    elif how == "nan":
        text = json.loads(data)
        if "final" in text:
            text["final"] = float("nan")
        else:
            text.get("config", text)["width"] = float("nan")
        path.write_text(json.dumps(text))  # json.dumps writes a bare NaN, as a careless tool would
    elif how == "last-line-cut":  # a row a kill cut while appending it, after the last checkpoint
        last = data.decode().splitlines()[-1]
        path.write_bytes(data + last[: len(last) // 2].encode())
    elif how == "middle-line-cut":
        lines = data.decode().splitlines(keepends=True)
        lines[len(lines) // 2] = lines[len(lines) // 2][: len(lines[len(lines) // 2]) // 2] + "\n"
        path.write_text("".join(lines))


RESUME = [SHARPGEN, "train", *TRAIN_LONG, "--resume", "--out", "run"]
TRAIN_FAULTS = [("checkpoint.pt", "random"), ("checkpoint.pt", "empty"), ("checkpoint.pt", "truncated"),
                ("config.json", "junk"), ("config.json", "nan"), ("config.json", "empty"),
                ("summary.json", "junk"), ("summary.json", "nan"), ("metrics.csv", "middle-line-cut"),
                ("metrics.csv", "empty")]


def _resume_matches(case: Case, work: Path) -> Outcome:
    """Resume the damaged run; expect exit 0 and the uninterrupted run's metrics."""
    out = run_cmd(case.argv, work, case.hard)
    if out.rc != 0:
        return verdict(out, "bad", f"exit {out.rc} on a run whose damage is documented as tolerated")
    base = baseline("train-long", _make_train_long) / "run"
    same = metrics_rows(work / "run") == metrics_rows(base)
    return verdict(out, "good" if same else "bad", "same metrics as uninterrupted" if same
                   else "metrics.csv differs from the uninterrupted run")


def _ro(rel: str, fill: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """A setup: folder ``rel`` (filled by ``fill``) made read-only (the command runs without
    CAP_DAC_OVERRIDE, so root honours the mode)."""
    def setup(work: Path) -> None:
        target = work / rel
        if fill is not None:
            fill(work)
        target.mkdir(parents=True, exist_ok=True)
        for p in [target, *target.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
    return setup


def _finished_sweep(work: Path) -> None:
    """A copy of the finished tiny sweep as ``work/out`` and its spec as ``work/s.toml``."""
    src = baseline("sweep-small", _make_sweep_small)
    shutil.copytree(src / "out", work / "out")
    shutil.copy(src / "s.toml", work / "s.toml")


def _finished_verify(work: Path) -> None:
    """A copy of the finished trained verify folder as ``work/out``."""
    shutil.copytree(baseline("verify", _make_verify) / "out", work / "out")


def _refuse_or_same(case: Case, work: Path) -> Outcome:
    """Rerun over a damaged folder: good if refused (exit 2 naming a file) or if the result equals
    the undamaged baseline's; bad on exit 0 with other numbers or exit 1."""
    out = run_cmd(case.argv, work, case.hard)
    if out.rc == 2 or out.timed_out or out.rc != 0:
        return out  # judged by the refusal rule
    if (work / "out" / "report.json").exists():
        same = report_entries(work / "out") == report_entries(baseline("verify", _make_verify) / "out")
    else:
        same = table_rows(work / "out") == table_rows(baseline("sweep-small", _make_sweep_small) / "out")
    return verdict(out, "good" if same else "bad", "recomputed, same result as the baseline" if same
                   else "exit 0 with results that differ from the undamaged baseline")


def _verify_fault(rel_file: str, how: str) -> Callable[[Path], None]:
    """A setup: the finished verify folder with one file of its first run damaged."""
    def setup(work: Path) -> None:
        _finished_verify(work)
        run = sorted((work / "out" / "runs").iterdir())[0]
        damage(run / rel_file, how)
    return setup


def _sweep_fault(work: Path, what: str) -> None:
    """The finished sweep folder with ``what`` damaged."""
    _finished_sweep(work)
    out = work / "out"
    if what == "errors-junk":
        shutil.rmtree(out / "runs" / "seed=0")
        write(out / "errors" / "seed=0.json", "{junk")
    elif what == "summary-junk":
        damage(out / "runs" / "seed=0" / "summary.json", "junk")
    elif what == "runs-file":
        shutil.rmtree(out / "runs")
        write(out / "runs", "a file\n")


def rundir_cases() -> list[Case]:
    """Damaged run files, files where folders belong, read-only and over-long outputs."""
    cases = [Case(f"train-resume-{f.split('.')[0]}-{how}", "rundir", RESUME, setup=_corrupt(f, how),
                  names=(f,), deadline=15, hard=60) for f, how in TRAIN_FAULTS]
    cases.append(Case("train-resume-metrics-last-line-cut", "rundir", RESUME,
                      setup=_corrupt("metrics.csv", "last-line-cut"), expect="custom", hard=90,
                      driver=_resume_matches))
    long_name = "r" * 300
    v = [SHARPGEN, *VERIFY_TRAINED, "--out", "out"]
    sw = [SHARPGEN, "sweep", "s.toml", "--out", "out", "--workers", "1", "--progress", "off"]
    cases += [
        Case("train-out-overlong-name", "rundir", [SHARPGEN, "train", *TRAIN, "--out", long_name],
             names=("name", "255", "long", "r" * 20), deadline=10, hard=40),
        Case("train-out-readonly-new", "rundir", NO_DAC + [SHARPGEN, "train", *TRAIN, "--out", "rodir/new"],
             setup=_ro("rodir"), names=("rodir",), guard=("rodir",), hard=40),
        Case("train-out-readonly-empty", "rundir", NO_DAC + [SHARPGEN, "train", *TRAIN, "--out", "rodir"],
             setup=_ro("rodir"), names=("rodir",), guard=("rodir",), hard=40),
        Case("train-out-readonly-interrupted", "rundir", NO_DAC + RESUME,
             setup=_ro("run", copy_interrupted), names=("run",), guard=("run",), hard=60),
        Case("sweep-collect-readonly", "rundir", NO_DAC + [SHARPGEN, "sweep", "s.toml", "--out", "out", "--collect"],
             setup=_ro("out", _finished_sweep), names=("out", "results"), guard=("out",), hard=60),
        Case("sweep-runs-is-file", "rundir", sw, setup=lambda w: _sweep_fault(w, "runs-file"),
             names=("runs",), hard=60),
        Case("sweep-errors-json-junk-dry-run", "rundir", sw + ["--dry-run"],
             setup=lambda w: _sweep_fault(w, "errors-junk"), names=("seed=0.json", "errors"), hard=60),
        Case("sweep-errors-json-junk-rerun", "rundir", sw, setup=lambda w: _sweep_fault(w, "errors-junk"),
             names=("seed=0.json", "errors"), expect="custom", driver=_refuse_or_same, hard=90),
        Case("sweep-summary-junk-rerun", "rundir", sw, setup=lambda w: _sweep_fault(w, "summary-junk"),
             names=("summary.json",), expect="custom", driver=_refuse_or_same, hard=90),
        Case("verify-runs-is-file", "rundir", v, setup=lambda w: write(w / "out" / "runs", "x\n"),
             names=("runs",), hard=120),
        Case("verify-report-md-is-dir", "rundir",
             [SHARPGEN, "verify", "--kind", "exact", "--only", "lemma-4.1", "--out", "out"],
             setup=lambda w: (w / "out" / "report.md").mkdir(parents=True), names=("report.md",), hard=60),
    ]
    for f, how in (("checkpoint.pt", "random"), ("summary.json", "junk"), ("summary.json", "nan"),
                   ("metrics.csv", "middle-line-cut"), ("config.json", "junk")):
        cases.append(Case(f"verify-run-{f.split('.')[0]}-{how}", "rundir", v, setup=_verify_fault(f, how),
                          names=(f,), expect="custom", driver=_refuse_or_same, deadline=30, hard=150))
    return cases


# ---------------------------------------------------------------- 3. concurrency

def _two_at_once(argv_a: list[str], argv_b: list[str], work: Path, gap: float, hard: float,
                 ready: str | None = None) -> tuple[Outcome, Outcome]:
    """Start ``argv_a``, then ``argv_b`` once ``ready`` exists (or ``gap`` s later); both to the end."""
    started = time.monotonic()
    a = spawn(argv_a, work)
    if ready is not None:
        wait_for(ready, work, 30, a)
    time.sleep(gap)
    b_start = time.monotonic()
    b = spawn(argv_b, work)
    return finish(a, hard, started, argv_a), finish(b, hard, b_start, argv_b)


def _merge(a: Outcome, b: Outcome) -> Outcome:
    """One outcome for a pair: b's exit and last line (the one expected to be refused), both outputs,
    timed out if either was."""
    return Outcome(b.rc, a.stdout + b.stdout, a.stderr + b.stderr, max(a.seconds, b.seconds),
                   a.timed_out or b.timed_out, f"A: {a.command} | B: {b.command}")


def _last_line(out: Outcome) -> str:
    """The last non-empty line of ``out``'s stderr."""
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _two_trains(case: Case, work: Path) -> Outcome:
    """Two trainings into one folder: the second refused naming the holder, the first intact."""
    argv = [SHARPGEN, "train", *TRAIN_LONG, "--out", "run"]
    a, b = _two_at_once(argv, argv, work, 0.5, case.hard, ready="run/config.json")
    both = _merge(a, b)
    if a.rc != 0 or b.rc != 2:
        return verdict(both, "bad", f"exits A={a.rc} B={b.rc}, expected 0 and 2")
    same = metrics_rows(work / "run") == metrics_rows(baseline("train-long", _make_train_long) / "run")
    if not same:
        return verdict(both, "bad", "the holder's metrics differ from an uninterrupted run")
    named = "pid" in _last_line(b).lower()
    return verdict(both, "good" if named else "weak", "refused naming the holder" if named
                   else f"refused without naming the holder: {_last_line(b)[:120]}")


def _two_reproduces(case: Case, work: Path) -> Outcome:
    """Two `reproduce 3` into one --out: the later refused naming the holder (exit 2), the first draws."""
    argv = [SHARPGEN, "reproduce", "3", "--out", "out", "--progress", "off"]
    a, b = _two_at_once(argv, argv, work, 0.0, case.hard, ready="out/fig3-quick-seed0/config.json")
    both = _merge(a, b)
    if a.rc != 0 or b.rc != 2:
        return verdict(both, "bad", f"exits A={a.rc} B={b.rc}, expected 0 and 2")
    drawn = (work / "out" / "figures" / "fig3-seed0.png").is_file()
    named = "pid" in _last_line(b).lower()
    if not drawn:
        return verdict(both, "bad", "the holder drew no figure")
    return verdict(both, "good" if named else "weak", "refused naming the holder" if named
                   else f"refused without naming the holder: {_last_line(b)[:120]}")


def table_agrees(out: Path) -> tuple[bool, str]:
    """Whether every row of ``out``'s table matches its run folder's config.json (width, seed) and
    every run folder has a row."""
    rows = table_rows(out)
    runs = {p.name for p in (out / "runs").iterdir() if p.is_dir()}
    if {r["run_id"] for r in rows} != runs:
        return False, f"table rows {sorted(r['run_id'] for r in rows)} != run folders {sorted(runs)}"
    for row in rows:
        config = json.loads((out / "runs" / row["run_id"] / "config.json").read_text())
        config = config.get("config", config)
        for key in ("width", "seed"):
            if key in config and str(config[key]) != row.get(key):
                return False, f"{row['run_id']}: table {key}={row.get(key)}, config.json {key}={config[key]}"
    return True, "table agrees with the run folders"


def _sweep_pair(case: Case, work: Path, spec_b: str, cooperate: bool) -> Outcome:
    """Two sweeps into one --out at once; judged by exits and the table's agreement with the runs."""
    write(work / "a.toml", sweep_spec(epochs=2000))
    write(work / "b.toml", spec_b)
    tail = ["--out", "out", "--workers", "1", "--progress", "off"]
    a, b = _two_at_once([SHARPGEN, "sweep", "a.toml", *tail], [SHARPGEN, "sweep", "b.toml", *tail],
                        work, 0.3, case.hard)
    both = _merge(a, b)
    if 1 in (a.rc, b.rc) or None in (a.rc, b.rc):
        return verdict(both, "bad", f"exits A={a.rc} B={b.rc}")
    if not (work / "out" / "results.csv").exists():
        return verdict(both, "bad", f"no table (exits A={a.rc} B={b.rc})")
    ok, why = table_agrees(work / "out")
    if not ok:
        return verdict(both, "bad", f"mixed results: {why}")
    if cooperate and (a.rc, b.rc) != (0, 0):
        return verdict(both, "weak", f"did not cooperate: exits A={a.rc} B={b.rc}; {why}")
    if not cooperate and 0 == a.rc == b.rc:
        return verdict(both, "bad", "two different sweeps both claimed one folder (exit 0 twice)")
    return verdict(both, "good", f"exits A={a.rc} B={b.rc}; {why}")


def _two_verifies(case: Case, work: Path) -> Outcome:
    """Two exact verifies into one --out: the later refused (exit 2, naming the holder), never FAIL."""
    argv = [SHARPGEN, "verify", "--kind", "exact", "--only", "lemma-4.1", "--out", "out"]
    a, b = _two_at_once(argv, argv, work, 0.2, case.hard)
    both = _merge(a, b)
    if 1 in (a.rc, b.rc):
        return verdict(both, "bad", f"a FAIL (exit 1) from a concurrent run: A={a.rc} B={b.rc}")
    if sorted((a.rc, b.rc)) == [0, 2]:
        loser = b if b.rc == 2 else a
        named = "pid" in _last_line(loser).lower()
        return verdict(both, "good" if named else "weak", "later refused" + ("" if named else " without the holder"))
    return verdict(both, "weak" if (a.rc, b.rc) == (0, 0) else "bad",
                   f"exits A={a.rc} B={b.rc}: no refusal of the concurrent run")


OVERRIDE_AXIS = sweep_spec() + "width = [4, 6]\n\n[[override]]\nwhen = { seed = 0 }\nwidth = 8\n"


def concurrency_cases() -> list[Case]:
    """Two writers of one folder, in each shape the brief names."""
    return [
        Case("train-two-into-one-folder", "concurrency", expect="custom", driver=_two_trains, hard=90),
        Case("sweep-two-different-one-out", "concurrency", expect="custom", hard=120,
             driver=lambda c, w: _sweep_pair(c, w, sweep_spec(width=6, epochs=2000), cooperate=False)),
        Case("sweep-same-twice-at-once", "concurrency", expect="custom", hard=120,
             driver=lambda c, w: _sweep_pair(c, w, sweep_spec(epochs=2000), cooperate=True)),
        Case("verify-two-at-once-one-out", "concurrency", expect="custom", driver=_two_verifies, hard=90),
        Case("reproduce-two-at-once-one-out", "concurrency", expect="custom", driver=_two_reproduces, hard=120),
        Case("sweep-override-sets-axis-field", "concurrency",
             [SHARPGEN, "sweep", "s.toml", "--out", "out", "--dry-run"], setup=_spec_setup(OVERRIDE_AXIS),
             names=("width", "override"), guard=("out",), hard=40),
    ]


# ---------------------------------------------------------------- 4. signals

SIG_RC = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}


def _session_members(leader: int) -> list[int]:
    """Pids still in the session ``leader`` started (workers that outlived it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[4]) == leader:
                pids.append(int(entry.name))
    return pids


def _signal_mid_run(argv: list[str], work: Path, ready: str, sig: int, hard: float) -> tuple[Outcome, list[int]]:
    """Start ``argv``, send ``sig`` once ``ready`` exists (SIGINT to the group, as a terminal does;
    SIGTERM and SIGKILL to the process), then the outcome and the pids left over."""
    started = time.monotonic()
    proc = spawn(argv, work)
    wait_for(ready, work, 60, proc)
    time.sleep(0.7)
    if proc.poll() is None:
        (os.killpg if sig == signal.SIGINT else os.kill)(proc.pid, sig)
    out = finish(proc, hard, started, argv)
    time.sleep(2.0)
    left = sorted(set(_session_members(proc.pid)) | set(survivors(str(work))))
    reap(left)
    return out, left


def _interrupt_rerun(case: Case, work: Path, argv: list[str], rerun: list[str], ready: str,
                     compare: Callable[[Path], tuple[bool, str]]) -> Outcome:
    """Signal a run mid-way, check its exit, message and orphans, rerun at once, compare results."""
    sig = case.codes[0]
    out, left = _signal_mid_run(argv, work, ready, sig, case.hard)
    if out.timed_out or "Traceback" in out.stderr + out.stdout:
        return out
    if out.rc == 0:
        return verdict(out, "weak", "finished before the signal: not exercised")
    if left:
        return verdict(out, "bad", f"orphaned processes after the signal: {left}")
    if out.rc != SIG_RC[sig] and not (sig == signal.SIGKILL and out.rc == -9):
        return verdict(out, "bad", f"exit {out.rc} after signal {sig}, expected {SIG_RC[sig]}")
    again = run_cmd(rerun, work, case.hard)
    if again.timed_out or "Traceback" in again.stderr + again.stdout or again.rc != 0:
        return verdict(out, "bad", f"rerun: exit {again.rc}{' (timed out)' if again.timed_out else ''}: "
                                   f"{_last_line(again)[:120]}")
    ok, why = compare(work)
    if not ok:
        return verdict(out, "bad", f"rerun differs from an uninterrupted run: {why}")
    if sig != signal.SIGKILL and "resume" not in _last_line(out).lower():
        return verdict(out, "weak", f"no resume command on the last line: {_last_line(out)[:120]}")
    return verdict(out, "good", f"rerun equals the uninterrupted run; {why}")


def _same_train(work: Path) -> tuple[bool, str]:
    """The resumed run against the uninterrupted one: metrics.csv (but wall time) and status."""
    base = baseline("train-long", _make_train_long) / "run"
    status = json.loads((work / "run" / "summary.json").read_text()).get("status")
    same = metrics_rows(work / "run") == metrics_rows(base)
    return same and status == "done", f"metrics equal={same}, status={status}"


def _same_sweep(work: Path) -> tuple[bool, str]:
    """The resumed sweep's table against the uninterrupted sweep's."""
    same = table_rows(work / "out") == table_rows(baseline("sweep-long", _make_sweep_long) / "out")
    return same, f"table equal={same}"


def _same_verify(work: Path) -> tuple[bool, str]:
    """The resumed verify report's statuses and numbers against the uninterrupted one's."""
    same = report_entries(work / "out") == report_entries(baseline("verify", _make_verify) / "out")
    return same, f"report entries equal={same}"


def _signal_driver(what: str) -> Callable[[Case, Path], Outcome]:
    """The interrupt-and-rerun driver of ``what`` (train, sweep or verify)."""
    def drive(case: Case, work: Path) -> Outcome:
        if what == "train":
            argv = [SHARPGEN, "train", *TRAIN_LONG, "--out", "run"]
            return _interrupt_rerun(case, work, argv, argv + ["--resume"], "run/checkpoint.pt", _same_train)
        if what == "sweep":
            write(work / "s.toml", SWEEP_LONG)
            argv = [SHARPGEN, "sweep", "s.toml", "--out", "out", "--workers", "2", "--progress", "off"]
            return _interrupt_rerun(case, work, argv, argv, "out/runs/*/checkpoint.pt", _same_sweep)
        argv = [SHARPGEN, *VERIFY_TRAINED, "--out", "out"]
        return _interrupt_rerun(case, work, argv, argv, "out/runs/*/checkpoint.pt", _same_verify)
    return drive


def signal_cases() -> list[Case]:
    """SIGINT, SIGTERM and kill -9 of train, sweep and verify, each rerun and compared."""
    return [Case(f"{what}-{signal.Signals(sig).name}-then-rerun", "signals", expect="custom", codes=(sig,),
                 driver=_signal_driver(what), hard=180)
            for what in ("train", "sweep", "verify") for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)]


# ---------------------------------------------------------------- 5. Dask

def _sweep_at(address: str, extra: list[str] | None = None) -> list[str]:
    """A tiny sweep on the scheduler at ``address``."""
    return [SHARPGEN, "sweep", "s.toml", "--out", "out", "--scheduler", address, "--progress", "off", *(extra or [])]


def _with_peer(start: Callable[[Path], tuple[Callable[[], None], str]]) -> Callable[[Case, Path], Outcome]:
    """A driver: start a peer (returns its stopper and address), run the sweep against it, stop it."""
    def drive(case: Case, work: Path) -> Outcome:
        write(work / "s.toml", sweep_spec())
        stop, address = start(work)
        try:
            return run_cmd(_sweep_at(address), work, case.hard)
        finally:
            stop()
    return drive


def _proc_peer(argv_of: Callable[[int], list[str]], settle: float) -> Callable[[Path], tuple[Callable[[], None], str]]:
    """A peer that is a process listening on a fresh port."""
    def start(work: Path):
        port = free_port()
        proc = spawn(argv_of(port), work)
        time.sleep(settle)
        return (lambda: (kill_group(proc), proc.communicate())), f"tcp://127.0.0.1:{port}"
    return start


def _silent_peer(work: Path):
    """An in-process listener that accepts and never replies."""
    sock, port = silent_listener()
    return sock.close, f"tcp://127.0.0.1:{port}"


def _closed_peer(work: Path):
    """Nobody on the port."""
    return (lambda: None), f"tcp://127.0.0.1:{free_port()}"


def _scheduler_argv(port: int) -> list[str]:
    """A real Dask scheduler on ``port`` without a dashboard."""
    return [str(VENV_BIN / "dask"), "scheduler", "--port", str(port), "--no-dashboard"]


def _killed_cluster(case: Case, work: Path) -> Outcome:
    """A real scheduler and worker killed mid-sweep: the sweep stops (non-zero, no traceback, a resume
    command), then a rerun on the embedded cluster gives the uninterrupted sweep's table."""
    write(work / "s.toml", SWEEP_LONG)
    port = free_port()
    sched = spawn(_scheduler_argv(port), work)
    time.sleep(4)
    worker = spawn([str(VENV_BIN / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--nworkers", "1",
                    "--nthreads", "1", "--no-dashboard"], work)
    started = time.monotonic()
    argv = _sweep_at(f"tcp://127.0.0.1:{port}")
    proc = spawn(argv, work)
    wait_for("out/runs/*/checkpoint.pt", work, 90, proc)
    time.sleep(1.0)
    for peer in (worker, sched):
        kill_group(peer)
        peer.communicate()
    out = finish(proc, case.hard, started, argv)
    if out.timed_out or "Traceback" in out.stderr + out.stdout:
        return out
    if out.rc in (0, 1):
        return verdict(out, "bad", f"exit {out.rc} after the cluster died (0: claims success, 1: a failed run)")
    rerun = run_cmd([SHARPGEN, "sweep", "s.toml", "--out", "out", "--workers", "2", "--progress", "off"],
                    work, case.hard)
    if rerun.rc != 0 or rerun.timed_out:
        return verdict(out, "bad", f"embedded rerun: exit {rerun.rc}: {_last_line(rerun)[:120]}")
    ok, why = _same_sweep(work)
    if not ok:
        return verdict(out, "bad", f"rerun differs from the uninterrupted sweep: {why}")
    if "resume" not in out.stderr.lower() and "rerun" not in out.stderr.lower():
        return verdict(out, "weak", f"stopped without a resume command: {_last_line(out)[:120]}")
    return verdict(out, "good", f"stopped (exit {out.rc}), rerun on the embedded cluster equal")


def dask_cases() -> list[Case]:
    """--scheduler at a closed port, an HTTP server, a silent listener, a scheduler without workers
    (its 60 s wait has no option to shorten it), and a real cluster killed mid-sweep."""
    http = _proc_peer(lambda port: [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"], 1.5)
    return [
        Case("sweep-scheduler-closed-port", "dask", expect="custom", driver=_with_peer(_closed_peer),
             names=("scheduler", "127.0.0.1"), deadline=15, hard=60),
        Case("sweep-scheduler-http-server", "dask", expect="custom", driver=_with_peer(http),
             names=("scheduler", "127.0.0.1"), deadline=20, hard=60),
        Case("sweep-scheduler-silent-listener", "dask", expect="custom", driver=_with_peer(_silent_peer),
             names=("scheduler", "127.0.0.1"), deadline=20, hard=60),
        Case("sweep-scheduler-no-workers", "dask", expect="custom",
             driver=_with_peer(_proc_peer(_scheduler_argv, 4)), names=("worker",), deadline=75, hard=120),
        Case("sweep-cluster-killed-mid-sweep", "dask", expect="custom", driver=_killed_cluster, hard=180),
    ]


# ---------------------------------------------------------------- 6. API misuse

API_WRAP = """import sys
try:
    import torch
    from sharpgen.numerics.optim import SAM, project_first_layer_
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
{body}
except Exception as err:
    print(f"sharpgen api: {{type(err).__name__}}: {{err}}", file=sys.stderr)
    sys.exit(2)
print("sharpgen api: accepted", file=sys.stderr)
"""
API_BODIES = {
    "sam-first-step-twice": ("opt = SAM([w], torch.optim.SGD, rho=0.05, lr=0.1)\n(w ** 2).sum().backward()\n"
                             "opt.first_step()\n(w ** 2).sum().backward()\nopt.first_step()", ("first_step",)),
    "sam-second-step-alone": ("opt = SAM([w], torch.optim.SGD, rho=0.05, lr=0.1)\n(w ** 2).sum().backward()\n"
                              "opt.second_step()", ("second_step", "first_step")),
    "sam-negative-rho": ("SAM([w], torch.optim.SGD, rho=-0.1, lr=0.1)", ("rho",)),
    "sam-group-negative-rho": ("SAM([{'params': [w], 'rho': -1.0}], torch.optim.SGD, rho=0.05, lr=0.1)", ("rho",)),
    "sam-group-missing-lr": ("SAM([w], torch.optim.SGD, rho=0.05)", ("lr",)),
    "sam-group-lr-zero": ("SAM([w], torch.optim.SGD, rho=0.05, lr=0.0)", ("lr",)),
    "sam-group-lr-nan": ("SAM([{'params': [w], 'lr': float('nan')}], torch.optim.SGD, rho=0.05, lr=0.1)", ("lr",)),
    "sam-nan-gradient": ("opt = SAM([w], torch.optim.SGD, rho=0.05, lr=0.1)\n"
                         "w.grad = torch.tensor([float('nan'), 1.0], dtype=torch.float64)\nopt.first_step()",
                         ("nan", "finite", "gradient")),
    "sam-step-without-closure": ("SAM([w], torch.optim.SGD, rho=0.05, lr=0.1).step()", ("closure",)),
    "project-negative-radius": ("project_first_layer_(torch.ones(4, 3), torch.ones(4), -1.0)", ("radius",)),
    "project-nan-radius": ("project_first_layer_(torch.ones(4, 3), torch.ones(4), float('nan'))", ("radius",)),
    "theory-condition1-huge": ("from sharpgen.theory import condition1_set\ncondition1_set(10 ** 6)",
                               ("d", "256", "4096")),
    "theory-condition1-d300": ("from sharpgen.theory import condition1_set\ncondition1_set(300)", ("d", "256")),
    "theory-hypercube-huge": ("from sharpgen.theory import hypercube\nhypercube(40)", ("d", "16")),
    "numerics-build-huge-width": ("from sharpgen.numerics.nets import build\nbuild('nobias', d=3, width=10 ** 9)",
                                  ("width",)),
    "numerics-build-zero-width": ("from sharpgen.numerics.nets import build\nbuild('nobias', d=3, width=0)",
                                  ("width",)),
    "numerics-xor-n-too-big": ("from sharpgen.numerics.nets import xor_dataset\nxor_dataset(3, 100)", ("n",)),
}


def api_cases() -> list[Case]:
    """Misuse of the public API through ``python -c``: exit 2 means it raised (message on the last
    line), exit 0 means the misuse was accepted."""
    cases = []
    for name, (body, names) in API_BODIES.items():
        code = API_WRAP.format(body="\n".join("    " + ln for ln in body.splitlines()))
        cases.append(Case(f"api-{name}", "api", [PY, "-c", code], names=names, deadline=15, hard=60))
    return cases


# ---------------------------------------------------------------- 7. huge inputs up front

HUGE_GRID = sweep_spec(seeds=str(list(range(1000)))) + f"width = {list(range(1, 1001))}\n"
LONG_ID = sweep_spec() + "method." + "v" * 300 + ' = { optimizer = "sam" }\n'


def limit_cases() -> list[Case]:
    """Sizes that cannot be served, which must be refused quickly and before anything is built."""
    dry = [SHARPGEN, "sweep", "s.toml", "--out", "out", "--dry-run"]
    big = ["--d", "20", "--n", "1000", "--n-test", "1000", "--width", str(10 ** 7)]
    return [
        Case("sweep-grid-1e6-dry-run", "limits", dry, setup=_spec_setup(HUGE_GRID),
             names=("20000", "grid", "points"), guard=("out",), deadline=10, hard=60),
        Case("sweep-run-id-300-bytes-dry-run", "limits", dry, setup=_spec_setup(LONG_ID),
             names=("255", "run id", "long"), guard=("out",), deadline=10, hard=60),
        Case("train-threads-above-cores", "limits", [SHARPGEN, "train", *TRAIN, "--threads", "999", "--out", "out"],
             names=("threads",), guard=("out",), deadline=10, hard=40),
        Case("bench-threads-above-cores", "limits",
             [SHARPGEN, "bench", *BASES["bench"][0], "--threads", "999"], names=("threads",), deadline=10, hard=40),
        Case("train-memory-estimate", "limits", [SHARPGEN, "train", *TRAIN, *big, "--out", "out"],
             names=("width", "memory"), guard=("out",), deadline=10, hard=40),
        Case("train-seeds-huge-count", "limits", [SHARPGEN, "train", *TRAIN, "--seeds", "1000000", "--out", "out"],
             names=("seeds",), guard=("out",), deadline=10, hard=40),
        Case("verify-examples-huge", "limits",
             [SHARPGEN, "verify", "--kind", "property", "--only", "lemma-4.1", "--examples", str(10 ** 12),
              "--out", "out"], names=("examples",), guard=("out",), deadline=10, hard=40),
    ]


def _done_run(how: str) -> Callable[[Path], None]:
    """A setup: the finished long run copied to ``work/run``, then its metrics.csv damaged ``how``
    (``nan-final``: NaN test error and trace in the last row; ``final-cut``: the last row removed)."""
    def setup(work: Path) -> None:
        shutil.copytree(baseline("train-long", _make_train_long) / "run", work / "run")
        path = work / "run" / "metrics.csv"
        lines = path.read_text().splitlines()
        if how == "nan-final":
            header, cells = lines[0].split(","), lines[-1].split(",")
            for column in ("test_error", "trace"):
                cells[header.index(column)] = "nan"
            lines[-1] = ",".join(cells)
        elif how == "final-cut":
            lines = lines[:-1]
        else:
            damage(path, how)
            return
        path.write_text("\n".join(lines) + "\n")
    return setup


def reader_cases() -> list[Case]:
    """The readers (``plot``; ``reproduce`` and ``table1`` read through the same loader) on a finished run
    whose metrics.csv is damaged: refused naming the file, never drawn."""
    plot = [SHARPGEN, "plot", "run", "--out", "fig"]
    return [Case(f"plot-done-run-metrics-{how}", "rundir", plot, setup=_done_run(how), names=("metrics.csv",),
                 guard=("run",), hard=60)
            for how in ("nan-final", "final-cut", "middle-line-cut", "empty")]


def sweep_readonly_cases() -> list[Case]:
    """A sweep into a read-only folder: new below it, empty, finished (a rerun has nothing to train but
    writes its table)."""
    sw = NO_DAC + [SHARPGEN, "sweep", "s.toml", "--workers", "1", "--progress", "off", "--out"]

    def spec_and(setup):
        def both(work: Path) -> None:
            write(work / "s.toml", sweep_spec())
            setup(work)
        return both
    return [Case("sweep-out-readonly-new", "rundir", sw + ["rodir/new"], setup=spec_and(_ro("rodir")),
                 names=("rodir",), guard=("rodir",), hard=60),
            Case("sweep-out-readonly-empty", "rundir", sw + ["rodir"], setup=spec_and(_ro("rodir")),
                 names=("rodir",), guard=("rodir",), hard=60),
            Case("sweep-out-readonly-finished", "rundir", sw + ["out"], setup=_ro("out", _finished_sweep),
                 names=("out",), guard=("out",), hard=60)]


def on_full_disk(size: str, argv: list[str]) -> list[str]:
    """``argv`` run with ``disk/`` of its work folder a fresh tmpfs of ``size`` (``unshare -rm``: a user and
    mount namespace of its own, so no root is needed and the mount vanishes with the process)."""
    return ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size={size} tmpfs disk && exec {shlex.join(argv)}"]


def _disk(work: Path) -> None:
    (work / "disk").mkdir()
    write(work / "s.toml", sweep_spec(epochs=2000))


def disk_cases() -> list[Case]:
    """A disk that fills up: before the first file, mid-run (after checkpoints), while a report or a sweep's
    runs are written. Each must stop with one line naming the file, exit 2."""
    train = [SHARPGEN, "train", *TRAIN_LONG, "--out", "disk/run"]
    sweep = [SHARPGEN, "sweep", "s.toml", "--out", "disk/out", "--workers", "1", "--progress", "off"]
    verify = [SHARPGEN, "verify", "--kind", "exact", "--only", "lemma-4.1", "--out", "disk/out"]
    return [Case(f"full-disk-{name}", "rundir", on_full_disk(size, argv), setup=_disk, names=("disk/",),
                 deadline=30, hard=120)
            for name, size, argv in (("train-at-start", "8k", train), ("train-mid-run", "32k", train),
                                     ("verify-report", "8k", verify), ("sweep-at-start", "8k", sweep),
                                     ("sweep-mid-run", "40k", sweep))]


def all_cases() -> list[Case]:
    """Every case, in the order they run (cheap refusals first, baselines made on first use)."""
    return (numeric_cases() + out_cases() + choice_cases() + spec_cases() + limit_cases() + api_cases()
            + rundir_cases() + reader_cases() + sweep_readonly_cases() + disk_cases() + concurrency_cases() + signal_cases() + dask_cases())
