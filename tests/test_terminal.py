"""What a terminal shows while an answer comes: the stage from the first moment, the
draft as it is written, and nothing left behind when the user presses Ctrl-C.

The screen is read through pyte, a terminal emulator: what a user would see after
rich's cursor movements and erasures, not the raw bytes written. The words fake embeds:
nothing here depends on what a real model finds.
"""

from __future__ import annotations

import io
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyte
import pytest
from rich.console import Console

from qa import Assistant
from qa.repl import run_chat

from .conftest import KIM


class Terminal:
    """A rich console writing into an emulated 100x40 screen, keeping every write."""

    def __init__(self) -> None:
        self.screen = pyte.Screen(100, 40)
        self.stream = pyte.Stream(self.screen)
        self.raw = io.StringIO()
        self.console = Console(file=self, force_terminal=True, width=100, height=40)

    def write(self, text: str) -> int:
        self.raw.write(text)
        self.stream.feed(text.replace("\n", "\r\n"))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display if line.strip()]


def scripted_input(lines: list[str], terminal: Terminal) -> Any:
    pending = iter(lines)

    def read(prompt: str) -> str:
        terminal.write(prompt)
        line = next(pending, None)
        if line is None:
            raise EOFError
        terminal.write(line + "\n")
        return line

    return read


class InterruptedWriter:
    """A writer interrupted mid-draft: Ctrl-C reaches Python as KeyboardInterrupt
    between two tokens, which is where generation checks for it."""

    def stream_chat(self, messages: Any) -> Iterator[Any]:
        from llama_index.core.llms import ChatMessage, ChatResponse

        for word in ["Kim ", "wants ", "to "]:
            yield ChatResponse(message=ChatMessage(role="assistant", content=word), delta=word)
        raise KeyboardInterrupt


def test_the_chat_shows_each_stage_before_the_answer(words_index: Path) -> None:
    terminal = Terminal()
    chat = Assistant(words_index, llm="none").chat()
    run_chat(chat, terminal.console, scripted_input([KIM], terminal))
    raw = terminal.raw.getvalue()
    # Each stage was drawn as it began, the answer's box after them...
    searching, reading = raw.index("searching…"), raw.index("reading the passages…")
    assert 0 <= searching < reading < raw.index("answer (quoted)")
    # ...and what stays on screen is the answer, not the stage line.
    lines = terminal.lines()
    assert any("answer (quoted)" in line for line in lines)
    assert not any("…" in line and "reading the passages" in line for line in lines)


def test_a_search_shows_a_spinner_then_leaves_only_the_passages(words_index: Path) -> None:
    from qa.render import print_passages, working

    terminal = Terminal()
    assistant = Assistant(words_index, llm="none")
    question = "Perché Kim vuole incontrare Putin?"
    with working(terminal.console, lambda: assistant.words(question).stage("searching")):
        passages = assistant.search(question)
    print_passages(terminal.console, passages)
    raw = terminal.raw.getvalue()
    assert 0 <= raw.index("ricerca…") < raw.index(passages[0].title[:20])
    assert not any("ricerca" in line for line in terminal.lines())
    assert any(passages[0].title[:20] in line for line in terminal.lines())


def test_the_chat_speaks_the_questions_language(words_index: Path) -> None:
    terminal = Terminal()
    chat = Assistant(words_index, llm="none").chat()
    run_chat(
        chat, terminal.console, scripted_input(["Perché Kim vuole incontrare Putin?"], terminal)
    )
    raw = terminal.raw.getvalue()
    assert (
        raw.index("ricerca…") < raw.index("lettura dei passaggi…") < raw.index("risposta (citata)")
    )
    assert any(line.startswith("fonti: [1]") for line in terminal.lines())


def test_a_cancelled_answer_leaves_no_box_and_the_prompt_comes_back(words_index: Path) -> None:
    assistant = Assistant(words_index)
    assistant.llm = InterruptedWriter()
    terminal = Terminal()
    run_chat(assistant.chat(), terminal.console, scripted_input([KIM, "/help"], terminal))
    raw = terminal.raw.getvalue()
    assert "Kim wants to" in raw  # the draft was on screen
    lines = terminal.lines()
    assert not any(ch in line for line in lines for ch in "╭╰│")
    cancelled = next(i for i, line in enumerate(lines) if "(cancelled)" in line)
    assert lines[cancelled + 1].startswith("you> /help")


class DecliningWriter:
    """A writer that declines, its marker in two tokens as the local model writes it."""

    def stream_chat(self, messages: Any) -> Iterator[Any]:
        from llama_index.core.llms import ChatMessage, ChatResponse

        for word in ["No", " ANSWER"]:
            yield ChatResponse(message=ChatMessage(role="assistant", content=word), delta=word)


def test_the_models_refusal_marker_is_never_drawn(words_index: Path) -> None:
    # A newcomer's chat showed "No ANSWER" in the writing box before the refusal.
    assistant = Assistant(words_index)
    assistant.llm = DecliningWriter()
    terminal = Terminal()
    run_chat(assistant.chat(), terminal.console, scripted_input([KIM], terminal))
    assert "ANSWER" not in terminal.raw.getvalue()


class NativeWriter:
    """A writer that, after two tokens, waits inside a native call that signals do not
    interrupt (a pthread mutex the test holds, for at most 20 s), as llama.cpp computes
    while it reads a prompt: Python runs its Ctrl-C handler only between bytecodes of
    the main thread, so a main thread inside such a call keeps Ctrl-C waiting."""

    def __init__(self) -> None:
        import ctypes

        self.libc = ctypes.CDLL(None)
        self.mutex = ctypes.create_string_buffer(64)  # zeros: PTHREAD_MUTEX_INITIALIZER
        self.libc.pthread_mutex_lock(self.mutex)  # held by the test's (main) thread
        self.in_native = threading.Event()
        self.left = threading.Event()  # the native call has returned

    def stream_chat(self, messages: Any) -> Iterator[Any]:
        import ctypes
        import time

        from llama_index.core.llms import ChatMessage, ChatResponse

        class Timespec(ctypes.Structure):
            _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

        for word in ["Kim ", "wants "]:
            yield ChatResponse(message=ChatMessage(role="assistant", content=word), delta=word)
        self.in_native.set()
        deadline = Timespec(int(time.time()) + 20, 0)
        try:
            if self.libc.pthread_mutex_timedlock(self.mutex, ctypes.byref(deadline)) == 0:
                self.libc.pthread_mutex_unlock(self.mutex)
        finally:
            self.left.set()

    def release(self) -> None:
        self.libc.pthread_mutex_unlock(self.mutex)


@pytest.fixture
def foreground() -> Iterator[None]:
    """Ctrl-C handled as in a terminal's foreground process: a shell starts background
    jobs (`pytest &`) with SIGINT ignored, and then `interrupt_main` does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_gives_the_prompt_back_while_the_model_is_inside_native_code(
    words_index: Path, foreground: None
) -> None:
    assistant = Assistant(words_index)
    writer = NativeWriter()
    assistant.llm = writer
    terminal = Terminal()

    def press_ctrl_c() -> None:
        writer.in_native.wait()
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    inside: list[bool] = []
    lines = iter([KIM, "/help"])

    def read(prompt: str) -> str:
        line = next(lines, None)
        if line == "/help":
            inside.append(not writer.left.is_set())
            writer.release()
        if line is None:
            raise EOFError
        terminal.write(prompt + line + "\n")
        return line

    run_chat(assistant.chat(), terminal.console, read)
    # The prompt came back while the model was still inside its native call.
    assert inside == [True]
    assert any("(cancelled)" in line for line in terminal.lines())
