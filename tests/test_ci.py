"""CI runs the README's two commands verbatim on a fresh venv (``.ci/run``, stage 1), before
installing any optional extra: these tests keep the two files saying the same thing."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The lines of the README's first code block that installs sharpgen (``pip install -e``)."""
    text = (ROOT / "README.md").read_text()
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        lines = [ln for ln in block.splitlines() if ln.startswith("pip install -e")]
        if lines:
            return lines
    raise AssertionError("README.md has no ```bash block with `pip install -e ...`")


def test_the_readme_shows_the_two_commands():
    assert readme_commands() == ["pip install -e . && sharpgen verify", "pip install -e '.[test]' && pytest"]


def test_ci_runs_them_verbatim_before_any_extra():
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    at = [script.index(cmd) for cmd in readme_commands()]
    extras = min(i for i, ln in enumerate(script) if "triton" in ln and ln.startswith("pip install"))
    torch_pin = script.index("pip install -q torch==2.13.0")
    assert torch_pin < at[0] < at[1] < extras
    assert not [ln for ln in script[torch_pin + 1:at[0]] if ln.startswith("pip ")]
