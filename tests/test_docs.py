"""What the README and docs/ say, checked against the code: the CLI reference is the
commands' own help, the exit codes are errors.py's, the modules named are the modules.

    python tests/test_docs.py    # writes docs/cli.md again after a change to the CLI
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI_DOC = ROOT / "docs" / "cli.md"


def cli_reference() -> str:
    """docs/cli.md as the commands' --help print it (100 columns)."""
    sys.path.insert(0, str(ROOT))
    from typer.testing import CliRunner

    from qa.cli import app

    runner = CliRunner()

    def help_of(*command: str) -> str:
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, result.output
        return result.stdout.rstrip()

    top = help_of()
    commands = re.findall(r"^  (\w+)\s", top.split("Commands:")[1], re.M)
    parts = [
        "# Command-line reference",
        "",
        "Generated from each command's `--help` by `python tests/test_docs.py`; a test checks",
        "that it matches the code.",
        "",
        "```",
        top,
        "```",
    ]
    for command in commands:
        parts += ["", f"## qa {command}", "", "```", help_of(command), "```"]
    return "\n".join(parts) + "\n"


def test_the_cli_reference_is_the_commands_own_help() -> None:
    assert CLI_DOC.read_text(encoding="utf-8") == cli_reference(), (
        "docs/cli.md is out of date: run `python tests/test_docs.py`"
    )


def test_the_readme_names_every_exit_code_of_the_error_tree() -> None:
    import qa.errors as errors

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = readme.split("Errors are one line on stderr and an exit code:")[1].split(".\n")[0]
    codes = {
        cls.exit_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.QAError)
    }
    assert {int(n) for n in re.findall(r"\b(\d) ", listed)} == codes


def test_design_names_each_module_of_the_package() -> None:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(\w+)`", design.split("## Data flow")[1].split("## The steps")[0]))
    modules = {p.stem for p in (ROOT / "qa").glob("*.py") if not p.stem.startswith("_")}
    assert modules - named == set(), "modules the design does not place"
    assert {m for m in named if m.islower() and m not in modules} <= {"cli", "repl"} | modules


if __name__ == "__main__":
    CLI_DOC.write_text(cli_reference(), encoding="utf-8")
    print(f"wrote {CLI_DOC}")
