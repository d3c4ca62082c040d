"""The lexical index (real SQLite FTS5) and the rank fusion, on hand-made passages in
several languages; then both through a real Chroma store."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qa.audit import lexical_lag
from qa.commit import remove
from qa.fusion import LENGTH_DISCOUNT, Candidate, fuse, sentence_signal
from qa.ingest import ingest_paths
from qa.lexical import Lexical, anchors, lead_name, stems, terms
from qa.retrieve import search
from qa.store import IndexInfo, Store
from qa.types import Passage

from .conftest import write_jsonl

PASSAGES = {
    ("de-tax", "de"): "Die Regierung hat die Steuern erhöht, sagte die Ministerin in der Debatte.",
    ("de-visit", "de"): "Angela Merkel besuchte Madrid im Jahr 2019 und traf den König.",
    ("es-visit", "es"): "El presidente visitó Berlín y habló con la canciller sobre energía.",
    ("fr-nuke", "fr"): "Les centrales nucléaires de la région fermeront en 2035, selon le plan.",
    ("fr-wheat", "fr"): "Le marché du blé recule depuis trois semaines sur le port de Rouen.",
    ("fr-rail", "fr"): "La grève des cheminots perturbe les trains régionaux ce lundi.",
    ("en-rail", "en"): "The rail strike disrupted regional trains on Monday morning.",
    ("en-match", "en"): "The final was played in Rome in front of sixty thousand fans.",
}
WHEAT = "Le prix du maïs grimpe à Rouen."


@pytest.fixture
def lexical(tmp_path: Path) -> Lexical:
    lex = Lexical(tmp_path / "lexical.sqlite3")
    for (doc_id, lang), text in PASSAGES.items():
        lex.add([(doc_id, "h1", lang, [(f"{doc_id}#0", text, terms(text, lang))])])
        lex.commit([(doc_id, "h1")])
    return lex


def test_stems_match_inflected_words_in_the_question_language_only(lexical: Lexical) -> None:
    hits = lexical.same_language("Quand la centrale nucléaire ferme-t-elle ?", "fr", 5)
    assert [h.doc_id for h in hits][:1] == ["fr-nuke"]
    # The same words asked in English find no French passage: stems never cross languages.
    assert lexical.same_language("centrales nucléaires", "en", 5) == []
    # Inflections share a stem; function words are dropped.
    assert stems("Les centrales nucléaires", "fr") == stems("la centrale nucléaire", "fr")
    assert stems("The plant and the river", "en") == ["plant", "river"]


def test_a_common_word_does_not_cross_languages_but_a_name_or_number_does(
    lexical: Lexical,
) -> None:
    # "die" is an English verb and the commonest German article: no lift across languages.
    assert lexical.across_languages("Why did the old king die?", "en", 5) == []
    assert anchors("Why did the old king die?") == []
    hits = lexical.across_languages("When did Merkel travel to Madrid?", "en", 5)
    assert [h.doc_id for h in hits] == ["de-visit"]
    years = lexical.across_languages("What will close in 2035?", "en", 5)
    assert [h.doc_id for h in years] == ["fr-nuke"]
    # Two English passages among French and German ones: "the" and "will" tie no English
    # question to them, only a word of substance does.
    assert lexical.same_language("When will the plants close?", "en", 5) == []
    assert [h.doc_id for h in lexical.same_language("Is the strike over?", "en", 5)] == ["en-rail"]
    # Passages in the question's own language are the stems' business, not the names'.
    assert lexical.across_languages("Was the final in Rome?", "en", 5) == []


def test_anchors_keep_names_numbers_and_acronyms_but_not_the_first_word() -> None:
    assert anchors("Where did Kim Jong-un meet Putin in 2023?") == [
        "kim",
        "jong",
        "putin",
        "2023",
    ]
    assert anchors("NASA launched what in 1998?") == ["nasa", "1998"]
    assert anchors("Qui a gagné ?") == []
    # Korean has no capitals: a capitalised first word is a name there.
    assert anchors("Tessivault 해킹 사건 최근 소식 있어?") == ["tessivault"]
    assert anchors("Tessivault a-t-il été piraté ?") == []
    # A Latin name inside Chinese or Japanese writing is a word of its own.
    assert anchors("Velloque受贿案最新进展如何？") == ["velloque"]
    assert anchors("AmbroskとNyvaroの合併って、今どうなってる？") == ["ambrosk", "nyvaro"]
    # The first word of a cased question may be a name; only the archive can tell.
    assert lead_name("Velloque corruption trial: any update?") == "velloque"
    assert lead_name("wie geht es?") is None


def test_an_uncommitted_version_is_replaced_and_a_deleted_document_forgotten(
    lexical: Lexical,
) -> None:
    lexical.add([("fr-wheat", "h2", "fr", [("fr-wheat#1", WHEAT, terms(WHEAT, "fr"))])])
    assert lexical.committed()["fr-wheat"] == "h1"
    lexical.commit([("fr-wheat", "h2")])
    hits = lexical.same_language("maïs Rouen", "fr", 5)
    assert [(h.doc_id, h.doc_hash) for h in hits] == [("fr-wheat", "h2")]
    assert lexical.same_language("blé", "fr", 5) == []  # the old version's rows are gone
    lexical.delete(["fr-wheat"])
    assert "fr-wheat" not in lexical.committed()
    assert lexical.same_language("maïs", "fr", 5) == []


def test_a_file_from_before_the_row_locator_keeps_working(tmp_path: Path) -> None:
    # The first release kept no locator: a document's rows were found by scanning.
    old = sqlite3.connect(tmp_path / "old.sqlite3")
    old.execute(
        "CREATE VIRTUAL TABLE chunks USING fts5(stems, words, chunk_id UNINDEXED, "
        "doc_id UNINDEXED, doc_hash UNINDEXED, lang UNINDEXED)"
    )
    old.execute("CREATE TABLE docs(doc_id TEXT PRIMARY KEY, doc_hash TEXT)")
    old.execute("INSERT INTO chunks VALUES ('ble', 'blé', 'w#0', 'w', 'h1', 'fr')")
    old.execute("INSERT INTO docs VALUES ('w', 'h1')")
    old.commit()
    old.close()
    lexical = Lexical(tmp_path / "old.sqlite3")
    lexical.add([("w", "h2", "fr", [("w#1", WHEAT, terms(WHEAT, "fr"))])])
    lexical.commit([("w", "h2")])
    assert lexical.same_language("blé", "fr", 5) == []  # found and dropped through the locator
    assert [h.chunk_id for h in lexical.same_language("maïs", "fr", 5)] == ["w#1"]
    lexical.close()


def _passage(name: str, score: float) -> Passage:
    return Passage(name, f"{name}#0", name, None, "", "en", name, 0, 1, score)


def test_fusion_keeps_the_dense_order_without_lexical_evidence() -> None:
    cands = [Candidate(_passage(n, s), s) for n, s in (("b", 0.80), ("a", 0.90), ("c", 0.70))]
    ranked = fuse(cands, 3)
    assert [p.doc_id for p in ranked] == ["a", "b", "c"]
    assert ranked[0].explanation is not None and ranked[0].explanation.rank == 1


def test_fusion_lifts_a_lexical_match_and_explains_every_signal() -> None:
    cands = [
        Candidate(_passage("a", 0.90), 0.90),
        Candidate(_passage("b", 0.85), 0.86),
        Candidate(_passage("c", 0.84), 0.95, lexical=12.0),
    ]
    ranked = fuse(cands, 3, rrf_k=10, lexical_weight=1.0, names_weight=1.0, sentence_share=0.5)
    assert [p.doc_id for p in ranked] == ["c", "a", "b"]
    why = {s.name: (s.score, s.rank) for s in ranked[0].explanation.signals}  # type: ignore[union-attr]
    assert why == {
        "passage": (0.84, 3),
        "sentence": (0.95, 1),
        "companion": (None, None),
        "dense": (0.895, 2),
        "lexical": (12.0, 1),
        "names": (None, None),
    }
    assert ranked[0].explanation.fused == pytest.approx(1 / 12 + 1 / 11, abs=1e-6)  # type: ignore[union-attr]


def test_the_companion_settles_near_equal_dense_scores_only() -> None:
    a = Candidate(_passage("a", 0.800), 0.800, companion=0.30)
    b = Candidate(_passage("b", 0.799), 0.799, companion=0.60)
    assert [p.doc_id for p in fuse([a, b], 2)] == ["b", "a"]
    # A clearly better first-model score is not overturned by the companion.
    c = Candidate(_passage("c", 0.900), 0.900, companion=0.10)
    assert [p.doc_id for p in fuse([b, c], 2)] == ["c", "b"]
    # A candidate without a companion score (an index built without one) turns it off.
    assert [p.doc_id for p in fuse([a, replace(b, companion=None)], 2)] == ["a", "b"]


def test_sentence_signal_counts_a_second_match_but_not_length() -> None:
    one = sentence_signal([0.80])
    assert one == pytest.approx(0.80)
    # A second sentence as close as the best lifts the passage a little…
    assert sentence_signal([0.80, 0.80]) > one
    # …a weak one does not count, and many weak ones cost a little: no gain from length.
    assert sentence_signal([0.80, 0.60]) == pytest.approx(
        one - LENGTH_DISCOUNT * math.log(2), abs=1e-6
    )
    assert sentence_signal([0.80] + [0.50] * 20) < one
    # A better best sentence still wins over two good ones.
    assert sentence_signal([0.83]) > sentence_signal([0.80, 0.80])


def test_store_search_fuses_lexical_hits_and_rebuilds_a_lost_lexical_index(
    isolated: Path, words_model: Any
) -> None:
    src = write_jsonl(
        isolated / "mixed.jsonl",
        (
            {"id": doc_id, "title": doc_id, "text": text, "lang": lang}
            for (doc_id, lang), text in PASSAGES.items()
        ),
    )
    store = Store(isolated / "index")
    ingest_paths([src], store, words_model, IndexInfo(words_model.name, 50), 4)
    question = "When did Merkel travel to Madrid?"
    vector = words_model.query(question)

    def names_hits(s: Store, weight: float = 0.5) -> dict[str, int | None]:
        ranked = search(s, vector, 8, None, question, "en", names_weight=weight)[0]
        return {
            p.doc_id: next(x.rank for x in p.explanation.signals if x.name == "names")  # type: ignore[union-attr]
            for p in ranked
        }

    assert names_hits(store)["de-visit"] == 1
    assert names_hits(store)["de-tax"] is None
    # Off (the default weight), the names query is not even run.
    assert set(names_hits(store, 0.0).values()) == {None}
    # The lexical file is derived data: lost, it is rebuilt from Chroma on the next search.
    store.lexical.close()
    for path in store.lexical.path.parent.glob(store.lexical.path.name + "*"):
        path.unlink()
    reopened = Store(isolated / "index")
    assert names_hits(reopened)["de-visit"] == 1
    assert len(reopened.lexical.committed()) == len(PASSAGES)
    assert remove(reopened, "de-visit")
    assert "de-visit" not in reopened.lexical.committed()
    assert lexical_lag(reopened) == ([], [])


def test_names_lift_only_a_passage_sharing_more_of_them_than_the_dense_favourite() -> None:
    def cands(favourite_names: float | None) -> list[Candidate]:
        return [
            Candidate(_passage("fav", 0.90), 0.90, names=favourite_names and 5.0,
                      names_coverage=favourite_names or 1.0),
            Candidate(_passage("same", 0.88), 0.88, names=5.0, names_coverage=0.5),
            Candidate(_passage("more", 0.80), 0.80, names=9.0, names_coverage=1.0),
        ]  # fmt: skip

    # The favourite lacks the question's names: the passage that has them all comes first.
    assert [p.doc_id for p in fuse(cands(None), 3, names_weight=1.0)][0] == "more"
    # The favourite has half of them: only a passage with more than half is lifted.
    assert [p.doc_id for p in fuse(cands(0.5), 3, names_weight=1.0)][:2] == ["more", "fav"]
    # The favourite has them all: names tell the passages nothing; the dense order stands.
    assert [p.doc_id for p in fuse(cands(1.0), 3, names_weight=1.0)] == ["fav", "same", "more"]
    # Off by default: measured on XQuAD, it costs R@1.
    assert [p.doc_id for p in fuse(cands(None), 3)] == ["fav", "same", "more"]


def test_a_file_stemmed_by_the_previous_stemmer_is_stemmed_again(tmp_path: Path) -> None:
    # Indexes made before PyStemmer hold NLTK's stems, which differ for a few words
    # ("added" was "ad"): opened, their stems are made again from the words each row keeps.
    path = tmp_path / "lexical.sqlite3"
    old = Lexical(path)
    text = "The council added two stations to the line."
    old.add([("doc", "h1", "en", [("doc#0", text, "council ad two station line")])])
    old.commit([("doc", "h1")])
    old.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 1")
    reopened = Lexical(path)
    assert [h.chunk_id for h in reopened.same_language("What was added?", "en", 3)] == ["doc#0"]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT stems FROM chunks").fetchone()[0] == terms(text, "en")
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_latest_first_ranks_the_newest_article_on_the_subject_whatever_its_language() -> None:
    from qa.fusion import latest_first
    from qa.types import Passage

    def p(doc: str, date: str, score: float, text: str, lang: str = "en") -> Passage:
        return Passage(doc, doc + "#0", doc, date, doc, lang, text, 0, len(text), score)

    pool = [
        p("storm-en", "2026-02-09", 0.86, "Storm Mareike reached Hamburg."),
        p("storm-fr", "2026-02-24", 0.81, "La tempête Mareike a coûté 1,3 milliard.", "fr"),
        p("heat-it", "2026-06-25", 0.83, "Caldo record in Sicilia.", "it"),  # newer, off subject
        p("old", "2025-01-01", 0.60, "Hamburg harbour opens a new quay."),  # too far
    ]
    same_language = {"en": 0.03}.get

    def relevance(x: Passage) -> float:
        return (x.score or 0.0) - (same_language(x.lang) or 0.0)

    ranked = latest_first(pool, 3, relevance, 0.08, ["mareike"])
    assert [x.doc_id for x in ranked] == ["storm-fr", "storm-en", "heat-it"]
    # Without the subject's name (a question that writes it in Chinese characters), the
    # closest passage's name that two languages write alike is the subject; with no such
    # name, closeness alone decides: the heatwave is the newest.
    assert latest_first(pool, 1, relevance, 0.08)[0].doc_id == "storm-fr"
    unnamed = [replace(x, text=x.text.replace("Mareike", "de février")) for x in pool]
    assert latest_first(unnamed, 1, relevance, 0.08)[0].doc_id == "heat-it"
    # Named as Finnish inflects it ("Mareiken": of Mareike), or first in the question,
    # which the passages write as a name mid-sentence.
    assert latest_first(pool, 1, relevance, 0.08, ["mareiken"])[0].doc_id == "storm-fr"
    assert latest_first(pool, 1, relevance, 0.08, [], "mareike")[0].doc_id == "storm-fr"
    # "Caldo" begins a sentence only: not a name.
    assert latest_first(unnamed, 1, relevance, 0.08, [], "caldo")[0].doc_id == "heat-it"
    # Named in Cyrillic or Greek, where the articles write it in Latin letters.
    assert latest_first(pool, 1, relevance, 0.08, ["марейке"])[0].doc_id == "storm-fr"
    assert latest_first(pool, 1, relevance, 0.08, ["μαρέικε"])[0].doc_id == "storm-fr"


def _dated(doc: str, date: str, lang: str, text: str, score: float = 0.85) -> Any:
    """A retrieved passage of a dated article, for the "latest" ranking."""
    from qa.types import Passage

    return Passage(doc, doc + "#0", doc, date, doc, lang, text, 0, len(text), score)


def test_the_subject_is_the_name_most_languages_write_alike() -> None:
    # "Batteriefabrik" is capitalised in German only; Voltaris in every language. The
    # newer German article on another battery factory is not the subject.
    from qa.fusion import latest_first

    pool = [
        _dated("v-de", "2026-03-04", "de", "Voltaris plant eine Batteriefabrik in Lauterfeld."),
        _dated("v-fr", "2026-05-12", "fr", "Voltaris reporte l'ouverture de son usine."),
        _dated("v-en", "2026-04-15", "en", "Voltaris gets the permit for its factory."),
        _dated("nordakku", "2026-06-19", "de", "Nordakku eröffnet seine Batteriefabrik."),
    ]
    names = anchors("Was gibt es Neues zur Batteriefabrik von Voltaris?")
    assert latest_first(pool, 1, lambda x: 0.85, 0.08, names)[0].doc_id == "v-fr"


def test_a_name_keeps_its_consonants_in_every_script() -> None:
    from qa.scripts import scripted_words, sounds

    saltrevo = {"Saltrevo", "Сальтрево", "サルトレボ", "살트레보", "سالتريفو", "סלטרבו", "साल्ट्रेवो"}
    assert {sounds(w) for w in saltrevo} == {"srtrb"}
    assert sounds("Orvandel") == sounds("オルヴァンデル") == sounds("오르반델") == "rbntr"
    assert sounds("Fennolux") != sounds("Hovemark")
    assert sounds("Χελιάντρα") == sounds("Heliandra")  # a foreign h is a Greek chi
    assert sounds("Mattsak") == sounds("Μάτσακ") == sounds("마트사크")
    assert sounds("פודוורנה") == sounds("Podvarna")  # a double vav is a v
    # Hebrew joins "in" to the name: "בקלטרו" is "in Keltaro".
    assert "קלטרו" in scripted_words("המפולת בקלטרו") and sounds("קלטרו") == sounds("Keltaro")
    # Japanese writes a foreign name in katakana, inside hiragana and kanji.
    assert scripted_words("サルトレボの山火事はその後どうなった？ 오르반델 소식") == [
        "サルトレボ",
        "오르반델",
        "소식",
    ]


def test_latest_first_ties_a_name_written_in_another_script_to_its_articles() -> None:
    from qa.fusion import latest_first

    pool = [
        _dated("saltrevo-es", "2026-08-03", "es", "Un incendio obliga a desalojar Saltrevo."),
        _dated("saltrevo-ko", "2026-08-21", "ko", "살트레보 산불이 마침내 진화됐다."),
        _dated("kresnowo-pl", "2026-08-12", "pl", "Pożar lasu pod Kresnowem."),
        _dated("hovemark-tr", "2026-11-10", "tr", "Hovemark köprüsü yeniden açıldı."),
    ]
    # A Japanese question names it in katakana, the articles in Latin and Hangul letters.
    newer = [*pool, _dated("saltrevo-it", "2026-08-30", "it", "Spento l'incendio di Saltrevo.")]
    closest = {"kresnowo-pl": 0.9}  # another wildfire, as close as can be

    def relevance(x: Any) -> float:
        return closest.get(x.doc_id, 0.85)

    first = latest_first(newer, 1, relevance, 0.08, [], None, ["サルトレボ"])
    assert first[0].doc_id == "saltrevo-it"
    assert (
        latest_first(pool, 1, relevance, 0.08, [], None, ["サルトレボ"])[0].doc_id == "saltrevo-ko"
    )
    # A question in Latin letters finds the Korean article, the newest on it.
    assert latest_first(pool, 1, lambda x: 0.85, 0.08, ["saltrevo"])[0].doc_id == "saltrevo-ko"
    # Between two Latin spellings letters decide: "Fennolux" is not "Hovemark"; nor is it
    # the Korean Hovemark, whose consonants begin Fennolux's: a Latin name has no particle.
    pool.append(_dated("fennolux-de", "2026-05-02", "de", "Fennolux ruft Babyphones zurück."))
    pool.append(_dated("hovemark-ko", "2026-11-12", "ko", "호베마르크 다리가 다시 열렸다."))
    assert latest_first(pool, 1, lambda x: 0.85, 0.08, ["fennolux"])[0].doc_id == "fennolux-de"


def test_latest_first_reads_short_kana_names_compounds_persian_and_chinese_articles() -> None:
    from qa.fusion import latest_first

    nalvo = [
        _dated("nalvo-fr", "2026-03-10", "fr", "La sonde Nalvo a quitté la Terre."),
        _dated("nalvo-ja", "2026-11-03", "ja", "探査機ナルヴォが小惑星の周回軌道に入った。"),
        _dated("tamir-ja", "2026-11-20", "ja", "タミルの工場が再開した。"),
    ]
    # Three consonants compare between kana and Latin letters, exactly (not Tamir's t n r).
    assert latest_first(nalvo, 1, lambda x: 0.85, 0.08, ["nalvo"])[0].doc_id == "nalvo-ja"
    bridge = [
        _dated("oskelund-sv", "2026-02-21", "sv", "Oskelundsbron rasade i natt."),
        _dated("oskelund-uk", "2026-06-30", "uk", "Міст Оскелунд: звіт комісії."),
    ]
    # A Swedish compound holds the name the Ukrainian article writes alone.
    assert latest_first(bridge, 1, lambda x: 0.85, 0.08, ["oskelundsbron"])[0].doc_id == (
        "oskelund-uk"
    )
    strike = [
        _dated("caldora-it", "2026-05-04", "it", "Sciopero al porto di Caldora."),
        _dated("caldora-ar", "2026-09-08", "ar", "انتهى إضراب عمال ميناء كالدورا."),
    ]
    # Persian writes kaf its own way: "کالدورا" is the Arabic article's "كالدورا".
    persian = latest_first(strike, 1, lambda x: 0.85, 0.08, [], None, ["کالدورا"])
    assert persian[0].doc_id == "caldora-ar"
    velko = [
        _dated("velko-hr", "2026-04-16", "hr", "Uzrok rušenja mosta Velko je pronađen."),
        _dated("velko-zh", "2026-10-02", "zh", "韦尔科大桥垮塌事故最终报告出炉。"),
        _dated("quillon-zh", "2026-11-02", "zh", "Quillon 召回 Glide 机器人。"),
    ]
    # Chinese characters hold no name qa can read: an article naming nothing in Latin
    # letters is on the subject by closeness; one naming another in them is not.
    assert latest_first(velko, 1, lambda x: 0.85, 0.08, ["velko"])[0].doc_id == "velko-zh"


def test_a_latest_answer_rests_on_the_newest_passage_only_when_it_holds_an_asked_name() -> None:
    from qa.fusion import names_it

    ja = "ブリンドルウッド貯水池で14日、ダムの補修工事が始まった。"
    p = _dated("ja", "2026-11-15", "ja", ja, 0.8)
    assert names_it(p, ["brindlewood"], None, [])  # the name in katakana
    assert names_it(p, [], None, ["ブリンドルウッド"])
    assert not names_it(p, ["harbourside"], None, [])
