"""Checking an opened `Store` against itself, and keeping its lexical index in step.

What `qa doctor` checks and repairs (`audit`, `repair`, `lexical_lag`, `sync_lexical`),
and what the first keyword search of a session catches up (`sync_lexical_once`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qa.chroma import PAGE, first_line
from qa.commit import delete_document
from qa.errors import StoreError
from qa.lexical import Row, row
from qa.records import chunk_text
from qa.store import Store


@dataclass(frozen=True)
class Audit:
    """What `audit` found. Orphans: chunks no committed document record names."""

    documents: int
    chunks: int
    orphan_chunks: tuple[str, ...]
    short_documents: tuple[str, ...]  # records whose chunks are missing or fewer than stated
    orphan_sentences: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return not (self.orphan_chunks or self.short_documents or self.orphan_sentences)


def sync_lexical_once(store: Store) -> None:
    """Catch the lexical index up with Chroma when their versions or document counts
    differ (indexes written before versions were kept have counts only)."""
    if store.lexical_checked:
        return
    store.lexical_checked = True
    try:
        version = store.version()
        behind = store.lexical.synced() != version or store.lexical.count() != int(
            store.docs.count()
        )
    except Exception as e:
        raise StoreError(
            f"Cannot read the lexical index {store.lexical.path}: {first_line(e)}"
        ) from None
    if behind:
        sync_lexical(store)


def lexical_lag(store: Store) -> tuple[list[str], list[str]]:
    """(documents the lexical index lacks or holds an old version of, documents it
    holds that Chroma does not)."""
    committed = store.committed_hashes()
    try:
        have = store.lexical.committed()
    except Exception as e:
        raise StoreError(
            f"Cannot read the lexical index {store.lexical.path}: {first_line(e)}"
        ) from None
    missing = [d for d, h in committed.items() if have.get(d) != h]
    return missing, [d for d in have if d not in committed]


def sync_lexical(store: Store) -> int:
    """Rebuild the lexical rows of every document whose version differs from Chroma's;
    the number of documents written or dropped."""
    version = store.version()  # read first: a change made meanwhile is caught next time
    missing, extra = lexical_lag(store)
    try:
        store.lexical.delete(extra)
        committed = store.committed_hashes(missing)
        for i in range(0, len(missing), 200):
            batch = missing[i : i + 200]
            got = store.chunks.get(
                where={"doc_id": {"$in": batch}}, include=["metadatas", "documents"]
            )
            by_doc: dict[str, list[Row]] = {}
            langs: dict[str, str] = {}
            for chunk_id, meta, text in zip(
                got["ids"], got["metadatas"], got["documents"], strict=True
            ):
                doc_id = str(meta["doc_id"])
                if committed.get(doc_id) == meta["doc_hash"]:
                    lang = langs[doc_id] = str(meta.get("lang", ""))
                    by_doc.setdefault(doc_id, []).append(
                        row(chunk_id, str(meta.get("title", "")), chunk_text(meta, text), lang)
                    )
            store.lexical.add(
                (doc_id, committed[doc_id], langs[doc_id], rows) for doc_id, rows in by_doc.items()
            )
            store.lexical.commit((doc_id, committed[doc_id]) for doc_id in by_doc)
        store.lexical.mark_synced(version)
    except StoreError:
        raise
    except Exception as e:
        raise StoreError(
            f"Cannot update the lexical index {store.lexical.path}: {first_line(e)}"
        ) from None
    return len(missing) + len(extra)


def _scan(store: Store, collection: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every record's id and metadata, page by page."""
    offset = 0
    while True:
        try:
            got = collection.get(include=["metadatas"], limit=PAGE, offset=offset)
        except Exception as e:
            raise StoreError(f"Cannot read the index at {store.where}: {first_line(e)}") from None
        yield from zip(got["ids"], got["metadatas"], strict=True)
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


def audit(store: Store) -> Audit:
    """Whether every chunk (and sentence) belongs to a committed document, and every
    document has its chunks."""
    records = store.doc_records(None)
    committed = {doc_id: str(m.get("hash", "")) for doc_id, m in records.items()}
    counts: dict[str, int] = {}
    orphans: list[str] = []
    for chunk_id, meta in _scan(store, store.chunks):
        doc_id = str(meta.get("doc_id", ""))
        if committed.get(doc_id) == meta.get("doc_hash"):
            counts[doc_id] = counts.get(doc_id, 0) + 1
        else:
            orphans.append(chunk_id)
    stray: tuple[str, ...] = ()
    if store.sentences is not None:
        stray = tuple(
            sentence_id
            for sentence_id, meta in _scan(store, store.sentences)
            if committed.get(str(meta.get("doc_id", ""))) != meta.get("doc_hash")
        )
    short = [d for d, m in records.items() if counts.get(d, 0) != int(m.get("chunks", 0))]
    return Audit(len(records), sum(counts.values()), tuple(orphans), tuple(sorted(short)), stray)


def repair(store: Store, found: Audit) -> None:
    """Delete orphan chunks and sentences; uncommit documents missing chunks (re-ingesting
    adds them)."""
    try:
        for i in range(0, len(found.orphan_chunks), PAGE):
            store.chunks.delete(ids=list(found.orphan_chunks[i : i + PAGE]))
        for i in range(0, len(found.orphan_sentences), PAGE):
            store.sentences.delete(ids=list(found.orphan_sentences[i : i + PAGE]))
        for doc_id in found.short_documents:
            delete_document(store, doc_id)
    except Exception as e:
        raise StoreError(f"Cannot write to the index at {store.where}: {first_line(e)}") from None
