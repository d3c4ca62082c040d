"""Chunks → a lexical (BM25) index beside the vectors; questions → lexical matches.

One SQLite FTS5 file per index. Each chunk is indexed twice: as stems in its own
language, matched only by questions in that language, and as plain accent-free words,
matched across languages by a question's names and numbers only. A common word shared by
two languages ("die", "son", "a") is noise across them; a name or a number is not.

It is derived data: rows carry the document's content hash like the Chroma chunks do,
a document counts once its commit is recorded here too, and `qa.audit` rebuilds what is
missing from the chunks Chroma holds (an index made before this file existed, another
machine writing to the same Chroma server, a crash between the two commits).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.chunking import headed_text

_STEMMERS = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "pt": "portuguese",
}
_WORD = re.compile(r"\w+")
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# A term in more than this share of the chunks is a function word of some language: it
# ranks nothing and makes the query scan most of the index.
_COMMON = 0.15
# How far past `k` BM25 hits a search looks for `k` on the wanted side of the language
# line (the names of a question over a one-language archive find none there).
_LOOKAHEAD = 16
# Question words capitalised only because they start the question.
_NOT_NAMES = re.compile(r"^\W*\w+")


@functools.cache
def _stemmer(lang: str) -> Any:
    """Snowball's stemmer for `lang` (PyStemmer, the algorithms' own C code: importing
    NLTK's took a second of every command, its package pulling in scipy)."""
    name = _STEMMERS.get(lang)
    if name is None:
        return None
    import Stemmer

    return Stemmer.Stemmer(name)


@functools.cache
def _stopwords(lang: str) -> frozenset[str]:
    """NLTK's stop words for `lang`, as llama-index bundles them (none if unknown)."""
    name = _STEMMERS.get(lang)
    if name is None:
        return frozenset()
    # Found, not imported: importing llama_index.core costs most of a second.
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations)))
    try:
        return frozenset(
            (path / "_static/nltk_cache/corpora/stopwords" / name).read_text("utf-8").split()
        )
    except OSError:
        return frozenset()


@functools.lru_cache(maxsize=200_000)
def _stem(word: str, lang: str) -> str:
    stemmer = _stemmer(lang)
    return stemmer.stemWord(word) if stemmer is not None else word


def stems(text: str, lang: str) -> list[str]:
    """The words of `text` that carry meaning, lowercased and stemmed for `lang`.

    Function words go: in a French archive with a few English articles, "the" is rare
    and would otherwise tie every English question to those few.
    """
    stop = _stopwords(lang)
    return [_stem(w, lang) for w in _WORD.findall(text.lower()) if w not in stop]


def terms(text: str, lang: str) -> str:
    """A chunk's text as the lexical index stores it: its stems, space-separated."""
    return " ".join(stems(text, lang))


Row = tuple[str, str, str]  # (chunk id, text, `terms` of the text)


def row(chunk_id: str, title: str, text: str, lang: str) -> Row:
    """A chunk as the lexical index holds it: under its headline, as the embedding model
    reads it, so a headline's words find every passage of its article."""
    headed = headed_text(title, text)
    return chunk_id, headed, terms(headed, lang)


def anchors(question: str) -> list[str]:
    """The words of a question that mean the same in any language: numbers and names
    (capitalised words other than the first, unless the question's other words are in a
    script without capitals: "Tessivault 해킹 사건 최근 소식 있어?"). A Latin name inside
    Chinese or Japanese writing is a word of its own ("Velloque受贿案")."""
    body = _NOT_NAMES.sub("", question, count=1)
    lead = [r for w in _WORD.findall(question[: len(question) - len(body)]) for r in runs(w)]
    words = lead[1:] + [r for w in _WORD.findall(body) for r in runs(w)]
    found = [w for w in words if w[0].isupper() or any(c.isdigit() for c in w)]
    caseless = bool(words) and not any(_cased(w) and not w[0].isupper() for w in words)
    if lead and (
        len(lead[0]) > 1
        and (lead[0].isupper() or caseless and lead[0][0].isupper())
        or any(c.isdigit() for c in lead[0])
    ):
        found.insert(0, lead[0])  # "NASA", "1998"
    return list(dict.fromkeys(w.lower() for w in found))


def lead_name(question: str) -> str | None:
    """The question's first word when it is capitalised (lower-cased): a name or not,
    which only the archive can tell ("Velloque corruption trial: any update?")."""
    lead = [r for w in _WORD.findall(question)[:1] for r in runs(w)][:1]
    return lead[0].lower() if lead and lead[0][0].isupper() and len(lead[0]) > 1 else None


def runs(word: str) -> list[str]:
    """`word` cut where letters with capitals meet letters without ("AmbroskとNyvaroの"
    → Ambrosk, と, Nyvaro, の): Chinese and Japanese put no space around a Latin name."""
    out, start = [], 0
    for i in range(1, len(word)):
        a, b = word[i - 1], word[i]
        if not (a.isdigit() or b.isdigit()) and _cased(a) != _cased(b):
            out.append(word[start:i])
            start = i
    out.append(word[start:])
    return out


def _cased(word: str) -> bool:
    return any(c.lower() != c.upper() for c in word)


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    doc_hash: str
    score: float  # BM25, higher is better
    # Share of the query's weight (inverse document frequency) the chunk matches: BM25
    # ranks a chunk first even when it shares one minor word with the question.
    coverage: float = 1.0


# 1: `rows` locates a document's rows; 2: stems by PyStemmer.
_VERSION = 2
_SCHEMA = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5(
        stems, words, chunk_id UNINDEXED, doc_id UNINDEXED, doc_hash UNINDEXED,
        lang UNINDEXED, tokenize = "unicode61 remove_diacritics 2")""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5vocab(chunks, 'col')",
    "CREATE TABLE IF NOT EXISTS docs(doc_id TEXT PRIMARY KEY, doc_hash TEXT)",
    "CREATE TABLE IF NOT EXISTS rows(doc_id TEXT, doc_hash TEXT, row INTEGER)",
    "CREATE INDEX IF NOT EXISTS rows_of_doc ON rows(doc_id, doc_hash)",
    # The version of the vector store's documents these rows are in step with.
    "CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT)",
)


class Lexical:
    """The FTS5 file of one index."""

    def __init__(self, path: Path, timeout: float = 30.0):
        self.path = path
        self._timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._chunks: int | None = None  # row count, cached between writes

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Ingest writes from its writer thread; one thread at a time uses it.
            db = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            # A lost last commit after a power cut is caught up from Chroma (see above).
            db.execute("PRAGMA synchronous=NORMAL")
            # FTS5 cannot index its UNINDEXED columns: finding a document's rows there
            # scans every chunk, which made each write cost as much as the index is big.
            # `rows` locates them; files made before it existed gain it from their rows.
            with _transaction(db):
                for statement in _SCHEMA:
                    db.execute(statement)
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version < 1:
                    db.execute("DELETE FROM rows")
                    db.execute("INSERT INTO rows SELECT doc_id, doc_hash, rowid FROM chunks")
                if version < 2:
                    # Files made with NLTK's stemmers: Snowball's current algorithms
                    # stem 0-3% of words otherwise; the stems are made again from the
                    # words each row keeps, so questions and chunks agree.
                    restemmed = [
                        (terms(words, lang), rowid)
                        for rowid, words, lang in db.execute(
                            "SELECT rowid, words, lang FROM chunks"
                        ).fetchall()
                    ]
                    db.executemany("UPDATE chunks SET stems = ? WHERE rowid = ?", restemmed)
                db.execute(f"PRAGMA user_version = {_VERSION}")
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- writing -------------------------------------------------------------------

    def add(self, docs: Iterable[tuple[str, str, str, list[Row]]]) -> None:
        """Index versions of documents, each (doc id, hash, language, rows); invisible
        until `commit`."""
        db = self._conn()
        self._chunks = None
        with _transaction(db):
            for doc_id, doc_hash, lang, chunks in docs:
                # Rows of this very version exist only if an interrupted run wrote them.
                self._drop(db, doc_id, "AND doc_hash = ?", doc_hash)
                for chunk_id, text, stemmed in chunks:
                    row = db.execute(
                        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            stemmed,
                            text.lower(),
                            chunk_id,
                            doc_id,
                            doc_hash,
                            lang,
                        ),
                    ).lastrowid
                    db.execute("INSERT INTO rows VALUES (?, ?, ?)", (doc_id, doc_hash, row))

    def commit(self, docs: Iterable[tuple[str, str]]) -> None:
        """Make these versions, (doc id, hash), the visible ones and drop the others."""
        db = self._conn()
        self._chunks = None
        with _transaction(db):
            for doc_id, doc_hash in docs:
                self._drop(db, doc_id, "AND doc_hash != ?", doc_hash)
                db.execute("INSERT OR REPLACE INTO docs VALUES (?, ?)", (doc_id, doc_hash))

    def delete(self, doc_ids: Iterable[str]) -> None:
        db = self._conn()
        self._chunks = None
        with _transaction(db):
            for doc_id in doc_ids:
                db.execute("DELETE FROM docs WHERE doc_id = ?", (doc_id,))
                self._drop(db, doc_id)

    @staticmethod
    def _drop(db: sqlite3.Connection, doc_id: str, version: str = "", *values: str) -> None:
        """Delete a document's rows; `version` narrows them by hash ("AND doc_hash = ?")."""
        where, args = f"doc_id = ? {version}", (doc_id, *values)
        db.execute(f"DELETE FROM chunks WHERE rowid IN (SELECT row FROM rows WHERE {where})", args)
        db.execute(f"DELETE FROM rows WHERE {where}", args)

    # -- reading -------------------------------------------------------------------

    def committed(self) -> dict[str, str]:
        """doc id → content hash of every document whose rows are committed here."""
        return dict(self._conn().execute("SELECT doc_id, doc_hash FROM docs").fetchall())

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM docs").fetchone()[0])

    def synced(self) -> str | None:
        """The store version these rows were last brought in step with (`mark_synced`)."""
        got = self._conn().execute("SELECT value FROM state WHERE key = 'synced'").fetchone()
        return str(got[0]) if got else None

    def mark_synced(self, version: str | None) -> None:
        if version is not None:
            with _transaction(db := self._conn()):
                db.execute("INSERT OR REPLACE INTO state VALUES ('synced', ?)", (version,))

    def _total(self) -> int:
        if self._chunks is None:
            self._chunks = int(self._conn().execute("SELECT count(*) FROM chunks").fetchone()[0])
        return self._chunks

    def _weights(self, terms: list[str], column: str) -> dict[str, float]:
        """Folded term → inverse document frequency, for the terms rare enough to rank
        anything (FTS5 counts them for us); terms in no chunk weigh nothing."""
        total = self._total()
        if not total or not terms:
            return {}
        folded = {fold(t) for t in terms}
        marks = ",".join("?" * len(folded))
        df = dict(
            self._conn()
            .execute(
                f"SELECT term, doc FROM terms WHERE col = ? AND term IN ({marks})",
                [column, *folded],
            )
            .fetchall()
        )
        return {
            t: math.log(1 + total / n)
            for t in folded
            if 0 < (n := df.get(t, 0)) <= max(1, _COMMON * total)
        }

    def _match(self, column: str, terms: list[str], lang: str, same: bool, k: int) -> list[Hit]:
        weights = self._weights(terms, column)
        if not weights:
            return []
        query = f"{column} : (" + " OR ".join(_quote(t) for t in weights) + ")"
        # The language is tested here, not in SQL: a test on an UNINDEXED column reads
        # every matching row (58 ms against 19 on 120,000 chunks). Rows of the wrong side
        # push wanted ones out of the first `limit`, so it grows, within bounds.
        rows: list[Any] = []
        limit = k
        while limit <= k * _LOOKAHEAD:
            found = (
                self._conn()
                .execute(
                    f"SELECT chunk_id, doc_id, doc_hash, bm25(chunks), {column}, lang "
                    "FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks) LIMIT ?",
                    (query, limit),
                )
                .fetchall()
            )
            rows = [r for r in found if (r[5] == lang) == same][:k]
            if len(rows) == k or len(found) < limit:
                break
            limit *= 4
        total = sum(weights.values())
        hits = []
        for chunk_id, doc_id, doc_hash, score, text, _ in rows:
            words = set(fold(text).split()) if column == "stems" else set(_WORD.findall(fold(text)))
            share = sum(w for t, w in weights.items() if t in words) / total
            hits.append(Hit(chunk_id, doc_id, doc_hash, -float(score), round(share, 4)))
        return hits

    def same_language(self, question: str, lang: str, k: int) -> list[Hit]:
        """Chunks in the question's language, by BM25 of its stems."""
        return self._match("stems", list(dict.fromkeys(stems(question, lang))), lang, True, k)

    def across_languages(self, question: str, lang: str, k: int) -> list[Hit]:
        """Chunks in other languages, by BM25 of the question's names and numbers."""
        return self._match("words", anchors(question), lang, False, k)


def fold(term: str) -> str:
    """A term as FTS5's unicode61 tokenizer stores it (lowercase, accents removed)."""
    # One regex pass, not a test per character: hits' whole texts are folded per search.
    return _MARKS.sub("", unicodedata.normalize("NFD", term.lower()))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class _transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error (the connection is in autocommit)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")
