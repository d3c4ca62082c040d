"""The ingest pipeline: files → documents → chunks → embeddings → store, in batches.

Memory stays bounded by one batch of chunks whatever the size of the input, and each
document is committed only once all its chunks are stored, so an interrupted run is
finished by running it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from qa.chunking import Chunk, chunk_document, headed_text
from qa.documents import Document, discover, read
from qa.embeddings import EmbeddingModel
from qa.store import MIN_SENTENCE_WORDS, Pending, Store
from qa.types import IngestFailure, IngestReport

Progress = Callable[[int, int], None]
_WRITE_BATCH = 512  # chunks a store write, at most (memory: one such batch of vectors)
Notice = Callable[[str], None]


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

    waiting: list[Pending] = []
    stages = report.stages
    for stage in ("read", "chunk", "embed", "write"):
        stages.setdefault(stage, 0.0)

    def flush() -> None:
        t0 = time.perf_counter()
        texts = [headed_text(doc.title, c.text) for doc, chunks in batch.items for c in chunks]
        spans = [
            sentence_spans(doc, chunks) if with_sentences else [] for doc, chunks in batch.items
        ]
        for (doc, _), doc_spans in zip(batch.items, spans, strict=True):
            texts += [" ".join(doc.text[s:e].split()) for _, s, e in doc_spans]
        t1 = time.perf_counter()
        # One call for chunks and sentences: the model batches them together.
        vectors = model.passages(texts)
        t2 = time.perf_counter()
        stages["chunk"] += t1 - t0
        stages["embed"] += t2 - t1
        pending = []
        chunk_at = 0
        span_at = sum(len(chunks) for _, chunks in batch.items)
        for (doc, chunks), doc_spans in zip(batch.items, spans, strict=True):
            pending.append(
                Pending(
                    doc,
                    chunks,
                    vectors[chunk_at : chunk_at + len(chunks)],
                    doc_spans,
                    vectors[span_at : span_at + len(doc_spans)],
                )
            )
            chunk_at += len(chunks)
            span_at += len(doc_spans)
        waiting.extend(pending)
        batch.items.clear()
        batch.size = 0
        if sum(len(p.chunks) for p in waiting) >= max(batch_size, _WRITE_BATCH):
            write()

    def write() -> None:
        # Chroma pays per call (a SQLite transaction, an HNSW update): a few hundred
        # chunks a call, not one embedding batch.
        t = time.perf_counter()
        store.write(waiting)
        store.commit(waiting)
        replaced = sum(p.doc.doc_id in committed for p in waiting)
        report.updated += replaced
        report.added += len(waiting) - replaced
        report.chunks += sum(len(p.chunks) for p in waiting)
        committed.update((p.doc.doc_id, p.doc.hash) for p in waiting)
        waiting.clear()
        stages["write"] += time.perf_counter() - t

    for path in files:
        items = read(path)
        while True:
            t = time.perf_counter()
            item = next(items, None)
            stages["read"] += time.perf_counter() - t
            if item is None:
                break
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
                t = time.perf_counter()
                chunks = chunk_document(result, chunk_words)
                stages["chunk"] += time.perf_counter() - t
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
    if waiting:
        write()
    if on_progress is not None:
        on_progress(total, total)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
