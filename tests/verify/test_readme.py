"""README.md is a front page that fits on one screen-full of scrolling, and the pages it points to
hold up: their REPL examples run, their links and the paths and modules they name exist, and the
verdict table names every ledger entry."""
import doctest
import importlib
import re
from pathlib import Path

import pytest

from sharpgen.verify.ledger.entries import ENTRIES

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
MAX_README_BYTES = 15360
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
# docs/verify-report/ is written by `sharpgen verify --out docs/verify-report`, not kept by hand
GENERATED = ("docs/verify-report",)


def section(text: str, title: str) -> str:
    """The body of the ``## title`` section of a markdown text."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, f"no '## {title}' section"
    return match.group(1)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of every heading of a markdown page."""
    return {slug(h) for h in re.findall(r"^#+ (.*)$", page.read_text(), flags=re.M)}


def local_links(text: str) -> list[str]:
    """The link and image targets of a markdown text that are not URLs."""
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def unresolved(page: Path, target: str) -> str | None:
    """Why a relative link of ``page`` does not resolve (file, then anchor), or None."""
    path, _, anchor = target.partition("#")
    dest = (page.parent / path).resolve() if path else page
    if not dest.exists():
        return f"{page.name}: {target}: no such file"
    if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
        return f"{page.name}: {target}: no heading with that anchor"
    return None


def test_readme_fits_the_front_page_limit():
    assert len(README.read_bytes()) <= MAX_README_BYTES


def test_readme_shows_the_install_and_the_two_commands():
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    lines = [ln for block in blocks for ln in block.splitlines()]
    torch_cpu = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    two = ["pip install -e . && sharpgen verify", "pip install -e '.[test]' && pytest"]
    assert torch_cpu in lines and all(cmd in lines for cmd in two)
    assert lines.index(torch_cpu) < lines.index(two[0]) < lines.index(two[1])
    assert "`pip install torch==2.13.0`" in README.read_text()


def test_readme_has_one_verify_tail_block_for_the_report_console():
    text = README.read_text()
    assert text.count("<!-- verify-tail -->") == 1 and text.count("<!-- /verify-tail -->") == 1
    inner = text.split("<!-- verify-tail -->")[1].split("<!-- /verify-tail -->")[0]
    assert re.fullmatch(r"\s*```text\n.+\n```\s*", inner, flags=re.S)


def test_readme_contents_links_every_docs_page_and_resolve():
    links = local_links(section(README.read_text(), "Contents"))
    assert {t.partition("#")[0] for t in links} >= {f"docs/{p.name}" for p in DOCS}
    assert [msg for t in links if (msg := unresolved(README, t))] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    assert [msg for t in local_links(page.read_text()) if (msg := unresolved(page, t))] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_paths_named_exist(page):
    named = re.findall(r"(?<![\w/.-])((?:numerics|theory|verify|experiments|tests|docs)/[\w./*-]*[\w*/])",
                       page.read_text())
    missing = [p for p in named if not p.startswith(GENERATED) and not list(ROOT.glob(p.rstrip("/")))]
    assert missing == []


def resolves(dotted: str) -> bool:
    """A ``sharpgen.…`` name is a module, or attributes of the longest module it starts with."""
    parts = dotted.split(".")
    obj = importlib.import_module(".".join(parts[:2]))
    for i in range(2, len(parts)):
        name = ".".join(parts[:i + 1])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            if not hasattr(obj, parts[i]):
                return False
            obj = getattr(obj, parts[i])
    return True


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_module_names_resolve(page):
    names = re.findall(r"(?<![\w/.-])((?:sharpgen\.)?(?:numerics|theory|verify)(?:\.\w+)+)", page.read_text())
    names = [n if n.startswith("sharpgen.") else f"sharpgen.{n}" for n in names if not n.endswith(".md")]
    assert [n for n in names if not resolves(n)] == []


def test_layout_names_every_numerics_subpackage():
    layout = section(README.read_text(), "Layout")
    subpackages = [p.name for p in (ROOT / "numerics").iterdir() if (p / "__init__.py").exists()]
    assert subpackages and all(f"`numerics/{name}/`" in layout for name in subpackages)


def test_verdict_table_cites_every_ledger_entry():
    table = section(README.read_text(), "What the paper claims, what sharpgen finds")
    evidence = [row.rsplit("|", 2)[1] for row in table.splitlines() if row.startswith("| ")][1:]
    cited = set(re.findall(r"`([\w.-]+)`", "".join(evidence)))
    assert cited == {e.id for e in ENTRIES}


def test_verify_page_lists_every_ledger_entry():
    text = (ROOT / "docs" / "verify.md").read_text()
    listed = set(re.findall(r"`([\w.*-]+)`", section(text, "Entries")))
    ids = {e.id for e in ENTRIES}
    assert {i for i in ids if not i.startswith("table1-")} <= listed and "table1-*" in listed


DOCTESTED = [p for p in DOCS if ">>> " in p.read_text()]


def test_the_tour_and_the_engine_example_are_doctested():
    assert {"theory.md", "engine.md"} <= {p.name for p in DOCTESTED}


@pytest.mark.parametrize("page", DOCTESTED, ids=lambda p: p.name)
def test_docs_examples_run(page):
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
