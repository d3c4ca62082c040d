"""The local model on llama-cpp-python (`qa[native]`): what it has read, kept; and its
loading, kept off the terminal (`quiet_loads`).

llama.cpp holds the state of one prompt, and reads a new prompt from where it stops
sharing that one's beginning. qa's prompts begin with a fixed system prompt, a different
one per task (the judge's, the answer's, the claim check's), and an answer goes from task
to task: the answer's prompt, read after the judge's, began from nothing, and so did the
judge's next question after the claim checks. `PromptStates` keeps states (llama.cpp's
memory of one sequence: a few megabytes, copied in milliseconds):

- in memory, the last prompts read: a follow-up in chat, or the next question a served
  `qa ask` answers, starts from the one of them that shares most of its beginning (the
  same system prompt, and often the same passages);
- on disk (`~/.cache/qa/prompt-states`), the state after each system prompt, so that a new
  process (a one-shot `qa ask`) loads it instead of reading it. A file is named by what
  made it: the model file (path, size, time), llama-cpp-python's version, the context size
  and the tokens it holds; a changed template, model or library is another name, never a
  stale state.

A state only ever stands for tokens that begin the prompt being read, and the prompt's
last token is always read, for the next token's logits.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

MEMORY = 8  # states kept in memory: an answer's judge reads, its prompt, its checks
ON_DISK = 16  # state files kept; the oldest go first
_STATES: weakref.WeakKeyDictionary[Any, PromptStates] = weakref.WeakKeyDictionary()
_LOG = logging.getLogger("qa.llama_cpp")
_QUIET = threading.Lock()
_quiet_callback: Any = None  # referenced for as long as llama.cpp may call it


class _Untouched:
    """Stands for llama-cpp-python's `suppress_stdout_stderr`, and leaves the streams be."""

    def __init__(self, disable: bool = True):
        pass

    def __enter__(self) -> _Untouched:
        return self

    def __exit__(self, *_: object) -> None:
        return None


def quiet_loads() -> None:
    """Load models without touching the process's output; llama.cpp's log to a logger.

    llama-cpp-python silences a model's load by pointing file descriptors 1 and 2, and
    `sys.stdout`/`sys.stderr`, at /dev/null for the second or two it takes. qa loads the
    generator in a thread while the main one draws and prints, and in `qa serve` while a
    command writes to its client's terminal: what was written then was lost, and two
    loads at once (two assistants of a server, or of a program) left the process's
    output on /dev/null for good. What that hid is llama.cpp's log (errors such as
    "control-looking token … will be overridden", printed at every load), which goes to
    the `qa.llama_cpp` logger instead.
    """
    global _quiet_callback
    with _QUIET:
        if _quiet_callback is not None:
            return
        import llama_cpp
        import llama_cpp._internals
        import llama_cpp.llama

        @llama_cpp.llama_log_callback
        def to_logger(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            _LOG.debug(text.decode("utf-8", "replace").rstrip())

        llama_cpp.llama.suppress_stdout_stderr = _Untouched  # type: ignore[misc,assignment]
        llama_cpp._internals.suppress_stdout_stderr = _Untouched  # type: ignore[misc,assignment]
        llama_cpp.llama_log_set(to_logger, ctypes.c_void_p(0))
        _quiet_callback = to_logger


def shared_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many tokens `a` and `b` share from their start."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class PromptStates:
    """The states of `llama` (a `llama_cpp.Llama`) after the prompts it read."""

    def __init__(self, llama: Any, folder: Path | None, identity: str):
        # Weakly: the model holds its states (its `generate`), not the other way round,
        # so that a model no one uses is freed at once, its states with it.
        self._llama: Any = weakref.proxy(llama)
        self._folder = folder
        self._identity = identity
        self._memory: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self._fixed: dict[str, tuple[int, ...]] = {}  # system prompt's text → its tokens

    # -- what a prompt begins with ------------------------------------------------

    def mark(self, prefix: str) -> None:
        """`prefix` (rendered text) begins prompts: its state is worth a file."""
        if prefix not in self._fixed:
            ids = self._llama.tokenize(prefix.encode("utf-8"), add_bos=False, special=True)
            self._fixed[prefix] = tuple(ids)

    def read(self, tokens: Sequence[int]) -> None:
        """Read `tokens` into the model, from the longest beginning it holds or a kept
        state holds; keep the state after them."""
        llama = self._llama
        self.ready(tokens)
        llama.n_tokens = shared_prefix(llama.input_ids[: llama.n_tokens], tokens[:-1])
        llama.eval(list(tokens[llama.n_tokens :]))
        self.keep()

    def ready(self, tokens: Sequence[int]) -> None:
        """Before `tokens` are read: put in the model the kept state that shares the
        longest beginning with them, if it shares more than what the model holds."""
        llama = self._llama
        head = tuple(tokens[:-1])
        held = shared_prefix(llama.input_ids[: llama.n_tokens], head)
        shared = {key: shared_prefix(key, head) for key in self._memory}
        best = max(shared, key=lambda k: shared[k], default=None)
        if best is not None and shared[best] > held:
            held = shared[best] if self._load(best, self._memory[best]) else 0
            self._memory.move_to_end(best)
        fixed = max(
            (p for p in self._fixed.values() if len(p) <= len(head) and head[: len(p)] == p),
            key=len,
            default=None,
        )
        if fixed is None or held >= len(fixed):
            return
        data = self._read_file(fixed)
        if data is not None and self._load(fixed, data):
            return
        llama.n_tokens = held
        llama.eval(list(fixed[held:]))
        self._write_file(fixed, self._save())

    def keep(self) -> None:
        """Keep what the model holds now; a kept state it extends is dropped."""
        held = tuple(int(t) for t in self._llama.input_ids[: self._llama.n_tokens])
        if not held:
            return
        for key in [k for k in self._memory if held[: len(k)] == k]:
            del self._memory[key]
        self._memory[held] = self._save()
        while len(self._memory) > MEMORY:
            self._memory.popitem(last=False)

    def generating(self, generate: weakref.WeakMethod[Any]) -> Callable[..., Iterator[int]]:
        """`Llama.generate`, starting from a kept state and keeping the one it leaves
        (the answer, the rewrite of a follow-up, a translation pass through it)."""

        def run(tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
            method = generate()
            if method is None:  # only the model calls this, so it cannot be gone
                raise ReferenceError("the local model was freed")
            self.ready(tokens)
            try:
                yield from method(tokens, *args, **kwargs)
            finally:  # also when the reader stops early: a stop word, Ctrl-C
                self.keep()

        return run

    # -- llama.cpp's memory of sequence 0 ------------------------------------------

    def _save(self) -> bytes:
        import llama_cpp

        ctx = self._llama._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        # Not bytes(buf[:written]): slicing a c_uint8 array builds a list of ints, 0.3 s
        # for a 500-token state, several times an answer.
        return ctypes.string_at(buf, written)

    def _load(self, tokens: tuple[int, ...], data: bytes) -> bool:
        import llama_cpp

        llama = self._llama
        ctx = llama._ctx.ctx
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), 0, -1, -1)
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if not llama_cpp.llama_state_seq_set_data(ctx, buf, len(data), 0):
            llama.n_tokens = 0  # the memory was cleared: read from the start
            return False
        llama.input_ids[: len(tokens)] = tokens
        llama.n_tokens = len(tokens)
        return True

    # -- files -------------------------------------------------------------------

    def _path(self, tokens: tuple[int, ...]) -> Path | None:
        if self._folder is None:
            return None
        digest = hashlib.sha256(self._identity.encode())
        digest.update(",".join(map(str, tokens)).encode())
        return self._folder / f"{digest.hexdigest()[:32]}.state"

    def _read_file(self, tokens: tuple[int, ...]) -> bytes | None:
        path = self._path(tokens)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    def _write_file(self, tokens: tuple[int, ...], data: bytes) -> None:
        """Written whole or not at all; a cache that cannot be written is no cache."""
        path = self._path(tokens)
        if path is None:
            return
        partial = path.with_suffix(f".part{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, path)
            files = sorted(path.parent.glob("*.state"), key=lambda p: p.stat().st_mtime)
            for old in files[:-ON_DISK]:
                old.unlink(missing_ok=True)
        except OSError:
            partial.unlink(missing_ok=True)


def identity(model_path: Path, n_ctx: int) -> str:
    """What a kept state depends on besides its tokens."""
    import llama_cpp

    stat = model_path.stat()
    made = (model_path.resolve(), stat.st_size, stat.st_mtime_ns, llama_cpp.__version__, n_ctx)
    return "|".join(map(str, made))


def keep_states(llama: Any, folder: Path | None, model_path: Path) -> PromptStates:
    """Give `llama` prompt states: its generation starts from them, and `read_prompt`
    uses them."""
    states = PromptStates(llama, folder, identity(model_path, llama.n_ctx()))
    llama.generate = states.generating(weakref.WeakMethod(llama.generate))
    _STATES[llama] = states
    return states


def read_prompt(llama: Any, tokens: Sequence[int]) -> None:
    """Read `tokens` into `llama`, from what it holds or (when it has them) its states."""
    states = _STATES.get(llama)
    if states is None:
        states = PromptStates(llama, None, "")
    states.read(tokens)
