"""The README's commands are the ones CI and a new user run."""

import subprocess

from .conftest import ROOT


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
