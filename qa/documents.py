"""Files → documents: discover inputs, read each format, describe each document.

Readers never raise for a bad input: they yield an `IngestFailure` naming the file
(and line) and go on with the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.datelines import dateline
from qa.language import detect_language
from qa.types import IngestFailure

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
_TITLE_MAX = 200
_SNIFF = 8192


@dataclass(frozen=True)
class Document:
    """An article ready to be chunked.

    `hash` is the content's: it changes whenever what a reader of the article sees does,
    and not with where the file lies, so the same article under two ids is recognised."""

    doc_id: str
    title: str
    text: str
    source: str
    lang: str
    date: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        return _digest([self.title, self.text, self.lang, self.date, self.extra])

    def legacy_hash(self, source: str) -> str:
        """The hash qa 0.1 stored for this document with `source` (it hashed where the file
        was too): an index it built stays unchanged on re-ingest."""
        return _digest([self.title, self.text, source, self.lang, self.date, self.extra])


def _digest(fields: list[Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Item:
    """What a reader yields: a document, a failure or nothing (a blank line), and its bytes."""

    result: Document | IngestFailure | None
    nbytes: int


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[IngestFailure]]:
    """Supported files under `paths` (folders recursively, symlink loops cut), sorted."""
    files: list[Path] = []
    failures: list[IngestFailure] = []
    seen_dirs: set[str] = set()
    seen_files: set[str] = set()

    def add(p: Path) -> None:
        real = os.path.realpath(p)
        if real not in seen_files:
            seen_files.add(real)
            files.append(p)

    def walk(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            failures.append(
                IngestFailure(printable_path(folder), f"cannot list folder ({e.strerror})")
            )
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            p = Path(entry.path)
            try:
                if entry.is_dir():
                    walk(p)
                elif entry.is_file() and p.suffix.lower() in SUFFIXES:
                    add(p)
            except OSError as e:
                failures.append(IngestFailure(printable_path(p), f"cannot read ({e.strerror})"))

    for p in paths:
        if p.is_dir():
            walk(p)
        elif p.is_file():
            if p.suffix.lower() in SUFFIXES:
                add(p)
            else:
                failures.append(
                    IngestFailure(
                        printable_path(p), f"unsupported file type (qa reads {', '.join(SUFFIXES)})"
                    )
                )
        else:
            failures.append(IngestFailure(printable_path(p), "no such file or folder"))
    return files, failures


def printable_path(path: Path | str) -> str:
    """A path as valid text: bytes that are not UTF-8 (kept by Python as surrogates) escaped."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def doc_id_for(path: Path) -> str:
    """The id of a file's document: where the file really is (links resolved), written
    from `~` under the home folder. The same whichever folder qa runs from and however the
    path is typed; the same on two machines that keep an archive at the same place in
    their home folders (a shared Chroma server)."""
    real = Path(os.path.realpath(path))
    try:
        home = Path(os.path.realpath(Path.home()))
        return printable_path("~/" + real.relative_to(home).as_posix())
    except (ValueError, RuntimeError):  # outside home, or no home folder known
        return printable_path(real.as_posix())


def file_of(doc_id: str) -> Path | None:
    """The file a document id names, when it names one by its full path (`doc_id_for`)."""
    if doc_id.startswith("~/"):
        return Path(os.path.expanduser(doc_id))
    return Path(doc_id) if doc_id.startswith("/") else None


def read(path: Path) -> Iterator[Item]:
    """The documents of one file (several for JSONL), or the reason it has none."""
    if path.suffix.lower() == ".jsonl":
        yield from _read_jsonl(path)
        return
    try:
        raw = path.read_bytes()
    except OSError as e:
        yield Item(IngestFailure(printable_path(path), f"cannot read ({e.strerror or e})"), 0)
        return
    size = len(raw)
    text_or_reason = _decode(raw)
    if isinstance(text_or_reason, IngestFailure):
        yield Item(IngestFailure(printable_path(path), text_or_reason.reason), size)
        return
    suffix = path.suffix.lower()
    fields: dict[str, str] = {}
    if suffix in (".html", ".htm"):
        title, text, date = _parse_html(text_or_reason)
    else:
        fields, text = _front_matter(text_or_reason)
        date = fields.get("date")
        markdown = suffix in (".md", ".markdown")
        heading = re.search(r"^#\s+(.+)$", text, re.M) if markdown else None
        text = _without_marks(text) if markdown else text
        title = fields.get("title") or (heading.group(1).strip() if heading else "")
        title = title or _first_line_title(text)
    if not text.strip():
        yield Item(IngestFailure(printable_path(path), "empty: no text to ingest"), size)
        return
    yield Item(
        _document(
            doc_id_for(path),
            title or path.stem,
            text,
            fields.get("source") or printable_path(os.path.realpath(path)),
            fields.get("lang"),
            date,
            {"url": fields["url"]} if fields.get("url") else {},
            read_dateline=True,
        ),
        size,
    )


def _decode(raw: bytes) -> str | IngestFailure:
    if b"\x00" in raw[:_SNIFF]:
        return IngestFailure("", "binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return IngestFailure("", f"not UTF-8 text (bad byte at offset {e.start})")


def _document(
    doc_id: str,
    title: str,
    text: str,
    source: str,
    lang: str | None,
    date: str | None,
    extra: dict[str, Any],
    read_dateline: bool = False,
) -> Document:
    """A document; an article file with no date of its own is dated by its dateline
    (records of a JSONL file say what they have)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lang = lang or detect_language(text)
    if not date and read_dateline:
        date = dateline(text, lang)
    return Document(
        doc_id=doc_id,
        title=" ".join(title.split())[:_TITLE_MAX],
        text=text,
        source=source,
        lang=lang,
        date=date or None,
        extra=extra,
    )


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_HEADER = re.compile(
    r"\A((?:[ \t]*(?:title|date|source|lang|url)[ \t]*:[^\n]*\n)+)(?:[ \t]*\n|\Z)", re.I
)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """The fields of a front matter block (`---` lines around `key: value` lines), which
    .md and .txt articles may open with, and the text without it. The fields a JSONL
    line has mean the same here: title, date, source, lang, url; others are ignored."""
    fields: dict[str, str] = {}
    # Without the `---` lines, a first paragraph of nothing but such lines ("Title: …",
    # "Date: …") is one too: a newcomer's .txt often opens that way.
    m = _FRONT_MATTER.match(text) or _HEADER.match(text)
    if m:
        for line in m.group(1).splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip().strip("'\"")
            if key in _FRONT_KEYS and value:
                fields[key] = value
        # Blank the front matter instead of cutting it so offsets stay those of the file.
        text = re.sub(r"[^\n]", " ", m.group(0)) + text[m.end() :]
    return fields, text


_FRONT_KEYS = ("title", "date", "source", "lang", "url")

# Markdown's marks, which are not the article's words: a heading's "#", a quote's ">",
# emphasis, a link's target and an image. A newcomer's heading was quoted as an answer,
# "# Göteborgs hamn …", hash and all.
_MARKS = re.compile(
    r"^ {0,3}(?:#{1,6}|>)[ \t]"  # a heading's or a quote's mark
    r"|\*\*|__"  # strong emphasis
    r"|!\[[^\]\n]*\]\([^)\n]*\)"  # an image
    r"|\[(?=[^\]\n]*\]\()|\](?=\()|(?<=\])\([^)\s]*\)",  # a link: its text stays
    re.M,
)


def _without_marks(markdown: str) -> str:
    """`markdown` with its marks blanked (offsets stay those of the file)."""
    return _MARKS.sub(lambda m: " " * len(m.group(0)), markdown)


def _parse_html(html: str) -> tuple[str, str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer"]):
        tag.decompose()
    title = ""
    if soup.title and soup.title.string:
        title = soup.title.string.strip()
    h1 = soup.find("h1")
    if not title and h1 is not None:
        title = h1.get_text(" ", strip=True)
    date = None
    meta = soup.find("meta", attrs={"property": "article:published_time"}) or soup.find(
        "meta", attrs={"name": "date"}
    )
    if meta is not None and meta.get("content"):
        date = str(meta["content"])
    else:
        time_tag = soup.find("time", attrs={"datetime": True})
        if time_tag is not None:
            date = str(time_tag["datetime"])
    body = soup.body or soup
    blocks = []
    for block in body.find_all(["h1", "h2", "h3", "h4", "p", "li", "blockquote", "pre", "td"]):
        if block.find(["p", "li", "blockquote"]):
            continue
        line = block.get_text(" ", strip=True)
        if line:
            blocks.append(" ".join(line.split()))
    if not blocks:
        blocks = [" ".join(body.get_text(" ", strip=True).split())]
    return title, "\n\n".join(b for b in blocks if b), date


_JSONL_KNOWN = {"id", "title", "text", "lang", "date", "url", "source"}


def _read_jsonl(path: Path) -> Iterator[Item]:
    """One document a line; streamed, so a file of any size is read in constant memory."""
    try:
        handle = path.open("rb")
    except OSError as e:
        yield Item(IngestFailure(printable_path(path), f"cannot read ({e.strerror or e})"), 0)
        return
    with handle:
        any_line = False
        for number, raw in enumerate(handle, start=1):
            size = len(raw)
            if not raw.strip():
                yield Item(None, size)
                continue
            any_line = True
            yield Item(_jsonl_line(path, number, raw), size)
        if not any_line:
            yield Item(IngestFailure(printable_path(path), "empty: no JSON lines"), 0)


def _line_id(path: Path, number: int, url: Any, title: Any) -> str:
    """The id of a JSONL line that has none, by what a feed keeps as its lines come and
    go: its url, else its title within its file, else its line number (a scraper's
    export rarely has ids; re-ingesting the file then updates each line in place)."""
    if isinstance(url, str) and url.strip():
        return url.strip()
    if isinstance(title, str) and title.strip():
        return f"{doc_id_for(path)}#{' '.join(title.split())}"
    return f"{doc_id_for(path)}:{number}"


def _jsonl_line(path: Path, number: int, raw: bytes) -> Document | IngestFailure:
    def fail(reason: str) -> IngestFailure:
        return IngestFailure(printable_path(path), reason, number)

    try:
        record = json.loads(raw)
    except UnicodeDecodeError:
        return fail("not UTF-8 text")
    except json.JSONDecodeError as e:
        return fail(f"invalid JSON ({e.msg} at column {e.colno})")
    if not isinstance(record, dict):
        return fail("not a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return fail("no 'text' field with text in it")
    doc_id = record.get("id")
    if isinstance(doc_id, (dict, list, bool)) or (doc_id is not None and not str(doc_id).strip()):
        return fail("an 'id' that is not a name (a string or a number)")
    title = record.get("title")
    if doc_id is None:
        doc_id = _line_id(path, number, record.get("url"), title)
    lang = record.get("lang")
    date = record.get("date")
    extra = {k: v for k, v in record.items() if k not in _JSONL_KNOWN}
    if record.get("url"):
        extra["url"] = record["url"]
    return _document(
        doc_id=str(doc_id),
        title=str(title) if title else _first_line_title(text),
        text=text,
        source=str(record.get("source") or f"{printable_path(path)}:{number}"),
        lang=str(lang) if isinstance(lang, str) and lang else None,
        date=str(date) if date else None,
        extra=extra,
    )
