"""The `qa` command: a thin layer that parses options, calls `qa.Assistant`, renders."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from qa import (
    Answer,
    Assistant,
    ConfigError,
    Filters,
    GenerationError,
    IndexNotFoundError,
    IngestError,
    QAError,
    Settings,
    load_settings,
)
from qa.serve import IDLE_SECONDS

app = typer.Typer(
    name="qa",
    help="Answers with cited passages from your news articles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: rich markup would eat the "[env QA_…; default …]" of each option, and
    # typer's rich panels tag even flags with a type ("--json <bool>").
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"qa {version('qa')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Answers with cited passages from your news articles."""


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


def _consoles() -> tuple[Console, Console]:
    return Console(), Console(stderr=True)


def _print_chain(e: BaseException) -> None:
    """The traceback of `e` and of every error behind it, oldest first: qa's messages
    for people hide the cause (`raise … from None`), which QA_DEBUG is for."""
    import traceback

    chain: list[BaseException] = []
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    for error in reversed(chain):
        traceback.print_exception(type(error), error, error.__traceback__, chain=False)


_INTERRUPTED = "qa: interrupted; run the same command again to finish."


def _leave_interrupted() -> NoReturn:
    """Ctrl-C during an answer. Its worker thread may stay inside llama.cpp for seconds
    (reading a prompt), and an interpreter cannot shut down around a thread in native
    code; an answer writes nothing, so the process leaves at once, its output flushed.
    A server (`qa serve`) stays: the worker stops at its next token."""
    typer.echo(_INTERRUPTED, err=True)
    if _served is not None:
        raise typer.Exit(130)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def handle_errors(fn: F) -> F:
    """One line on stderr and an exit code for every error; a traceback only with QA_DEBUG."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAError as e:
            if os.environ.get("QA_DEBUG"):
                _print_chain(e)
            typer.echo(f"qa: error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            typer.echo(_INTERRUPTED, err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as e:
            if os.environ.get("QA_DEBUG"):
                _print_chain(e)
            first = (str(e).strip().splitlines() or [""])[0]
            typer.echo(
                f"qa: unexpected {type(e).__name__}: {first} (QA_DEBUG=1 shows more)", err=True
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _notices(assistant: Assistant) -> None:
    for notice in assistant.notices:
        typer.echo(f"qa: {notice}", err=True)
    assistant.notices.clear()


# In a server (`qa serve`): the assistants of the commands it ran, by working folder and
# settings, and the version of each index they last saw. None in a one-shot command.
_served: dict[tuple[str, Settings], Assistant] | None = None
_seen: dict[tuple[str, str], str | None] = {}


def _assistant(
    index: Path | None, embed: str | None, config: Path | None, **flags: Any
) -> Assistant:
    settings: Settings = load_settings(
        {"index_dir": index, "embed": embed, **flags}, config_file=config
    )
    if _served is None:
        return Assistant(settings=settings)
    return _warm(settings)


def _warm(settings: Settings) -> Assistant:
    """The server's assistant for `settings`, its models loaded once. When another
    process has changed the index since, every assistant on it opens it afresh: Chroma's
    embedded store keeps what it read, in every client of that folder."""
    assert _served is not None
    key = (os.getcwd(), settings)
    assistant = _served.get(key) or Assistant(settings=settings)
    where, version = (key[0], assistant.store.where), _index_version(assistant)
    if where in _seen and _seen[where] != version:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        for old in [k for k, a in _served.items() if (k[0], a.store.where) == where]:
            del _served[old]
        assistant = Assistant(settings=settings)
    _seen[where] = version
    if key not in _served:
        _served[key] = assistant
        if assistant.store.exists():
            assistant.preload()
    return assistant


def _index_version(assistant: Assistant) -> str | None:
    """The version every ingest sets as it commits (the lexical index records it)."""
    if not assistant.store.exists():
        return None
    return assistant.store.lexical.synced()


def _existing(assistant: Assistant) -> None:
    """Refuse an index that is not there, before anything creates a folder for it (a
    mistaken setting is reported first: it is the likelier cause)."""
    assistant.embed_name  # noqa: B018 - checks the embedding's name
    if not assistant.store.exists():
        raise IndexNotFoundError(assistant.store.missing())


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
@handle_errors
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders (.txt .md .html .jsonl).", metavar="PATH"),
    ] = None,
    index: IndexOpt = None,
    embed: EmbedOpt = None,
    config: ConfigOpt = None,
    device: DeviceOpt = None,
    processes: ProcessesOpt = None,
    as_json: JsonOpt = False,
    sample: Annotated[
        bool, typer.Option("--sample", help="Also ingest the sample article shipped with qa.")
    ] = False,
    keep_duplicates: Annotated[
        bool,
        typer.Option(
            "--keep-duplicates",
            help="Store an article even when the index has it under another id.",
        ),
    ] = False,
) -> None:
    """Add or update articles; unchanged ones are skipped, bad ones reported and skipped."""
    from qa.render import LazyProgress, print_report

    out, err = _consoles()
    assistant = _assistant(index, embed, config, device=device, processes=processes)
    paths = list(paths or [])
    if sample and (seeds := assistant.settings.resolved_seeds_dir()) is not None:
        paths.append(seeds)
    if not paths:
        raise ConfigError("Name the files or folders to ingest (or --sample for the sample).")
    progress = LazyProgress(err)
    try:
        report = assistant.ingest(
            paths, progress, lambda m: err.print(f"qa: {m}", soft_wrap=True), keep_duplicates
        )
    finally:
        progress.close()
    if as_json:
        for failure in report.failures:
            typer.echo(f"skipped {failure}", err=True)
        _json(report.to_dict())
    else:
        print_report(out, err, report)
    if report.added or report.updated or report.skipped or report.duplicates:
        return
    if report.failures:
        raise IngestError("Nothing could be ingested: every article failed (see above).")
    where = ", ".join(str(p) for p in paths)
    raise IngestError(f"Nothing to ingest in {where}: no .txt, .md, .html or .jsonl article.")


@app.command()
@handle_errors
def ask(
    question: Annotated[
        str, typer.Argument(help="Your question, in any language.", metavar="QUESTION")
    ],
    index: IndexOpt = None,
    embed: EmbedOpt = None,
    config: ConfigOpt = None,
    k: KOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    llm: LlmOpt = None,
    no_llm: NoLlmOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Answer one question with cited passages."""
    from qa.drain import answer_of
    from qa.render import print_answer, stream_answer

    out, err = _consoles()
    assistant = _assistant(index, embed, config, k=k, llm="none" if no_llm else llm)
    _existing(assistant)
    asked, filters = _question(question), Filters(since, until, source)

    def answered() -> Answer:
        stream = assistant.ask_stream(asked, filters)
        return answer_of(stream) if as_json else stream_answer(out, stream)

    try:
        try:
            answer = answered()
        except GenerationError as e:
            # A server that is down still leaves the articles: the answer is quoted.
            assistant.notices.append(f"{e} Answering with quoted sentences instead.")
            assistant.llm = None
            answer = answered()
    except KeyboardInterrupt:
        _leave_interrupted()
    _notices(assistant)  # a generator that could not load: the answer says how it was made
    if as_json:
        _json(answer.to_dict())
    else:
        print_answer(out, answer)


@app.command()
@handle_errors
def search(
    question: Annotated[str, typer.Argument(help="What to look for.", metavar="QUESTION")],
    index: IndexOpt = None,
    embed: EmbedOpt = None,
    config: ConfigOpt = None,
    k: KOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    as_json: JsonOpt = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Show each signal's score and rank (passage, sentence, lexical)."
        ),
    ] = False,
) -> None:
    """Show the passages retrieved for a question, with scores, without answering."""
    from qa.render import print_passages

    out, _ = _consoles()
    assistant = _assistant(index, embed, config, k=k)
    passages = assistant.search(_question(question), filters=Filters(since, until, source))
    if as_json:
        _json({"question": question, "passages": [p.to_dict(explain) for p in passages]})
    else:
        print_passages(out, passages, explain)


@app.command()
@handle_errors
def chat(
    index: IndexOpt = None,
    embed: EmbedOpt = None,
    config: ConfigOpt = None,
    k: KOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    llm: LlmOpt = None,
    no_llm: NoLlmOpt = False,
) -> None:
    """Talk with your articles: follow-up questions keep the conversation in mind."""
    from qa.repl import line_reader, run_chat

    out, err = _consoles()
    assistant = _assistant(index, embed, config, k=k, llm="none" if no_llm else llm)
    _existing(assistant)
    assistant.preload()  # while the first question is typed
    chat = assistant.chat(Filters(since, until, source))
    run_chat(chat, out, line_reader(assistant.settings.history_file))


@app.command()
@handle_errors
def sources(
    index: IndexOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the documents in the index with title, date and chunk count."""
    from qa.render import print_documents

    out, _ = _consoles()
    assistant = _assistant(index, None, config)
    _existing(assistant)
    docs = assistant.documents()
    if as_json:
        _json([d.__dict__ for d in docs])
    else:
        print_documents(out, docs)


@app.command()
@handle_errors
def remove(
    doc_ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="Ids shown by `qa sources`, or the files' paths.",
            show_default=False,
            metavar="DOC_ID",
        ),
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option("--prefix", help="Remove every document whose id starts with this."),
    ] = None,
    index: IndexOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Remove documents and all their passages from the index."""
    from qa.documents import doc_id_for

    assistant = _assistant(index, None, config)
    _existing(assistant)
    ids = list(doc_ids or [])
    if prefix and Path(prefix).is_dir():  # a folder of ingested files, typed as a path
        prefix = doc_id_for(Path(prefix)).rstrip("/") + "/"
    if prefix:
        matching = [d.doc_id for d in assistant.documents() if d.doc_id.startswith(prefix)]
        if not matching:
            raise QAError(f"No document id starts with {prefix!r} (see `qa sources`).")
        ids += matching
    if not ids:
        raise ConfigError("Name the documents to remove (ids from `qa sources`), or --prefix.")
    missing = 0
    for doc_id in dict.fromkeys(ids):
        if assistant.remove(doc_id):
            typer.echo(f"removed {doc_id}")
        else:
            missing += 1
            typer.echo(
                f"qa: error: no document {doc_id!r} in the index (see `qa sources`).", err=True
            )
    if missing:
        raise typer.Exit(1)


@app.command()
@handle_errors
def doctor(
    index: IndexOpt = None,
    config: ConfigOpt = None,
    fix: Annotated[bool, typer.Option("--fix", help="Repair what can safely be repaired.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check the index's integrity, the local models, and what would need the network."""
    out, _ = _consoles()
    from qa.health import diagnose

    health = diagnose(_assistant(index, None, config), fix)
    if as_json:
        _json(health.to_dict())
    else:
        for line in health.repaired:
            out.print(Text(f"repaired: {line}", style="cyan"), soft_wrap=True)
        for c in health.checks:
            mark = Text("ok  " if c.ok else "FAIL", style="green" if c.ok else "red")
            out.print(mark, Text(f"{c.name}: {c.detail}"), soft_wrap=True)
    if not health.ok:
        raise typer.Exit(1)


@app.command(name="eval")
@handle_errors
def evaluate(
    set_dir: Annotated[
        Path,
        typer.Argument(
            help="A folder with corpus.jsonl[.gz] and questions.jsonl (question, positive_ids).",
            metavar="SET_DIR",
        ),
    ],
    index: IndexOpt = None,
    embed: EmbedOpt = None,
    config: ConfigOpt = None,
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Ingest this JSONL instead of the set's.")
    ] = None,
    use_index: Annotated[
        bool,
        typer.Option("--use-index", help="Ask the current index instead of a temporary one."),
    ] = False,
    anchor: Annotated[
        bool,
        typer.Option("--anchor", help="Also run the plain llama-index pipeline, same model."),
    ] = False,
    questions: Annotated[
        int | None, typer.Option("--questions", min=1, help="The first N questions only.")
    ] = None,
    device: DeviceOpt = None,
    processes: ProcessesOpt = None,
    answers: Annotated[
        bool,
        typer.Option(
            "--answers",
            help="Measure answers instead: gold in answer, citation precision, abstention "
            '(questions marked "answerable": false), false abstention, time.',
        ),
    ] = False,
    llm: LlmOpt = None,
    no_llm: NoLlmOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Measure retrieval on your labelled questions: recall@1/5/20, MRR, search latency;
    with --answers, the answers themselves."""
    from qa.render import LazyProgress, print_answer_evaluation, print_evaluation

    out, err = _consoles()
    assistant = _assistant(
        index,
        embed,
        config,
        device=device,
        processes=processes,
        llm="none" if no_llm else llm,
    )
    bars: dict[str, LazyProgress] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = LazyProgress(err, label=stage)
        bars[stage](done, total)

    try:
        if answers:
            from qa.evaluate_answers import evaluate_answers

            graded = evaluate_answers(
                assistant,
                set_dir,
                corpus=corpus,
                use_index=use_index,
                limit=questions,
                on_progress=progress,
            )
        else:
            from qa.evaluate import evaluate_retrieval

            result = evaluate_retrieval(
                assistant,
                set_dir,
                corpus=corpus,
                use_index=use_index,
                anchor=anchor,
                limit=questions,
                on_progress=progress,
            )
    finally:
        for bar in bars.values():
            bar.close()
    _notices(assistant)
    if answers:
        if as_json:
            _json(graded.to_dict())
        else:
            print_answer_evaluation(out, graded)
    elif as_json:
        _json(result.to_dict())
    else:
        print_evaluation(out, result)


def _question(text: str) -> str:
    from qa import ConfigError

    if not text.strip():
        raise ConfigError("The question is empty.")
    return text


@app.command()
@handle_errors
def serve(
    idle: Annotated[
        float,
        typer.Option("--idle", min=1, help="Leave after this many seconds without a command."),
    ] = IDLE_SECONDS,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the running server.")] = False,
) -> None:
    """Keep the models loaded for `ask` and `search` (they start one when QA_SERVER allows)."""
    global _served
    from qa.serve import STOP, run_remotely, serve

    if stop:
        if run_remotely([STOP]) is None:
            typer.echo("qa: no server was running.", err=True)
        return
    _served = {}

    def warm() -> None:
        if (assistant := _warm(load_settings())).store.exists():
            assistant.search("warm")  # loads what a search needs, companion included

    serve(_run_served, warm, idle)


def _run_served(argv: list[str]) -> int:
    try:
        app(args=argv, prog_name="qa")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def main() -> None:
    argv = sys.argv[1:]
    mode = _server_mode(argv)
    if mode != "off":
        from qa.serve import run_remotely, start_in_background

        code = run_remotely(argv)
        if code is not None:
            sys.exit(code)
        try:
            app(prog_name="qa")
        finally:
            start_in_background()  # warm for the next command
    app(prog_name="qa")


def _server_mode(argv: list[str]) -> str:
    """ "on" when this command goes to a server (started if none runs), else "off".
    `QA_SERVER=auto` (the default) uses one for `ask` and `search` typed at a terminal."""
    from qa.serve import SERVED

    if not argv or argv[0] not in SERVED:
        return "off"
    try:
        mode = load_settings().server
    except QAError:
        return "off"  # the command reports the setting at fault
    if mode == "auto":
        return "on" if sys.stdin.isatty() and sys.stdout.isatty() else "off"
    return mode


if __name__ == "__main__":  # pragma: no cover
    main()
