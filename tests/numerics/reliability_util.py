"""What the reliability tests compare between a resumed and an uninterrupted run."""
from conftest import metrics_without_wall

from sharpgen.numerics import checkpoint as ckpt


def numbers(run_dir):
    """metrics.csv without its wall-clock column, and the final parameters: what must be bitwise equal."""
    return metrics_without_wall(run_dir), {k: v.tolist() for k, v in ckpt.load_checkpoint(run_dir)["params"].items()}
