"""`qa chat`: a conversation in the terminal, with line editing, history and commands."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console
from rich.text import Text

from qa import Chat, QAError
from qa.render import print_answer, print_citations, quoted, safe, stream_answer

HELP = """Ask a question, or:
  /sources   the sources of the last answer
  /open N    the whole passage of source N, in its document
  /reset     forget the conversation
  /help      this help
  /quit      leave (Ctrl-D too; Ctrl-C cancels an answer)"""

ReadLine = Callable[[str], str]


def line_reader(history_file: Path | None) -> ReadLine:
    """prompt_toolkit with history on a terminal; plain lines from a pipe."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        history = FileHistory(str(history_file)) if history_file else InMemoryHistory()
        session: PromptSession[str] = PromptSession(history=history)
        return lambda prompt: session.prompt(prompt)

    def read(prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return read


def run_chat(chat: Chat, console: Console, read_line: ReadLine) -> None:
    """Read questions until /quit or end of input; print cited answers."""
    console.print(Text("qa chat: ask about your articles. /help for commands.", style="dim"))
    while True:
        try:
            line = read_line("you> ").strip()
        except KeyboardInterrupt:
            continue
        except EOFError:
            console.print()
            return
        if not line:
            continue
        if line.startswith("/"):
            if not _command(chat, console, line):
                return
            continue
        try:
            words = functools.cache(functools.partial(chat.assistant.words, line))
            answer = stream_answer(console, chat.ask_stream(line), words)
        except KeyboardInterrupt:
            console.print(Text("(cancelled)", style="dim"))
            continue
        except QAError as e:
            console.print(Text(f"error: {e}", style="red"))
            continue
        for notice in chat.assistant.notices:
            console.print(Text(f"qa: {notice}", style="yellow"))
        chat.assistant.notices.clear()
        print_answer(console, answer, words(), show_sources=False)
        if answer.citations:
            console.print(Text(_source_line(chat, words()("sources")), style="dim"))


def _source_line(chat: Chat, label: str) -> str:
    last = chat.last
    assert last is not None
    names = ", ".join(f"[{c.n}] {safe(c.title)[:60]}" for c in last.citations)
    return f"{label}: {names}  (/sources, /open N)"


def _command(chat: Chat, console: Console, line: str) -> bool:
    """Run a /command; False means leave."""
    name, _, arg = line.partition(" ")
    last = chat.last
    if name in ("/quit", "/exit", "/q"):
        return False
    if name == "/help":
        console.print(HELP, highlight=False)
    elif name == "/reset":
        chat.reset()
        console.print(Text("Conversation forgotten.", style="dim"))
    elif name == "/sources":
        if last is not None and not last.citations:
            console.print(
                Text("The last answer cites no source: no passage answered it.", style="dim")
            )
        elif last is None:
            console.print(Text("No sources yet: ask a question first.", style="dim"))
        else:
            print_citations(console, last.citations, last, chat.assistant.words(last.question))
    elif name == "/open":
        if last is None or not last.citations:
            console.print(Text("No sources yet: ask a question first.", style="dim"))
            return True
        try:
            citation = last.citation(int(arg))
        except (ValueError, KeyError):
            numbers = ", ".join(str(c.n) for c in last.citations)
            console.print(Text(f"Usage: /open N, where N is one of {numbers}.", style="red"))
            return True
        # A whole article scrolls past the screen: a terminal shows it in a pager (less,
        # unless PAGER says otherwise: in colour, and gone at once if it fits).
        os.environ.setdefault("LESS", "-FRX")
        with console.pager(styles=True) if console.is_terminal else nullcontext():
            console.print(Text(safe(citation.title), style="bold"))
            for passage in chat.assistant.passages_of(citation.doc_id):
                quotes = citation.quotes if passage.chunk_id == citation.chunk_id else ()
                console.print(quoted(passage, quotes), highlight=False)
                console.print()
    else:
        console.print(Text(f"Unknown command {name}. /help lists them.", style="red"))
    return True
