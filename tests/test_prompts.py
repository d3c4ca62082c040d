from __future__ import annotations

from pathlib import Path

import pytest

from qa import PromptError
from qa.config import Settings
from qa.prompts import Prompts


def test_shipped_templates_load_and_fall_back_to_english() -> None:
    prompts = Prompts(Settings().resolved_prompts_dir())
    assert "« Où ? »" in prompts.render("no_answer", "fr", question="Où ?")
    assert "“Wo?”" not in prompts.render("no_answer", "de", question="Wo?")
    assert "„Kto?”" in prompts.render("no_answer", "pl", question="Kto?")
    # A language with no template and no model: the English text.
    assert "“Mikä?”" in prompts.render("no_answer", "fi", question="Mikä?")


@pytest.mark.parametrize(
    ("content", "problem"),
    [("No placeholder here.", "needs {question}"), ("{question} {oops}", "unknown {oops}")],
)
def test_a_broken_template_fails_at_load_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / "no_answer.en.txt").write_text(content)
    with pytest.raises(PromptError) as e:
        Prompts(tmp_path)
    assert str(e.value) == f"{tmp_path / 'no_answer.en.txt'}: {problem}."


def test_a_missing_template_is_named(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="no_answer.txt: missing prompt template"):
        Prompts(tmp_path)


def test_a_translated_template_with_a_stray_brace_falls_back_to_english() -> None:
    prompts = Prompts(Settings().resolved_prompts_dir())
    broken = prompts.template("no_answer", "fi", lambda english: "Artikkelit { {question}")
    assert broken == prompts.template("no_answer", "en")
    kept = prompts.template("no_answer", "fi", lambda english: "Artikkelit eivät vastaa {question}")
    assert kept == "Artikkelit eivät vastaa {question}"
