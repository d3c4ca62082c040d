"""The ingest pipeline: files → documents → chunks → embeddings → store, in batches.

Memory stays bounded by one batch of chunks whatever the size of the input, and each
document is committed only once all its chunks are stored, so an interrupted run is
finished by running it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from qa.chunking import Chunk, chunk_document
from qa.documents import Document, discover, read
from qa.embeddings import EmbeddingModel
from qa.store import MIN_SENTENCE_WORDS, Store
from qa.types import IngestFailure, IngestReport

Progress = Callable[[int, int], None]
Notice = Callable[[str], None]


def embedding_text(doc: Document, chunk: Chunk) -> str:
    """What is embedded for a chunk: the headline gives every passage its context."""
    if chunk.text.startswith(doc.title):
        return chunk.text
    return f"{doc.title}\n{chunk.text}"


def sentence_spans(doc: Document, chunks: list[Chunk]) -> list[tuple[str, int, int]]:
    """The sentences worth a vector of their own, as (chunk id, start, end)."""
    return [
        (c.chunk_id, s, e)
        for c in chunks
        for s, e in c.sentences
        if len(doc.text[s:e].split()) >= MIN_SENTENCE_WORDS
    ]


class _Batch:
    def __init__(self) -> None:
        self.items: list[tuple[Document, list[Chunk]]] = []
        self.size = 0

    def add(self, doc: Document, chunks: list[Chunk]) -> None:
        self.items.append((doc, chunks))
        self.size += len(chunks)


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    model: EmbeddingModel,
    chunk_words: int,
    batch_size: int,
    on_progress: Progress | None = None,
    on_notice: Notice | None = None,
    sentences: bool = False,
) -> IngestReport:
    """Ingest every supported file under `paths`; bad inputs become failures, not errors."""
    started = time.perf_counter()
    report = IngestReport()
    files, failures = discover(paths)
    report.failures.extend(failures)
    if not files:
        report.seconds = time.perf_counter() - started
        return report
    with store.write_lock(on_notice):
        _ingest_files(files, store, model, chunk_words, batch_size, on_progress, report, sentences)
    report.seconds = time.perf_counter() - started
    return report


def _ingest_files(
    files: list[Path],
    store: Store,
    model: EmbeddingModel,
    chunk_words: int,
    batch_size: int,
    on_progress: Progress | None,
    report: IngestReport,
    sentences: bool,
) -> None:
    # An existing index keeps the choice it was created with.
    with_sentences = store.open_for_write(model.name, chunk_words, sentences).sentences
    committed = store.committed_hashes()
    total = sum(_size(f) for f in files)
    done = 0
    seen: dict[str, str] = {}
    batch = _Batch()

    def flush() -> None:
        texts = [embedding_text(doc, c) for doc, chunks in batch.items for c in chunks]
        spans = [
            sentence_spans(doc, chunks) if with_sentences else [] for doc, chunks in batch.items
        ]
        for (doc, _), doc_spans in zip(batch.items, spans, strict=True):
            texts += [" ".join(doc.text[s:e].split()) for _, s, e in doc_spans]
        # One call for chunks and sentences: the model batches them together.
        vectors = model.passages(texts)
        offset = sum(len(chunks) for _, chunks in batch.items)
        chunk_offset = 0
        for (doc, chunks), doc_spans in zip(batch.items, spans, strict=True):
            store.write_chunks(doc, chunks, vectors[chunk_offset : chunk_offset + len(chunks)])
            chunk_offset += len(chunks)
            store.write_sentences(doc, doc_spans, vectors[offset : offset + len(doc_spans)])
            offset += len(doc_spans)
            store.commit(doc, len(chunks))
            if doc.doc_id in committed:
                report.updated += 1
            else:
                report.added += 1
            committed[doc.doc_id] = doc.hash
            report.chunks += len(chunks)
        batch.items.clear()
        batch.size = 0

    for path in files:
        for item in read(path):
            done += item.nbytes
            result = item.result
            if isinstance(result, IngestFailure):
                report.failures.append(result)
            elif isinstance(result, Document):
                where = str(result.source)
                if result.doc_id in seen:
                    report.failures.append(
                        IngestFailure(
                            where,
                            f"duplicate id {result.doc_id!r} (first at {seen[result.doc_id]})",
                        )
                    )
                    continue
                seen[result.doc_id] = where
                if committed.get(result.doc_id) == result.hash:
                    report.skipped += 1
                    continue
                chunks = chunk_document(result, chunk_words)
                if not chunks:
                    report.failures.append(IngestFailure(where, "empty: no sentences to index"))
                    continue
                batch.add(result, chunks)
                if batch.size >= batch_size:
                    flush()
            if on_progress is not None:
                on_progress(done, total)
    if batch.items:
        flush()
    if on_progress is not None:
        on_progress(total, total)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
