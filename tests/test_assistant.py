"""The assistant on the words fake: an embedding handed to it, or registered under a name
as the command line finds one. Seconds, no real model (the slow tier runs e5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Assistant, ConfigError, ModelMismatchError
from qa.embeddings import EmbeddingModel, canonical_name, register_embedding

from .conftest import ARTICLES, KIM, WordsEmbedding, write_jsonl


def test_an_embedding_handed_to_the_assistant_builds_and_answers_from_its_index(
    isolated: Path, words_model: EmbeddingModel
) -> None:
    qa = Assistant(isolated / "index", words_model, llm="none")
    assert qa.embed_name == "words"
    report = qa.ingest([write_jsonl(isolated / "a.jsonl", ARTICLES)])
    assert report.added == len(ARTICLES)
    assert qa.store.info().embed == "words"  # type: ignore[union-attr]
    assert qa.search("How much did the Grenoble tram cost?", 1)[0].doc_id == "tram"
    answer = qa.ask(KIM)
    assert not answer.abstained and answer.citations[0].doc_id == "kim"


def test_an_index_refuses_an_embedding_handed_to_it_under_another_name(
    isolated: Path, words_index: Path, words_model: EmbeddingModel
) -> None:
    other = EmbeddingModel("other", words_model.model, words_model.min_score)
    qa = Assistant(words_index, other, llm="none")
    with pytest.raises(ModelMismatchError, match="built with the embedding 'words'"):
        qa.search("tram")
    with pytest.raises(ModelMismatchError):
        qa.ingest([write_jsonl(isolated / "b.jsonl", ARTICLES[:1])])


def test_a_registered_embedding_opens_its_index_by_name(words_index: Path) -> None:
    qa = Assistant(words_index, llm="none")  # the index's model, loaded from the registry
    assert qa.embed_name == "words"
    assert qa.search("Storm Mareike in Hamburg", 1)[0].doc_id == "storm"
    assert canonical_name("words") == "words"
    with pytest.raises(ConfigError, match=r"use e5, use-m3, minilm, words or st:"):
        canonical_name("word2vec")


@pytest.mark.parametrize("name", ["e5", "multilingual-e5-small", "minilm", "st:mine", "", " x"])
def test_a_built_in_or_blank_name_cannot_be_registered(name: str) -> None:
    with pytest.raises(ValueError, match="Cannot register an embedding"):
        register_embedding(name, WordsEmbedding, min_score=0.2)
