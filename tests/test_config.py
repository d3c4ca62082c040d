from __future__ import annotations

from pathlib import Path

import pytest

from qa import ConfigError, load_settings

from .conftest import qa_cli


def test_flags_beat_env_beat_toml_beat_defaults(isolated: Path) -> None:
    (isolated / "qa.toml").write_text('k = 7\nindex_dir = "from-toml"\nembed = "use-m3"\n')
    env = {"QA_K": "9", "QA_INDEX_DIR": "from-env"}
    s = load_settings({"k": 3, "index_dir": None}, env)
    assert (s.k, s.index_dir, s.embed, s.chunk_words) == (3, Path("from-env"), "use-m3", 120)
    assert load_settings({}, env).k == 9
    assert load_settings({}, {}).k == 7


def test_qa_config_points_to_another_file_with_a_qa_table(tmp_path: Path) -> None:
    cfg = tmp_path / "other.toml"
    cfg.write_text("[qa]\nmin_score = 0.5\n")
    assert load_settings({}, {"QA_CONFIG": str(cfg)}).min_score == 0.5


@pytest.mark.parametrize(
    ("env", "toml", "message"),
    [
        ({"QA_K": "many"}, None, "QA_K: k must be a int, not 'many'."),
        ({"QA_K": "0"}, None, "k must be at least 1, not 0."),
        ({}, "colour = 1\n", "qa.toml: unknown setting 'colour'."),
        ({}, "k = [\n", "qa.toml: not valid TOML"),
    ],
)
def test_bad_values_give_one_clear_line(
    isolated: Path, env: dict[str, str], toml: str | None, message: str
) -> None:
    if toml is not None:
        (isolated / "qa.toml").write_text(toml)
    with pytest.raises(ConfigError) as e:
        load_settings({}, env)
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


def test_the_api_key_never_shows_in_the_settings_repr() -> None:
    s = load_settings({"llm_api_key": "sk-do-not-log"}, {})
    assert s.llm_api_key == "sk-do-not-log" and "sk-do-not-log" not in repr(s)


def test_the_cli_prints_its_version() -> None:
    from importlib.metadata import version

    result = qa_cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"qa {version('qa')}"


def test_help_names_each_settings_variable_and_default_and_flags_take_no_value() -> None:
    result = qa_cli("ask", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Index folder [env QA_INDEX_DIR; default ./index]." in result.stdout
    assert "--no-llm <" not in result.stdout and "--json <" not in result.stdout
