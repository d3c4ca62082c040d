"""Writing to an opened `Store`: the commit protocol.

A document's record in `<name>-docs` is written only after all its chunks are, and names
the content hash those chunks carry: it is the commit. Chunks that no record names (an
interrupted ingest, the old version of a changed document) are never returned and are
swept on the next write. The caller holds `Store.write_lock`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from qa.chroma import PAGE, first_line
from qa.chunking import Chunk
from qa.documents import Document
from qa.errors import StoreError
from qa.lexical import Row
from qa.records import COMPANION_KEY, VERSION_KEY, chunk_node, pack
from qa.store import Store

# Chroma needs a vector for every record; document records are looked up by id only.
_NO_VECTOR = [1.0]
# A headline's row among the sentences: no chunk of its own, no span of the text.
TITLE_CHUNK = ""
TITLE_START = -1


def title_id(doc_id: str, doc_hash: str) -> str:
    """The id of a version of an article's headline row among the sentences."""
    return f"{doc_id}@{doc_hash}@title"


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
    # The headline's vector, kept with the sentences (start -1): a question that restates
    # a headline, or asks in another language, meets it there rather than in any one
    # sentence of the body (English headlines over French news: recall@5 0.885 → 0.994).
    title_vector: list[float] | None = None


def write(store: Store, batch: list[Pending]) -> None:
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
    for item in batch:
        if item.title_vector is not None:
            spans.append((item.doc, (TITLE_CHUNK, TITLE_START, TITLE_START)))
            span_vectors.append(item.title_vector)
    try:
        # Chunk ids carry the content hash, so re-adding after an interruption
        # rewrites identical records instead of duplicating them.
        store.chunks.delete(ids=[n.id_ for n in nodes])
        _add_chunks(store, nodes, extras)
        if spans:
            store.sentences.upsert(
                ids=[
                    f"{c}@{start}" if c else title_id(d.doc_id, d.hash)
                    for d, (c, start, _) in spans
                ],
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
        store.lexical.add(
            (
                item.doc.doc_id,
                item.doc.hash,
                item.doc.lang,
                item.rows,
            )
            for item in batch
        )
    except Exception as e:
        raise StoreError(f"Cannot write to the index at {store.where}: {first_line(e)}") from None


def _add_chunks(store: Store, nodes: list[Any], extras: list[dict[str, str]]) -> None:
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
        store.chunks.add(
            ids=[n.id_ for n in page],
            embeddings=[n.get_embedding() for n in page],
            metadatas=[
                {**node_to_metadata_dict(n, flat_metadata=True), **extra}
                for n, extra in zip(page, extras[i : i + PAGE], strict=True)
            ],
        )


def commit(store: Store, batch: list[Pending]) -> None:
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
        store.docs.upsert(
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
        store.chunks.delete(where=stale)
        if store.sentences is not None:
            store.sentences.delete(where=stale)
        version = _new_version(store)
        store.lexical.commit(hashes.items())
        store.lexical.mark_synced(version)
    except Exception as e:
        raise StoreError(f"Cannot write to the index at {store.where}: {first_line(e)}") from None


def remove(store: Store, doc_id: str) -> bool:
    """Forget a document; False when there was none by that id."""
    if doc_id not in store.doc_records([doc_id]):
        return False
    try:
        delete_document(store, doc_id)
    except Exception as e:
        raise StoreError(f"Cannot write to the index at {store.where}: {first_line(e)}") from None
    return True


def delete_document(store: Store, doc_id: str) -> None:
    """Uncommit a document, then delete its chunks, sentences and lexical rows."""
    store.docs.delete(ids=[doc_id])  # uncommit first: no reader sees half a document
    store.chunks.delete(where={"doc_id": doc_id})
    if store.sentences is not None:
        store.sentences.delete(where={"doc_id": doc_id})
    version = _new_version(store)
    store.lexical.delete([doc_id])
    store.lexical.mark_synced(version)


def _new_version(store: Store) -> str:
    """Mark the committed documents as changed: another machine's lexical index sees
    the version differ from the one it holds and catches up (a count would miss an
    updated document)."""
    version = uuid.uuid4().hex
    store.docs.modify(metadata={VERSION_KEY: version})
    return version
