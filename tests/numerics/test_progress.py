"""Progress on stderr (numerics.progress): a tqdm bar within the terminal width, or one line per evaluation."""
import io

import pytest

from sharpgen.numerics.runs.progress import Progress

ROW = {"epoch": 400, "train_loss": 0.012345678, "test_error": 0.283, "trace": 22.7211}


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _drive(progress):
    progress.phase(1, 2, "c")
    for epoch in range(100, 1001, 100):
        progress.update(epoch)
        progress.evaluation(dict(ROW, epoch=epoch))
    progress.close()


@pytest.mark.parametrize("ncols", [60, 80, 120])
def test_bar_fits_the_terminal_width_and_shows_phase_backend_and_metrics(ncols):
    out = Terminal()
    _drive(Progress(1000, mode=None, stream=out, label="fig4b", ncols=ncols))
    frames = [f for f in out.getvalue().replace("\n", "\r").split("\r") if f.strip()]
    assert frames and all(len(f) <= ncols for f in frames), max(map(len, frames))
    last = frames[-1]
    assert "1000/1000" in last and "phase 2/2 (c)" in last
    if ncols >= 80:
        assert "loss 0.0123 err 0.283 Tr 22.7" in last


def test_lines_when_not_a_terminal_one_per_evaluation():
    out = io.StringIO()
    _drive(Progress(1000, start=0, stream=out, label="run"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in out.getvalue()
    assert lines[-1].startswith("run epoch 1000/1000 (100.0%)  phase 2/2 (c)  train_loss 0.01235  "
                                "test_error 0.283  Tr 22.72  elapsed ")
    assert "eta " in lines[0]


def test_off_is_silent_and_modes_are_checked():
    out = Terminal()
    _drive(Progress(1000, mode="off", stream=out))
    assert out.getvalue() == ""
    with pytest.raises(ValueError, match="^mode: expected one of"):
        Progress(10, mode="fancy")
