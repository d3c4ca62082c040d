"""Answers, passages and reports as rich terminal output (the CLI and REPL share it)."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from qa import Answer, AnswerStream, Citation, DocumentInfo, Explanation, IngestReport, Passage
from qa.drain import events
from qa.evaluate_answers import AnswerEvaluation
from qa.interface import Words
from qa.types import Evaluation

# Article text is untrusted: escape sequences in it must never reach the terminal raw.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """`text` with terminal control characters replaced by a visible mark."""
    return _CONTROL.sub("\ufffd", text)


def _heading(p: Passage, label: str) -> Text:
    line = Text(label, style="bold cyan")
    line.append(safe(p.title) or p.doc_id, style="bold")
    meta = [x for x in (p.date, safe(p.source)) if x]
    if meta:
        line.append("  " + " · ".join(meta), style="dim")
    return line


def quoted(p: Passage, quotes: tuple[Any, ...] = ()) -> Text:
    """The passage, its cited sentences highlighted."""
    body = Text(safe(p.text))
    for q in quotes:
        body.stylize("bold yellow", q.start - p.start, q.end - p.start)
    return body


def stream_answer(console: Console, stream: AnswerStream, words: Callable[[], Words]) -> Answer:
    """Show what qa is doing from the first moment (a spinner, then the stage it names
    in the question's language), then the model's draft as it is written, then leave
    only the verified answer. Interrupted, it leaves nothing behind. `words` is called
    at the first stage: the engine has read the question's language by then (read here
    first, loading the detector cost the spinner 0.4 s)."""
    from rich.live import Live
    from rich.spinner import Spinner

    spinner = Spinner("dots", style="dim")
    draft = Text(style="dim")
    panel = Panel(draft, title_align="left")
    said: list[Words] = []

    with _no_echo(), Live(spinner, console=console, transient=True, refresh_per_second=12) as live:

        def show(stage: str) -> None:
            if not said:
                said.append(words())
            label = f"{said[0].stage(stage)}…"
            if draft:
                panel.title = label
            else:
                spinner.update(text=Text(label, style="dim"))
                panel.title = label
            live.refresh()

        held = ""  # the draft while it may still be the model's "NO ANSWER"
        for kind, item in events(stream):
            if kind == "stage":
                show(item)
            elif kind == "token":
                held += item
                if declining(held):
                    continue
                if not draft:
                    live.update(panel)
                draft.append(safe(held))
                held = ""
                live.refresh()
    answer: Answer = item  # the last event is the answer
    return answer


@contextlib.contextmanager
def working(console: Console, label: Callable[[], str]) -> Iterator[None]:
    """A spinner at once, then `label()` beside it, while a command works that has no
    stages of its own to show (`qa search`: five seconds of imports and loads from the
    shell before its table); nothing is left of it after. Only on a terminal."""
    if not console.is_terminal:
        yield
        return
    from rich.live import Live
    from rich.spinner import Spinner

    spinner = Spinner("dots", style="dim")
    with _no_echo(), Live(spinner, console=console, transient=True, refresh_per_second=12):
        spinner.update(text=Text(f"{label()}…", style="dim"))
        yield


def declining(draft: str) -> bool:
    """Whether a draft so far may be the model's refusal marker, which a reader is not
    shown: a chat showed "No ANSWER" in the writing box before its refusal."""
    from qa.verify import NO_ANSWER, as_marker

    return NO_ANSWER.startswith(as_marker(draft))


@contextlib.contextmanager
def _no_echo() -> Iterator[None]:
    """The terminal does not echo what is typed while an answer is drawn: a "^C" echoed
    after a box as wide as the screen wrapped to a new line, and the box's erasure then
    left its top border behind."""
    try:
        import termios
    except ImportError:  # not a POSIX system
        yield
        return
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd) if os.isatty(fd) else None
    except (OSError, ValueError, termios.error):  # no file behind stdin, or no terminal
        saved = None
    if saved is None:
        yield
        return
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | termios.ECHOCTL)
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def print_answer(console: Console, answer: Answer, words: Words, show_sources: bool = True) -> None:
    """The answer in its box, titled and annotated in the question's language (`words`)."""
    style = "yellow" if answer.abstained else "green"
    # "verified" names what the program checked: every kept sentence of a generated
    # answer, judged to answer the question and supported by the sentence it cites.
    # A sentence the model put from a source in another language is no such check.
    if answer.abstained:
        title = words("no_answer")
    elif answer.mode == "extractive":
        title = words("quoted")
    elif any(s.status == "translated" for s in answer.sentences):
        title = words("translated")
    else:
        title = words("verified")
    console.print(
        Panel(Text(safe(answer.text)), border_style=style, title=title, title_align="left")
    )
    if not answer.abstained:
        for status in ("unsupported", "off_topic"):
            left = sum(s.status == status.replace("_", "-") for s in answer.sentences)
            if left:
                console.print(Text(words(status, count=left), style="dim"))
    if answer.mode == "extractive" and not answer.abstained:
        # A quote stands in its article's language when its translation could not be
        # checked: say so, rather than leave a reader wondering why.
        asked = words.lang  # the question's language, read once for `words`
        other = {s.source_lang for s in answer.sentences if s.source_lang not in (None, asked)}
        if other:
            line = words("untranslated", languages=words.languages({c for c in other if c}))
            console.print(Text(line, style="dim"))
        for s in answer.sentences:
            if s.translation:
                console.print(Text(safe(words("translation", text=s.translation)), style="dim"))
    if answer.abstained:
        # Shown even where sources are not (the chat): the refusal says they follow.
        if answer.closest:
            console.print(Text(words("closest"), style="dim"))
            print_passages(console, list(answer.closest)[:3])
    elif show_sources:
        print_citations(console, answer.citations, answer, words)


def print_citations(
    console: Console,
    citations: tuple[Citation, ...],
    answer: Answer | None = None,
    words: Words | None = None,
) -> None:
    """Each cited passage, its quoted sentences highlighted, and under it each claim of
    the answer that cites it beside the very sentence it rests on."""
    for c in citations:
        console.print(_heading(c, f"[{c.n}] "))
        console.print(quoted(c, c.quotes), style="dim", highlight=False)
        claims = [s for s in (answer.sentences if answer else ()) if s.citation == c.n]
        if answer is not None and answer.mode != "extractive" and claims:
            for s in claims:
                line = Text("  " + safe(s.text), style="green")
                status = words.status(s.status) if words else s.status
                line.append(f"  ({status})", style="dim")
                console.print(line, highlight=False)
                if s.source is not None:
                    console.print(
                        Text("    » " + safe(" ".join(s.source.text.split())), style="yellow"),
                        highlight=False,
                    )
        else:
            for q in c.quotes:
                console.print(
                    Text("  » " + safe(" ".join(q.text.split())), style="yellow"), highlight=False
                )
        console.print()


def print_passages(console: Console, passages: list[Passage], explain: bool = False) -> None:
    for i, p in enumerate(passages, start=1):
        heading = _heading(p, f"{i}. ")
        scores = f"  passage {p.score:.3f}"
        if p.sentence_score is not None:
            scores += f" · best sentence {p.sentence_score:.3f}"
        heading.append(scores, style="magenta")
        console.print(heading)
        if explain and p.explanation is not None:
            console.print(explanation(p.explanation), style="cyan", highlight=False)
        console.print(Text(safe(p.text)), highlight=False)
        console.print()


_SIGNALS = {
    "passage": "passage cosine",
    "sentence": "sentences (soft maximum of cosines)",
    "companion": "passage cosine, companion model",
    "dense": "passage + sentence (+ companion)",
    "lexical": "BM25, same language",
    "names": "BM25 of names and numbers, other languages",
    "recency": "date, among passages on the subject",
}


def explanation(e: Explanation) -> str:
    """Why a passage ranked where it did, one signal a line."""
    lines = [f"  fused {e.fused:.5f} → rank {e.rank}"]
    for s in e.signals:
        if s.name == "recency":  # its score is the date as YYYYMMDD
            day = f"{s.score:08.0f}" if s.score is not None else ""
            found = (
                "off the subject, or undated"
                if s.rank is None
                else (f"{day[:4]}-{day[4:6]}-{day[6:]}, rank {s.rank} (newest first)")
            )
        else:
            found = "not found" if s.rank is None else f"{s.score:.3f}, rank {s.rank}"
        if s.coverage is not None:
            found += f", {s.coverage:.0%} of the question's weight"
        lines.append(f"    {_SIGNALS.get(s.name, s.name):44s} {found}")
    return "\n".join(lines)


def print_documents(console: Console, docs: list[DocumentInfo]) -> None:
    table = Table(show_lines=False)
    # The id is what `qa remove` takes: wrapped whole, never cut with an ellipsis.
    table.add_column("doc id", overflow="fold")
    table.add_column("title")
    for name in ("date", "lang", "chunks"):
        table.add_column(name, no_wrap=True)
    for d in docs:
        table.add_row(safe(d.doc_id), safe(d.title), d.date or "", d.lang, str(d.chunks))
    console.print(table)
    console.print(Text(f"{len(docs)} documents, {sum(d.chunks for d in docs)} chunks", style="dim"))


def print_report(console: Console, err: Console, report: IngestReport) -> None:
    for failure in report.failures:
        err.print(
            Text(f"skipped {safe(str(failure))}", style="red"), highlight=False, soft_wrap=True
        )
    for source, same_as in report.duplicates:
        err.print(
            Text(
                f"not stored {safe(source)}: the same article is in the index as "
                f"{safe(same_as)} (--keep-duplicates stores both)",
                style="yellow",
            ),
            highlight=False,
            soft_wrap=True,
        )
    console.print(Text(report.summary()))


def print_evaluation(console: Console, e: Evaluation) -> None:
    table = Table(
        "method",
        "questions",
        "R@1",
        "R@5",
        "R@20",
        "MRR",
        "search p50 ms",
        "p95 ms",
        "chunks",
        "ingest chunks/s",
        title=f"{e.set_name}: {e.documents} documents, embedding {e.embed}",
    )
    for m in e.methods:
        rows = [(m.name, m.scores)] + [
            (f"  {m.name}, {lang} questions", s) for lang, s in m.by_language.items()
        ] * (len(m.by_language) > 1)
        for i, (label, s) in enumerate(rows):
            table.add_row(
                label, str(s.questions), f"{s.recall_at_1:.3f}", f"{s.recall_at_5:.3f}",
                f"{s.recall_at_20:.3f}", f"{s.mrr:.3f}", f"{s.search_p50_ms:.1f}",
                f"{s.search_p95_ms:.1f}",
                "" if i or m.chunks is None else str(m.chunks),
                "" if i or m.ingest_chunks_per_s is None else f"{m.ingest_chunks_per_s:.1f}",
            )  # fmt: skip
    console.print(table)
    if e.skipped_questions:
        console.print(
            Text(
                f"{e.skipped_questions} questions left out: their documents are not in the index.",
                style="dim",
            )
        )


def print_answer_evaluation(console: Console, e: AnswerEvaluation) -> None:
    table = Table(
        "", "questions", "unanswerable", "gold in answer", "citation precision",
        "abstention", "false abstention", "first token p50 s", "total p50 s",
        title=f"{e.set_name}: answers by {e.llm}",
    )  # fmt: skip

    def cell(x: float | None, digits: int = 3) -> str:
        return "–" if x is None else f"{x:.{digits}f}"

    for label, s in [("all", e.overall)] + [
        (f"  {lang}", s) for lang, s in e.by_language.items()
    ] * (len(e.by_language) > 1):
        table.add_row(
            label, str(s.questions), str(s.unanswerable), cell(s.gold_in_answer),
            cell(s.citation_precision), cell(s.abstention), cell(s.false_abstention),
            cell(s.first_token_p50_s, 2), cell(s.total_p50_s, 2),
        )  # fmt: skip
    console.print(table)


class LazyProgress:
    """A progress bar that appears only once a long task has run for `delay` seconds."""

    def __init__(self, console: Console, delay: float = 2.0, label: str = "ingesting"):
        self.console = console
        self.delay = delay
        self.label = label
        self.started = time.monotonic()
        self._bar: Progress | None = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.monotonic() - self.started < self.delay or not self.console.is_terminal:
                return
            self._bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("ingest", total=max(total, 1))
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
