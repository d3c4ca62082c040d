"""`qa eval` and `Assistant.evaluate` end to end: a labelled set written here, the real
e5 model, real Chroma, the real anchor pipeline."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from qa import Assistant, ConfigError, evaluate_retrieval

from .conftest import qa_cli, write_jsonl

CORPUS = [
    ("nuke", "fr", "Centrales", "Les centrales nucléaires de Bretagne fermeront en 2035."),
    ("wheat", "fr", "Blé", "Le prix du blé a reculé de dix pour cent à Rouen cette semaine."),
    ("rail", "de", "Bahn", "Die Lokführer streiken am Montag im ganzen Land."),
    ("moon", "en", "Moon", "The probe landed near the south pole of the Moon on Friday."),
    ("vote", "es", "Elecciones", "Los votantes de Madrid eligieron un nuevo alcalde el domingo."),
    ("cheese", "fr", "Fromage", "Le camembert de Normandie reçoit une nouvelle appellation."),
]
QUESTIONS = [
    ("When will the nuclear plants in Brittany close?", "en", ["nuke"]),
    ("Combien a baissé le prix du blé ?", "fr", ["wheat"]),
    ("Wann streiken die Lokführer?", "de", ["rail"]),
    ("Where did the probe land?", "en", ["moon"]),
    ("¿Quién eligió un nuevo alcalde?", "es", ["vote"]),
    # Mislabelled on purpose: about the Moon, labelled with the cheese article.
    ("Which spacecraft reached the lunar south pole?", "en", ["cheese"]),
    # Its document is not in the corpus: left out, and counted as such.
    ("Who won the cycling race?", "en", ["tour"]),
]


def write_set(folder: Path, gz: bool = False) -> Path:
    folder.mkdir()
    rows = [
        {"id": i, "lang": lang, "title": title, "text": text} for i, lang, title, text in CORPUS
    ]
    if gz:
        with gzip.open(folder / "corpus.jsonl.gz", "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    else:
        write_jsonl(folder / "corpus.jsonl", rows)
    write_jsonl(
        folder / "questions.jsonl",
        ({"question": q, "lang": lang, "positive_ids": pos} for q, lang, pos in QUESTIONS),
    )
    return folder


@pytest.mark.slow
def test_evaluate_reports_exact_recall_per_language_beside_the_anchor(isolated: Path) -> None:
    labelled = write_set(isolated / "set", gz=True)
    qa = Assistant(index_dir=isolated / "index")
    result = evaluate_retrieval(qa, labelled, anchor=True)
    assert (result.set_name, result.documents, result.skipped_questions) == ("set", 6, 1)
    assert not (isolated / "index").exists()  # a temporary index, never the user's

    ours = result.method("qa")
    assert ours.chunks == 6 and ours.ingest_chunks_per_s is not None
    # Five questions find their article first; the mislabelled one cannot.
    assert (ours.scores.questions, ours.scores.recall_at_1) == (6, round(5 / 6, 4))
    assert (ours.scores.recall_at_5, ours.scores.recall_at_20) == (1.0, 1.0)
    # Its MRR is exact too: where the cheese article comes for the lunar question.
    index = isolated / "again"
    again = Assistant(index_dir=index)
    again.ingest([_plain(labelled, isolated)])
    order = list(dict.fromkeys(p.doc_id for p in again.search(QUESTIONS[5][0], 20)))
    assert ours.scores.mrr == round((5 + 1 / (order.index("cheese") + 1)) / 6, 4)
    assert set(ours.by_language) == {"en", "fr", "de", "es"}
    assert ours.by_language["en"].questions == 3
    assert ours.by_language["fr"].recall_at_1 == 1.0

    plain = result.method("anchor")
    assert plain.scores.questions == 6 and plain.chunks == 6
    assert plain.scores.recall_at_1 <= round(5 / 6, 4)


def _plain(labelled: Path, tmp: Path) -> Path:
    out = tmp / "plain.jsonl"
    with gzip.open(labelled / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        out.write_text(f.read())
    return out


@pytest.mark.slow
def test_qa_eval_cli_on_the_current_index_prints_json(isolated: Path) -> None:
    labelled = write_set(isolated / "set")
    index = isolated / "index"
    assert qa_cli("ingest", labelled / "corpus.jsonl", "--index", index).exit_code == 0
    result = qa_cli("eval", labelled, "--use-index", "--index", index, "--questions", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (ours,) = data["methods"]
    assert ours["name"] == "qa" and ours["chunks"] is None  # nothing was ingested
    assert ours["scores"]["questions"] == 5 and ours["scores"]["recall_at_1"] == 1.0
    table = qa_cli("eval", labelled, "--use-index", "--index", index)
    assert table.exit_code == 0 and "R@1" in table.stdout and "1.000" in table.stdout


def test_a_folder_that_is_not_a_labelled_set_is_one_clear_line(isolated: Path) -> None:
    folder = isolated / "notaset"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text('{"id": "a", "text": "x"}\n')
    (folder / "questions.jsonl").write_text('{"question": "q"}\n')
    with pytest.raises(ConfigError, match=r"questions.jsonl:1: not a labelled question"):
        evaluate_retrieval(Assistant(index_dir=isolated / "index"), folder)
    result = qa_cli("eval", isolated / "nowhere")
    assert result.exit_code != 0
    assert "no corpus.jsonl" in result.output and "Traceback" not in result.output
