"""What a command imports is part of its wait: searching with e5 needs neither torch,
sentence-transformers, llama.cpp, nor NLTK (whose import pulled in scipy: a second of
every command). Checked in a fresh interpreter, as a user's shell starts one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# And Babel, whose tables only a translation's country names need.
HEAVY = ("torch", "sentence_transformers", "llama_cpp", "xllamacpp", "nltk", "scipy", "babel")


def modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def imported_after(code: str) -> list[str]:
    return sorted({m.split(".")[0] for m in modules_after(code)} & set(HEAVY))


def test_import_qa_loads_no_model_runtime() -> None:
    assert imported_after("import qa, qa.cli") == []


def test_the_cli_and_the_package_import_the_engine_only_when_used() -> None:
    """`qa --help`, and a command handed to `qa serve`, import qa.cli and no more:
    not numpy, llama-index or Chroma (they were 0.3 s of `qa --help`'s 0.5 s)."""
    modules = modules_after("import qa, qa.cli")
    assert not {m.split(".")[0] for m in modules} & {"numpy", "llama_index", "chromadb"}
    assert "qa.assistant" not in modules
    # The public names are there all the same, imported when first used.
    from qa import Assistant, Filters, __all__

    assert Assistant.__name__ == "Assistant" and Filters.__name__ == "Filters"
    import qa

    assert all(getattr(qa, name) is not None for name in __all__)


@pytest.mark.slow
def test_a_search_from_the_cli_loads_no_model_runtime_it_does_not_use(kim_index: Path) -> None:
    code = (
        "from typer.testing import CliRunner\nfrom qa.cli import app\n"
        f"r = CliRunner().invoke(app, ['search', 'Why would Kim meet Putin?', '--index', "
        f"{str(kim_index)!r}])\nassert r.exit_code == 0, r.output\n"
        "assert 'Kim' in r.output"
    )
    assert imported_after(code) == []


def test_no_module_of_qa_imports_one_that_imports_it_back() -> None:
    """One direction of flow: the modules' imports, at the top or inside a function
    (those under TYPE_CHECKING name types only), form no circle."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "qa"
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for block in [n for n in ast.walk(tree) if isinstance(n, ast.If)]:
            if "TYPE_CHECKING" in ast.unparse(block.test):
                block.body = []
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qa"):
                parts = node.module.split(".")
                if len(parts) > 1:
                    found.add(parts[1])
                else:  # `from qa import x, y`: the names that are modules
                    found |= {a.name for a in node.names if (package / f"{a.name}.py").exists()}
        graph[path.stem] = found - {path.stem}

    def circle(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return trail + [nxt]
                if nxt not in trail:
                    stack.append((nxt, trail + [nxt]))
        return None

    assert {m: c for m in graph if (c := circle(m)) is not None} == {}
