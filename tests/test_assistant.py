"""The assistant on the words fake: an embedding handed to it, or registered under a name
as the command line finds one. Seconds, no real model (the slow tier runs e5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import PrivateAttr

from qa import Assistant, ConfigError, ModelMismatchError
from qa.assistant import _HISTORY_WEIGHT
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


class CountingWords(WordsEmbedding):
    """The words fake, keeping each question it embeds."""

    _queries: list[str] = PrivateAttr(default_factory=list)

    def _get_query_embedding(self, query: str) -> list[float]:
        self._queries.append(query)
        return super()._get_query_embedding(query)


def test_a_chat_turn_embeds_its_question_once(words_index: Path) -> None:
    fake = CountingWords()
    chat = Assistant(words_index, EmbeddingModel("words", fake, 0.2), llm="none").chat()
    follow_up = "And how does he travel?"
    assert not chat.ask(KIM).abstained and not chat.ask(follow_up).abstained
    assert fake._queries == [KIM, follow_up]


def test_a_follow_up_is_searched_with_the_vector_the_last_turn_used(
    words_index: Path, words_model: EmbeddingModel
) -> None:
    qa = Assistant(words_index, words_model, llm="none")
    first = qa.ask_stream(KIM)
    assert first.vector is None  # nothing runs until the stream is read
    answer = first.answer
    np.testing.assert_allclose(first.vector, words_model.query(KIM), rtol=1e-6)  # type: ignore[arg-type]
    follow_up = "And how does he travel?"
    then = qa.ask_stream(follow_up, history=[answer], context=first.vector)
    assert then.answer.citations[0].doc_id == "kim"
    # Without a generator to rewrite it, the follow-up leans on the previous question.
    expected = np.asarray(words_model.query(follow_up)) + _HISTORY_WEIGHT * first.vector
    np.testing.assert_allclose(then.vector, expected / np.linalg.norm(expected), rtol=1e-5)  # type: ignore[arg-type]
