"""Retrieving from an opened `Store`: the committed passages each signal ranks first
(cosine through llama-index's retriever, lexical, names across languages, best sentence,
the companion model), with those signals, for `fusion` to rank.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

from qa.audit import sync_lexical_once
from qa.chroma import first_line
from qa.commit import title_id
from qa.errors import StoreError
from qa.fusion import NAMES_WEIGHT, Candidate, fuse, sentence_signal
from qa.lexical import Hit
from qa.records import COMPANION_KEY, to_passage, unpack
from qa.store import Store
from qa.types import Filters, Passage, date_number

# Passages first retrieved by each signal (cosine, lexical), then fused.
_POOL = 40
# Sentence vectors the index holds, by (chunk id, start, end).
SentenceVectors = dict[tuple[str, int, int], list[float]]


def search(
    store: Store,
    vector: list[float],
    k: int,
    filters: Filters | None = None,
    question: str | None = None,
    lang: str | None = None,
    names_weight: float = NAMES_WEIGHT,
    companion: list[float] | None = None,
) -> tuple[list[Passage], SentenceVectors]:
    """The `k` best committed passages: by cosine (llama-index retriever), by best
    sentence, by the companion model's cosine (`companion`: the question's vector
    under it), and, given the question and its language, by lexical match; fused. And
    the vectors of their sentences, which the caller need not embed again."""
    found, vectors = candidates(
        store, vector, max(k, _POOL), filters, question, lang, names_weight > 0, companion
    )
    ranked = fuse(found, k, names_weight=names_weight)
    kept = {p.chunk_id for p in ranked}
    return ranked, {key: v for key, v in vectors.items() if key[0] in kept}


def candidates(
    store: Store,
    vector: list[float],
    depth: int,
    filters: Filters | None = None,
    question: str | None = None,
    lang: str | None = None,
    across: bool = True,
    companion: list[float] | None = None,
) -> tuple[list[Candidate], SentenceVectors]:
    """Every passage some signal ranks in its first `depth`, with all its signals; and
    the vectors of their sentences by (chunk id, start, end). Without `across`, the
    names-across-languages list is not searched (a second full-text query)."""
    filters = filters or Filters()
    store.vector_store()  # opens the index, or says there is none
    if question and lang:
        sync_lexical_once(store)
    # SQLite and Chroma's Rust core let go of the GIL while they search, so the two
    # overlap: on the whole archive, 38 ms one after the other, 27 ms side by side. The
    # pool's thread ends with the search: none is left to race the interpreter's exit
    # after a Ctrl-C (an executor starts no thread until work is submitted).
    with ThreadPoolExecutor(1, thread_name_prefix="qa-lexical") as beside:
        pending = (
            beside.submit(_lexical_hits, store, question, lang, depth, across)
            if question and lang
            else None
        )
        pool = _dense(store, vector, depth, filters)
        same, names = pending.result() if pending else ([], [])
    known = {p.chunk_id for p in pool}
    pool += _fetch(store, [h for h in same + names if h.chunk_id not in known], vector, filters)
    cosines, titles, vectors = _sentence_cosines(store, vector, pool)
    seconds = _companion_cosines(store, companion, pool) if companion is not None else {}
    lexical = {h.chunk_id: h for h in same}
    anchors = {h.chunk_id: h for h in names}
    return [
        Candidate(
            p,
            # The headline counts as one more sentence of each passage: a question that
            # restates it meets it whichever passage it asks about.
            sentence_signal(cs + [titles[p.chunk_id]] if p.chunk_id in titles else cs)
            if (cs := cosines.get(p.chunk_id))
            else None,
            lx.score if (lx := lexical.get(p.chunk_id)) else None,
            nm.score if (nm := anchors.get(p.chunk_id)) else None,
            lx.coverage if lx else 1.0,
            nm.coverage if nm else 1.0,
            max(cs) if cs else None,
            seconds.get(p.chunk_id),
        )
        for p in pool
    ], vectors


def _lexical_hits(
    store: Store, question: str, lang: str, depth: int, across: bool
) -> tuple[list[Hit], list[Hit]]:
    """Same-language hits, and names across languages when `across`."""
    try:
        same = store.lexical.same_language(question, lang, depth)
        names = store.lexical.across_languages(question, lang, depth) if across else []
    except Exception as e:
        raise StoreError(
            f"Cannot search the lexical index {store.lexical.path}: {first_line(e)}"
        ) from None
    return same, names


def _dense(store: Store, vector: list[float], wanted: int, filters: Filters) -> list[Passage]:
    """The `wanted` committed passages closest to `vector` that `filters` admit."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.schema import QueryBundle
    from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

    bounds: list[MetadataFilter | MetadataFilters] = [
        MetadataFilter(key="date_num", value=value, operator=op)
        for value, op in (
            (date_number(filters.since), FilterOperator.GTE),
            (date_number(filters.until, end=True), FilterOperator.LTE),
        )
        if value is not None
    ]
    if filters.until and not filters.since:  # unknown dates (-1) are not "before"
        bounds.append(MetadataFilter(key="date_num", value=0, operator=FilterOperator.GTE))
    where = MetadataFilters(filters=bounds) if bounds else None

    # The query vector is already computed; this embedding is never called but
    # keeps llama-index from reaching for its OpenAI default.
    index = VectorStoreIndex.from_vector_store(
        store.vector_store(), embed_model=MockEmbedding(embed_dim=1)
    )
    fetch = wanted
    while True:
        retriever = index.as_retriever(similarity_top_k=fetch, filters=where)
        try:
            found = retriever.retrieve(QueryBundle(query_str="", embedding=vector))
        except Exception as e:
            raise StoreError(f"Cannot search the index at {store.where}: {first_line(e)}") from None
        committed = store.committed_hashes({n.node.metadata["doc_id"] for n in found})
        passages = [
            to_passage(n.node.metadata, n.node.get_content(), n.node.node_id, n.score)
            for n in found
            if committed.get(n.node.metadata["doc_id"]) == n.node.metadata["doc_hash"]
            and filters.accepts(n.node.metadata["source"], n.node.metadata["title"])
        ]
        # Uncommitted chunks, or other sources, can push wanted ones out of `fetch`.
        if len(passages) >= wanted or len(found) < fetch:
            return passages[:wanted]
        fetch *= 2


def _fetch(store: Store, hits: list[Hit], vector: list[float], filters: Filters) -> list[Passage]:
    """The committed passages `filters` admit among lexical hits, with their cosines."""
    ids = list(dict.fromkeys(h.chunk_id for h in hits))
    if not ids:
        return []
    import numpy as np

    try:
        got = store.chunks.get(ids=ids, include=["metadatas", "documents", "embeddings"])
    except Exception as e:
        raise StoreError(f"Cannot search the index at {store.where}: {first_line(e)}") from None
    committed = store.committed_hashes({str(m["doc_id"]) for m in got["metadatas"]})
    query = np.asarray(vector, dtype=np.float32)
    out = []
    for chunk_id, meta, text, emb in zip(
        got["ids"], got["metadatas"], got["documents"], got["embeddings"], strict=True
    ):
        if committed.get(str(meta["doc_id"])) != meta["doc_hash"] or not filters.admits(
            int(meta.get("date_num", -1)), str(meta["source"]), str(meta["title"])
        ):
            continue
        emb = np.asarray(emb, dtype=np.float32)
        cosine = float(emb @ query / (np.linalg.norm(emb) * np.linalg.norm(query) or 1.0))
        out.append(to_passage(meta, text, chunk_id, math.exp(cosine - 1.0)))
    return out


def _companion_cosines(store: Store, vector: list[float], pool: list[Passage]) -> dict[str, float]:
    """chunk id → cosine of `vector` with the chunk's companion vector, where it has one."""
    import numpy as np

    try:
        got = store.chunks.get(ids=[p.chunk_id for p in pool], include=["metadatas"])
    except Exception as e:
        raise StoreError(f"Cannot search the index at {store.where}: {first_line(e)}") from None
    query = np.asarray(vector, np.float32)
    query /= np.linalg.norm(query) or 1.0
    out = {}
    for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
        packed = meta.get(COMPANION_KEY)
        if isinstance(packed, str):
            v = unpack(packed)
            out[chunk_id] = float(v @ query / (np.linalg.norm(v) or 1.0))
    return out


def _sentence_cosines(
    store: Store, vector: list[float], pool: list[Passage]
) -> tuple[dict[str, list[float]], dict[str, float], SentenceVectors]:
    """The cosines of each passage's sentences and of its article's headline, and the
    sentences' vectors by (chunk, span)."""
    if store.sentences is None or not pool:
        return {}, {}, {}
    import numpy as np

    query = np.asarray(vector, np.float32)
    try:
        got = store.sentences.get(
            where={"chunk_id": {"$in": [p.chunk_id for p in pool]}},
            include=["embeddings", "metadatas"],
        )
        if not got["ids"]:
            return {}, {}, {}
        # By the article's version (while an update is written, both versions' rows
        # exist), and by id: a second query on the metadata cost 10 ms a search.
        versions = {
            str(m["chunk_id"]): title_id(m["doc_id"], m["doc_hash"]) for m in got["metadatas"]
        }
        heads = store.sentences.get(ids=list(set(versions.values())), include=["embeddings"])
    except Exception as e:
        raise StoreError(f"Cannot search the index at {store.where}: {first_line(e)}") from None
    scores = np.asarray(got["embeddings"], dtype=np.float32) @ query
    cosines: dict[str, list[float]] = {}
    vectors: SentenceVectors = {}
    for meta, score, emb in zip(got["metadatas"], scores, got["embeddings"], strict=True):
        cid = str(meta["chunk_id"])
        cosines.setdefault(cid, []).append(float(score))
        vectors[(cid, int(meta["start"]), int(meta["end"]))] = [float(x) for x in emb]
    headlines = {}
    if heads["ids"]:
        cos = np.asarray(heads["embeddings"], dtype=np.float32) @ query
        headlines = dict(zip(heads["ids"], (float(c) for c in cos), strict=True))
    titles = {cid: headlines[t] for cid, t in versions.items() if t in headlines}
    return cosines, titles, vectors
