from __future__ import annotations

import json
import os
import re
from pathlib import Path

from qa.documents import Document, discover, doc_id_for, read
from qa.types import IngestFailure


def results(path: Path) -> list[Document | IngestFailure]:
    return [item.result for item in read(path) if item.result is not None]


def test_txt_title_is_first_line_and_id_is_the_files_path(isolated: Path) -> None:
    p = isolated / "a.txt"
    p.write_text("Le titre\n\nLe corps de l’article. Une autre phrase.", encoding="utf-8")
    (doc,) = results(p)
    assert isinstance(doc, Document)
    assert (doc.doc_id, doc.title, doc.lang) == (p.resolve().as_posix(), "Le titre", "fr")
    assert doc.source == doc.doc_id  # /open finds it from any working folder
    assert doc.text.startswith("Le titre")


def test_markdown_front_matter_gives_date_and_keeps_offsets(isolated: Path) -> None:
    p = isolated / "n.md"
    src = "---\ndate: 2023-09-05\n---\n# Kim à Moscou\n\nLe train blindé arrive demain."
    p.write_text(src, encoding="utf-8")
    (doc,) = results(p)
    assert isinstance(doc, Document)
    assert (doc.title, doc.date) == ("Kim à Moscou", "2023-09-05")
    assert len(doc.text) == len(src) and doc.text.endswith("arrive demain.")


def test_a_txt_article_can_carry_its_title_and_date_in_front_matter(isolated: Path) -> None:
    p = isolated / "budget.txt"
    src = "---\ntitle: Lyon adopte son budget\ndate: 2026-11-03\n---\nLa ville dépensera plus."
    p.write_text(src, encoding="utf-8")
    (doc,) = results(p)
    assert isinstance(doc, Document)
    assert (doc.title, doc.date) == ("Lyon adopte son budget", "2026-11-03")
    assert len(doc.text) == len(src) and doc.text.strip() == "La ville dépensera plus."
    # Without a block, the first line is still the title and there is no date.
    (plain,) = results(_write(isolated / "plain.txt", "Un titre\n\nLe texte."))
    assert isinstance(plain, Document) and (plain.title, plain.date) == ("Un titre", None)


def test_a_first_paragraph_of_header_lines_is_front_matter_without_its_dashes(
    isolated: Path,
) -> None:
    # Seen in a newcomer's trial: "title: Nowy most…" became the article's title, and
    # its header lines part of the text.
    src = "Title: Nowy most otwarty\ndate: 2026-11-20\nLang: pl\n\nMost ma 412 metrów."
    (doc,) = results(_write(isolated / "most.txt", src))
    assert isinstance(doc, Document)
    assert (doc.title, doc.date, doc.lang) == ("Nowy most otwarty", "2026-11-20", "pl")
    assert len(doc.text) == len(src) and doc.text.strip() == "Most ma 412 metrów."
    # A paragraph that only starts with such a line is text.
    (text,) = results(_write(isolated / "t.txt", "Source: the mayor said so.\nIt opens.\n"))
    assert isinstance(text, Document) and text.text.startswith("Source: the mayor")


def test_an_article_without_a_date_of_its_own_is_dated_by_its_dateline(isolated: Path) -> None:
    # Seen in a newcomer's trial: a Polish .txt on a bridge reopening had no date, so
    # "the latest on the bridge" cited the older Portuguese article.
    polish = "Kładka znów otwarta\n\nPORTO, 20 listopada 2026 r. Piesza kładka została otwarta."
    (doc,) = results(_write(isolated / "most.txt", polish))
    assert isinstance(doc, Document) and doc.date == "2026-11-20"
    page = "<html><body><h1>Heat</h1><p>SEVILLE, July 14, 2026 – Work banned.</p></body></html>"
    (html,) = results(_write(isolated / "heat.html", page))
    assert isinstance(html, Document) and html.date == "2026-07-14"
    # Front matter wins; a date further on is what the article is about.
    dated = "---\ndate: 2026-12-01\n---\nLONDON, 3 March 2026 – Text."
    (front,) = results(_write(isolated / "front.md", dated))
    assert isinstance(front, Document) and front.date == "2026-12-01"
    late = "Title\n\n" + "A sentence of the article. " * 20 + "It opened on 4 May 2025."
    (undated,) = results(_write(isolated / "late.txt", late))
    assert isinstance(undated, Document) and undated.date is None


def test_a_dateline_is_read_in_many_languages_and_scripts() -> None:
    from qa.datelines import dateline

    assert dateline("ZAGREB, 20. listopada 2026. Most", "hr") == "2026-10-20"  # October
    assert dateline("PRAHA 20. listopadu 2026", "cs") == "2026-11-20"
    assert dateline("SEVILLA, 22 de julio de 2026. El", "es") == "2026-07-22"
    assert dateline("Berlin, 4. März 2026. Die", "de") == "2026-03-04"
    assert dateline("ΑΘΗΝΑ, 12 Νοεμβρίου 2026. Η", "el") == "2026-11-12"
    assert dateline("МОРВЕННИ, 2 апреля 2026 года.", "ru") == "2026-04-02"
    assert dateline("北方新聞 2026年11月15日 英国北部", "ja") == "2026-11-15"
    assert dateline("BUDAPEST, 2026. november 20. A", "hu") == "2026-11-20"
    assert dateline("İSTANBUL, 18 Kasım 2026 –", "tr") == "2026-11-18"
    assert dateline("20.11.2026 Porto", "pt") == "2026-11-20"
    # Abbreviated months, as agencies write them.
    assert dateline("OAKRIDGE, Nov. 24, 2026 — The", "en") == "2026-11-24"
    assert dateline("WASHINGTON, Sept. 3, 2026 (AP)", "en") == "2026-09-03"
    assert dateline("PARIS, 3 janv. 2026 -", "fr") == "2026-01-03"
    assert dateline("Berlin, 24. Okt. 2026", "de") == "2026-10-24"
    assert dateline("LYON, 3 jui. 2026", "fr") is None  # juin or juillet
    # Another language's abbreviation is no month: Norwegian "des." is not French "dès".
    assert dateline("PARIS — La zone sera étendue aux Crit'Air 3 dès 2022.", "fr") is None
    assert dateline("Es gibt 12 Kandidaten 2026", "de") is None
    assert dateline("Not a day: 31 February 2026", "en") is None


def test_an_answer_writes_a_date_its_source_gives_as_its_language_does() -> None:
    from qa.datelines import dates_as_written as written

    # Seen in a Polish answer over an English article, and a Portuguese one over Spanish.
    english = "The heat peaked on July 14, 2026 at 46 degrees."
    assert written("Upał osiągnął szczyt July 14, 2026.", "pl", english) == (
        "Upał osiągnął szczyt 14 lipca 2026."
    )
    spanish = "SEVILLA, 22 de julio de 2026. El ayuntamiento levanta la prohibición."
    assert written("A proibição caiu a 22 de julio de 2026.", "pt", spanish, "es") == (
        "A proibição caiu a 22 de julho de 2026."
    )
    assert written("Am 22 de julio de 2026 fiel das Verbot.", "de", spanish, "es") == (
        "Am 22. Juli 2026 fiel das Verbot."
    )
    # Already the language's own, a date the source does not give (a figure is never
    # turned into another), or a language without a table: as written.
    assert written("Le 22 juillet 2026, rien.", "fr", spanish, "es") == "Le 22 juillet 2026, rien."
    assert written("Upał July 15, 2026.", "pl", english) == "Upał July 15, 2026."
    assert written("July 14, 2026 ရက်", "my", english) == "July 14, 2026 ရက်"


def test_an_answer_drops_the_dateline_it_copied_from_its_source() -> None:
    from qa.datelines import without_dateline

    source = "VELMORA, 18 november 2026 – De nieuwe tramlijn 4 gaat op 12 januari open."
    copied = "VELMORA, November 18, 2026 – The new tram line 4 opens on 12 January."
    assert without_dateline(copied, source) == "The new tram line 4 opens on 12 January."
    assert without_dateline("HARLOW BAY – Two paintings were stolen.", "HARLOW BAY – Two") == (
        "Two paintings were stolen."
    )
    # Capitals the source does not write, or a dash inside a sentence: as written.
    assert without_dateline("BERLIN – Die Stadt wächst.", source) == "BERLIN – Die Stadt wächst."
    assert without_dateline("NASA – the agency said so.", "NASA – the") == (
        "NASA – the agency said so."
    )
    assert without_dateline("Kim – a leader – met Putin.", "Kim") == "Kim – a leader – met Putin."


def test_front_matter_carries_the_fields_a_jsonl_line_does(isolated: Path) -> None:
    # A newcomer wrote "source: Ostsee-Kurier" and saw the file's path as the source.
    src = (
        "---\ntitle: Hafen Rostock erweitert\nsource: Ostsee-Kurier\nlang: de\n"
        "url: https://example.org/hafen\nlayout: post\n---\nDer Hafen baut aus."
    )
    (doc,) = results(_write(isolated / "hafen.md", src))
    assert isinstance(doc, Document)
    assert (doc.title, doc.source, doc.lang) == ("Hafen Rostock erweitert", "Ostsee-Kurier", "de")
    assert doc.extra == {"url": "https://example.org/hafen"}  # "layout" is not an article's


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_html_keeps_visible_text_only(isolated: Path) -> None:
    p = isolated / "page.html"
    p.write_text(
        "<html><head><title>Le sommet</title><style>p{color:red}</style>"
        '<meta property="article:published_time" content="2023-09-13"></head>'
        "<body><nav>Accueil</nav><h1>Sommet à Vostotchny</h1>"
        "<p>Kim et Poutine se sont rencontrés.</p><script>alert(1)</script></body></html>",
        encoding="utf-8",
    )
    (doc,) = results(p)
    assert isinstance(doc, Document)
    assert doc.title == "Le sommet" and doc.date == "2023-09-13"
    assert "Kim et Poutine se sont rencontrés." in doc.text
    assert "alert" not in doc.text and "color" not in doc.text and "Accueil" not in doc.text


def test_jsonl_lines_become_documents_and_bad_lines_failures(isolated: Path) -> None:
    p = isolated / "arch.jsonl"
    lines = [
        json.dumps(
            {
                "id": "a1",
                "title": "Un",
                "text": "Premier article.",
                "date": "2020-01-02",
                "section": "monde",
            }
        ),
        "{not json",
        json.dumps({"id": "a2", "title": "Deux"}),
        "",
        json.dumps({"id": "a3", "text": "Troisième article sans titre.", "lang": "fr"}),
        json.dumps(["a", "list"]),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = results(p)
    docs = [r for r in out if isinstance(r, Document)]
    fails = [r for r in out if isinstance(r, IngestFailure)]
    assert [d.doc_id for d in docs] == ["a1", "a3"]
    assert docs[0].extra == {"section": "monde"} and docs[0].date == "2020-01-02"
    assert docs[1].title == "Troisième article sans titre."
    assert [(f.line, f.reason.split(" (")[0]) for f in fails] == [
        (2, "invalid JSON"),
        (3, "no 'text' field with text in it"),
        (6, "not a JSON object"),
    ]
    assert str(fails[0]).startswith(f"{p}:2: invalid JSON")


def test_jsonl_lines_without_an_id_are_known_by_url_title_or_line(isolated: Path) -> None:
    # A scraper's export: no ids. Each line still gets one that re-ingesting keeps.
    p = isolated / "feed.jsonl"
    lines = [
        {"url": "https://example.org/a", "title": "A", "text": "Un."},
        {"title": "Le  pont", "text": "Deux."},
        {"text": "Trois."},
        {"id": ["x"], "text": "Quatre."},
        {"id": 17, "text": "Cinq."},
    ]
    p.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    out = results(p)
    docs = [r for r in out if isinstance(r, Document)]
    fails = [r for r in out if isinstance(r, IngestFailure)]
    here = doc_id_for(p)
    assert [d.doc_id for d in docs] == [
        "https://example.org/a",
        f"{here}#Le pont",
        f"{here}:3",
        "17",
    ]
    assert [(f.line, f.reason) for f in fails] == [
        (4, "an 'id' that is not a name (a string or a number)")
    ]


def test_binary_empty_and_non_utf8_files_fail_with_reason(isolated: Path) -> None:
    (isolated / "bin.txt").write_bytes(b"\x00\x01\x02PK")
    (isolated / "empty.txt").write_text("  \n\n ", encoding="utf-8")
    (isolated / "latin.txt").write_bytes("café crème".encode("latin-1"))
    reasons = {name: results(isolated / name)[0] for name in ("bin.txt", "empty.txt", "latin.txt")}
    assert all(isinstance(r, IngestFailure) for r in reasons.values())
    assert reasons["bin.txt"].reason == "binary file, not text"  # type: ignore[union-attr]
    assert reasons["empty.txt"].reason.startswith("empty")  # type: ignore[union-attr]
    assert reasons["latin.txt"].reason.startswith("not UTF-8 text")  # type: ignore[union-attr]


def test_discover_recurses_skips_hidden_cuts_symlink_loops(isolated: Path) -> None:
    (isolated / "a" / "b").mkdir(parents=True)
    (isolated / "a" / "one.txt").write_text("x", encoding="utf-8")
    (isolated / "a" / "b" / "two.md").write_text("x", encoding="utf-8")
    (isolated / "a" / "b" / "skip.pdf").write_text("x", encoding="utf-8")
    (isolated / "a" / ".hidden.txt").write_text("x", encoding="utf-8")
    os.symlink(isolated / "a", isolated / "a" / "b" / "loop")
    (isolated / "photo.png").write_bytes(b"x")
    files, failures = discover([isolated / "a", isolated / "photo.png", isolated / "missing"])
    # Folders are walked in name order: a/b/ (two.md) comes before a/one.txt.
    assert [f.name for f in files] == ["two.md", "one.txt"]
    assert [(Path(f.path).name, f.reason.split(" (")[0]) for f in failures] == [
        ("photo.png", "unsupported file type"),
        ("missing", "no such file or folder"),
    ]


def test_hash_changes_with_text_and_metadata() -> None:
    a = Document("d", "T", "text", "s", "fr")
    assert a.hash == Document("d", "T", "text", "s", "fr").hash
    assert a.hash != Document("d", "T", "text!", "s", "fr").hash
    assert a.hash != Document("d", "T", "text", "s", "fr", date="2020").hash


def test_markdown_marks_are_not_the_articles_words(tmp_path: Path) -> None:
    # Seen in a newcomer's trial: a Markdown heading was quoted as an answer, hash and all.
    text = (
        "# Göteborgs hamn inför nattstopp\n\n"
        "Beslutet kommer efter **1 350** klagomål ([källa](https://example.org/a)).\n"
        "> Vi vill behålla kryssningstrafiken.\n"
    )
    (tmp_path / "a.md").write_text(text, encoding="utf-8")
    (doc,) = results(tmp_path / "a.md")
    assert isinstance(doc, Document) and doc.title == "Göteborgs hamn inför nattstopp"
    assert len(doc.text) == len(text)  # offsets stay those of the file
    assert not re.search(r"[#*>\[\]]|https?:", doc.text)
    assert " ".join(doc.text.split()).startswith("Göteborgs hamn inför nattstopp Beslutet")
