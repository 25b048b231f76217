"""docs/own-code.md: every ```python block runs, in order, in one namespace (as the page says)."""
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "own-code.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    return BLOCK.findall(text)


def test_the_block_extractor_finds_blocks_and_only_python_ones():
    text = "intro\n```python\nx = 1\n```\n```sh\nls\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = x + 1\n"]


def test_every_python_block_of_own_code_runs():
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 7  # SAM loop, closure, guards, adaptive, own module, our nets, theory
    namespace = {"__name__": "own_code_docs"}
    for k, block in enumerate(blocks):
        try:
            exec(compile(block, f"{PAGE.name}[block {k}]", "exec"), namespace)
        except Exception as err:  # name the failing block, then fail
            pytest.fail(f"docs/own-code.md block {k} raised {type(err).__name__}: {err}\n{block}")


def test_a_broken_block_fails_the_check():
    namespace = {}
    with pytest.raises(NameError):
        exec(compile(python_blocks("```python\nundefined_name\n```\n")[0], "broken", "exec"), namespace)
