"""Run the red-team cases of ``cases.py``, classify each outcome, and write the totals.

``python experiments/redteam/run.py [--only KIND] [--out docs/redteam]`` runs every case (or one
kind) sequentially, each in its own folder under ``--work`` and with its hard deadline, prints
progress on stderr, and writes OUT/results.json (every case: name, kind, command, exit code,
seconds, class, reason, last stderr line) and OUT/results.md (tried / good / weak / bad per kind and
overall, then every weak and bad case with its reason), both with the machine and the git commit.

Classification, applied mechanically by :func:`classify` (the rules of ``cases.py``'s docstring):

1. bad: killed at the hard deadline (a hang), or ``Traceback`` on stdout or stderr;
2. a driver's own verdict, when the case checks results itself (restarts, tables, reports);
3. for refusals: bad on exit 0 (accepted), exit 1 (a failed claim for a fault) or any exit not in
   the case's codes; weak when stderr's last line does not name the argument / file, is not one
   ``sharpgen ...`` line (a continued or missing message), a ``*.tmp`` or a new file is left in
   a folder the command was refused for, or it ran past the stated deadline; otherwise good.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases as C  # noqa: E402  (the case list beside this file)

CLASSES = ("good", "weak", "bad")


def tree(root: Path) -> set[str]:
    """Every path (files and folders) below ``root``, relative to it."""
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def last_line(text: str) -> str:
    """The last non-empty line of ``text``."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def _in(path: str, folders: tuple[str, ...]) -> bool:
    """Whether ``path`` is one of ``folders`` or lies below one."""
    return any(path == g or path.startswith(g.rstrip("/") + "/") for g in folders)


def refusal_weaknesses(out: C.Outcome, case: C.Case, new: set[str]) -> list[str]:
    """What keeps a correct refusal from being good: the message, leftovers, time."""
    weak = []
    line = last_line(out.stderr)
    if not line:
        weak.append("no message on stderr")
    elif not line.startswith("sharpgen"):
        weak.append(f"message not one 'sharpgen ...' line (last line: {line[:80]!r})")
    if case.names and not any(n.lower() in line.lower() for n in case.names):
        weak.append(f"last line names none of {list(case.names)}")
    tmp = sorted(p for p in new if p.endswith(".tmp") or ".tmp" in Path(p).name)
    if tmp:
        weak.append(f"temp files left: {tmp[:3]}")
    written = sorted(p for p in new if _in(p, case.guard) and p not in tmp)
    if written:
        weak.append(f"new files in a refused folder: {written[:3]}")
    if out.seconds > case.deadline:
        weak.append(f"took {out.seconds:.1f} s > stated {case.deadline:g} s")
    return weak


def classify(out: C.Outcome, case: C.Case, new: set[str]) -> tuple[str, str]:
    """The class and reason of one outcome (rules in the module docstring)."""
    if out.timed_out:
        return "bad", f"hang: killed at the {case.hard:g} s deadline"
    if "Traceback" in out.stdout or "Traceback" in out.stderr:
        return "bad", "traceback"
    if out.verdict is not None:
        return out.verdict
    if out.rc == 0:
        return ("good", "exit 0: a valid value, accepted") if 0 in case.codes else (
            "bad", "exit 0: accepted where it should refuse")
    if out.rc == 1:
        return "bad", "exit 1 (a failed claim) for bad input or a fault"
    if out.rc not in case.codes:
        return "bad", f"exit {out.rc}, expected {list(case.codes)}"
    weak = refusal_weaknesses(out, case, new)
    return ("weak", "; ".join(weak)) if weak else ("good", f"exit {out.rc}, one-line message")


def run_case(case: C.Case, work: Path) -> dict:
    """Prepare, run and classify one case in its fresh folder ``work``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if case.setup is not None:
        case.setup(work)
    before = tree(work)
    argv = [a.replace("{w}", str(work)) for a in case.argv]
    try:
        out = case.driver(case, work) if case.driver is not None else C.run_cmd(argv, work, case.hard)
    except Exception as err:  # the harness's own failure must not pass for the product's
        out = C.verdict(C.Outcome(None, command=" ".join(argv)), "bad", f"harness error: {type(err).__name__}: {err}")
    cls, reason = classify(out, case, tree(work) - before)
    return {"name": case.name, "kind": case.kind, "command": out.command or " ".join(argv), "exit_code": out.rc,
            "seconds": round(out.seconds, 2), "class": cls, "reason": reason,
            "last_stderr_line": last_line(out.stderr)[:300]}


def machine() -> dict:
    """The machine and the code the harness ran against."""
    repo = Path(__file__).resolve().parents[2]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                           capture_output=True, text=True).stdout.strip()
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "git_commit": commit, "working_tree_modified": bool(dirty),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def totals(results: list[dict]) -> dict[str, dict[str, int]]:
    """tried / good / weak / bad per kind and overall."""
    out: dict[str, dict[str, int]] = {}
    for row in results:
        for key in (row["kind"], "all"):
            t = out.setdefault(key, {"tried": 0, "good": 0, "weak": 0, "bad": 0})
            t["tried"] += 1
            t[row["class"]] += 1
    return out


def markdown(results: list[dict], info: dict, wall: float) -> str:
    """results.md: the machine, the totals table, then every weak and bad case."""
    tot = totals(results)
    lines = ["# Red-team results", "",
             f"Machine: {info['platform']}, {info['cpu_count']} CPUs, Python {info['python']}; "
             f"commit {info['git_commit']}{' (working tree modified)' if info['working_tree_modified'] else ''}; "
             f"{info['date']}; {wall:.0f} s wall.", "",
             "| kind | tried | good | weak | bad |", "|---|---:|---:|---:|---:|"]
    for kind in [k for k in (*C.KINDS, "all") if k in tot]:
        t = tot[kind]
        lines.append(f"| {kind} | {t['tried']} | {t['good']} | {t['weak']} | {t['bad']} |")
    for cls in ("bad", "weak"):
        rows = [r for r in results if r["class"] == cls]
        lines += ["", f"## {cls} ({len(rows)})", "", "| case | kind | exit | s | reason |", "|---|---|---:|---:|---|"]
        lines += [f"| {r['name']} | {r['kind']} | {r['exit_code']} | {r['seconds']} | "
                  f"{r['reason'].replace('|', '/')[:300]} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the cases, write OUT/results.json and OUT/results.md; exit 0 (the totals are the result)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=C.KINDS, help="run only the cases of this kind")
    parser.add_argument("--out", default="docs/redteam", help="folder of results.json and results.md")
    parser.add_argument("--work", default="/tmp/redteam-work", help="scratch folder of the cases (wiped)")
    parser.add_argument("--name", help="run only cases whose name contains this text")
    args = parser.parse_args(argv)
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    C.ROOT["shared"] = work / "shared"
    selected = [c for c in C.all_cases() if (args.only is None or c.kind == args.only)
                and (args.name is None or args.name in c.name)]
    started, results = time.monotonic(), []
    for i, case in enumerate(selected, 1):
        row = run_case(case, work / "cases" / case.name)
        results.append(row)
        print(f"[{i}/{len(selected)}] {row['class']:4} {case.name} ({row['seconds']} s): {row['reason'][:120]}",
              file=sys.stderr, flush=True)
    wall = time.monotonic() - started
    info = machine()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"machine": info, "wall_s": round(wall, 1),
                                                  "totals": totals(results), "cases": results}, indent=2) + "\n")
    (out / "results.md").write_text(markdown(results, info, wall))
    print(json.dumps(totals(results)["all"] if results else {}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
