"""``sharpgen plot``'s library: draw any run directories made by ``sharpgen train``.

``plot_runs`` reads the runs (``rundata.load_run``), draws one figure family
(``curves``: the four panels, seeds of one setting averaged, settings overlaid;
``neurons``: Figure 2b for seeds of one setting; ``circle``: Figure 3 for one
``bias`` run on ``circle`` data) and saves it as PNG and PDF. Nothing heavy is imported at module
level, so the command line can read ``KINDS`` without loading matplotlib or torch.
"""
from __future__ import annotations

KINDS = ("curves", "neurons", "circle")


def draw_runs(run_dirs, *, kind: str = "curves", logx: bool = False, labels=None, title: str | None = None):
    """The figure of family ``kind`` for ``run_dirs``; ValueError naming the argument on bad input."""
    # deferred: matplotlib and torch load only when a figure is drawn; `sharpgen plot --help` imports KINDS
    from sharpgen.verify.plots import circle, curves, neurons
    from sharpgen.verify.plots.rundata import group_seeds, load_run

    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    if not run_dirs:
        raise ValueError("run_dirs: expected at least one run directory")
    runs = [load_run(p) for p in run_dirs]
    if kind == "curves":
        return curves.draw_curves(curves.make_groups(runs, labels), logx=logx, title=title)
    if labels:
        raise ValueError(f"labels: only the 'curves' figure has a legend to label, got kind {kind!r}")
    if kind == "neurons":
        if len(group_seeds(runs)) != 1:
            raise ValueError("run_dirs: the 'neurons' figure needs seeds of one setting (configs equal but the seed)")
        return neurons.draw_neurons(runs)
    if len(runs) != 1:
        raise ValueError(f"run_dirs: the 'circle' figure draws one run, got {len(runs)}")
    return circle.draw_circle_figure(runs[0])


def plot_runs(run_dirs, out, **options) -> list:
    """``draw_runs`` saved as ``out``.png and ``out``.pdf; returns the paths."""
    from sharpgen.verify.plots import style  # deferred: matplotlib, as in draw_runs

    return style.save(draw_runs(run_dirs, **options), out)
