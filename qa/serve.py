"""A warm process that `qa ask` and `qa search` hand their work to, when one runs.

A one-shot command spends most of its time before the work: imports (llama-index,
Chroma), loading the embedding models and the generator. `qa serve` keeps them loaded.
A client passes it the command's arguments, working folder, environment and its own
terminal (stdin, stdout and stderr, as file descriptors over a Unix socket); the server
runs the same command on them, so what the terminal shows, and the exit code, are those
of the command run in the client's process. Ctrl-C in the client is passed on.

Never required: with no server, one started by another version of qa, or one that does
not answer, the command runs in its own process. The server runs one command at a time
and leaves after `idle` seconds without one. Its socket is private to the user (a 0700
folder), keyed by qa's cache folder and the code it runs, so an upgrade starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import Settings, cache_dir, load_settings
from qa.errors import QAError

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.models import Shared

IDLE_SECONDS = 900.0
# Commands a server runs; the others (ingest, chat, doctor…) write, or are long anyway.
SERVED = ("ask", "search")
_FDS = (0, 1, 2)
STOP = "--stop"  # the request that ends a server


def code_stamp() -> str:
    """What identifies the code a server runs: this interpreter and qa's own files."""
    digest = hashlib.sha256(sys.executable.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")):
        st = path.stat()
        digest.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def socket_path() -> Path:
    """The user's socket for this cache folder and this code: short (a Unix socket's
    path has at most 107 bytes), in a folder only the user can enter."""
    key = hashlib.sha256(f"{cache_dir()}\0{code_stamp()}".encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"qa-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.lstat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{folder} is not private to this user")
    return folder / f"{key}.sock"


# -- the client ------------------------------------------------------------------------


def dispatch(argv: list[str], here: Callable[[], None]) -> None:
    """Run the command `argv` in a server when one should and does answer, else `here`
    (and then start a server for the next commands)."""
    if not _wanted(argv):
        here()
        return
    code = run_remotely(argv)
    if code is not None:
        sys.exit(code)
    try:
        here()
    finally:
        start_in_background()


def _wanted(argv: list[str]) -> bool:
    """`QA_SERVER=auto` (the default): for `ask` and `search` typed at a terminal."""
    if not argv or argv[0] not in SERVED:
        return False
    try:
        mode = load_settings().server
    except QAError:
        return False  # the command, run here, reports the setting at fault
    if mode == "auto":
        return sys.stdin.isatty() and sys.stdout.isatty()
    return mode == "on"


def run_remotely(argv: list[str]) -> int | None:
    """Run `argv` in a server when one answers: its exit code, else None.
    `[STOP]` asks the server to leave."""
    try:
        path = socket_path()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(0.5)
        conn.connect(str(path))
    except OSError:
        return None
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    with conn:
        try:
            socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], list(_FDS))
            conn.settimeout(None)
            reply = _reply(conn)
        except OSError:
            return None
        if reply is None:
            return None
        return int(reply.get("exit", 1))


def _reply(conn: socket.socket) -> dict[str, Any] | None:
    """The server's last word; Ctrl-C meanwhile is passed on, and then the reply is
    awaited a moment more (the server clears the screen and says it was interrupted)."""
    buffer = b""
    interrupted = False
    while b"\n" not in buffer:
        try:
            chunk = conn.recv(4096)
        except KeyboardInterrupt:
            if interrupted:
                return {"exit": 130}
            interrupted = True
            with contextlib.suppress(OSError):
                conn.sendall(b"interrupt\n")
            conn.settimeout(2.0)
            continue
        except TimeoutError:
            return {"exit": 130}
        if not chunk:
            # Gone without a word: it ran nothing (another version, or it stopped), or
            # it died on the way; either way the command is run here.
            return None if not interrupted else {"exit": 130}
        buffer += chunk
    reply: dict[str, Any] = json.loads(buffer.split(b"\n", 1)[0])
    return None if reply.get("declined") else reply


def start_in_background() -> None:
    """Start a server for the next commands, detached from this terminal."""
    import subprocess

    subprocess.Popen(  # noqa: S603 - this interpreter, qa's own module
        [sys.executable, "-m", "qa.cli", "serve"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


# -- the server ------------------------------------------------------------------------


class Assistants:
    """A server's assistants, by working folder and settings, their models loaded once
    for all of them.

    When another process has changed an index since, every assistant on it opens it
    afresh: Chroma's embedded store keeps what it read, in every client of that folder.
    """

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, Settings], Assistant] = {}
        self._seen: dict[tuple[str, str], str | None] = {}  # index → version last seen
        from qa.models import Shared

        self._shared: Shared = Shared()

    def _new(self, settings: Settings) -> Assistant:
        from qa.assistant import Assistant

        assistant = Assistant(settings=settings)
        assistant.models.shared = self._shared
        return assistant

    def get(self, settings: Settings) -> Assistant:
        key = (os.getcwd(), settings)
        assistant = self._by_key.get(key) or self._new(settings)
        where, version = (key[0], assistant.store.where), _version(assistant)
        if where in self._seen and self._seen[where] != version:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            for old in [k for k, a in self._by_key.items() if (k[0], a.store.where) == where]:
                del self._by_key[old]
            assistant = self._new(settings)
        self._seen[where] = version
        if key not in self._by_key:
            self._by_key[key] = assistant
            if assistant.store.exists():
                assistant.preload()
        return assistant

    def warm(self) -> None:
        """Load what the likeliest first command needs: a search of the index here."""
        assistant = self.get(load_settings())
        if assistant.store.exists():
            assistant.search("warm")  # the companion model and the lexical index too


def _version(assistant: Assistant) -> str | None:
    """The version every ingest sets as it commits (the lexical index records it)."""
    return assistant.store.lexical.synced() if assistant.store.exists() else None


def serve_on_socket(run: Callable[[list[str]], int], warm: Callable[[], None], idle: float) -> None:
    """Answer clients on this user's socket until `idle` seconds pass without one.

    `run(argv)` runs a command and returns its exit code; `warm()` loads what the
    likely first command needs, while a client's connection already waits in line.
    """
    path = socket_path()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
    except OSError:
        if _answers(path):
            return  # another server of this code is already there
        path.unlink(missing_ok=True)  # left by one that died
        listener.bind(str(path))
    os.chmod(path, 0o600)
    mine = path.stat().st_ino  # a later server may bind a socket of its own here
    listener.listen(16)
    # Started from a shell's background job, SIGINT may be ignored: a client's Ctrl-C is
    # delivered as SIGINT (`_interrupts_from`), which must raise KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        warm()
        listener.settimeout(idle)
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return
            with conn:
                if not _handle(conn, run):
                    return
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_ino == mine:
                path.unlink()


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


def _handle(conn: socket.socket, run: Callable[[list[str]], int]) -> bool:
    """Run one client's command; False when the client asked the server to stop."""
    conn.settimeout(5.0)
    fds: list[int] = []
    uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
    if uid != os.getuid():  # the folder is private already; a second lock on the door
        return True
    try:
        message, fds, _, _ = socket.recv_fds(conn, 1 << 20, len(_FDS))
        while not message.endswith(b"\n") and (more := conn.recv(1 << 20)):
            message += more
        request = json.loads(message)
        argv = list(request.get("argv") or [""])
        if argv == [STOP]:
            conn.sendall(b'{"exit": 0}\n')
            return False
        if len(fds) != len(_FDS) or argv[0] not in SERVED:
            conn.sendall(b'{"declined": true}\n')
            return True
        conn.settimeout(None)
        started = time.perf_counter()
        try:
            with _as_client(request, fds), _interrupts_from(conn):
                code = run(argv)
        except KeyboardInterrupt:  # a Ctrl-C that came as the command ended
            code = 130
        conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
        seconds = time.perf_counter() - started
        print(f"qa serve: {argv[0]} exit {code} in {seconds:.2f} s", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # a client that left, or did not speak the protocol
    finally:
        for fd in fds:
            os.close(fd)
        # Shut down, not only closed: the thread listening for Ctrl-C may still be
        # reading it, which keeps the socket open, and a client given no exit code
        # would wait for ever (seen once from the latency benchmark).
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
    return True


@contextlib.contextmanager
def _as_client(request: dict[str, Any], fds: list[int]) -> Iterator[None]:
    """This process as if started by the client: its terminal on 0, 1 and 2 (so that
    rich sees its size and colours), its environment and its working folder."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(fd) for fd in _FDS]
    env, cwd = dict(os.environ), os.getcwd()
    try:
        for fd, theirs in zip(_FDS, fds, strict=True):
            os.dup2(theirs, fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        for fd, mine in zip(_FDS, saved, strict=True):
            os.dup2(mine, fd)
            os.close(mine)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)


@contextlib.contextmanager
def _interrupts_from(conn: socket.socket) -> Iterator[None]:
    """A client's Ctrl-C, or the client gone, interrupts the command as Ctrl-C would."""
    main = threading.main_thread().ident or 0
    done = threading.Event()

    def listen() -> None:
        try:
            got = conn.recv(64)
        except OSError:
            got = b""
        if not done.is_set() and (got.startswith(b"interrupt") or not got):
            signal.pthread_kill(main, signal.SIGINT)

    listener = threading.Thread(target=listen, name="qa-serve-interrupts", daemon=True)
    listener.start()
    try:
        yield
    finally:
        done.set()  # the listener itself ends when the connection is closed
