"""What a command imports is part of its wait: searching with e5 needs neither torch,
sentence-transformers, llama.cpp, nor NLTK (whose import pulled in scipy: a second of
every command). Checked in a fresh interpreter, as a user's shell starts one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "sentence_transformers", "llama_cpp", "nltk", "scipy")


def imported_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    modules = json.loads(out.strip().splitlines()[-1])
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def test_import_qa_loads_no_model_runtime() -> None:
    assert imported_after("import qa, qa.cli") == []


@pytest.mark.slow
def test_a_search_from_the_cli_loads_no_model_runtime_it_does_not_use(kim_index: Path) -> None:
    code = (
        "from typer.testing import CliRunner\nfrom qa.cli import app\n"
        f"r = CliRunner().invoke(app, ['search', 'Why would Kim meet Putin?', '--index', "
        f"{str(kim_index)!r}])\nassert r.exit_code == 0, r.output\n"
        "assert 'Kim' in r.output"
    )
    assert imported_after(code) == []
