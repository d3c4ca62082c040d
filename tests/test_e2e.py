"""The real path on the seed article: e5, Chroma, the API, the CLI and a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from jsonschema import ValidationError

from qa import Assistant
from qa.chunking import headed_text
from qa.embeddings import load_embedding
from qa.fusion import COMPANION_WEIGHT, SENTENCE_SHARE

from .conftest import (
    KIM,
    SEEDS,
    assert_schema,
    clean_env,
    markers,
    qa_cli,
    qa_json,
    qa_subprocess,
    write_jsonl,
)

# These tests pin the extractive path; test_generate.py covers the local model.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("extractive")]
OFF_TOPIC = "What is the best recipe for a chocolate cake?"


def test_kim_question_is_answered_with_real_citations(kim_index: Path) -> None:
    qa = Assistant(index_dir=kim_index)
    answer = qa.ask(KIM)
    assert not answer.abstained
    assert answer.citations and markers(answer.text) == {c.n for c in answer.citations}
    retrieved = {p.chunk_id for p in qa.search(KIM, qa.settings.k)}
    seed = (SEEDS / "kim-jong-un-russia.fr.txt").read_text(encoding="utf-8")
    for c in answer.citations:
        assert c.chunk_id in retrieved
        assert seed[c.start : c.end] == c.text
        for q in c.quotes:
            assert seed[q.start : q.end] == q.text and q.text in answer.text
    quoted = " ".join(q.text for c in answer.citations for q in c.quotes)
    assert "Poutine" in quoted and "Kim" in quoted


def test_off_topic_question_abstains_in_the_question_language(kim_index: Path) -> None:
    qa = Assistant(index_dir=kim_index)
    answer = qa.ask(OFF_TOPIC)
    assert answer.abstained and answer.citations == () and markers(answer.text) == set()
    assert answer.text.startswith("The articles in the index do not answer")
    assert len(answer.closest) == qa.settings.k
    french = qa.ask("Quelle est la meilleure recette de gâteau au chocolat ?")
    assert french.abstained and french.text.startswith("Les articles de l’index ne répondent pas")


def test_a_follow_up_is_retrieved_with_the_conversation_in_mind(kim_index: Path) -> None:
    chat = Assistant(index_dir=kim_index).chat()
    first = chat.ask(KIM)
    follow = chat.ask("And what does Breuker think?")
    assert not first.abstained and not follow.abstained
    assert any("Breuker" in c.text for c in follow.citations)
    chat.reset()
    assert chat.history == [] and chat.last is None


def test_search_ranks_by_passage_sentences_and_the_companion_model(kim_index: Path) -> None:
    qa = Assistant(index_dir=kim_index)
    assert qa.store.info().companion == "use-m3"  # type: ignore[union-attr]
    passages = qa.search(KIM, 4)
    assert len(passages) == 4
    assert all(0.5 < p.score <= 1.0 and p.sentence_score is not None for p in passages)
    # The best passage holds the sentence that says Kim would go in person.
    assert "personnellement" in passages[0].text
    use = load_embedding("use-m3")
    question = np.asarray(use.query(KIM))
    for rank, p in enumerate(passages, 1):
        assert p.explanation is not None
        why = {s.name: s.score for s in p.explanation.signals}
        # No English words to match in French passages: the dense score alone ranks.
        assert p.explanation.rank == rank and why["lexical"] is None
        dense = [s.rank for s in p.explanation.signals if s.name == "dense"]
        assert dense == [rank]
        # The stored int8 vector scores as the model's own vector of the passage does.
        vector = np.asarray(use.passages([headed_text(p.title, p.text)])[0])
        cosine = float(vector @ question / np.linalg.norm(vector) / np.linalg.norm(question))
        assert why["companion"] == pytest.approx(cosine, abs=0.01)
        assert why["dense"] == pytest.approx(
            (1 - SENTENCE_SHARE) * why["passage"]  # type: ignore[operator]
            + SENTENCE_SHARE * why["sentence"]  # type: ignore[operator]
            + COMPANION_WEIGHT * why["companion"],  # type: ignore[operator]
            abs=2e-4,
        )


def test_an_index_created_without_the_companion_keeps_that_choice(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        {"id": "a", "title": "Kim", "text": "Kim Jong-un se rendrait en Russie en train blindé."},
        {"id": "b", "title": "Blé", "text": "Les exportations de blé ukrainien reprennent."},
    ]
    write_jsonl(isolated / "a.jsonl", rows[:1])
    write_jsonl(isolated / "b.jsonl", rows[1:])
    monkeypatch.setenv("QA_COMPANION", "false")
    Assistant(index_dir=isolated / "index").ingest([isolated / "a.jsonl"])
    monkeypatch.delenv("QA_COMPANION")
    qa = Assistant(index_dir=isolated / "index")
    qa.ingest([isolated / "b.jsonl"])  # the default asks for a companion; the index says no
    assert qa.store.info().companion == ""  # type: ignore[union-attr]
    found = qa.search("How will Kim travel to Russia?", 2)
    assert [p.doc_id for p in found] == ["a", "b"]
    for p in found:
        assert p.explanation is not None
        assert {s.name: s.score for s in p.explanation.signals}["companion"] is None


def test_cli_sources_search_remove(kim_index: Path) -> None:
    (doc,) = qa_json("sources", "--index", kim_index)
    assert doc["chunks"] == 9 and doc["lang"] == "fr"
    found = qa_json("search", KIM, "--index", kim_index, "-k", "2")
    assert len(found["passages"]) == 2
    assert_schema(found, "search")
    assert_schema(qa_json("search", KIM, "--index", kim_index, "--explain"), "search")
    quoted = qa_cli("ask", KIM, "--index", kim_index, "--no-llm")
    # An English question, a French quote: the reader is told why it is not in English.
    assert "(quoted as the article says it, in French: no checked translation)" in quoted.stdout
    french = qa_cli(
        "ask", "Pourquoi Kim veut-il rencontrer Poutine ?", "--index", kim_index, "--no-llm"
    )
    assert french.exit_code == 0 and "quoted as the article says it" not in french.stdout
    assert "réponse (citée)" in french.stdout
    # A German reader is told in German, the article's language named as it names itself.
    german = qa_cli("ask", "Warum will Kim Putin treffen?", "--index", kim_index, "--no-llm")
    assert "Antwort (zitiert)" in german.stdout
    assert "Sprache: français; keine geprüfte Übersetzung" in " ".join(german.stdout.split())
    refusal = qa_json("ask", OFF_TOPIC, "--index", kim_index)
    assert_schema(refusal, "ask")
    assert refusal["abstained"] and refusal["mode"] == "none" and refusal["closest"]
    assert refusal["timings"]["first_token_ms"] is None
    with pytest.raises(ValidationError):  # the schema is strict: nothing undocumented passes
        assert_schema({**refusal, "confidence": 0.5}, "ask")
    gone = qa_cli("remove", doc["doc_id"], "--index", kim_index)
    assert gone.exit_code == 0 and "removed" in gone.stdout
    again = qa_cli("remove", doc["doc_id"], "--index", kim_index)
    assert again.exit_code == 1 and "no document" in again.stderr
    assert qa_json("sources", "--index", kim_index) == []


def test_a_new_user_is_told_how_to_make_an_index_and_nothing_is_created(
    isolated: Path,
) -> None:
    """A real subprocess, no index: `qa ask` says how to make one (its own archive, or
    the sample), creates no folder, and the sample is one command away."""
    env = clean_env(QA_INDEX_DIR=str(isolated / "fresh"), QA_LLM="none")

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        return qa_subprocess(*args, env=env, cwd=isolated)

    for command in (["ask", KIM], ["sources"], ["remove", "x"]):
        proc = qa(*command)
        assert proc.returncode == 3, proc.stderr
        assert proc.stderr.endswith("(the sample article: `qa ingest --sample`).\n")
        assert "qa ingest FOLDER" in proc.stderr and "Traceback" not in proc.stderr
    assert not (isolated / "fresh").exists()
    assert qa("ingest", "--sample").returncode == 0
    proc = qa("ask", KIM, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert not data["abstained"] and data["citations"]


@pytest.mark.parametrize("stdin", [subprocess.DEVNULL, subprocess.PIPE])
def test_an_answer_is_drawn_whatever_stdin_is(kim_index: Path, stdin: int) -> None:
    """`qa ask` as a script runs it: stdin not a terminal (the screen's no-echo must
    not touch it: a pipe once failed with "Inappropriate ioctl for device")."""
    proc = subprocess.run(
        [sys.executable, "-m", "qa", "ask", KIM, "--index", str(kim_index), "--no-llm"],
        env=clean_env(),
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "answer (quoted)" in proc.stdout


def test_latest_questions_prefer_recent_articles_and_dates_filter(isolated: Path) -> None:
    rows = [
        {
            "id": f"s{year}",
            "title": f"Sommet Kim-Poutine {year}",
            "date": f"{year}-09-13",
            "text": f"Kim Jong-un et Vladimir Poutine se sont rencontrés en {year} pour parler "
            "d’armes et de coopération militaire.",
        }
        for year in (2019, 2021, 2023)
    ]
    qa = Assistant(index_dir=isolated / "index")
    qa.ingest([write_jsonl(isolated / "s.jsonl", rows)])
    latest = qa.search("What is the latest news on the Kim Putin meeting?", 3)
    assert latest[0].doc_id == "s2023"
    found = qa_json("search", "Kim Putin meeting", "--index", isolated / "index", "--until", "2021")
    assert sorted(p["doc_id"] for p in found["passages"]) == ["s2019", "s2021"]
    bad = qa_cli("search", "x", "--index", isolated / "index", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since takes a date like 2020" in bad.stderr


def test_the_latest_news_is_the_newest_article_on_the_subject_in_any_language(
    isolated: Path,
) -> None:
    """The newest article on Voltaris is French; English and Italian questions after the
    latest news cite it first, above an English one on the same subject (a same-language
    keyword match) and a newer article on another battery plant."""
    rows = [
        (
            "v-de",
            "de",
            "2026-03-04",
            "Voltaris plant Batteriefabrik in Lauterfeld",
            "Der Batteriehersteller Voltaris will in Lauterfeld eine Fabrik mit 1.200 Stellen "
            "bauen.",
        ),
        (
            "v-en",
            "en",
            "2026-04-15",
            "Voltaris battery factory gets its permit",
            "Voltaris received the building permit for its battery factory in Lauterfeld.",
        ),
        (
            "v-fr",
            "fr",
            "2026-05-12",
            "Voltaris reporte l'ouverture de son usine",
            "Voltaris reporte à 2028 l'ouverture de son usine de batteries de Lauterfeld, "
            "faute de carbone dur.",
        ),
        (
            "nordakku",
            "en",
            "2026-06-20",
            "Nordakku opens a battery factory",
            "Nordakku opened its battery factory in Sundsvall with 800 jobs.",
        ),
    ]
    corpus = write_jsonl(
        isolated / "news.jsonl",
        ({"id": i, "lang": lang, "date": d, "title": t, "text": x} for i, lang, d, t, x in rows),
    )
    qa = Assistant(index_dir=isolated / "index", llm="none")
    qa.ingest([corpus])
    for question in (
        "What is the latest news on the Voltaris battery factory?",
        "Quali sono le ultime notizie sulla fabbrica di Voltaris?",
        # No word for "latest" in these: e5's fitted reader takes them for news. The
        # subject named first, inflected (Czech "Voltarisu"), or inside Chinese writing
        # (each of the four cited another article first before).
        "Voltaris battery factory: where do things stand?",
        "Hur går det för Voltaris batterifabrik nu?",
        "Jak to teď vypadá s továrnou Voltarisu?",
        "Voltaris电池厂现在怎么样了？",
    ):
        assert qa.search(question, 3)[0].doc_id == "v-fr", question
    # Asked without "latest", the same-language article comes first: recency is asked for.
    assert qa.search("Voltaris battery factory permit", 3)[0].doc_id == "v-en"
    explained = qa_json(
        "search", "What is the latest on Voltaris?", "--index", isolated / "index", "--explain"
    )
    first = explained["passages"][0]
    assert first["doc_id"] == "v-fr"
    assert {"name": "recency", "score": 20260512.0, "rank": 1, "coverage": None} in first[
        "explanation"
    ]["signals"]


def test_device_reaches_a_sentence_transformers_model(isolated: Path) -> None:
    import torch

    (isolated / "a.txt").write_text("Les centrales nucléaires de Bretagne fermeront en 2035.")
    ok = qa_cli("ingest", "a.txt", "--embed", "minilm", "--device", "cpu", "--index", "cpu-index")
    assert ok.exit_code == 0, ok.output
    if torch.cuda.is_available():
        return
    # No GPU here: one line naming the device, exit 5, nothing stored.
    gpu = qa_cli("ingest", "a.txt", "--embed", "minilm", "--device", "cuda", "--index", "gpu-index")
    assert gpu.exit_code == 5
    assert gpu.output.startswith("qa: error: Cannot load the embedding 'minilm' on device 'cuda'")
    assert not (isolated / "gpu-index" / "chroma.sqlite3").exists()


def test_several_processes_embed_the_same_vectors_as_one(isolated: Path) -> None:
    import numpy as np

    from qa.embeddings import load_embedding

    texts = [f"Article {i}: la centrale numéro {i} fermera en {2030 + i}." for i in range(40)]
    one = np.asarray(load_embedding("minilm").passages(texts))
    pooled = load_embedding("minilm", processes=2)
    try:
        two = np.asarray(pooled.passages(texts))
        assert np.allclose(one, two, atol=1e-5)
        assert np.allclose(pooled.query("centrale"), load_embedding("minilm").query("centrale"))
    finally:
        pooled.model.close()  # type: ignore[attr-defined]
    # e5 and use-m3 spread over every core from one process: asking for more is an error.
    refused = qa_cli("ingest", "a.txt", "--embed", "e5", "--processes", "2")
    assert refused.exit_code != 0
    assert "needs a sentence-transformers model" in refused.output


def test_cli_eval_answers_measures_answers_and_abstention(isolated: Path) -> None:
    seed = (SEEDS / "kim-jong-un-russia.fr.txt").read_text(encoding="utf-8")
    title, _, body = seed.partition("\n\n")
    set_dir = isolated / "myset"
    set_dir.mkdir()
    corpus = [{"id": "kim", "title": title, "text": body, "lang": "fr"}]
    questions = [
        {"question": "How far is Vladivostok from Pyongyang?", "lang": "en",
         "answers": ["700"], "positive_ids": ["kim"]},
        {"question": "How many artillery shells has North Korea delivered to Russia?",
         "lang": "en", "answers": [], "positive_ids": [], "answerable": False},
        {"question": "Qui est le premier président américain à s'être rendu en Corée du Nord ?",
         "lang": "fr", "answers": ["Trump"], "positive_ids": ["kim"]},
    ]  # fmt: skip
    for name, rows in (("corpus.jsonl", corpus), ("questions.jsonl", questions)):
        write_jsonl(set_dir / name, rows)
    result = qa_cli("eval", set_dir, "--answers", "--no-llm", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["llm"] == "none" and len(data["rows"]) == 3
    overall = data["overall"]
    assert overall["questions"] == 3 and overall["unanswerable"] == 1
    # The seed does not say how many shells: qa abstains. The other figures are what the
    # rows say, whatever the model did.
    assert overall["abstention"] == 1.0
    answerable = [r for r in data["rows"] if r["answerable"]]
    assert overall["false_abstention"] == sum(r["abstained"] for r in answerable) / 2
    assert overall["gold_in_answer"] == sum(r["gold"] for r in answerable) / 2
    cited = [c for r in answerable for c in r["cited"]]
    assert overall["citation_precision"] == (sum(cited) / len(cited) if cited else None)
    assert set(data["by_language"]) == {"en", "fr"}
    table = qa_cli("eval", set_dir, "--answers", "--no-llm")
    assert table.exit_code == 0 and "myset: answers by none" in table.stdout
