"""verify.search.certify and verify.search.store: the independent re-check of a found net, its folder on
disk, and `sharpgen plot --kind neurons` on that folder."""
import json

import pytest
import sympy as sp
import torch

from sharpgen.numerics.nets.data import cube, xor_labels
from sharpgen.numerics.search import FEASIBLE, Problem, Schedule, flattest
from sharpgen.theory.sharpness import trace_hessian as exact_trace
from sharpgen.verify.cli import main
from sharpgen.verify.search import certify as certify_module
from sharpgen.verify.search import store
from sharpgen.verify.search.certify import AGREE, certify


@pytest.fixture(scope="module")
def found():
    X = cube(3)[:5]
    problem = Problem("bias", X, xor_labels(X), width=6)
    return flattest(problem, starts=3, seed=1, schedule=Schedule(iterations=40))


def test_a_found_net_is_certified_by_autograd_and_exact_sympy(found):
    cert = certify(found.problem, found.best_theta)
    assert cert.ok and cert.numeric.method == "autograd"
    assert abs(cert.search_trace - found.best_trace) <= 1e-12 * found.best_trace
    for part in (cert.numeric, cert.exact):
        assert part.ok and part.rel_diff <= AGREE and part.residual <= FEASIBLE
    # the exact string is the rational the float came from
    assert abs(float(sp.Rational(cert.exact.trace_exact)) - cert.search_trace) <= 1e-8 * cert.search_trace
    assert json.loads(json.dumps(cert.to_dict()))["ok"] is True


def test_off_interpolation_the_residual_fails_but_the_traces_still_agree(found):
    theta = found.best_theta.clone()
    theta[-1] += 0.1  # moves f off the labels; every trace then has F1's residual term
    cert = certify(found.problem, theta)
    assert not cert.ok and not cert.numeric.ok and cert.numeric.residual > FEASIBLE
    assert cert.numeric.rel_diff <= AGREE and cert.exact.rel_diff <= AGREE


def test_sim_ln_is_certified_exactly():
    X = cube(3)[:4]
    problem = Problem("sim_ln", X, xor_labels(X), width=4, eps=0.1)
    res = flattest(problem, starts=2, schedule=Schedule(iterations=20))
    cert = certify(problem, res.best_theta)
    assert cert.exact.method.startswith("sympy") and cert.exact.rel_diff <= AGREE and cert.ok


def test_a_large_net_skips_the_exact_part_and_says_why(found, monkeypatch):
    monkeypatch.setattr(certify_module, "EXACT_MAX_PARAMS", found.problem.size - 1)
    cert = certify(found.problem, found.best_theta)
    assert cert.exact.method == "skipped" and str(found.problem.size) in cert.exact.note
    assert cert.exact.ok is None and cert.ok


def test_a_theta_of_the_wrong_shape_is_refused(found):
    with pytest.raises(ValueError, match=rf"theta: expected shape \({found.problem.size},\)"):
        certify(found.problem, torch.zeros(3))


def saved(found, tmp_path):
    cert = certify(found.problem, found.best_theta)
    return store.save(tmp_path / "net", found, kind="flattest", theory_min=8.0, certificate=cert,
                      command_line="sharpgen search ...", extra={"seed": 1}), cert


def test_a_saved_net_round_trips_into_theory_and_numerics(found, tmp_path):
    folder, cert = saved(found, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["net.json", "report.json", "report.md"]
    arch, hyper, X, Y, params = store.load(folder)
    assert arch == "bias" and hyper["depth"] == 2 and torch.equal(X, found.problem.X)
    flat = found.problem.unflatten(found.best_theta)
    assert all(torch.equal(params[k], flat[k]) for k in ("W1", "b1", "W2"))  # the floats themselves, bitwise
    net = store.net_of(arch, hyper, X, params)
    with torch.no_grad():  # two evaluation orders (module against batched search form): rounding only
        torch.testing.assert_close(net(X), found.problem.outputs(found.best_theta[None])[0], rtol=0, atol=1e-12)
    rational = lambda rows: [[sp.Rational(v) for v in row] for row in rows]
    exact = exact_trace(arch, store.theory_params(params), rational(X.tolist()), rational([Y.tolist()])[0])
    assert str(exact) == cert.exact.trace_exact  # the same binary rationals as the certificate's
    report = store.load_report(folder)
    assert report["trace"] == found.best_trace and report["certificate"]["ok"] and report["seed"] == 1
    assert "certificate: ok" in (folder / "report.md").read_text()


def test_a_damaged_net_json_is_named(found, tmp_path):
    folder, _ = saved(found, tmp_path)
    (folder / "net.json").write_text('{"format": "sharpgen-search-net/1", "arch": "bias"}')
    with pytest.raises(ValueError, match="net.json is not a saved search net .missing hyper"):
        store.load(folder)
    (folder / "net.json").write_text("{not json")
    with pytest.raises(ValueError, match="net.json is not a saved search net .unreadable"):
        store.load(folder)


def test_plot_neurons_draws_a_saved_search_folder(found, tmp_path, capsys):
    folder, _ = saved(found, tmp_path)
    assert main(["plot", str(folder), "--kind", "neurons", "--out", str(tmp_path / "fig")]) == 0
    png = tmp_path / "fig.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert main(["plot", str(folder), "--kind", "curves", "--out", str(tmp_path / "c")]) == 2
