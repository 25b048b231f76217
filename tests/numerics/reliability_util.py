"""What the reliability tests compare between a resumed and an uninterrupted run."""
from sharpgen.numerics import checkpoint as ckpt


def numbers(run_dir):
    """metrics.csv without its wall-clock column, and the final parameters: what must be bitwise equal."""
    lines = (run_dir / ckpt.METRICS).read_text().splitlines()
    at = lines[0].split(",").index("wall_s")
    text = "\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != at) for line in lines)
    return text, {k: v.tolist() for k, v in ckpt.load_checkpoint(run_dir)["params"].items()}
