"""Chunks → vectors → Chroma, and Chroma → passages.

Two collections per index: `<name>-chunks` (vectors, through llama-index's
ChromaVectorStore) and `<name>-docs` (one record per document). A document's record is
written only after all its chunks are, and names the content hash those chunks carry:
it is the commit. Chunks that no record names (an interrupted ingest, the old version
of a changed document) are never returned and are swept on the next write.

Connecting to Chroma is qa.chroma's; what a chunk's record holds, qa.records';
retrieving passages, qa.retrieve's; checking the index and catching its lexical index
up, qa.audit's.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qa.chroma import PAGE, connect, first_line, server_url
from qa.chunking import Chunk
from qa.documents import Document
from qa.errors import IndexNotFoundError, ModelMismatchError, StoreError
from qa.lexical import Lexical, Row
from qa.records import (
    CHUNK_KEY,
    COMPANION_KEY,
    EMBED_KEY,
    SENTENCE_KEY,
    VERSION_KEY,
    chunk_node,
    pack,
    to_passage,
)
from qa.types import DocumentInfo, Passage

# Chroma needs a vector for every record; document records are looked up by id only.
_NO_VECTOR = [1.0]


@dataclass(frozen=True)
class Pending:
    """A document on its way into the index: its chunks and sentences, with vectors."""

    doc: Document
    chunks: list[Chunk]
    vectors: list[list[float]]
    rows: list[Row]  # each chunk's `lexical.row`
    spans: list[tuple[str, int, int]]  # sentences as (chunk id, start, end)
    span_vectors: list[list[float]]
    companion_vectors: list[list[float]] | None = None  # per chunk, when the index has one


@dataclass(frozen=True)
class IndexInfo:
    embed: str
    chunk_words: int
    sentences: bool = False
    companion: str = ""  # the second model whose passage cosines join the dense score


def _flock(handle: Any, exclusive: bool) -> None:
    """Take (without waiting) or release the writer lock. Imported here: fcntl does not
    exist on Windows, where `import qa` must work all the same."""
    import fcntl

    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_UN)


class Store:
    """One index: its two collections, opened lazily, with the model that built it."""

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
        self.last_sentence_vectors: dict[tuple[str, int, int], list[float]] = {}

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

    # -- writing -------------------------------------------------------------------

    @contextmanager
    def write_lock(
        self, on_wait: Callable[[str], None] | None = None, timeout: float = 3600.0
    ) -> Iterator[None]:
        """Hold the index's writer lock: one writing process at a time on an embedded store.

        Readers never take it: Chroma lets them read while a writer commits, and the
        commit protocol above keeps what they see whole. A Chroma server serialises
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

    def write(self, batch: list[Pending]) -> None:
        """Add documents' chunks and sentences; they stay invisible until `commit`."""
        nodes = []
        extras: list[dict[str, str]] = []
        for item in batch:
            if item.companion_vectors:
                extras += [{COMPANION_KEY: pack(v)} for v in item.companion_vectors]
            else:
                extras += [{} for _ in item.chunks]
            for chunk, vector in zip(item.chunks, item.vectors, strict=True):
                nodes.append(chunk_node(item.doc, chunk, vector))
        spans = [(item.doc, span) for item in batch for span in item.spans]
        span_vectors = [v for item in batch for v in item.span_vectors]
        try:
            # Chunk ids carry the content hash, so re-adding after an interruption
            # rewrites identical records instead of duplicating them.
            self.chunks.delete(ids=[n.id_ for n in nodes])
            self._add_chunks(nodes, extras)
            if spans:
                self.sentences.upsert(
                    ids=[f"{c}@{start}" for _, (c, start, _) in spans],
                    embeddings=span_vectors,
                    metadatas=[
                        {
                            "doc_id": d.doc_id,
                            "doc_hash": d.hash,
                            "chunk_id": c,
                            "start": s,
                            "end": e,
                        }
                        for d, (c, s, e) in spans
                    ],
                )
            self.lexical.add(
                (
                    item.doc.doc_id,
                    item.doc.hash,
                    item.doc.lang,
                    item.rows,
                )
                for item in batch
            )
        except Exception as e:
            raise StoreError(
                f"Cannot write to the index at {self.where}: {first_line(e)}"
            ) from None

    def _add_chunks(self, nodes: list[Any], extras: list[dict[str, str]]) -> None:
        """Write chunks as llama-index node records, text inside the record.

        Not through ChromaVectorStore.add: it stores the text as a Chroma document too,
        which Chroma indexes for full-text search, half the cost of a write (1.3 against
        0.7 ms a chunk) for a search qa's own lexical index already does. The retriever
        reads the text back from the node record when a chunk has no document. `extras`
        are fields of each record outside the node (the companion vector): the retriever
        never reads them, and the node record stays llama-index's own.
        """
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        for i in range(0, len(nodes), PAGE):
            page = nodes[i : i + PAGE]
            self.chunks.add(
                ids=[n.id_ for n in page],
                embeddings=[n.get_embedding() for n in page],
                metadatas=[
                    {**node_to_metadata_dict(n, flat_metadata=True), **extra}
                    for n, extra in zip(page, extras[i : i + PAGE], strict=True)
                ],
            )

    def commit(self, batch: list[Pending]) -> None:
        """Make these documents' new chunks the visible ones, then sweep their old ones."""
        metas: list[Any] = [
            {
                "title": item.doc.title,
                "date": item.doc.date or "",
                "source": item.doc.source,
                "lang": item.doc.lang,
                "hash": item.doc.hash,
                "chunks": len(item.chunks),
                "extra": json.dumps(item.doc.extra, ensure_ascii=False, default=str),
            }
            for item in batch
        ]
        try:
            self.docs.upsert(
                ids=[item.doc.doc_id for item in batch],
                embeddings=[_NO_VECTOR] * len(batch),
                metadatas=metas,
            )
            hashes = {item.doc.doc_id: item.doc.hash for item in batch}
            # One sweep for the batch: an old version's chunks carry a hash none of the new
            # versions has (if one did, doctor would report them as orphans).
            stale = {
                "$and": [
                    {"doc_id": {"$in": list(hashes)}},
                    {"doc_hash": {"$nin": list(hashes.values())}},
                ]
            }
            self.chunks.delete(where=stale)
            if self.sentences is not None:
                self.sentences.delete(where=stale)
            version = self._new_version()
            self.lexical.commit(hashes.items())
            self.lexical.mark_synced(version)
        except Exception as e:
            raise StoreError(
                f"Cannot write to the index at {self.where}: {first_line(e)}"
            ) from None

    def remove(self, doc_id: str) -> bool:
        """Forget a document; False when there was none by that id."""
        if doc_id not in self.doc_records([doc_id]):
            return False
        try:
            self.delete_document(doc_id)
        except Exception as e:
            raise StoreError(
                f"Cannot write to the index at {self.where}: {first_line(e)}"
            ) from None
        return True

    def delete_document(self, doc_id: str) -> None:
        """Uncommit a document, then delete its chunks, sentences and lexical rows."""
        self.docs.delete(ids=[doc_id])  # uncommit first: no reader sees half a document
        self.chunks.delete(where={"doc_id": doc_id})
        if self.sentences is not None:
            self.sentences.delete(where={"doc_id": doc_id})
        version = self._new_version()
        self.lexical.delete([doc_id])
        self.lexical.mark_synced(version)

    def _new_version(self) -> str:
        """Mark the committed documents as changed: another machine's lexical index sees
        the version differ from the one it holds and catches up (a count would miss an
        updated document)."""
        version = uuid.uuid4().hex
        self.docs.modify(metadata={VERSION_KEY: version})
        return version

    def version(self) -> str | None:
        """The committed documents' version (`_new_version`); None before any."""
        value = (self.docs.metadata or {}).get(VERSION_KEY)
        return None if value is None else str(value)

    # -- reading -------------------------------------------------------------------

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
