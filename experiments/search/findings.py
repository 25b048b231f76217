"""The numbers of docs/search.md ("What it found"), regenerated: `python experiments/search/findings.py`.

Writes docs/search/findings.md and findings.json. Every training set here is one the search was not
developed on (seeds >= 11). Each case: flattest (and the adversary where named) with 8 starts and the
default Schedule; every reported net certified by verify.search.certify (float64 autograd Hessian,
exact sympy where small)."""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import torch

from sharpgen.numerics.nets.data import condition1_dataset, cube, xor_dataset, xor_labels
from sharpgen.numerics.search import Problem, adversary, flattest, targets
from sharpgen.theory.dead_directions import dead_direction
from sharpgen.verify.search.certify import certify
from sharpgen.verify.search.run import SearchSpec, theory_minimum

OUT = Path(__file__).resolve().parents[2] / "docs" / "search"
STARTS = 8


def minimum(arch, data, width, **hyper):
    return theory_minimum(SearchSpec(arch, width, data.X, data.Y, **hyper)).value


def cube_error(problem, theta):
    X = cube(problem.X.shape[1])
    out = problem.outputs(theta[None], X)[0]
    y = xor_labels(X)
    return float((y * out <= 0).double().mean()), float((y * out < 0).double().mean())


def minima_rows():
    rows = []
    cases = [("nobias", 3, 5, s, {}) for s in (11, 12, 13, 14)] + [("nobias", 4, 6, s, {}) for s in (11, 12, 13, 14)]
    cases += [("bias", 4, 6, 11, {}), ("bias", 3, 5, 11, {"depth": 3}), ("sim_ln", 4, 6, 11, {"eps": 1e-3}),
              ("bias", 4, 6, 11, {"loss": "logistic", "p": 0.2})]
    for arch, d, n, seed, hyper in cases:
        data = xor_dataset(d, n, seed=seed)
        prob = Problem(arch, data.X, data.Y, width=8, **hyper)
        t = time.perf_counter()
        res = flattest(prob, starts=STARTS, seed=seed)
        best = minimum(arch, data, 8, **hyper)
        cert = certify(prob, res.best_theta)
        rows.append({"arch": arch, "hyper": hyper, "d": d, "n": n, "seed": seed, "minimum": best,
                     "found": res.best_trace, "ratio": res.best_trace / best, "spread": res.spread(),
                     "certified": cert.ok, "seconds": time.perf_counter() - t})
        print(rows[-1], flush=True)
    data = condition1_dataset(4, tails=[(1, -1), (-1, 1), (1, 1)])
    prob = Problem("sim_bn", data.X, data.Y, width=6)
    res = flattest(prob, starts=STARTS, seed=11)
    rows.append({"arch": "sim_bn", "hyper": {}, "d": 4, "n": data.n, "seed": 11, "minimum": 8.0,
                 "found": res.best_trace, "ratio": res.best_trace / 8, "spread": res.spread(),
                 "certified": certify(prob, res.best_theta).ok, "seconds": None})
    return rows


def nobias_sample_size():
    rows = []
    X = cube(4)
    for n in (4, 6, 8, 10, 12, 14):
        for seed in (11, 12):
            data = xor_dataset(4, n, seed=seed)
            dead = dead_direction([[int(v) for v in r] for r in data.X.tolist()])
            prob = Problem("nobias", data.X, data.Y, width=8)
            bound = 8 * 1.01
            err = adversary(prob, targets.population_error(X, xor_labels(X)), bound, starts=STARTS, seed=seed)
            path = adversary(prob, targets.path_norm(), bound, starts=STARTS, seed=seed)
            rows.append({"d": 4, "n": n, "seed": seed, "dead_direction": dead,
                         "worst_error": None if err.best is None else float(err.values[err.best]),
                         "worst_path_norm": None if path.best is None else float(path.values[path.best]),
                         "certified": None if err.best is None else certify(prob, err.best_theta).ok})
            print(rows[-1], flush=True)
    return rows


def memorizing_bias():
    data = xor_dataset(5, 8, seed=31)
    prob = Problem("bias", data.X, data.Y, width=10)
    best = minimum("bias", data, 10)
    X = cube(5)
    res = adversary(prob, targets.population_error(X, xor_labels(X)), best * 1.01, starts=STARTS, seed=31)
    err, strict = cube_error(prob, res.best_theta)
    return {"d": 5, "n": 8, "width": 10, "minimum": best, "trace": res.best_trace, "error": err,
            "strict_error": strict, "c1_error": 1 - 8 / 32, "certified": certify(prob, res.best_theta).ok}


def beyond_the_paper():
    rows = []
    for arch, hyper, d, n in [("bias", {"activation": "softplus"}, 3, 5), ("bias", {"activation": "softplus"}, 4, 6),
                              ("sim_bn", {"loss": "logistic", "p": 0.2}, 4, 6)]:
        data = xor_dataset(d, n, seed=11)
        prob = Problem(arch, data.X, data.Y, width=8, **hyper)
        res = flattest(prob, starts=STARTS, seed=11)
        err, strict = cube_error(prob, res.best_theta)
        rows.append({"arch": arch, "hyper": hyper, "d": d, "n": n, "found": res.best_trace, "spread": res.spread(),
                     "population_error": err, "strict_error": strict,
                     "certified": certify(prob, res.best_theta).ok})
        print(rows[-1], flush=True)
    return rows


def markdown(result) -> str:
    lines = ["# Search findings (generated by `python experiments/search/findings.py`)", "",
             f"Machine: {result['machine']}; {result['date']}; {result['seconds']:.0f} s in all.", "",
             "## Exact minima met from above (flattest, 8 starts, width 8)", "",
             "| arch | hyper | d | n | seed | minimum | found | found / minimum | starts feasible | certified |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["minima"]:
        lines.append(f"| {r['arch']} | {r['hyper'] or ''} | {r['d']} | {r['n']} | {r['seed']} | {r['minimum']:.10g} | "
                     f"{r['found']:.10g} | {r['ratio']:.9f} | {r['spread']['count']} | {r['certified']} |")
    lines += ["", "## nobias, d = 4: the near-flattest set (Tr <= 1.01 x 4 sqrt(d)) against n", "",
              "| n | seed | dead direction (exact LP) | largest population error | largest path norm (C3: 2.828) | certified |",
              "|---|---|---|---|---|---|"]
    for r in result["nobias"]:
        lines.append(f"| {r['n']} | {r['seed']} | {r['dead_direction']} | {r['worst_error']} | "
                     f"{None if r['worst_path_norm'] is None else round(r['worst_path_norm'], 4)} | {r['certified']} |")
    m = result["memorizing_bias"]
    lines += ["", "## A flattest memorizing bias net, found without C1", "",
              f"d = {m['d']}, n = {m['n']}, width {m['width']}: Tr = {m['trace']:.10g} (F3 = {m['minimum']:.10g}, "
              f"ratio {m['trace'] / m['minimum']:.6f}), population error {m['error']:.4f} (strictly wrong "
              f"{m['strict_error']:.4f}; C1: {m['c1_error']:.4f}); certified: {m['certified']}", "",
              "## Beyond the paper: no theory minimum", "",
              "| arch | hyper | d | n | least Tr found | spread (min / median / max) | population error | certified |",
              "|---|---|---|---|---|---|---|---|"]
    for r in result["beyond"]:
        sp = r["spread"]
        lines.append(f"| {r['arch']} | {r['hyper']} | {r['d']} | {r['n']} | {r['found']:.6g} | "
                     f"{sp['min']:.6g} / {sp['median']:.6g} / {sp['max']:.6g} | {r['population_error']:.4f} | {r['certified']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    start = time.perf_counter()
    result = {"machine": f"{platform.machine()} {platform.processor() or ''}, {torch.get_num_threads()} threads, "
                         f"torch {torch.__version__}, Python {sys.version.split()[0]}",
              "date": time.strftime("%Y-%m-%d"), "minima": minima_rows(), "nobias": nobias_sample_size(),
              "memorizing_bias": memorizing_bias(), "beyond": beyond_the_paper()}
    result["seconds"] = time.perf_counter() - start
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "findings.json").write_text(json.dumps(result, indent=1, default=str))
    (OUT / "findings.md").write_text(markdown(result))
    print(f"wrote {OUT / 'findings.md'} in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
