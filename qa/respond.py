"""One question's answer, step by step, once its passages are retrieved and their
sentences scored: judge (`Answering.judged`), write (`tokens`), verify and decide
(`finish`); the branches are steps too: `abstain`, `extractive` (no generator),
`declined` (the model wrote nothing the passages support) and `translated` (a quote put
in the question's language). Before retrieval, `condense` makes a follow-up a question
of its own. `Assistant` retrieves, then runs these steps; what they need of it comes in
a `Tools`, and this module knows nothing of the assistant."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qa.answer import (
    Scored,
    cite_extract,
    cite_verified,
    confident_sentence,
    is_headline,
    judge_passages,
    judged_best,
    judged_quotes,
    select_sentences,
    shown_passages,
)
from qa.datelines import dates_as_written, without_dateline
from qa.judge import Held, Judge, Judgement
from qa.language import (
    copied_words,
    decimals_as_written,
    detect_language,
    language_name,
    thousands_as_written,
    written_in,
)
from qa.lexical import stems
from qa.llm import guarded
from qa.prompts import Prompts, fill
from qa.types import Answer, AnswerSentence, Citation, Passage, Quote
from qa.verify import (
    NO_ANSWER,
    Verdict,
    Verifier,
    answerable_by,
    as_marker,
    invented_names,
    names_in,
    previous_sentence,
    split_claims,
)

Shown = list[tuple[Passage, list[Quote]]]
_TITLE_WORDS = 14  # a headline past this costs prompt time and adds little
_LAST_ANSWER_CHARS = 400  # of the last answer, shown when a follow-up is rewritten
# The embedding's cosine a translation must reach with its source. The 1.5B model's
# translations garble meaning ("214 accidents de chasse" for "214 anlöp av
# kryssningsfartyg", 214 cruise ship calls) in sentences close enough to pass as a
# paraphrase; on the 14 pairs of bench/claims.py, faithful ones read 0.898-0.930, and
# this floor stops the two worst garbles (0.862, 0.874). The generator asked whether the
# source says the translation cannot tell them apart (faithful 0.58-0.91, wrong 0.34-0.91).
TRANSLATION_FLOOR = 0.885


def ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 1)


def condense(
    llm: Any, prompts: Prompts, backend: str, question: str, history: list[Answer], lang: str
) -> str | None:
    """A follow-up rewritten as a standalone question by the generator; None when the
    rewrite resolves nothing."""
    # A chat's follow-up waits for this call before its search: the prompt holds the
    # earlier questions but only the last answer (what "why?" or "and him?" points to),
    # and reading stops at the end of the first line.
    *earlier, last = history[-3:]
    said = " ".join(s.text for s in last.sentences) or last.text
    turns = "\n".join(
        [f"User: {a.question}" for a in earlier]
        + [f"User: {last.question}", f"Assistant: {said[:_LAST_ANSWER_CHARS]}"]
    )
    prompt = prompts.render("condense", history=turns, question=question)

    def first_line() -> Iterator[str]:
        text = ""
        for part in llm.stream_complete(prompt):
            text += part.delta or ""
            if "\n" in text.strip():
                break
        yield text

    lines = next(guarded(backend, first_line)).strip().splitlines()
    rewritten = lines[0].strip() if lines else ""
    # A rewrite that adds no word to a follow-up naming nothing ("Warum gab es das
    # Verbot?" for "Und warum gab es das Verbot?", after a question on Seville) left
    # what it is about in the conversation, where only the conversation's vector
    # keeps it; searched alone, it found nothing and was refused.
    adds = set(stems(rewritten, lang)) - set(stems(question, lang))
    if not rewritten or not adds and not names_in(question, lang):
        return None
    return rewritten


def answer_messages(prompts: Prompts, shown: Shown, question: str, lang: str) -> list[Any]:
    """The chat the generator answers: system prompt, then the numbered passages and
    the question as quoted data in the user turn."""
    from llama_index.core.llms import ChatMessage

    values = {"passages": passage_blocks(shown), "question": question}
    return [
        ChatMessage(role="system", content=prompts.render("answer_system")),
        ChatMessage(
            role="user",
            content=prompts.render("answer", language=language_name(lang), **values),
        ),
    ]


def passage_blocks(shown: Shown) -> str:
    """Numbered passages as the generator sees them: quoted, each headline shown once."""
    seen: set[str] = set()
    blocks = []
    for i, (p, quotes) in enumerate(shown, start=1):
        head = f"[{i}]"
        if p.doc_id not in seen:
            seen.add(p.doc_id)
            title = " ".join(p.title.split()[:_TITLE_WORDS])
            head += f" {title}" + (f" ({p.date})" if p.date else "")
        body = " ".join(" ".join(q.text.split()) for q in quotes)
        blocks.append(f'{head}\n"""{body}"""')
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class Tools:
    """What the steps take from the assistant that runs them."""

    prompts: Prompts
    backend: str  # names the generator in its errors
    sentence_vectors: Callable[[list[str]], np.ndarray]  # passage-side, cached
    floor: Callable[[str], Callable[[Passage], float]]  # relevance floor, by language
    answer_sentences: int  # most sentences an extractive answer quotes
    context_sentences: int  # the sentences the generator is shown


@dataclass
class Question:
    """One question as retrieval leaves it: what was asked, its passages and their
    scored sentences, and the timings so far."""

    asked: str  # as typed
    question: str  # as read (cut to the length an embedding reads)
    standalone: str | None  # a follow-up rewritten by the generator
    lang: str
    vector: np.ndarray
    passages: list[Passage]
    scored: list[Scored]
    timings: dict[str, float]
    t0: float  # when the question came
    scored_at: float  # when its sentences were scored: the judge's time starts here
    llm: Any  # the generator, or None: extractive answers
    stage: Callable[[str], None]
    latest: bool = False  # asks after the news of what it names: the first passage

    @property
    def asking(self) -> str:
        """The question the passages are asked."""
        return self.standalone or self.question


class Answering:
    """The steps of answering one `Question`; `judge` None when there is none."""

    def __init__(self, q: Question, tools: Tools, judge: Judge | None = None):
        self.q = q
        self.tools = tools
        self.judge = judge
        self.can_answer = answerable_by(q.asking, q.lang)
        self.candidates: Shown = []
        self.shown: Shown = []
        self.judgement: Judgement | None = None
        self.draft: list[str] = []

    # -- ends ------------------------------------------------------------------------

    def abstain(self, mode: str) -> Answer:
        q = self.q
        # In a language with no template of its own, the model translates the English
        # one once (kept in the cache folder); with no model, the English text.
        translate = None if q.llm is None else self._translator
        template = self.tools.prompts.template("no_answer", q.lang, translate)
        text = fill(template, question=q.question.strip())
        q.timings["total_ms"] = ms(q.t0, time.perf_counter())
        return Answer(q.asked, text, True, (), tuple(q.passages), q.timings, (), mode, q.standalone)

    def _translator(self, english: str) -> str:
        # Kept only when in the question's language: a small model may answer in
        # English, and a wrong-language refusal must not be cached.
        text = self.translate(english, "en", self.q.lang)
        return text if detect_language(text.replace("{question}", "")) == self.q.lang else ""

    def extract(self, selected: list[Scored]) -> Answer:
        return self._answered(*cite_extract(selected), "extractive")

    def written(
        self, text: str, citations: tuple[Citation, ...], sentences: tuple[AnswerSentence, ...]
    ) -> Answer:
        return self._answered(text, citations, sentences, "generated")

    def _answered(
        self,
        text: str,
        citations: tuple[Citation, ...],
        sentences: tuple[AnswerSentence, ...],
        mode: str,
    ) -> Answer:
        q = self.q
        q.timings["total_ms"] = ms(q.t0, time.perf_counter())
        return Answer(q.asked, text, False, citations, (), q.timings, sentences, mode, q.standalone)

    # -- without a generator ---------------------------------------------------------

    def extractive(self) -> Answer | None:
        """The answer in quoted sentences; None when qa abstains."""
        q, judge = self.q, self.judge
        if judge is None:
            return self.extract(select_sentences(q.scored, self.tools.answer_sentences))
        # The judge decides whether the articles answer, and what is quoted.
        read = judge_passages(
            judge, q.asking, q.vector, q.scored, shown_passages(q.scored, len(q.scored))
        )
        q.timings["judge_ms"] = ms(q.scored_at, time.perf_counter())
        # A quote is a claim: it answers as verification asks a source to (in
        # the question's language, naming what the question names).
        quotes = [
            s
            for s in judged_quotes(q.scored, read, self.tools.answer_sentences)
            if self.can_answer(s.passage, s.quote.text)
        ]
        if not read.answerable() or not quotes:
            return None
        return self.extract(quotes)

    # -- with one ----------------------------------------------------------------------

    def judged(self) -> bool:
        """Whether the judge, when there is one, finds the passages answer; the
        passages the generator is shown are set here."""
        q = self.q
        newest = q.passages[0] if q.latest and q.passages else None
        self.candidates = shown_passages(q.scored, self.tools.context_sentences, newest)
        self.shown = self.candidates
        if self.judge is None:
            return True
        reader, candidates = self.judge, self.candidates
        self.judgement = judgement = next(
            guarded(
                self.tools.backend,
                lambda: iter([judge_passages(reader, q.asking, q.vector, q.scored, candidates)]),
            )
        )
        q.timings["judge_ms"] = ms(q.scored_at, time.perf_counter())
        if newest is not None and candidates and candidates[0][0] is newest:
            # The latest news on what the question names is what the newest article on
            # it says, whether or not the judge reads it as answering "what's new" (it
            # reads other languages less well); shown alone, the older ones are not
            # written about as news (measured: bench/latest.py --answers).
            self.shown = candidates[:1]
            return True
        if not judgement.answerable():
            return False
        # The generator sees only the passages the judge accepts: less to read, a
        # sooner first token, and nothing off the question to wander into.
        self.shown = [candidates[i] for i in sorted(judgement.accepted())]
        return True

    def tokens(self) -> Iterator[str]:
        """The draft, as the generator writes it."""
        messages = answer_messages(self.tools.prompts, self.shown, self.q.asking, self.q.lang)
        return self._tokens(messages)

    def _tokens(self, messages: list[Any]) -> Iterator[str]:
        q = self.q
        q.stage("writing")
        for chunk in guarded(self.tools.backend, lambda: q.llm.stream_chat(messages)):
            if chunk.delta:
                if not self.draft:
                    q.timings["first_token_ms"] = ms(q.t0, time.perf_counter())
                self.draft.append(chunk.delta)
                yield chunk.delta

    def finish(self) -> Answer:
        """The draft verified: its supported sentences, cited, or `declined`."""
        q, shown = self.q, self.shown
        t4 = time.perf_counter()
        q.stage("checking")
        raw = "".join(self.draft).strip()
        if not raw or as_marker(raw) == NO_ANSWER:
            return self.declined()
        floor = self.tools.floor(q.lang)
        verifier = Verifier(self.tools.sentence_vectors, min(floor(p) for p, _ in shown))
        verdicts = verifier.verify(
            # The first of the passages shown (they keep the retrieval order), not of
            # those retrieved: the judge may have kept that one from the generator.
            split_claims(raw, q.lang),
            shown,
            q.asking,
            shown[0][0].score,
            q.lang,
        )
        # The source sentence (chunk id, start) of the first claim dropped for its
        # wording only, from a source in another language: the judge found the sentence
        # answers the question.
        rested: tuple[str, int] | None = None
        if self.judgement is not None:
            # A claim is verified only if the sentence it rests on answers the
            # question: true sentences on the same subject, and instructions planted
            # in an article, are not answers.
            resting = [
                (i, shown[v.passage][0], v.quote)
                for i, v in enumerate(verdicts)
                if v.passage is not None and v.quote is not None
            ]
            held = self.holding(
                [
                    (
                        p.chunk_id,
                        s.start,
                        s.text,
                        verdicts[i].claim.text,
                        p.title,
                        previous_sentence(p, s),
                    )
                    for i, p, s in resting
                ]
            )
            for (i, p, s), h in zip(resting, held, strict=True):
                if not h.holds:
                    v = verdicts[i]
                    verdicts[i] = Verdict(v.claim, "off-topic", None, None, v.support)
                    # Across languages only: there the check of a paraphrase against
                    # its source is the weak reader (the seed's right claim, 0.65); in
                    # the source's own language a failed check more often means the
                    # writer misread its sentence (piaf_fr's tuning split: such a
                    # sentence quoted instead of abstaining was wrong both times).
                    if h.answers and rested is None and p.lang != q.lang:
                        rested = (p.chunk_id, s.start)
        verdicts = self.as_written(self.in_language(verdicts, verifier), shown)
        verdicts = [self.across(v, shown) for v in verdicts]
        text, citations, sentences = cite_verified(verdicts, shown)
        q.timings["verify_ms"] = ms(t4, time.perf_counter())
        if not citations:
            return self.declined(sentences, rested)
        return self.written(text, citations, sentences)

    def holding(
        self, claims: list[tuple[str, int, str, str, str, str]], quoted: bool = False
    ) -> list[Held]:
        """Whether each claim's source sentence answers the question, by the judge."""
        if self.judge is None or self.judgement is None or not claims:
            return [Held(True, True)] * len(claims)
        ruling, read, asking = self.judge, self.judgement, self.q.asking
        return next(
            guarded(
                self.tools.backend,
                lambda: iter([ruling.claims_hold(read, asking, claims, quoted)]),
            )
        )

    def in_language(self, verdicts: list[Verdict], verifier: Verifier) -> list[Verdict]:
        """Kept sentences written in the language of a passage retrieved, or English,
        instead of the question's, or carrying words copied from a source in another
        language, are translated by the model and checked again. A translation that the
        source does not support leaves a sentence in another language as it was, and
        drops one with copied words: half-translated, it is the writer's garble, not a
        claim a reader can check ("Płamanie w Odemirze trwało około 3,200 hectare mato i
        eucaliptal", a Polish duration from a Portuguese area, was shown verified)."""
        q, shown = self.q, self.shown
        # Any passage's, not only the source's: "FGV va embaucher 38 nuevos conductores"
        # rests on an English source, and took its Spanish from the article beside it.
        suspects = {passage.lang for passage, _ in self.candidates} | {"en"}
        out = []
        for v in verdicts:
            if v.passage is not None:
                source = shown[v.passage][0]
                slipped = written_in(v.claim.text, q.lang, suspects)
                mixed = False
                if slipped is None and source.lang != q.lang:
                    mixed = bool(copied_words(v.claim.text, source.text, q.asking))
                    slipped = source.lang if mixed else None
                again = slipped and self.translation(v.claim.text, slipped, q.lang, source.lang)
                checked = None
                if again:
                    claim = replace(v.claim, text=again)
                    (checked,) = verifier.verify([claim], shown, q.asking, None, q.lang)
                if checked is not None and checked.passage is not None:
                    # The model's translation of its own sentence: see `across`.
                    v = replace(checked, status="translated")
                elif mixed:
                    v = Verdict(v.claim, "unsupported", None, None, v.support)
            out.append(v)
        return out

    def across(self, v: Verdict, shown: Shown) -> Verdict:
        """A kept claim resting on a source in another language is "translated", not
        "verified": its words are the model's rendering of that source, and the judge's
        reading of whether a source says what a sentence in another language says
        accepted 34 of the 60 wrong translations of bench/data/translations.jsonl and 59
        of its 95 faithful ones (AUC 0.54; docs/benchmarks.md). It stays in the answer,
        beside the sentence it rests on, labelled for what it is."""
        if v.passage is None or v.status == "translated":
            return v
        return v if shown[v.passage][0].lang == self.q.lang else replace(v, status="translated")

    def as_written(self, verdicts: list[Verdict], shown: Shown) -> list[Verdict]:
        """Kept sentences with the decimals and dates their source states written as the
        question's language writes them (the model copies "6.8" from an English source
        into Spanish, "6,8" into English, "July 14, 2026" into Polish), without the
        source's dateline ("VELMORA, November 18, 2026 – The new line opens …")."""
        out = []
        for v in verdicts:
            if v.passage is not None:
                text = self.written_as(v.claim.text, shown[v.passage][0])
                v = replace(v, claim=replace(v.claim, text=text))
            out.append(v)
        return out

    def written_as(self, text: str, source: Passage) -> str:
        """`text`, resting on `source`, with its figures and dates as the question's
        language writes them and without the source's dateline (`as_written`)."""
        lang = self.q.lang
        text = decimals_as_written(text, lang, source.text)
        text = thousands_as_written(text, lang, source.text, source.lang)
        text = dates_as_written(text, lang, source.text, source.lang)
        return without_dateline(text, source.text)

    def declined(
        self, sentences: tuple[AnswerSentence, ...] = (), rested: tuple[str, int] | None = None
    ) -> Answer:
        # The model declined, or wrote nothing the passages support. Whether the
        # articles answer is the judge's call: a quote of the passage it chose, or
        # an abstention.
        q, judgement = self.q, self.judgement
        if q.latest and self.shown:
            # The latest news: the newest article's sentence closest to the question.
            newest = self.shown[0][0].chunk_id
            best = self.answering(next((s for s in q.scored if s.passage.chunk_id == newest), None))
        elif judgement is not None:
            best = self.rested(rested) or self.judged_quote(judgement)
        else:
            best = confident_sentence(q.scored, q.asking, q.lang)
        if best is not None:
            return self.translated(self.extract([best]), best)
        return replace(self.abstain("generated"), sentences=sentences)

    def rested(self, sentence: tuple[str, int] | None) -> Scored | None:
        """The sentence the writer answered from (chunk id, start), when its claim was
        dropped for its wording only: quoted as it stands, that sentence needs no such
        check. (The seed question's "to reassert himself on the international stage"
        failed the check against a French sentence that gives the reason; the judge's own
        best passage was one that does not.)"""
        if sentence is None:
            return None
        source = next(
            (s for s in self.q.scored if (s.passage.chunk_id, s.quote.start) == sentence), None
        )
        # Not a headline the writer wrote from ("Göteborgs hamn inför nattstopp …" for
        # "why are cruise ships banned at night?"): see `judged_best`.
        if source is None or is_headline(source.quote, source.passage):
            return None
        return self.answering(source)

    def answering(self, best: Scored | None) -> Scored | None:
        """`best`, if its sentence can answer the question as verification asks a
        source to (in its language, naming what the question names)."""
        if best is None or not self.can_answer(best.passage, best.quote.text):
            return None
        return best

    def judged_quote(self, judgement: Judgement) -> Scored | None:
        """The sentence of the judge's best passage, if the judge is sure enough to
        overrule the writer and finds that sentence answers."""
        best = self.answering(judged_best(self.q.scored, self.candidates, judgement))
        if best is None:
            return None
        quote = best.quote.text
        # A quote is its own claim: the judge only asks whether it answers.
        held = self.holding(
            [(best.passage.chunk_id, best.quote.start, quote, quote, "", "")], quoted=True
        )
        return best if all(h.holds for h in held) else None

    def translated(self, quoted: Answer, best: Scored) -> Answer:
        """The quote `quoted` of `best`, with its translation into the question's
        language when it is in another one. The quote stays the answer: a translation
        is the 1.5B model's, wrong in 60 of 78 news sentences read by hand, and the
        checks passed 34 of those 60 (names, figures, language, the embedding's
        cosine; docs/benchmarks.md), so it is shown as the model's, unverified. One
        those checks refuse is not shown at all."""
        q = self.q
        if best.passage.lang == q.lang:
            return quoted
        original = " ".join(best.quote.text.split())
        text = self.translation(original, best.passage.lang, q.lang, best.passage.lang)
        # (Words shared with the original are not held against it: most are cognates,
        # "decision", "international"; holding them made Spanish quotes stand for
        # English questions.)
        if text is None or text == original:
            return quoted
        one = [(best.passage, [best.quote])]
        verifier = Verifier(self.tools.sentence_vectors, best.floor)
        verdicts = verifier.verify(split_claims(f"{text} [1]", q.lang), one, q.asking, None, q.lang)
        # Whole or not at all: a small model's translation may add a sentence of its own
        # ("Die Quelle hat ein Verhältnis von 9 %").
        if not all(v.passage is not None for v in verdicts):
            return quoted
        (sentence,) = quoted.sentences
        shown = replace(sentence, translation=self.written_as(text, best.passage))
        return replace(quoted, sentences=(shown,))

    # -- translation -------------------------------------------------------------------

    def translate(self, text: str, source: str, lang: str) -> str:
        """`text` put from language `source` into `lang` by the generator."""
        from llama_index.core.llms import ChatMessage

        prompt = self.tools.prompts.render(
            "translate",
            sentence=text,
            source=language_name(source),
            language=language_name(lang),
        )
        llm = self.q.llm
        reply = guarded(
            self.tools.backend,
            lambda: iter([llm.chat([ChatMessage(role="user", content=prompt)])]),
        )
        return str(next(reply).message.content or "")

    def translation(self, text: str, source: str, lang: str, article: str) -> str | None:
        """`text` translated from `source` into `lang`, on one line; None when the model
        wrote nothing, wrote it in the `article`'s language or English (where a small
        model slips) instead of `lang`, named what `text` does not, or wrote what the
        embedding does not read as `text` again."""
        again = " ".join(self.translate(text, source, lang).split())
        if not again or written_in(again, lang, {article, "en"}):
            return None
        # Verification weighs meaning, and a garbled translation can read close to its
        # source: one naming what the source does not is refused outright, and one not
        # as close to it as a translation is.
        if invented_names(again, text, self.q.asking, lang):
            return None
        vectors = self.tools.sentence_vectors([text, again])
        return again if float(vectors[0] @ vectors[1]) >= TRANSLATION_FLOOR else None
