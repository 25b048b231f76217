"""Shared look of every sharpgen figure: colours, sizes, labels, caption line, PNG + PDF output.

One home for the choices the figures share, so 1-SAM and its baseline carry the
same colours everywhere (Okabe-Ito palette, readable in greyscale and by
colour-blind readers) and every figure is legible at a paper's column width
(3.4 in, 7 pt text).

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas, never through
pyplot: no display is needed and no global figure state is touched.

>>> from sharpgen.numerics.runs.config import TrainConfig, parse_phases
>>> cfg = TrainConfig(arch="bias", phases=parse_phases("0.01,0.05,1,0,2e5; 0.01,0.1,1,0,4e5"))
>>> role(cfg), setting_label(cfg)
('sam', '1-SAM · bias · lr 0.01 · ρ 0.05→0.1')
>>> setting_label(TrainConfig(arch="nobias", optimizer="sgd", phases=parse_phases("0.01,0,100,0.05,1e5")))
'GD + wd 0.05 · nobias · lr 0.01'
>>> colour("sam", 0) == SAM_COLOURS[0], colour("baseline", 5) == BASELINE_COLOURS[5 % len(BASELINE_COLOURS)]
(True, True)
"""
from __future__ import annotations

import contextlib
import io
import textwrap
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sharpgen.numerics.runs.atomic import atomic_write_bytes

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
FULL_WIDTH = 7.0    # inches: the whole text width
DPI = 200
FORMATS = ("png", "pdf")

# Okabe-Ito: 1-SAM in warm colours, baselines in cool ones, theory in black.
SAM_COLOURS = ("#D55E00", "#E69F00", "#CC79A7", "#882255")
BASELINE_COLOURS = ("#0072B2", "#56B4E9", "#009E73", "#332288")
THEORY_COLOUR = "#000000"
MEMORIZING_COLOUR = "#CC79A7"
GENERALIZING_COLOUR = "#009E73"
ZERO_REGION_COLOUR = "#BBBBBB"
LABEL_COLOURS = {1: "#117733", -1: "#AA4499"}  # label / output-weight sign, Figure 3
BAND_ALPHA = 0.25

THEORY_STYLE = dict(linestyle="--", linewidth=0.9)       # theory minimum of Tr ∇²L
INTERPOLATION_STYLE = dict(linestyle=":", linewidth=1.0)  # interpolation part (trace_gn)
PHASE_STYLE = dict(color="#777777", linestyle=(0, (1, 2)), linewidth=0.7)

RC = {
    "font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6, "ytick.labelsize": 6,
    "legend.fontsize": 6, "lines.linewidth": 1.1, "axes.linewidth": 0.6, "xtick.major.width": 0.6,
    "ytick.major.width": 0.6, "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
    "savefig.dpi": DPI, "hatch.linewidth": 0.4, "pdf.fonttype": 42, "mathtext.fontset": "dejavusans",
}

TRACE_LABEL = r"$\mathrm{Tr}\,\nabla^2 L$"
TRACE_RATIO_LABEL = TRACE_LABEL + " / theory min"  # an axis of Tr ∇²L divided by the theory minimum


@contextlib.contextmanager
def context():
    """The shared rc settings, for building one figure (text sizes are fixed at creation)."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free figure with an Agg canvas (headless)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def role(config) -> str:
    """'sam' when some phase perturbs (optimizer sam with ρ > 0), else 'baseline' (docs/paper.md §6)."""
    return "sam" if config.optimizer == "sam" and any(ph.rho > 0 for ph in config.phases) else "baseline"


def colour(kind: str, index: int = 0) -> str:
    """The colour of the ``index``-th setting of role ``kind`` ('sam' or 'baseline') in a figure."""
    if kind not in ("sam", "baseline"):
        raise ValueError(f"kind: expected 'sam' or 'baseline', got {kind!r}")
    palette = SAM_COLOURS if kind == "sam" else BASELINE_COLOURS
    return palette[index % len(palette)]


def _num(v) -> str:
    return f"{v:g}"


def _sequence(values) -> str:
    """Phase values in order, consecutive repeats merged: 0.05, 0.05, 0.1 -> '0.05→0.1'."""
    out = []
    for v in values:
        if not out or out[-1] != v:
            out.append(v)
    return "→".join(_num(v) for v in out)


def optimizer_label(config) -> str:
    """1-SAM / SAM (batch b) / GD / SGD (batch b) / label-noise SGD, plus '+ wd λ' when a phase decays."""
    if config.optimizer == "label_noise_sgd":
        name = "label-noise SGD"
    elif role(config) == "sam":
        batches = sorted({ph.batch for ph in config.phases if ph.rho > 0})
        name = "1-SAM" if batches == [1] else f"SAM (batch {'/'.join(map(str, batches))})"
    else:
        batches = sorted({ph.batch for ph in config.phases})
        name = "GD" if batches == [config.n] else f"SGD (batch {'/'.join(map(str, batches))})"
    decays = [ph.weight_decay for ph in config.phases if ph.weight_decay > 0]
    return name + (f" + wd {_sequence(decays)}" if decays else "")


def network_label(config) -> str:
    """Architecture (docs/paper.md §2) with what differs from the default: activation, depth, loss, data."""
    parts = [config.arch]
    if config.activation != "relu":
        parts.append(config.activation)
    if config.depth != 2:
        parts.append(f"depth {config.depth}")
    if config.project_radius is not None:
        parts.append(f"‖[W1|b1]‖={_num(config.project_radius)}")
    if config.loss != "mse":
        parts.append(f"{config.loss} p={_num(config.p)}")
    if config.data != "xor":
        parts.append(f"{config.data} data")
    return " ".join(parts)


def setting_label(config) -> str:
    """A legend entry naming the setting: optimizer, architecture, learning rate(s) and ρ."""
    label = f"{optimizer_label(config)} · {network_label(config)} · lr {_sequence(ph.lr for ph in config.phases)}"
    if role(config) == "sam":
        label += f" · ρ {_sequence(ph.rho for ph in config.phases)}"
    return label


def seeds_text(seeds) -> str:
    """'seed 3' or 'seeds 0, 1, 2'."""
    seeds = sorted(set(seeds))
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


SIZE_FIELDS = ("d", "n", "n_test", "width")


def varying_sizes(configs) -> list[str]:
    """The size fields that differ between ``configs``: the caption leaves them out, so each legend
    entry names them (``size_text``)."""
    configs = list(configs)
    return [name for name in SIZE_FIELDS if len({getattr(c, name) for c in configs}) > 1]


def size_text(config, names) -> str:
    """' · n=200' for the fields ``names`` of ``config`` (empty for none)."""
    return "".join(f" · {name}={getattr(config, name)}" for name in names)


def config_caption(configs, seeds, *, spread: bool = True) -> str:
    """Caption line: the fields every config shares (size, data, loss, dtype), epochs, seeds and what the band is."""
    configs = list(configs)
    first = configs[0]
    shared = lambda name: all(getattr(c, name) == getattr(first, name) for c in configs)
    varying = varying_sizes(configs)
    parts = [f"{name}={getattr(first, name)}" for name in SIZE_FIELDS if name not in varying]
    if shared("data"):
        parts.append(f"{first.data} data")
    if shared("loss") and shared("p"):
        parts.append("MSE loss" if first.loss == "mse" else f"{first.loss} loss (label smoothing p={first.p:g})")
    if shared("dtype"):
        parts.append(first.dtype)
    epochs = sorted({c.total_epochs for c in configs})
    parts.append("epochs " + "/".join(f"{e:g}" for e in epochs))
    text = ", ".join(parts) + "; " + seeds_text(seeds)
    if spread and len(set(seeds)) > 1:
        text += " (line: mean over seeds, band: min–max)"
    return text


def add_caption(fig: Figure, text: str, *, width_chars: int | None = None) -> None:
    """A small caption under the axes, wrapped to the figure width."""
    chars = width_chars or int(fig.get_figwidth() * 24)
    fig.text(0.01, 0.0, "\n".join(textwrap.wrap(text, chars)), ha="left", va="top", fontsize=5.5,
             color="#333333", gid="caption")


def save(fig: Figure, stem, formats=FORMATS) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf (each atomically; the caption kept inside the image)."""
    stem = Path(stem)
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        metadata = {"CreationDate": None} if fmt == "pdf" else None
        fig.savefig(buf, format=fmt, dpi=DPI, bbox_inches="tight", pad_inches=0.04, metadata=metadata)
        path = stem.with_name(f"{stem.name}.{fmt}")
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    return paths
