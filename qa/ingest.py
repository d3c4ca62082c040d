"""The ingest pipeline: files → documents → chunks → embeddings → store, in batches.

Memory stays bounded by one batch of chunks whatever the size of the input, and each
document is committed only once all its chunks are stored, so an interrupted run is
finished by running it again.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from qa import commit
from qa.chunking import Chunk, chunk_document, headed_text
from qa.commit import Pending
from qa.documents import Document, discover, read
from qa.embeddings import EmbeddingModel, load_embedding
from qa.identity import Identity
from qa.lexical import Row, row
from qa.records import MIN_SENTENCE_WORDS
from qa.store import IndexInfo, Store
from qa.types import IngestFailure, IngestReport

Progress = Callable[[int, int], None]
_WRITE_BATCH = 512  # chunks a store write, at most (memory: one such batch of vectors)
# Inputs this big split sentences in a worker process (starting one takes ~1 s), sent
# groups of documents, a few groups ahead of the embedding.
_PARALLEL_BYTES = 4_000_000
_PARALLEL_GROUP = 32
_PARALLEL_AHEAD = 4
Notice = Callable[[str], None]


def sentence_spans(doc: Document, chunks: list[Chunk]) -> list[tuple[str, int, int]]:
    """The sentences worth a vector of their own, as (chunk id, start, end)."""
    return [
        (c.chunk_id, s, e)
        for c in chunks
        for s, e in c.sentences
        if len(doc.text[s:e].split()) >= MIN_SENTENCE_WORDS
    ]


def headline(doc: Document) -> bool:
    """Whether the document's title is a headline of its own, not its first line (a
    title qa took from the text, for want of one)."""
    title = doc.title.strip()
    return bool(title) and not " ".join(doc.text[: 2 * len(title) + 8].split()).startswith(title)


Prepared = tuple[list[Chunk], list[Row]]  # a document's chunks and their lexical rows


class _Batch:
    def __init__(self) -> None:
        self.items: list[tuple[Document, list[Chunk], list[Row]]] = []
        self.size = 0

    def add(self, doc: Document, chunks: list[Chunk], rows: list[Row]) -> None:
        self.items.append((doc, chunks, rows))
        self.size += len(chunks)


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    model: EmbeddingModel,
    layout: IndexInfo,
    batch_size: int,
    on_progress: Progress | None = None,
    on_notice: Notice | None = None,
    threads: int | None = None,
    keep_duplicates: bool = False,
) -> IngestReport:
    """Ingest every supported file under `paths`; bad inputs become failures, not errors.

    `layout` is the index to create if there is none (`model` is its `embed`); an
    existing index keeps the choices it was created with. `threads` bounds the companion
    model as it bounds `model`. An article already stored under another id is reported
    and not stored again, unless `keep_duplicates`."""
    started = time.perf_counter()
    report = IngestReport()
    files, failures = discover(paths)
    report.failures.extend(failures)
    if files and not store.exists() and not _any_document(files):
        # Nothing to store: say why, and leave no empty index behind.
        report.failures.extend(
            item.result for f in files for item in read(f) if isinstance(item.result, IngestFailure)
        )
        files = []
    if not files:
        report.seconds = time.perf_counter() - started
        return report
    with store.write_lock(on_notice):
        info = store.open_for_write(layout)
        second = load_embedding(info.companion, threads=threads) if info.companion else None
        identity = Identity(store.committed_sources(), keep_duplicates)
        _ingest_files(files, store, info, model, second, batch_size, on_progress, report, identity)
    report.seconds = time.perf_counter() - started
    return report


def _any_document(files: list[Path]) -> bool:
    return any(isinstance(item.result, Document) for f in files for item in read(f))


def _ingest_files(
    files: list[Path],
    store: Store,
    info: IndexInfo,
    model: EmbeddingModel,
    second: EmbeddingModel | None,
    batch_size: int,
    on_progress: Progress | None,
    report: IngestReport,
    identity: Identity,
) -> None:
    known = set(identity.committed)
    moves: dict[str, str] = {}  # new id → the id its file had before it moved
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
        texts = [headed_text(doc.title, c.text) for doc, chunks, _ in batch.items for c in chunks]
        spans = [
            sentence_spans(doc, chunks) if info.sentences else [] for doc, chunks, _ in batch.items
        ]
        for (doc, _, _), doc_spans in zip(batch.items, spans, strict=True):
            texts += [" ".join(doc.text[s:e].split()) for _, s, e in doc_spans]
        # A headline is a sentence of every passage of its article (`Pending.title_vector`).
        titled = [bool(info.sentences) and headline(doc) for doc, _, _ in batch.items]
        texts += [doc.title for (doc, _, _), t in zip(batch.items, titled, strict=True) if t]
        t1 = time.perf_counter()
        chunk_count = sum(len(chunks) for _, chunks, _ in batch.items)
        # One call for chunks and sentences: the model batches them together.
        vectors = model.passages(texts)
        seconds = second.passages(texts[:chunk_count]) if second else None
        t2 = time.perf_counter()
        stages["chunk"] += t1 - t0
        stages["embed"] += t2 - t1
        pending = []
        chunk_at = 0
        span_at = chunk_count
        title_at = chunk_count + sum(len(x) for x in spans)
        for (doc, chunks, rows), doc_spans, has_title in zip(
            batch.items, spans, titled, strict=True
        ):
            pending.append(
                Pending(
                    doc,
                    chunks,
                    vectors[chunk_at : chunk_at + len(chunks)],
                    rows,
                    doc_spans,
                    vectors[span_at : span_at + len(doc_spans)],
                    seconds[chunk_at : chunk_at + len(chunks)] if seconds else None,
                    vectors[title_at] if has_title else None,
                )
            )
            chunk_at += len(chunks)
            span_at += len(doc_spans)
            title_at += has_title
        waiting.extend(pending)
        batch.items.clear()
        batch.size = 0
        if sum(len(p.chunks) for p in waiting) >= max(batch_size, _WRITE_BATCH):
            write()

    # Stores are written by a second thread while this one embeds the next batch: Chroma
    # and SQLite work outside the GIL. One write in flight at most, so memory holds two
    # write batches; every write is finished before the writer lock is released.
    writer = ThreadPoolExecutor(1, thread_name_prefix="qa-write")
    writing: list[Future[None]] = []

    def settle() -> None:
        """Wait for the write in flight; the time waited counts as the write stage."""
        if writing:
            t = time.perf_counter()
            writing.pop().result()
            stages["write"] += time.perf_counter() - t

    def write() -> None:
        # Chroma pays per call (a SQLite transaction, an HNSW update): a few hundred
        # chunks a call, not one embedding batch.
        settle()
        items = list(waiting)
        waiting.clear()
        replaced = sum(p.doc.doc_id in known or p.doc.doc_id in moves for p in items)
        report.updated += replaced
        report.added += len(items) - replaced
        report.chunks += sum(len(p.chunks) for p in items)
        gone = [moves.pop(p.doc.doc_id) for p in items if p.doc.doc_id in moves]
        writing.append(writer.submit(_store, store, items, gone))

    def admit(result: Document, path: Path) -> Document | None:
        """The document to store (under the id it is stored by), or None when it is a
        repeated id, unchanged or a duplicate, each reported."""
        where = str(result.source)
        placed = identity.place(result, path)
        doc = placed.doc
        if doc.doc_id in seen:
            message = f"duplicate id {doc.doc_id!r} (first at {seen[doc.doc_id]})"
            report.failures.append(IngestFailure(where, message))
            return None
        seen[doc.doc_id] = where
        if placed.action == "unchanged":
            report.skipped += 1
            return None
        if placed.action == "duplicate":
            report.duplicates.append((where, str(placed.other)))
            return None
        if placed.action == "moved":
            moves[doc.doc_id] = str(placed.other)
        identity.record(placed)
        return doc

    def documents() -> Iterator[Document]:
        """The documents to index, in input order; failures, duplicates and unchanged
        documents are reported here and go no further."""
        nonlocal done
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
                elif isinstance(result, Document) and (doc := admit(result, path)):
                    yield doc
                if on_progress is not None:
                    on_progress(done, total)

    try:
        docs = documents()
        for doc, (chunks, rows) in _chunked(
            docs, info.chunk_words, total >= _PARALLEL_BYTES, stages
        ):
            if not chunks:
                report.failures.append(
                    IngestFailure(str(doc.source), "empty: no sentences to index")
                )
                continue
            batch.add(doc, chunks, rows)
            if batch.size >= batch_size:
                flush()
        if batch.items:
            flush()
        if waiting:
            write()
        settle()
    finally:
        writer.shutdown(wait=True)
    if on_progress is not None:
        on_progress(total, total)


def _chunked(
    docs: Iterator[Document], chunk_words: int, parallel: bool, stages: dict[str, float]
) -> Iterator[tuple[Document, Prepared]]:
    """Each document with its chunks and their lexical rows, in order.

    Sentence splitting and stemming are pure Python (pysbd, ~8 ms an article) while the
    embedding leaves part of a second core idle: for a large input a worker process
    prepares the next documents while this one embeds and writes. Seconds spent waiting
    for it count as the chunk stage.
    """
    if not parallel:
        for doc in docs:
            t = time.perf_counter()
            prepared = _prepare(doc, chunk_words)
            stages["chunk"] += time.perf_counter() - t
            yield doc, prepared
        return
    # spawn, not fork: this process already runs the threads of torch and Chroma.
    pool = ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    try:
        ahead: deque[tuple[list[Document], Future[list[Prepared]]]] = deque()
        while True:
            group = list(itertools.islice(docs, _PARALLEL_GROUP))
            if group:
                ahead.append((group, pool.submit(_prepare_all, group, chunk_words)))
            if ahead and (len(ahead) > _PARALLEL_AHEAD or not group):
                ready, future = ahead.popleft()
                t = time.perf_counter()
                chunked = future.result()
                stages["chunk"] += time.perf_counter() - t
                yield from zip(ready, chunked, strict=True)
            elif not group:
                return
    finally:
        # Waiting (for at most the group in hand) leaves no executor thread to interpreter
        # exit: Python 3.11 wakes such threads there unlocked, racing their own teardown
        # ("TypeError: 'NoneType' object cannot be interpreted as an integer" after Ctrl-C).
        pool.shutdown(wait=True, cancel_futures=True)


def _store(store: Store, items: list[Pending], gone: list[str]) -> None:
    """Write and commit `items`, then forget the old ids of the files among them that
    moved (after: an interruption leaves a duplicate for `qa doctor`, never a loss)."""
    commit.write(store, items)
    commit.commit(store, items)
    for doc_id in gone:
        commit.remove(store, doc_id)


def _start_worker(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the ingest process stops the worker itself,
    # and the user sees one line, not the worker's traceback too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The worker should take only the cycles the embedding leaves idle: the model's BLAS
    # threads wait for each other after every small product, so a worker holding one of
    # their cores stalls both (measured: 0.66-0.70 of the model alone, 0.73-0.77 niced).
    if hasattr(os, "nice"):
        os.nice(10)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    # A worker holds both ends of its task queue, so it never sees end-of-file when the
    # ingest process is killed (SIGKILL, OOM): it would wait forever, holding the
    # terminal's pipes. Orphaned, it is adopted by another process.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _prepare(doc: Document, chunk_words: int) -> Prepared:
    chunks = chunk_document(doc, chunk_words)
    return chunks, [row(c.chunk_id, doc.title, c.text, doc.lang) for c in chunks]


def _prepare_all(docs: list[Document], chunk_words: int) -> list[Prepared]:
    return [_prepare(doc, chunk_words) for doc in docs]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
