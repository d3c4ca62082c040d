"""The README's commands are the ones CI and a new user run."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, clean_env


def test_ci_runs_the_readme_test_command() -> None:
    out = subprocess.run(
        ["awk", "/<!-- ci: test command -->/{getline; getline; print; exit}", "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out.endswith("python -m pytest") and "pip install torch==2.13.0" in out
    main_job = (ROOT / "README.md").read_text().split("<!-- main job -->")[1].split("```")[1]
    assert (
        "qa ingest seeds/" in main_job
        and 'qa ask "Why would Kim meet Putin in person?"' in main_job
    )


@pytest.mark.slow
def test_the_python_api_snippet_runs_as_written(isolated: Path) -> None:
    """In a fresh process and folder holding a copy of seeds/, with the extractive
    backend (QA_LLM=none) so no generator is needed: the snippet itself is unchanged."""
    readme = (ROOT / "README.md").read_text()
    snippet = readme.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    shutil.copytree(ROOT / "seeds", isolated / "seeds")
    run = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=isolated,
        env=clean_env(QA_LLM="none"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]  # the first answer, and whether it abstained
    assert first.endswith(" False") and "[1]" in first
    assert (isolated / "index").is_dir()
