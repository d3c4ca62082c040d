"""How qa keeps a chunk in a Chroma record, and reads a passage back from one.

A chunk is a llama-index node record (its text inside; `chunk_node`), with the document's
fields as metadata. An index built with a companion model (USE-m3 beside e5) keeps each
chunk's companion vector in the chunk's Chroma record, as int8 in base64: the companion
only rescores passages already retrieved, so it needs no vector index of its own, and it
follows its chunk through every write, sweep and server without bookkeeping.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from qa.chunking import Chunk
from qa.documents import Document
from qa.types import Passage, date_number

EMBED_KEY = "qa_embed"
CHUNK_KEY = "qa_chunk_words"
SENTENCE_KEY = "qa_sentences"
VERSION_KEY = "qa_version"  # the documents collection's: a new one at every change
COMPANION_KEY = "qa_companion"  # the collection's companion model; in a chunk, its vector
# Sentences shorter than this (bylines, "Essai nucléaire") carry no answer of their own.
MIN_SENTENCE_WORDS = 4
_HIDDEN = ["doc_hash", "position", "sentences", "source", "date", "date_num", "lang", "doc_id"]


def chunk_node(doc: Document, chunk: Chunk, vector: list[float]) -> Any:
    """A chunk as the llama-index node record it is stored as."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    metadata = {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "date": doc.date or "",
        # Chroma compares numbers only: dates filter as YYYYMMDD, -1 when unknown.
        "date_num": date_number(doc.date) or -1,
        "source": doc.source,
        "lang": doc.lang,
        "doc_hash": doc.hash,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(chunk.sentences),
    }
    return TextNode(
        id_=chunk.chunk_id,
        text=chunk.text,
        metadata=metadata,
        embedding=vector,
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        excluded_embed_metadata_keys=_HIDDEN + ["start", "end"],
        excluded_llm_metadata_keys=_HIDDEN + ["start", "end"],
        # llama-index files the source document's id under "doc_id" in Chroma.
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc.doc_id)},
    )


def chunk_text(meta: dict[str, Any], document: str | None) -> str:
    """A chunk's text: its Chroma document in indexes written before `commit._add_chunks`,
    else the text of its llama-index node record."""
    if document is not None:
        return document
    return str(json.loads(str(meta.get("_node_content") or "{}")).get("text", ""))


def pack(vector: list[float]) -> str:
    """A companion vector as stored: int8 in base64 (cosines cannot tell it from float32:
    recall on XQuAD was the same to the question)."""
    import numpy as np

    v = np.asarray(vector, np.float32)
    scaled = v * (127.0 / (float(np.abs(v).max()) or 1.0))
    return base64.b64encode(np.round(scaled).astype(np.int8).tobytes()).decode("ascii")


def unpack(packed: str) -> Any:
    import numpy as np

    return np.frombuffer(base64.b64decode(packed), np.int8).astype(np.float32)


def to_passage(
    meta: dict[str, Any], text: str | None, chunk_id: str, score: float | None
) -> Passage:
    # ChromaVectorStore reports exp(-distance); with cosine space that is exp(cos - 1).
    cosine = 1.0 + math.log(score) if score else 0.0
    return Passage(
        doc_id=str(meta["doc_id"]),
        chunk_id=chunk_id,
        title=str(meta.get("title", "")),
        date=str(meta.get("date")) or None,
        source=str(meta.get("source", "")),
        lang=str(meta.get("lang", "")),
        text=chunk_text(meta, text),
        start=int(meta["start"]),
        end=int(meta["end"]),
        score=round(cosine, 4),
        sentences=tuple((int(s), int(e)) for s, e in json.loads(str(meta.get("sentences", "[]")))),
    )
