"""Connecting to Chroma: an embedded store in a folder, or a server by its URL.

Every call on the embedded store waits out another process's moment of SQLite's lock;
every call on a server is bounded by the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qa.errors import StoreError

# Records one Chroma call reads, adds or deletes at the most.
PAGE = 5000


def connect(index_dir: Path, chroma_url: str | None, timeout: float) -> Any:
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False)
    try:
        if chroma_url:
            import httpx

            url = urlparse(server_url(chroma_url))
            # chromadb's HTTP session waits forever on a server that stops answering, even
            # while connecting: a bounded heartbeat first, a bounded session after.
            limit = httpx.Timeout(timeout, connect=min(timeout, 5.0))
            httpx.get(f"{url.scheme}://{url.netloc}/api/v2/heartbeat", timeout=limit)
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=settings,
            )
            session = getattr(getattr(client, "_server", None), "_session", None)
            if session is not None:
                session.timeout = limit
            return client
        client = _patiently(lambda: _persistent(index_dir, settings), timeout)
        return _Patient(client, timeout)
    except Exception as e:  # chromadb raises bare Exception/ValueError for unreachable servers
        where = chroma_url or str(index_dir)
        raise StoreError(f"Cannot open the Chroma store at {where}: {first_line(e)}") from None


def _persistent(index_dir: Path, settings: Any) -> Any:
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    try:
        return chromadb.PersistentClient(path=str(index_dir), settings=settings)
    except Exception as e:
        # Both are what a client sees while another process runs the migrations.
        if "already exists" in str(e) or "has no attribute 'bindings'" in str(e):
            # Two processes opened a new index at once and both ran Chroma's migrations.
            # Chroma caches the loser's half-started system by path; dropping it lets the
            # retry start afresh and find the tables.
            cache = SharedSystemClient._identifier_to_system
            for key in [k for k in cache if _same_path(k, index_dir)]:
                cache.pop(key, None)
                SharedSystemClient._identifier_to_refcount.pop(key, None)
            raise _Busy(str(e)) from None
        raise


def _same_path(key: str, index_dir: Path) -> bool:
    try:
        return Path(key).resolve() == index_dir.resolve()
    except (OSError, ValueError):
        return False


class _Busy(Exception):
    """Another process is setting the embedded store up; try again in a moment."""


def server_url(chroma_url: str) -> str:
    return chroma_url if "://" in chroma_url else f"http://{chroma_url}"


def _locked(e: BaseException) -> bool:
    text = str(e)
    return isinstance(e, _Busy) or "database is locked" in text or "(code: 5)" in text


def _patiently(call: Callable[[], Any], timeout: float) -> Any:
    """`call()`, retried while another process holds SQLite's lock on the embedded store.

    Chroma's embedded store is one SQLite file: a reader in one process and a writer in
    another each hold its lock for a moment, and Chroma reports the other's moment as an
    error. Waiting it out, for a bounded time, is what a user expects.
    """
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        try:
            return call()
        except Exception as e:
            if not _locked(e) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class _Patient:
    """A Chroma client or collection whose every call waits out another process's lock."""

    def __init__(self, target: Any, timeout: float):
        self._target = target
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = _patiently(lambda: attr(*args, **kwargs), self._timeout)
            if type(result).__name__ == "Collection":
                return _Patient(result, self._timeout)
            return result

        return call


def first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
