"""One index in Chroma: its collections, opened lazily, and its committed documents.

Three collections per index: `<name>-chunks` (vectors, through llama-index's
ChromaVectorStore), `<name>-docs` (one record per document: the commit, see qa.commit)
and, when the index embeds sentences, `<name>-sentences`. Writing is qa.commit's,
retrieving qa.retrieve's, checking and repairing qa.audit's: each works on an opened
`Store`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qa.chroma import PAGE, connect, first_line, server_url
from qa.errors import IndexNotFoundError, ModelMismatchError, StoreError
from qa.lexical import Lexical
from qa.records import CHUNK_KEY, COMPANION_KEY, EMBED_KEY, SENTENCE_KEY, VERSION_KEY, to_passage
from qa.types import DocumentInfo, Passage


@dataclass(frozen=True)
class IndexInfo:
    embed: str
    chunk_words: int
    sentences: bool = False
    companion: str = ""  # the second model whose passage cosines join the dense score


class Store:
    """One index: its collections, opened lazily, with the model that built it."""

    def __init__(
        self,
        index_dir: Path,
        collection: str = "qa",
        chroma_url: str | None = None,
        timeout: float = 30.0,
    ):
        self.index_dir = index_dir
        self.chroma_url = chroma_url
        self.timeout = timeout
        self.where = chroma_url or str(index_dir)
        self._names = (f"{collection}-chunks", f"{collection}-docs", f"{collection}-sentences")
        if chroma_url:
            # The server keeps the vectors; this machine keeps a lexical index of them,
            # one per server and collection, synchronised from the server when it lags.
            server = re.sub(r"[^A-Za-z0-9.-]+", "_", urlparse(server_url(chroma_url)).netloc)
            lexical = index_dir / "lexical" / f"{server}-{collection}.sqlite3"
        else:
            lexical = index_dir / f"{collection}-lexical.sqlite3"
        self.lexical = Lexical(lexical, timeout)
        self.lexical_checked = False  # by a search, once (qa.audit.sync_lexical_once)
        self._client: Any = None
        # The collections, opened by `info` or `open_for_write` (None until then).
        self.chunks: Any = None
        self.docs: Any = None
        self.sentences: Any = None
        self._vector_store: Any = None

    # -- opening -------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._client is None:
            self._client = connect(self.index_dir, self.chroma_url, self.timeout)
        return self._client

    def missing(self) -> str:
        """What to tell someone who asked for an index that is not there."""
        return (
            f"No index at {self.where}. Ingest your articles first: `qa ingest FOLDER` "
            "(the sample article: `qa ingest --sample`)."
        )

    def exists(self) -> bool:
        """Whether an index is here (never creates one)."""
        if self.chroma_url is None and not (self.index_dir / "chroma.sqlite3").exists():
            return False
        return self.info() is not None

    def info(self) -> IndexInfo | None:
        """The embedding and chunk size that built the index, or None when there is none."""
        if self.chunks is None:
            try:
                self.chunks = self._connect().get_collection(self._names[0])
                self.docs = self._connect().get_or_create_collection(
                    self._names[1], embedding_function=None
                )
            except StoreError:
                raise
            except Exception as e:
                if "does not exist" in str(e) or "not found" in str(e).lower():
                    return None
                raise StoreError(
                    f"Cannot read the index at {self.where}: {first_line(e)}"
                ) from None
        meta = self.chunks.metadata or {}
        info = IndexInfo(
            str(meta.get(EMBED_KEY, "")),
            int(meta.get(CHUNK_KEY, 0)),
            bool(meta.get(SENTENCE_KEY, False)),
            str(meta.get(COMPANION_KEY, "")),
        )
        if info.sentences and self.sentences is None:
            self.sentences = self._open_sentences()
        return info

    def _open_sentences(self) -> Any:
        return self._connect().get_or_create_collection(
            self._names[2], configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )

    def open_for_write(self, wanted: IndexInfo) -> IndexInfo:
        """Create the index as `wanted`, or check that the existing one was built with the
        same model and chunk size; the index as it is.

        Whether sentences are embedded too, and by which companion model chunks are, is
        decided when the index is created and kept: every chunk is scored alike.
        """
        info = self.info()
        if info is None:
            try:
                client = self._connect()
                self.chunks = client.get_or_create_collection(
                    self._names[0],
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={
                        EMBED_KEY: wanted.embed,
                        CHUNK_KEY: wanted.chunk_words,
                        SENTENCE_KEY: wanted.sentences,
                        COMPANION_KEY: wanted.companion,
                    },
                    embedding_function=None,
                )
                self.docs = client.get_or_create_collection(self._names[1], embedding_function=None)
                if wanted.sentences:
                    self.sentences = self._open_sentences()
            except Exception as e:
                raise StoreError(
                    f"Cannot create the index at {self.where}: {first_line(e)}"
                ) from None
            return wanted
        self.check_model(wanted.embed)
        if info.chunk_words != wanted.chunk_words:
            raise ModelMismatchError(
                f"The index at {self.where} was built with chunks of {info.chunk_words} words, "
                f"not {wanted.chunk_words}. Keep chunk_words={info.chunk_words}, or use another "
                "--index."
            )
        return info

    def check_model(self, embed: str) -> None:
        info = self.info()
        if info is None:
            raise IndexNotFoundError(self.missing())
        if info.embed != embed:
            raise ModelMismatchError(
                f"The index at {self.where} was built with the embedding {info.embed!r}; "
                f"it cannot be used with {embed!r}. Use --embed {info.embed}, or another --index."
            )

    def vector_store(self) -> Any:
        if self._vector_store is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            if self.chunks is None and self.info() is None:
                raise IndexNotFoundError(self.missing())
            self._vector_store = ChromaVectorStore(chroma_collection=self.chunks)
        return self._vector_store

    # -- the writer lock -------------------------------------------------------------

    @contextmanager
    def write_lock(
        self, on_wait: Callable[[str], None] | None = None, timeout: float = 3600.0
    ) -> Iterator[None]:
        """Hold the index's writer lock: one writing process at a time on an embedded store.

        Readers never take it: Chroma lets them read while a writer commits, and the
        commit protocol (qa.commit) keeps what they see whole. A Chroma server serialises
        writes itself, so only the embedded store is locked.
        """
        if self.chroma_url:
            yield
            return
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with (self.index_dir / "write.lock").open("a") as handle:
            started = time.monotonic()
            told = False
            while True:
                try:
                    _flock(handle, exclusive=True)
                    break
                except BlockingIOError:
                    if not told and on_wait is not None:
                        on_wait(f"another qa process is writing to {self.where}; waiting for it")
                        told = True
                    if time.monotonic() - started > timeout:
                        raise StoreError(
                            f"Another qa process has been writing to {self.where} for "
                            f"{timeout:.0f} s; try again when it has finished."
                        ) from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                _flock(handle, exclusive=False)

    # -- reading -------------------------------------------------------------------

    def committed_hashes(self, doc_ids: Iterable[str] | None = None) -> dict[str, str]:
        """doc id → content hash of its committed version (all documents when `doc_ids` is None)."""
        records = self.doc_records(None if doc_ids is None else list(doc_ids))
        return {doc_id: str(meta.get("hash", "")) for doc_id, meta in records.items()}

    def committed_sources(self) -> dict[str, tuple[str, str]]:
        """doc id → (content hash, source) of every committed document."""
        return {
            doc_id: (str(meta.get("hash", "")), str(meta.get("source", "")))
            for doc_id, meta in self.doc_records(None).items()
        }

    def version(self) -> str | None:
        """The committed documents' version (`commit._new_version`); None before any."""
        value = (self.docs.metadata or {}).get(VERSION_KEY)
        return None if value is None else str(value)

    def doc_records(self, doc_ids: list[str] | None) -> dict[str, dict[str, Any]]:
        """doc id → its document record's metadata (of `doc_ids`; all when None)."""
        if self.docs is None and self.info() is None:
            return {}
        out: dict[str, dict[str, Any]] = {}
        try:
            if doc_ids is not None:
                for i in range(0, len(doc_ids), PAGE):
                    got = self.docs.get(ids=doc_ids[i : i + PAGE], include=["metadatas"])
                    out.update(zip(got["ids"], got["metadatas"], strict=True))
                return out
            offset = 0
            while True:
                got = self.docs.get(include=["metadatas"], limit=PAGE, offset=offset)
                out.update(zip(got["ids"], got["metadatas"], strict=True))
                if len(got["ids"]) < PAGE:
                    return out
                offset += PAGE
        except Exception as e:
            raise StoreError(f"Cannot read the index at {self.where}: {first_line(e)}") from None

    def documents(self) -> list[DocumentInfo]:
        records = self.doc_records(None)
        return sorted(
            (
                DocumentInfo(
                    doc_id=doc_id,
                    title=str(m.get("title", "")),
                    date=str(m.get("date")) or None,
                    source=str(m.get("source", "")),
                    lang=str(m.get("lang", "")),
                    chunks=int(m.get("chunks", 0)),
                )
                for doc_id, m in records.items()
            ),
            key=lambda d: (d.date or "", d.doc_id),
        )

    def chunk_count(self) -> int:
        return int(self.chunks.count()) if self.chunks is not None else 0

    def document_text(self, doc_id: str) -> list[Passage]:
        """All committed passages of a document, in order."""
        committed = self.committed_hashes([doc_id]).get(doc_id)
        if committed is None:
            return []
        got = self.chunks.get(
            where={"$and": [{"doc_id": doc_id}, {"doc_hash": committed}]},
            include=["metadatas", "documents"],
        )
        passages = [
            to_passage(m, text, chunk_id, None)
            for chunk_id, m, text in zip(
                got["ids"], got["metadatas"], got["documents"], strict=True
            )
        ]
        return sorted(passages, key=lambda p: p.start)


def _flock(handle: Any, exclusive: bool) -> None:
    """Take (without waiting) or release the writer lock. Imported here: fcntl does not
    exist on Windows, where `import qa` must work all the same."""
    import fcntl

    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_UN)
