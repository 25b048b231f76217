"""Figures comparing theory and training (docs/paper.md §5, §6): one module per figure family.

- ``style``: shared colours (1-SAM vs baseline), sizes, labels, captions, saving PNG + PDF;
- ``rundata``: reading run directories written by ``sharpgen train`` (config.json,
  metrics.csv, checkpoint.pt), grouping seeds, mean and spread;
- ``curves``: training loss, test loss, test error and Tr ∇²L against epochs (Figs 1, 2a, 4-11);
- ``neurons``: the largest first-layer neurons and the column norms of W1 (Fig 2b);
- ``circle``: a memorizing network on unit-circle data, construction C1 beside a trained net (Fig 3);
- ``table1``: the paper's Table 1 regenerated from constructions and trained runs;
- ``scenarios``: the four scenarios side by side (Tr ∇²L / theory minimum against test error);
- ``ledger``: the report figures of ``sharpgen verify --out`` (trained claims, seeds overlaid);
- ``sweep``: the sweep studies (test error against n/d; other sharpness minimizers per scenario).

Every figure is a ``matplotlib.figure.Figure`` drawn without pyplot (Agg canvas, never
a display), so the library works headless and leaves global state alone.
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {"draw_curves": "curves", "load_groups": "curves", "draw_neurons": "neurons", "neuron_table": "neurons",
          "draw_circle_figure": "circle", "draw_scenarios": "scenarios", "draw_table": "table1",
          "trained_claim_figure": "ledger", "sample_complexity_figure": "sweep", "minimizers_figure": "sweep",
          "draw_runs": "runplot", "plot_runs": "runplot", "load_run": "rundata", "save": "style"}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
