"""The steps of the answer path, each alone: no index, no generator."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
from rich.console import Console

from qa.answer import Scored, cite_verified, score_sentences
from qa.config import Settings
from qa.interface import words
from qa.judge import Judgement
from qa.prompts import Prompts
from qa.render import print_answer
from qa.respond import Answering, Question, Tools
from qa.types import AnswerSentence, Passage
from qa.verify import Claim, Verdict, Verifier

from .conftest import cat_passages, embedder, passage, query


def tools(words_model: Any) -> Tools:
    def floor(lang: str) -> Any:
        return lambda p: 0.2

    return Tools(
        Prompts(Settings().resolved_prompts_dir()),
        "none",
        embedder(words_model),
        floor,
        answer_sentences=2,
        context_sentences=6,
    )


def question(
    text: str, lang: str, passages: list[Passage], scored: list[Scored], words_model: Any
) -> Question:
    vector = query(words_model, text)
    now = time.perf_counter()
    timings = {"embed_ms": 1.0}
    return Question(
        text, text, None, lang, vector, passages, scored, timings, now, now, None, lambda _: None
    )


def test_abstaining_speaks_the_questions_language_and_lists_the_closest(words_model: Any) -> None:
    near = passage("a", "Le chat dort sur le canapé.", 0.3)
    q = question("Où dort le chien ?", "fr", [near], [], words_model)
    answer = Answering(q, tools(words_model)).abstain("none")
    assert answer.abstained and answer.mode == "none"
    assert "« Où dort le chien ? »" in answer.text
    assert answer.closest == (near,) and answer.citations == ()
    assert set(answer.timings) == {"embed_ms", "total_ms"}


def test_a_refusal_lists_the_closest_passages_even_where_sources_are_not_shown(
    words_model: Any,
) -> None:
    # Seen in a newcomer's trial: the chat's refusal said "the closest passages are
    # listed below", and the chat (which shows no sources under an answer) listed none.
    near = passage("a", "Le chat dort sur le canapé.", 0.3)
    answer = Answering(
        question("Où dort le chien ?", "fr", [near], [], words_model), tools(words_model)
    ).abstain("none")
    console = Console(record=True, width=250)
    print_answer(
        console, answer, words(Prompts(Settings().resolved_prompts_dir()), "fr"), show_sources=False
    )
    out = console.export_text()
    assert "passages les plus proches sont listés ci-dessous" in out
    assert out.index("ci-dessous") < out.index("Le chat dort sur le canapé.")


def test_without_a_generator_or_a_judge_the_best_sentences_are_quoted(words_model: Any) -> None:
    a, b = cat_passages()
    text = "where does the cat sleep"
    scored = score_sentences(query(words_model, text), [a, b], embedder(words_model), lambda p: 0.2)
    steps = Answering(question(text, "en", [a, b], scored, words_model), tools(words_model))
    extracted = steps.extractive()
    assert extracted is not None and extracted.mode == "extractive"
    assert extracted.text == (
        "The cat sleeps in the sun. [1] The cat sleeps on the sofa all day. [2]"
    )
    assert [c.chunk_id for c in extracted.citations] == ["b", "a"]


def test_a_decline_with_nothing_close_enough_to_quote_abstains_keeping_the_draft(
    words_model: Any,
) -> None:
    far = passage("a", "Bread is baked in the oven each morning.", 0.3)
    text = "where does the cat sleep"
    scored = score_sentences(query(words_model, text), [far], embedder(words_model), lambda p: 0.2)
    dropped = AnswerSentence("The cat sleeps.", None, "unsupported", 0.1, None, None)
    steps = Answering(question(text, "en", [far], scored, words_model), tools(words_model))
    answer = steps.declined((dropped,))
    assert answer.abstained and answer.mode == "generated"
    assert answer.sentences == (dropped,)
    assert "where does the cat sleep" in answer.text


def test_a_quote_in_the_questions_language_is_not_translated(words_model: Any) -> None:
    p = passage("a", "Le chat dort au soleil.", 0.9)  # a French passage
    best = Scored(p, p.sentence_texts()[0], 0.9, 0.2, np.zeros(2))
    q = question("Où dort le chat ?", "fr", [p], [best], words_model)
    # No generator is asked: the quote already speaks the question's language.
    steps = Answering(q, tools(words_model))
    quoted = steps.extract([best])
    assert steps.translated(quoted, best) is quoted


def test_a_claim_dropped_for_its_wording_leaves_its_own_source_sentence_to_quote(
    words_model: Any,
) -> None:
    a, b = cat_passages()
    text = "where does the cat sleep"
    scored = score_sentences(query(words_model, text), [a, b], embedder(words_model), lambda p: 0.2)
    # The passages are labelled French: the quote needs no translation.
    steps = Answering(question(text, "fr", [a, b], scored, words_model), tools(words_model))
    steps.candidates = [(a, a.sentence_texts()), (b, b.sentence_texts())]
    # The judge finds passage a the best; the writer answered from b's sentence, and only
    # the wording of its claim failed the check.
    steps.judgement = Judgement((0.9, 0.5), {}, "scorer+generator")
    sun = b.sentence_texts()[1]
    assert sun.text == "The cat sleeps in the sun."
    answer = steps.declined(rested=("b", sun.start))
    assert not answer.abstained and answer.mode == "extractive"
    assert answer.text == "The cat sleeps in the sun. [1]"
    assert [c.chunk_id for c in answer.citations] == ["b"]
    # With no such claim, the judge's best passage is quoted.
    assert steps.declined().text == "The cat sleeps on the sofa all day. [1]"


def test_a_headline_the_writer_answered_from_is_not_quoted(words_model: Any) -> None:
    # Seen in a newcomer's trial: a claim on why cruise ships are banned at night rested
    # on the article's heading; its wording failed the check, and the heading was quoted
    # (then translated into nonsense) as the answer.
    a, b = cat_passages()
    sun = b.sentence_texts()[1]
    b = replace(b, title="The cat sleeps in the sun")
    text = "where does the cat sleep"
    scored = score_sentences(query(words_model, text), [a, b], embedder(words_model), lambda p: 0.2)
    steps = Answering(question(text, "fr", [a, b], scored, words_model), tools(words_model))
    steps.candidates = [(a, a.sentence_texts()), (b, b.sentence_texts())]
    steps.judgement = Judgement((0.9, 0.5), {}, "scorer+generator")
    answer = steps.declined(rested=("b", sun.start))
    assert answer.text == "The cat sleeps on the sofa all day. [1]"


def test_a_half_translated_claim_whose_translation_fails_is_dropped(words_model: Any) -> None:
    # Seen in a newcomer's trial: "Płamanie w Odemirze trwało około 3,200 hectare mato i
    # eucaliptal", a Polish sentence carrying the Portuguese source's words, was shown
    # verified when its translation failed the checks.
    p = replace(
        passage("a", "O fogo já consumiu cerca de 3.200 hectares de mato e eucaliptal.", 0.9),
        lang="pt",
    )
    q = question("Ile hektarów spłonęło w Odemirze?", "pl", [p], [], words_model)
    steps = Answering(q, tools(words_model))
    steps.candidates = steps.shown = [(p, p.sentence_texts())]
    steps.translation = lambda *args: None  # type: ignore[method-assign]  # refused
    quote = p.sentence_texts()[0]
    mixed = Verdict(
        Claim("Spłonęło 3200 hektarów mato i eucaliptal.", (1,)), "verified", 0, quote, 0.8
    )
    # Written wholly in another language, a sentence is a claim still: it stays.
    english = Verdict(
        Claim("The fire burned about 3,200 hectares of scrub.", (1,)), "verified", 0, quote, 0.8
    )
    out = steps.in_language([mixed, english], verifier=None)  # type: ignore[arg-type]
    assert [v.status for v in out] == ["unsupported", "verified"]


def test_a_claim_from_a_source_in_another_language_is_translated_not_verified(
    words_model: Any,
) -> None:
    # Whether a source says what a sentence in another language says, the judge cannot
    # tell: it accepted 34 of the 60 wrong translations of bench/data/translations.jsonl
    # and 59 of the 95 faithful ones. Such a claim is kept, labelled the model's, and the
    # answer's box does not say "verified".
    fr = passage("a", "Le chat dort sur le canapé toute la journée.", 0.9)
    en = replace(passage("b", "The cat sleeps in the sun.", 0.8), lang="en")
    steps = Answering(
        question("Where does the cat sleep?", "en", [fr, en], [], words_model), tools(words_model)
    )
    shown = [(fr, fr.sentence_texts()), (en, en.sentence_texts())]
    steps.candidates = steps.shown = shown
    across = Verdict(
        Claim("The cat sleeps on the sofa all day.", (1,)),
        "verified",
        0,
        fr.sentence_texts()[0],
        0.8,
    )
    same = Verdict(
        Claim("It also sleeps in the sun.", (1,)), "moved", 1, en.sentence_texts()[0], 0.8
    )
    out = [steps.across(v, shown) for v in (across, same)]
    assert [v.status for v in out] == ["translated", "moved"]
    answer = steps.written(*cite_verified(out, shown))
    console = Console(record=True, width=250)
    print_answer(console, answer, words(Prompts(Settings().resolved_prompts_dir()), "en"))
    screen = console.export_text()
    assert "answer (translated from the sources, not checked)" in screen
    assert "answer (verified)" not in screen
    assert "(the model's translation of the source, not checked)" in screen
    # All in the question's language, the same claims are verified.
    assert steps.across(replace(across, passage=1), shown).status == "verified"


def test_a_sentence_the_model_translated_after_slipping_language_is_not_verified(
    words_model: Any,
) -> None:
    # The writer answered a Polish question from a Polish article in English; its
    # sentence put into Polish by the model stays in the answer, as the model's words.
    p = replace(passage("a", "Pożar strawił około 3200 hektarów lasu w Odemirze.", 0.9), lang="pl")
    q = question("Ile hektarów spłonęło w Odemirze?", "pl", [p], [], words_model)
    steps = Answering(q, tools(words_model))
    steps.candidates = steps.shown = [(p, p.sentence_texts())]
    polish = "Pożar strawił około 3200 hektarów lasu w Odemirze."
    steps.translation = lambda *args: polish  # type: ignore[method-assign]  # the model's
    english = Verdict(
        Claim("The fire burned about 3,200 hectares of forest in Odemira.", (1,)),
        "verified",
        0,
        p.sentence_texts()[0],
        0.8,
    )
    verifier = Verifier(embedder(words_model), 0.2)
    (out,) = steps.in_language([english], verifier)
    assert (out.claim.text, out.status) == (polish, "translated")
