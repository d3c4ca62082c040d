"""An answer read in a worker thread, so that Ctrl-C gives the terminal back at once.

Python runs its Ctrl-C handler only in the main thread and only between two bytecodes:
while the main thread is inside llama.cpp (reading a prompt, the judge's call on a
passage) a Ctrl-C waits for that call to end, seconds on a slow machine. Here every
step of the answer (search, judge, generation, verification) runs in a worker and the
main thread only waits on a queue, which Ctrl-C interrupts. The abandoned worker stops
at its next token; answers in one process run one at a time, so a next question waits
for it rather than sharing the model with it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from qa.types import Answer

# One answer at a time in a process: the models are not safe to share between threads.
_ANSWERING = threading.Lock()


def events(stream: Any) -> Iterator[tuple[str, Any]]:
    """("stage", name), ("token", text) as they come, then ("answer", Answer).

    `stream` is an `AnswerStream`. Leaving this generator early (Ctrl-C, or a caller
    that stops reading) cancels the worker, which never blocks the caller.
    """
    inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancelled = threading.Event()

    def work() -> None:
        if not _ANSWERING.acquire(blocking=False):
            inbox.put(("stage", "stopping the previous answer"))
            _ANSWERING.acquire()
        try:
            stream.on_stage = lambda name: inbox.put(("stage", name))
            tokens = iter(stream)
            try:
                for token in tokens:
                    if cancelled.is_set():
                        return
                    inbox.put(("token", token))
            finally:
                tokens.close()  # ends the model's generation at its next token
            inbox.put(("answer", stream.answer))
        except BaseException as e:  # noqa: BLE001 - raised again in the reading thread
            inbox.put(("error", e))
        finally:
            _ANSWERING.release()

    # Not a daemon: an interpreter that exits while llama.cpp runs in a thread crashes;
    # a one-shot command that must not wait leaves with os._exit instead (`qa ask`).
    worker = threading.Thread(target=work, name="qa-answer")
    worker.start()
    try:
        while True:
            try:
                # A timeout, so that a Ctrl-C delivered to another thread is still seen.
                kind, item = inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            if kind == "error":
                raise item
            yield kind, item
            if kind == "answer":
                return
    finally:
        cancelled.set()


def answer_of(stream: Any) -> Answer:
    """The finished answer of `stream`, read in a worker (see `events`)."""
    *_, (_, answer) = events(stream)  # the last event is the answer
    return answer
