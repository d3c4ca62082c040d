"""The `qa` command: a thin layer that parses options, calls `qa.Assistant`, renders."""

from __future__ import annotations

import functools
import json
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.text import Text

from qa.cli_options import (
    INTERRUPTED,
    ConfigOpt,
    DeviceOpt,
    EmbedOpt,
    IndexOpt,
    JsonOpt,
    KOpt,
    LlmOpt,
    NoLlmOpt,
    ProcessesOpt,
    SinceOpt,
    SourceOpt,
    UntilOpt,
    consoles,
    handle_errors,
)
from qa.config import Settings, load_settings
from qa.errors import ConfigError, GenerationError, IndexNotFoundError, IngestError, QAError
from qa.serve import IDLE_SECONDS, STOP, Assistants, dispatch, run_remotely, serve_on_socket
from qa.types import Answer, Filters

if TYPE_CHECKING:
    from qa.assistant import Assistant

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


def _notices(assistant: Assistant) -> None:
    for notice in assistant.notices:
        typer.echo(f"qa: {notice}", err=True)
    assistant.notices.clear()


# In a server (`qa serve`), its assistants; None in a one-shot command.
_served: Assistants | None = None


def _assistant(
    index: Path | None, embed: str | None, config: Path | None, **flags: Any
) -> Assistant:
    # Imported here: `qa --help`, and a command `qa serve` runs, need none of it.
    from qa.assistant import Assistant

    settings: Settings = load_settings(
        {"index_dir": index, "embed": embed, **flags}, config_file=config
    )
    return Assistant(settings=settings) if _served is None else _served.get(settings)


def _leave_interrupted() -> NoReturn:
    """Ctrl-C during an answer. Its worker thread may stay inside llama.cpp for seconds
    (reading a prompt), and an interpreter cannot shut down around a thread in native
    code; an answer writes nothing, so the process leaves at once, its output flushed.
    A server (`qa serve`) stays: the worker stops at its next token."""
    typer.echo(INTERRUPTED, err=True)
    if _served is not None:
        raise typer.Exit(130)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


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

    out, err = consoles()
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

    out, err = consoles()
    assistant = _assistant(index, embed, config, k=k, llm="none" if no_llm else llm)
    _existing(assistant)
    asked, filters = _question(question), Filters(since, until, source)
    # Read at the spinner's first stage, then again for the answer's box: once.
    words = functools.cache(functools.partial(assistant.words, asked))

    def answered() -> Answer:
        stream = assistant.ask_stream(asked, filters)
        return answer_of(stream) if as_json else stream_answer(out, stream, words)

    try:
        try:
            answer = answered()
        except GenerationError as e:
            # A server that is down still leaves the articles: the answer is quoted.
            assistant.models.quote_instead(e)
            assistant.llm = None
            answer = answered()
    except KeyboardInterrupt:
        _leave_interrupted()
    _notices(assistant)  # a generator that could not load: the answer says how it was made
    if as_json:
        _json(answer.to_dict())
    else:
        print_answer(out, answer, words())


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
    from qa.render import print_passages, working

    out, _ = consoles()
    assistant = _assistant(index, embed, config, k=k)
    asked = _question(question)
    # Signs of life until the table: from the shell, imports and loads take seconds.
    busy: AbstractContextManager[None] = (
        nullcontext()
        if as_json
        else working(out, lambda: assistant.words(asked).stage("searching"))
    )
    with busy:
        passages = assistant.search(asked, filters=Filters(since, until, source))
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

    out, err = consoles()
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

    out, _ = consoles()
    assistant = _assistant(index, None, config)
    _existing(assistant)
    docs = assistant.documents()
    if as_json:
        _json([d.__dict__ for d in docs])
    else:
        print_documents(out, docs)


# What a newcomer types to see the archive; click's nearest name for "list" was "ingest".
for _alias in ("list", "ls"):
    app.command(_alias, hidden=True)(sources)


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
    out, _ = consoles()
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

    out, err = consoles()
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
    if stop:
        if run_remotely([STOP]) is None:
            typer.echo("qa: no server was running.", err=True)
        return
    _served = served = Assistants()
    serve_on_socket(_run_served, served.warm, idle)


def _run_served(argv: list[str]) -> int:
    try:
        app(args=argv, prog_name="qa")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def _question(text: str) -> str:
    if not text.strip():
        raise ConfigError("The question is empty.")
    return text


def main() -> None:
    dispatch(sys.argv[1:], lambda: app(prog_name="qa"))


if __name__ == "__main__":  # pragma: no cover
    main()
