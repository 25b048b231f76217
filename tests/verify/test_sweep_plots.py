"""Figures and tables of the sweep studies (verify.plots.sweep), read back from the drawn data."""
import math

import numpy as np
import pandas as pd

from sharpgen.verify.plots.sweep import (approached, markdown, minimizers_figure, minimizers_summary,
                                         sample_complexity_figure, series, thresholds)


def _study1():
    rows = []
    for d in (10, 20):
        for r, errs in zip((1, 2, 3), ([0.5, 0.3], [0.2, 0.0], [0.0, 0.02])):
            for seed, e in enumerate(errs):
                rows.append({"status": "done", "arch": "bias", "method": "sam1", "d": d, "n_per_d": r, "seed": seed,
                             "test_error": e + (0.05 if d == 20 else 0.0)})
    rows.append({"status": "diverged", "arch": "bias", "method": "sam1", "d": 10, "n_per_d": 3, "seed": 9,
                 "test_error": math.nan})
    return pd.DataFrame(rows)


def test_sample_complexity_lines_are_seed_means_with_min_max_bands():
    fig = sample_complexity_figure(_study1())
    lines = series(fig)
    assert sorted(lines) == ["error:bias:sam1:10", "error:bias:sam1:20"]
    assert np.allclose(lines["error:bias:sam1:10"].get_xdata(), [1, 2, 3])
    assert np.allclose(lines["error:bias:sam1:10"].get_ydata(), [0.4, 0.1, 0.01])  # the diverged run is left out
    band = fig.axes[0].collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].max(), 0.5) and np.isclose(band[:, 1].min(), 0.0)


def test_threshold_is_where_the_mean_error_stays_low():
    t = thresholds(_study1()).set_index("d")
    assert t["threshold_n_per_d"][10] == 2.0 and t["threshold_n_per_d"][20] == 3.0  # d = 20: 0.15 at n/d = 2
    # d = 10: mean 0.4 at n/d = 1, 0.1 at 2 -> crossing at 2; d = 20: 0.15 at 2, 0.06 at 3 -> 2 + 0.05/0.09
    assert np.isclose(t["crossing_n_per_d"][10], 2.0) and np.isclose(t["crossing_n_per_d"][20], 2 + 0.05 / 0.09)
    wobbly = pd.DataFrame({"status": "done", "arch": "a", "method": "m", "d": 5, "n_per_d": [1, 2, 3, 4],
                           "test_error": [0.05, 0.3, 0.0, 0.0]})
    assert thresholds(wobbly)["threshold_n_per_d"].tolist() == [3.0]  # a dip before the end does not count
    assert np.isclose(thresholds(wobbly)["crossing_n_per_d"].iloc[0], 2 + 0.2 / 0.3)
    never = wobbly.assign(test_error=[0.5, 0.4, 0.3, 0.2])
    assert math.isnan(thresholds(never)["threshold_n_per_d"].iloc[0])


def test_approached_reads_the_diagnostics():
    base = {"theory_min": 20.0, "trace_gn": 21.0, "diag_zero_fraction": 0.0, "diag_col_norm_1": 2.0,
            "diag_col_norm_2": 3.0, "diag_col_norm_rest_max": 0.5}
    assert approached(base) == "x1·x2 features (C2/C3/C5/C6)"
    assert approached(dict(base, diag_col_norm_rest_max=1.5)) == "flattest, dense"
    assert approached(dict(base, diag_zero_fraction=0.7)) == "memorizing (C1/C4)"
    assert approached(dict(base, trace_gn=23.0)) == "not flattest"
    assert approached(dict(base, theory_min=None)) == "unknown"


def _study2():
    rows = []
    for arch, mem in (("nobias", 0.0), ("bias", 0.8)):
        for method, tr in (("sam1", 20.5), ("gd_wd", 60.0)):
            for seed in range(3):
                rows.append({"status": "done", "arch": arch, "method": method, "seed": seed,
                             "test_error": 0.1 * seed, "trace_gn": tr, "theory_min": 20.0, "train_loss": 1e-3,
                             "diag_zero_fraction": mem, "diag_col_norm_1": 1.0, "diag_col_norm_2": 1.0,
                             "diag_col_norm_rest_max": 0.1})
    rows.append(dict(rows[-1], status="diverged", seed=3, test_error=math.nan))
    return pd.DataFrame(rows)


def test_minimizers_summary_and_figure():
    summary = minimizers_summary(_study2())
    assert list(summary["arch"]) == ["nobias", "nobias", "bias", "bias"]
    row = summary[(summary["arch"] == "bias") & (summary["method"] == "gd_wd")].iloc[0]
    assert row["runs done"] == "3/4" and np.isclose(row["test error"], 0.1) and np.isclose(row["Tr_gn / min"], 3.0)
    assert row["approached"] == "not flattest"
    assert summary.iloc[2]["approached"] == "memorizing (C1/C4)" and summary.iloc[0]["approached"].startswith("x1")
    lines = series(minimizers_figure(_study2()))
    assert np.allclose(lines["test_error:bias:sam1"].get_ydata(), [0.0, 0.1, 0.2])
    assert np.allclose(lines["flatness:nobias:gd_wd"].get_ydata(), [3.0, 3.0, 3.0])


def test_markdown_table():
    text = markdown(pd.DataFrame({"arch": ["bias"], "error": [math.nan], "n": [3]}))
    assert text.splitlines() == ["| arch | error | n |", "|---|---|---|", "| bias | – | 3 |"]
