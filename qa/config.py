"""One settings object, read from flags, then `QA_*` variables, then an optional qa.toml.

Library code receives a `Settings`; only `load_settings` looks at the environment.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from qa.errors import ConfigError

DEFAULT_EMBED = "e5"
_PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    """Everything qa can be told. `embed=None` means: the model that built the index, else e5."""

    index_dir: Path = Path("index")
    chroma_url: str | None = None
    collection: str = "qa"
    embed: str | None = None
    device: str | None = None
    threads: int | None = None
    processes: int = 1  # passages embedded in this many processes (st: models)
    k: int = 5
    min_score: float | None = None
    chunk_words: int = 120
    answer_sentences: int = 3
    context_sentences: int = 6
    batch_size: int = 32
    seeds_dir: Path | None = None
    prompts_dir: Path | None = None
    history_file: Path | None = None
    llm: str = "local"
    runtime: str = "auto"  # the local model's: llama-cpp when installed, else xllamacpp
    # `ask` and `search` through a warm process (`qa serve`): "auto" when typed at a
    # terminal, "on" always, "off" never.
    server: str = "auto"
    llm_model: str | None = None
    llm_base_url: str | None = None
    # Kept out of repr: settings end up in logs and tracebacks.
    llm_api_key: str | None = field(default=None, repr=False)
    model_dir: Path | None = None
    max_tokens: int = 200
    context_window: int = 2048
    server_timeout: float = 30.0
    sentence_index: bool = True
    companion: bool = True  # a new e5 index embeds chunks with USE-m3 too (COMPANIONS)
    # Weight of names and numbers matched across languages in the fused ranking: 0 by
    # default, since it cost XQuAD R@1 (docs/benchmarks.md, "Retrieval"); --explain shows it anyway.
    names_weight: float = 0.0

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the non-None `changes` applied and checked."""
        return _checked(replace(self, **{k: v for k, v in changes.items() if v is not None}))

    def resolved_seeds_dir(self) -> Path | None:
        """`seeds/` of a source checkout, else the copy installed with the package."""
        if self.seeds_dir is not None:
            return self.seeds_dir
        return _first_existing(_PACKAGE_DIR.parent / "seeds", _PACKAGE_DIR / "seeds")

    def resolved_prompts_dir(self) -> Path:
        if self.prompts_dir is not None:
            return self.prompts_dir
        found = _first_existing(_PACKAGE_DIR.parent / "prompts", _PACKAGE_DIR / "prompts")
        if found is None:
            raise ConfigError("No prompts/ folder found; set QA_PROMPTS_DIR to one.")
        return found


def cache_dir() -> Path:
    """qa's cache folder: `$XDG_CACHE_HOME/qa`, else `~/.cache/qa` (the local model's
    GGUF, translated templates)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"


def _first_existing(*paths: Path) -> Path | None:
    return next((p for p in paths if p.is_dir()), None)


_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(Settings)}


def _convert(name: str, raw: Any, origin: str) -> Any:
    kind = _TYPES[name]
    try:
        if "Path" in kind:
            return Path(str(raw)).expanduser()
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: {name} must be a {kind.split(' ')[0]}, not {raw!r}."
        ) from None


def _checked(s: Settings) -> Settings:
    if s.k < 1:
        raise ConfigError(f"k must be at least 1, not {s.k}.")
    if s.chunk_words < 10:
        raise ConfigError(f"chunk_words must be at least 10, not {s.chunk_words}.")
    if s.answer_sentences < 1:
        raise ConfigError(f"answer_sentences must be at least 1, not {s.answer_sentences}.")
    if s.batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, not {s.batch_size}.")
    if s.processes < 1:
        raise ConfigError(f"processes must be at least 1, not {s.processes}.")
    if s.server not in ("auto", "on", "off"):
        raise ConfigError(f"server must be auto, on or off, not {s.server!r}.")
    return s


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Settings from `flags` (None values ignored) > `QA_<NAME>` variables > qa.toml > defaults.

    The TOML file is `config_file`, else `$QA_CONFIG`, else `./qa.toml` when it exists.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}

    path = config_file or (Path(env["QA_CONFIG"]) if env.get("QA_CONFIG") else None)
    if path is None and Path("qa.toml").is_file():
        path = Path("qa.toml")
    if path is not None:
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the config file ({e.strerror}).") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML ({e}).") from None
        table = table.get("qa", table)
        for key, raw in table.items():
            if key not in _TYPES:
                raise ConfigError(f"{path}: unknown setting {key!r}.")
            values[key] = _convert(key, raw, str(path))

    for name in _TYPES:
        raw = env.get(f"QA_{name.upper()}")
        if raw not in (None, ""):
            values[name] = _convert(name, raw, f"QA_{name.upper()}")

    for name, raw in (flags or {}).items():
        if raw is not None:
            values[name] = _convert(name, raw, f"--{name.replace('_', '-')}")

    return _checked(Settings(**values))
