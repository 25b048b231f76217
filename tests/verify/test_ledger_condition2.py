"""Thm A.1 on a Condition-2 distribution other than P_xor: the teacher fits every label, and the
adversary's worst population MSE within 1% of the least Tr found falls with n (or the check fails)."""
import torch

from sharpgen.numerics.nets.params import from_params
from sharpgen.verify.ledger import condition2 as C
from sharpgen.verify.ledger.profiles import PROFILES


def test_the_labels_are_a_width_4_teacher_of_path_norm_4():
    X, Y = C.gaussian_set(50, 0)
    e1, e2 = torch.eye(C.D, dtype=torch.float64)[:2]
    W1 = torch.stack([e1, -e1, e2, -e2])
    W2 = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    teacher = from_params("nobias", {"W1": W1, "W2": W2})
    with torch.no_grad():
        assert torch.allclose(teacher(X), Y, atol=1e-12)
    assert float((W1.norm(dim=1) * W2.abs()).sum()) == 4.0


def test_the_worst_error_falls_with_n_and_a_rising_one_fails(monkeypatch):
    out = C.check_thm_a_1(PROFILES["quick"])
    sizes = out.numbers["sizes"]
    assert out.passed and [r["n"] for r in sizes] == list(C.SIZES)
    assert sizes[-1]["worst_mse"] < sizes[0]["worst_mse"] and all(r["certificate"]["ok"] for r in sizes)
    real = C._worst_error
    monkeypatch.setattr(C, "_worst_error", lambda n, *a: {**real(n, *a), "worst_mse": float(n)})  # rises with n
    assert not C.check_thm_a_1(PROFILES["quick"]).passed
