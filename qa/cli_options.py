"""The options the `qa` commands share, and how every command ends on an error: one
line on stderr and an exit code (`handle_errors`)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from qa.errors import QAError

IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="Index folder [env QA_INDEX_DIR; default ./index].")
]
EmbedOpt = Annotated[
    str | None,
    typer.Option("--embed", help="e5 (default), use-m3, minilm or st:MODEL [env QA_EMBED]."),
]
DeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device", help="cpu, cuda, cuda:1, mps: where an st: model embeds [env QA_DEVICE]."
    ),
]
ProcessesOpt = Annotated[
    int | None,
    typer.Option(
        "--processes",
        min=1,
        help="Embed passages in N processes (minilm and st: models) [env QA_PROCESSES].",
    ),
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="A qa.toml file [env QA_CONFIG].")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
KOpt = Annotated[int | None, typer.Option("--k", "-k", help="Passages to retrieve [env QA_K; 5].")]
LlmOpt = Annotated[
    str | None,
    typer.Option("--llm", help="local (default), openai-like, ollama or none [env QA_LLM]."),
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only articles dated on or after.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Only articles dated on or before.")]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Only articles whose source or title contains this.")
]
NoLlmOpt = Annotated[bool, typer.Option("--no-llm", help="Quote sentences; no generated answer.")]

F = TypeVar("F", bound=Callable[..., Any])


def consoles() -> tuple[Console, Console]:
    return Console(), Console(stderr=True)


def print_chain(e: BaseException) -> None:
    """The traceback of `e` and of every error behind it, oldest first: qa's messages
    for people hide the cause (`raise … from None`), which QA_DEBUG is for."""
    import traceback

    chain: list[BaseException] = []
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    for error in reversed(chain):
        traceback.print_exception(type(error), error, error.__traceback__, chain=False)


INTERRUPTED = "qa: interrupted; run the same command again to finish."


def handle_errors(fn: F) -> F:
    """One line on stderr and an exit code for every error; a traceback only with QA_DEBUG."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAError as e:
            if os.environ.get("QA_DEBUG"):
                print_chain(e)
            typer.echo(f"qa: error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as e:
            if os.environ.get("QA_DEBUG"):
                print_chain(e)
            first = (str(e).strip().splitlines() or [""])[0]
            typer.echo(
                f"qa: unexpected {type(e).__name__}: {first} (QA_DEBUG=1 shows more)", err=True
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
