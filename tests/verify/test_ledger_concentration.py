"""verify.ledger.concentration: the Appendix A.2.1 entries pass on P_xor as judged, and their checks
can fail (a wrong printed interval, a set outside the setting)."""
import math

import sympy as sp

from sharpgen.verify.ledger import concentration as C
from sharpgen.verify.ledger.profiles import PROFILES

QUICK = PROFILES["quick"]


def test_exact_entries_pass_with_their_numbers():
    for check in C.EXACT.values():
        out = check(QUICK)
        assert out.status == "pass" and out.numbers, out.detail
    a10 = C.check_lemma_a_10(QUICK).numbers
    assert all(v < 0.25 for v in a10["d=10 n=10"]["lambda_min"])   # at n = d the lower bound fails
    assert all(v >= 0.25 for v in a10["d=10 n=231"]["lambda_min"])


def test_pointwise_check_fails_on_an_interval_the_averages_keep_leaving():
    out = C._pointwise(True, sp.Rational(1, 2))   # E = 1/2 exactly: P(leave [1/2, 3/2]) stays near 1/2
    assert not out.passed and out.numbers["k=2"]["P"][-1] > 0.3


def test_lemma_31_constant_is_infinite_where_a_direction_misses_every_point():
    out = C.lemma31_constant(QUICK)
    for d in C.DIMS:
        row = out.numbers[f"d={d}"]
        assert row[d] == math.inf and row[C.sizes(d)[-1]] < C.G_FACTOR * C.SQRT8
    assert out.passed


def test_search_entries_pass_and_report_the_setting_not_met_at_n_equal_d():
    for check in C.SEARCH.values():
        assert check(QUICK).passed
    a5 = C.check_lemma_a_5(QUICK).numbers
    assert a5["d=20 n=20"]["origin_interior"] == [False] * 3 and a5["d=20 n=20"]["least"] == [0.0] * 3
