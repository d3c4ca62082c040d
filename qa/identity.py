"""Documents → stored documents: which document of the index a document just read is.

A file's id is where the file lies (`documents.doc_id_for`), so ingesting a folder from
anywhere finds the same ids. The same content under another id is a duplicate (reported,
not stored twice) or, when the other id's file is gone, the same file moved. Indexes
written by qa 0.1 keyed files by their path from the working folder of the time; those
ids are recognised by their tail, and their documents are kept, unchanged or updated in
place, under the id they have.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Literal

from qa.documents import SUFFIXES, Document, file_of

Action = Literal["new", "unchanged", "update", "moved", "duplicate"]


@dataclass(frozen=True)
class Placement:
    """What to do with a document read: `doc` carries the id it is stored under; `other`
    is the moved file's old id, or the id of the document a duplicate repeats."""

    doc: Document
    action: Action
    other: str | None = None


class Identity:
    """The ids and content hashes of the index, kept current as an ingest goes."""

    def __init__(self, committed: dict[str, tuple[str, str]], keep_duplicates: bool = False):
        """`committed`: doc id → (content hash, source) of the documents in the index."""
        self.committed = {doc_id: digest for doc_id, (digest, _) in committed.items()}
        self._sources = {doc_id: source for doc_id, (_, source) in committed.items()}
        self.keep_duplicates = keep_duplicates
        self._by_hash: dict[str, str] = {}
        for doc_id in sorted(self.committed):
            self._by_hash.setdefault(self.committed[doc_id], doc_id)
        # Ids of files that are not in today's form, by file name: qa 0.1's.
        self._legacy: dict[str, list[str]] = {}
        for doc_id in committed:
            if _names_file(doc_id) and not doc_id.startswith("~/"):
                self._legacy.setdefault(PurePosixPath(doc_id).name, []).append(doc_id)

    def place(self, doc: Document, path: Path) -> Placement:
        """Where `doc`, read from `path`, belongs."""
        from_file = path.suffix.lower() != ".jsonl"
        if from_file:
            doc = self._known_as(doc)
        stored = self.committed.get(doc.doc_id)
        if stored is not None:
            # qa 0.1 hashed the source in: its documents compare with the source it stored.
            legacy = doc.legacy_hash(self._sources.get(doc.doc_id, ""))
            if stored in (doc.hash, legacy):
                return Placement(doc, "unchanged")
            return Placement(doc, "update")
        other = self._by_hash.get(doc.hash)
        if other is None or other == doc.doc_id:
            return Placement(doc, "new")
        gone = file_of(other)
        if from_file and _names_file(other) and gone is not None and not gone.exists():
            return Placement(doc, "moved", other)
        if self.keep_duplicates:
            return Placement(doc, "new")
        return Placement(doc, "duplicate", other)

    def record(self, placement: Placement) -> None:
        """Count `placement` as stored, for the documents that follow it."""
        doc = placement.doc
        if placement.action == "moved" and placement.other is not None:
            self.committed.pop(placement.other, None)
            self._by_hash[doc.hash] = doc.doc_id
        self.committed[doc.doc_id] = doc.hash
        self._by_hash.setdefault(doc.hash, doc.doc_id)

    def _known_as(self, doc: Document) -> Document:
        """`doc` under the qa 0.1 id that names its file, when the index has one."""
        if doc.doc_id in self.committed:
            return doc
        here = file_of(doc.doc_id)
        if here is None:
            return doc
        real = os.path.realpath(here)
        for old in self._legacy.get(here.name, ()):
            if old.startswith("/"):
                same = os.path.realpath(old) == real
            else:
                same = real.endswith("/" + old)
            if same:
                return replace(doc, doc_id=old)
        return doc


def duplicate_groups(committed: dict[str, str]) -> list[list[str]]:
    """Ids sharing one content hash, in groups of two or more; each group starts with the
    one to keep: a file that is still there, in today's id form, then the shortest id (a
    copy's name is usually the longer: "a (1).md", "a-copy.md")."""
    by_hash: dict[str, list[str]] = {}
    for doc_id, digest in committed.items():
        by_hash.setdefault(digest, []).append(doc_id)

    def rank(doc_id: str) -> tuple[bool, bool, int, str]:
        file = file_of(doc_id)
        there = file is not None and file.exists()
        return (not there, file is None or not doc_id.startswith(("~/", "/")), len(doc_id), doc_id)

    return [sorted(ids, key=rank) for ids in by_hash.values() if len(ids) > 1]


def _names_file(doc_id: str) -> bool:
    return PurePosixPath(doc_id).suffix.lower() in SUFFIXES
