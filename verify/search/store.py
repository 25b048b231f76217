"""A found net on disk: one folder with ``net.json`` (the net and its training set), ``report.json`` (what
the search found and its certificate) and ``report.md`` (the same, for a reader).

``net.json`` holds the architecture, the hyperparameters (depth, activation, eps, loss, p), the
training set X, Y and the parameters in the layout shared by ``theory.params.Params`` and
``numerics.nets.params.Params`` (W1, b1, W2, gamma, middle), all as JSON floats (``repr``: the
float64 values exactly). Every file is written atomically (``numerics.runs.atomic``), report.json
last, so a folder with a report.json is complete. ``load`` reads a folder back; ``theory_params``
and ``net_of`` turn it into an exact ``theory`` net and a float64 ``numerics`` ``Net``.
"""
from __future__ import annotations

import json
from pathlib import Path

import sympy as sp
import torch

from sharpgen.numerics.nets.models import Net
from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.runs.atomic import atomic_write_json, atomic_write_text
from sharpgen.theory.params import Params as TheoryParams

NET, REPORT, REPORT_MD = "net.json", "report.json", "report.md"
FORMAT = "sharpgen-search-net/1"
KINDS = ("flattest", "adversary")
HYPER = ("depth", "activation", "eps", "loss", "p")


def net_record(problem, theta: torch.Tensor) -> dict:
    """The ``net.json`` content of θ (P,) of a ``numerics.search.Problem``."""
    flat = problem.unflatten(torch.as_tensor(theta, dtype=torch.float64).detach())
    params = {k: v.tolist() for k, v in flat.items() if not k.startswith("middle.")}
    params["middle"] = [flat[f"middle.{k}"].tolist() for k in range(problem.depth - 2)]
    return {"format": FORMAT, "arch": problem.arch, "hyper": {k: getattr(problem, k) for k in HYPER},
            "X": problem.X.tolist(), "Y": problem.Y.tolist(), "params": params}


def report_record(result, *, kind, target, bound, theory_min, certificate, command_line, extra) -> dict:
    """The ``report.json`` content (``save``'s arguments; module docstring)."""
    best = result.best
    trace = result.best_trace
    gap = None if theory_min is None or not theory_min else (trace - theory_min) / abs(theory_min)
    value = None if best is None or result.values is None or result.values.numel() == 0 else float(result.values[best])
    return {"kind": kind, "trace": trace, "residual": None if best is None else float(result.residuals[best]),
            "spread": result.spread(), "theory_min": theory_min, "rel_gap": gap,
            "target": None if target is None else {"name": target, "value": value, "bound": bound},
            "certificate": certificate.to_dict(), "command_line": command_line, **(extra or {})}


def markdown(report: dict) -> str:
    """``report.md``: the report's few numbers as lines a reader scans.

    >>> print(markdown({"kind": "flattest", "trace": 8.0, "theory_min": 8.0, "rel_gap": 0.0,
    ...                 "spread": {"min": 8.0, "median": 8.1, "max": 9.0, "count": 4}, "target": None,
    ...                 "certificate": {"ok": True}, "residual": 1e-13}).splitlines()[2])
    - Tr ∇²L of the best net: 8 (theory minimum 8, relative gap 0)
    """
    if not isinstance(report, dict):
        raise ValueError(f"report: expected a dict, got {type(report).__name__}")
    g = lambda v: "n/a" if v is None else f"{v:.10g}"
    s = report.get("spread") or {}
    lines = [f"# sharpgen search: {report.get('kind')}", "",
             f"- Tr ∇²L of the best net: {g(report.get('trace'))} (theory minimum {g(report.get('theory_min'))}, "
             f"relative gap {g(report.get('rel_gap'))})",
             f"- residual max |f(x_i) - t_i|: {g(report.get('residual'))}",
             f"- Tr over {s.get('count')} feasible starts: min {g(s.get('min'))}, median {g(s.get('median'))}, "
             f"max {g(s.get('max'))}"]
    target = report.get("target")
    if target:
        lines.append(f"- target {target['name']}: {g(target['value'])} within Tr <= {g(target['bound'])}")
    lines.append(f"- certificate: {'ok' if (report.get('certificate') or {}).get('ok') else 'NOT ok'}")
    if report.get("command_line"):
        lines.append(f"- command: `{report['command_line']}`")
    return "\n".join(lines) + "\n"


def save(path_dir, result, *, kind, target=None, bound=None, theory_min=None, certificate, command_line="",
         extra=None) -> Path:
    """Write the folder ``path_dir`` (created if needed) for the best net of ``result`` (a
    ``numerics.search.SearchResult``); returns it.

    ``kind``: "flattest" or "adversary"; ``target``/``bound``: the adversary's target name and Tr bound;
    ``theory_min``: the exact minimum or None; ``certificate``: ``certify``'s; ``extra``: more report
    fields (timing, ...)."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    if result.best is None:
        raise ValueError("result: no feasible start to save (result.best is None)")
    folder = Path(path_dir)
    folder.mkdir(parents=True, exist_ok=True)
    report = report_record(result, kind=kind, target=target, bound=bound, theory_min=theory_min,
                           certificate=certificate, command_line=command_line, extra=extra)
    atomic_write_json(folder / NET, net_record(result.problem, result.best_theta))
    atomic_write_text(folder / REPORT_MD, markdown(report))
    atomic_write_json(folder / REPORT, report)  # last: its presence marks a complete folder
    return folder


def _damaged(file: Path, why: str) -> ValueError:
    return ValueError(f"path: {file} is not a saved search net ({why})")


def read_json(file: Path) -> dict:
    """A JSON object from ``file``; ValueError naming the file when missing or damaged."""
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _damaged(Path(file), "missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _damaged(Path(file), f"unreadable: {err}") from None
    if not isinstance(data, dict):
        raise _damaged(Path(file), "not a JSON object")
    return data


def net_file(path) -> Path:
    """``path/net.json`` for a folder, else ``path`` itself."""
    path = Path(path)
    return path / NET if path.is_dir() else path


def _floats(file: Path, name: str, value, ndim: int) -> torch.Tensor:
    try:
        t = torch.tensor(value, dtype=torch.float64)
    except (TypeError, ValueError):
        raise _damaged(file, f"{name} is not an array of numbers") from None
    if t.ndim != ndim or not bool(torch.isfinite(t).all()):
        raise _damaged(file, f"{name}: expected a finite {ndim}-d array, got shape {tuple(t.shape)}")
    return t


def load(path) -> tuple[str, dict, torch.Tensor, torch.Tensor, dict]:
    """(arch, hyper, X, Y, params) of a saved folder (or its net.json); params in the shared layout
    (tensors; ``middle`` a tuple; absent fields None). ValueError naming the file on damage."""
    file = net_file(path)
    data = read_json(file)
    if data.get("format") != FORMAT:
        raise _damaged(file, f"format {data.get('format')!r}, expected {FORMAT!r}")
    missing = [k for k in ("arch", "hyper", "X", "Y", "params") if k not in data]
    if missing:
        raise _damaged(file, f"missing {', '.join(missing)}")
    arch, hyper, raw = data["arch"], data["hyper"], data["params"]
    if not (isinstance(hyper, dict) and isinstance(raw, dict)):
        raise _damaged(file, "hyper and params must be JSON objects")
    X, Y = _floats(file, "X", data["X"], 2), _floats(file, "Y", data["Y"], 1)
    if set(hyper) != set(HYPER) or not isinstance(arch, str) or "W1" not in raw or "W2" not in raw:
        raise _damaged(file, f"expected arch, hyper {HYPER} and params W1, W2")
    params = {k: None if raw.get(k) is None else _floats(file, k, raw[k], 2 if k == "W1" else 1)
              for k in ("W1", "b1", "W2", "gamma")}
    params["middle"] = tuple(_floats(file, f"middle[{k}]", w, 2) for k, w in enumerate(raw.get("middle") or ()))
    if X.shape[0] != Y.shape[0] or X.shape[1] != params["W1"].shape[1]:
        raise _damaged(file, f"X {tuple(X.shape)}, Y {tuple(Y.shape)} and W1 {tuple(params['W1'].shape)} disagree")
    return arch, hyper, X, Y, params


def load_report(path) -> dict:
    """The ``report.json`` of a saved folder; ValueError naming the file when missing or damaged."""
    return read_json(Path(path) / REPORT)


def theory_params(params: dict) -> TheoryParams:
    """The saved params as a ``theory.params.Params`` of exact rationals (each float's binary value).

    >>> f64 = lambda v: torch.tensor(v, dtype=torch.float64)
    >>> theory_params({"W1": f64([[0.5, 0.1]]), "W2": f64([2.0])}).W1[1]
    3602879701896397/36028797018963968
    """
    if not isinstance(params, dict) or params.get("W1") is None or params.get("W2") is None:
        raise ValueError("params: expected a dict with at least W1 and W2 (load's last item)")
    exact = lambda t: sp.Matrix([[sp.Rational(float(v)) for v in row] for row in torch.atleast_2d(t).tolist()])
    col = lambda k: None if params.get(k) is None else exact(params[k]).T
    return TheoryParams(W1=exact(params["W1"]), W2=col("W2"), b1=col("b1"), gamma=col("gamma"),
                        middle=tuple(exact(w) for w in params.get("middle") or ()))


def net_of(arch: str, hyper: dict, X: torch.Tensor, params: dict) -> Net:
    """The saved net as a float64 ``numerics`` ``Net`` (training inputs X registered, for sim_bn)."""
    if not isinstance(hyper, dict) or not set(HYPER) <= set(hyper):
        raise ValueError(f"hyper: expected a dict with {HYPER}, got {hyper!r}")
    return from_params(arch, params, activation=hyper["activation"], eps=hyper["eps"], depth=hyper["depth"],
                       X_train=X)


def is_saved(path) -> bool:
    """Whether ``path`` is a folder holding a saved search net (a ``net.json``)."""
    return Path(path).is_dir() and (Path(path) / NET).is_file()

