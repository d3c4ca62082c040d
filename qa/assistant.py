"""The engine behind every way in: `Assistant` (ingest, search, ask) and `Chat`."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa import commit, retrieve
from qa.answer import (
    Scored,
    cite_extract,
    cite_verified,
    confident_sentence,
    judge_passages,
    judged_best,
    judged_quotes,
    score_sentences,
    select_sentences,
    shown_passages,
)
from qa.config import DEFAULT_EMBED, Settings, load_settings
from qa.embeddings import COMPANIONS, EmbeddingModel, canonical_name, load_embedding
from qa.errors import GenerationError, QAError
from qa.fusion import latest_first
from qa.ingest import Notice, Progress, ingest_paths
from qa.judge import GeneratorReader, Judge, Judgement, Scorer
from qa.language import (
    asks_for_latest,
    copied_words,
    detect_language,
    language_name,
    written_in,
)
from qa.lexical import anchors
from qa.llm import LLMUnavailable, load_llm
from qa.prompts import Prompts, fill
from qa.store import IndexInfo, Store
from qa.types import (
    Answer,
    AnswerSentence,
    Citation,
    DocumentInfo,
    Filters,
    IngestReport,
    Passage,
    Quote,
)
from qa.verify import NO_ANSWER, Verdict, Verifier, answerable_by, split_claims

# How much the previous turn weighs in a follow-up's retrieval when no generator can
# rewrite the question: enough to resolve "and Breuker?", little enough for a new topic.
_HISTORY_WEIGHT = 0.5
_CACHE = 4096
_TITLE_WORDS = 14  # a headline past this costs prompt time and adds little
# A question after the latest news ranks by date the passages this close to the best
# one's cosine (language-fair): chosen on half the subjects of bench/data/latest.
_SUBJECT_MARGIN = 0.08
# Embedding models read ~512 tokens and tokenising a pasted page costs seconds: a
# question is read up to here (about two paragraphs).
_QUESTION_CHARS = 1000


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 1)


class AnswerStream:
    """The tokens of an answer as they are generated; `.answer` once they are all read.

    The streamed text is the model's draft; `.answer` is the verified answer, whose
    sentences and markers may differ from the draft. Nothing runs until the stream is
    read: set `on_stage` first to hear what qa is doing before the first token comes
    ("loading the model", "rewriting the question", "searching", "reading the
    passages", "writing", then "checking" once the draft is written).
    """

    def __init__(self, tokens: Iterator[str], finish: Callable[[], Answer]):
        self._tokens = tokens
        self._finish = finish
        self._answer: Answer | None = None
        self.on_stage: Callable[[str], None] | None = None

    def stage(self, name: str) -> None:
        if self.on_stage is not None:
            self.on_stage(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._tokens
        self._answer = self._finish()

    @property
    def answer(self) -> Answer:
        if self._answer is None:
            for _ in self:
                pass
        assert self._answer is not None
        return self._answer


class Assistant:
    """Question answering over one index of articles.

    >>> qa = Assistant(index_dir="index")        # doctest: +SKIP
    >>> qa.ingest(["seeds/"]).summary()          # doctest: +SKIP
    >>> print(qa.ask("Why would Kim meet Putin in person?").text)   # doctest: +SKIP

    Without `embed`, an existing index opens with the model that built it, a new one
    with e5. Nothing is loaded until it is needed.
    """

    def __init__(
        self,
        index_dir: str | Path | None = None,
        embed: str | None = None,
        *,
        llm: str | None = None,
        chroma_url: str | None = None,
        settings: Settings | None = None,
    ):
        base = settings if settings is not None else load_settings()
        self.settings = base.with_overrides(
            index_dir=Path(index_dir) if index_dir is not None else None,
            embed=canonical_name(embed) if embed else None,
            chroma_url=chroma_url,
            llm=llm,
        )
        s = self.settings
        self.store = Store(s.index_dir, s.collection, s.chroma_url, s.server_timeout)
        self.prompts = Prompts(self.settings.resolved_prompts_dir())
        self.notices: list[str] = []
        self._model: EmbeddingModel | None = None
        self._second: EmbeddingModel | None = None
        self._llm: Any = None
        self._llm_loaded = False
        # The models may load in a background thread (`preload`) while a question is
        # searched; whoever needs one first waits for it here.
        self._embed_lock = threading.Lock()
        self._llm_lock = threading.Lock()
        self._preloading: threading.Thread | None = None
        # How long each model took to load, reported in the timings of the answer that
        # came after (`load_embed_ms`, `load_llm_ms`), then forgotten.
        self._load_ms: dict[str, float] = {}
        self._llm_name = self.settings.llm  # names the generator in its errors
        self._sentence_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._judge: tuple[Any, Judge] | None = None
        self._scorer: Scorer | None = None

    # -- models --------------------------------------------------------------------

    @property
    def embed_name(self) -> str:
        """The embedding this assistant uses: asked for, else the index's, else the default."""
        if self.settings.embed:
            return canonical_name(self.settings.embed)
        info = self.store.info() if self.store.exists() else None
        return info.embed if info else DEFAULT_EMBED

    def _embedding(self) -> EmbeddingModel:
        with self._embed_lock:
            if self._model is None:
                # Refuse a mismatched index before paying for loading the wrong model.
                if self.store.exists():
                    self.store.check_model(self.embed_name)
                s = self.settings
                started = time.perf_counter()
                self._model = load_embedding(
                    self.embed_name,
                    device=s.device,
                    threads=s.threads,
                    batch_size=s.batch_size,
                    processes=s.processes,
                )
                self._load_ms["load_embed_ms"] = _ms(started, time.perf_counter())
            return self._model

    def _companion_query(self, question: str) -> list[float] | None:
        """The question under the index's companion model, when the index has one."""
        info = self.store.info()
        if info is None or not info.companion:
            return None
        if self._second is None:
            self._second = load_embedding(info.companion, threads=self.settings.threads)
        return self._second.query(question[:_QUESTION_CHARS])

    @property
    def llm(self) -> Any:
        """The generator (a llama-index LLM), or None: extractive answers."""
        with self._llm_lock:
            if not self._llm_loaded:
                self._llm_loaded = True
                started = time.perf_counter()
                try:
                    self._llm = load_llm(self.settings)
                except LLMUnavailable as e:
                    self.notices.append(f"{e} Answering with quoted sentences instead.")
                if self._llm is not None:
                    self._load_ms["load_llm_ms"] = _ms(started, time.perf_counter())
            return self._llm

    @llm.setter
    def llm(self, llm: Any) -> None:
        """Answer with this llama-index LLM (any of its integrations), or None: quotes."""
        with self._llm_lock:
            self._llm, self._llm_loaded = llm, True
            self._llm_name = type(llm).__name__ if llm is not None else "none"

    def preload(self) -> None:
        """Start loading the models in the background, the generator included, so that
        a question waits for them as little as possible: a chat loads them while the
        first question is typed, `ask` while it searches. Calling it again does nothing.
        """
        if self._preloading is not None:
            return
        # The index is opened here, in the caller's thread: the loader only reads what
        # it opened.
        self.embed_name  # noqa: B018

        def load() -> None:
            try:
                self._embedding()
                self._judge_for(self.llm)
            except Exception:  # noqa: BLE001, S110
                # The answer path meets the same failure, and reports it.
                pass

        # Not a daemon: the interpreter must not exit while llama.cpp is loading.
        self._preloading = threading.Thread(target=load, name="qa-preload")
        self._preloading.start()

    def _judge_for(self, llm: Any) -> Judge | None:
        """The judge: the scorer, with the generator as a second reader when it is the
        local model (remote ones expose no token probabilities). None for indexes of
        other embedding models than e5, which the scorer was not fitted on."""
        scorer = self._fitted_scorer()
        if scorer is None:
            return None
        if self._judge is None or self._judge[0] is not llm:
            if llm is not None and GeneratorReader.supports(llm):
                system = self.prompts.render("judge_system")

                def template(question: str, passage: str) -> str:
                    return self.prompts.render("judge_one", question=question, passage=passage)

                reader = GeneratorReader(llm, system, template)

                def claim_template(claim: str, source: str) -> str:
                    return self.prompts.render("check_claim", claim=claim, source=source)

                checker = GeneratorReader(llm, self.prompts.render("check_system"), claim_template)
                self._judge = (llm, Judge(scorer, reader, checker))
            else:
                self._judge = (llm, Judge(scorer))
        return self._judge[1]

    def _fitted_scorer(self) -> Scorer | None:
        """The judge's scorer: fitted on e5's vectors, so for e5 indexes only."""
        if self.embed_name != "e5":
            return None
        if self._scorer is None:
            self._scorer = Scorer.load()
        return self._scorer

    def _floor(self, question_lang: str) -> Callable[[Passage], float]:
        """The relevance floor for a passage, given the question's language."""
        model = self._embedding()
        base = self.settings.min_score if self.settings.min_score is not None else model.min_score
        shift = model.same_language_shift
        return lambda p: base + shift if p.lang == question_lang else base

    def _prefill_sentences(self, passages: list[Passage], stored: retrieve.SentenceVectors) -> None:
        """Take the sentence vectors the index already holds instead of embedding again."""
        for p in passages:
            for q in p.sentence_texts():
                vector = stored.get((p.chunk_id, q.start, q.end))
                if vector is not None:
                    self._sentence_cache[" ".join(q.text.split())] = np.asarray(vector, np.float32)

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Passage-side vectors of sentences, cached: follow-ups reuse the same passages."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._sentence_cache))
        for text, vector in zip(missing, self._embedding().passages(missing), strict=True):
            self._sentence_cache[text] = np.asarray(vector, dtype=np.float32)
            if len(self._sentence_cache) > _CACHE:
                self._sentence_cache.popitem(last=False)
        for t in texts:
            self._sentence_cache.move_to_end(t)
        return np.stack([self._sentence_cache[t] for t in texts])

    # -- ingest --------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        on_progress: Progress | None = None,
        on_notice: Notice | None = None,
        keep_duplicates: bool = False,
    ) -> IngestReport:
        """Add or update the articles under `paths`; unchanged ones are skipped, and so
        are articles the index holds under another id (reported), unless `keep_duplicates`.

        `on_notice` hears, for instance, that another process holds the index and this
        one waits for it.
        """
        s = self.settings
        layout = IndexInfo(
            self.embed_name,
            s.chunk_words,
            s.sentence_index,
            COMPANIONS.get(self.embed_name, "") if s.companion else "",
        )
        return ingest_paths(
            [Path(p) for p in paths],
            self.store,
            self._embedding(),
            layout,
            s.batch_size,
            on_progress,
            on_notice,
            s.threads,
            keep_duplicates,
        )

    def documents(self) -> list[DocumentInfo]:
        """The documents in the index, oldest first."""
        return self.store.documents() if self.store.exists() else []

    def remove(self, doc_id: str) -> bool:
        """Remove a document and its passages, by its id or its file's path; False when
        no document has that id."""
        from qa.documents import doc_id_for

        if not self.store.exists():
            return False
        with self.store.write_lock():
            if commit.remove(self.store, doc_id):
                return True
            return Path(doc_id).is_file() and commit.remove(self.store, doc_id_for(Path(doc_id)))

    def passages_of(self, doc_id: str) -> list[Passage]:
        """Every passage of a document, in reading order."""
        return self.store.document_text(doc_id)

    # -- questions -----------------------------------------------------------------

    def _query_vector(self, question: str, context: np.ndarray | None) -> np.ndarray:
        vector = np.asarray(self._embedding().query(question[:_QUESTION_CHARS]), dtype=np.float32)
        if context is not None:
            vector = (vector + _HISTORY_WEIGHT * context).astype(np.float32)
            vector /= np.linalg.norm(vector)
        return vector

    def _search(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters | None,
        question: str,
    ) -> tuple[list[Passage], retrieve.SentenceVectors]:
        """Passages by fused dense and lexical rank; for a question after the latest
        news, the newest articles on its subject first, whatever their language
        (`fusion.latest_first`). Scores stay cosines (the abstention floor applies). And
        the vectors of their sentences the index holds (`_prefill_sentences`)."""
        self.store.check_model(self.embed_name)
        query = [float(x) for x in vector]
        lang = detect_language(question)
        names = self.settings.names_weight
        second = self._companion_query(question)
        if not asks_for_latest(question, lang):
            return retrieve.search(self.store, query, k, filters, question, lang, names, second)
        pool, stored = retrieve.search(
            self.store, query, max(3 * k, 15), filters, question, lang, names, second
        )
        shift = self._embedding().same_language_shift

        def relevance(p: Passage) -> float:
            # A cosine across languages runs lower: the same-language shift taken off.
            return (p.score if p.score is not None else -1.0) - (shift if p.lang == lang else 0.0)

        return latest_first(pool, k, relevance, _SUBJECT_MARGIN, anchors(question)), stored

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None
    ) -> list[Passage]:
        """The `k` passages closest to `question`, best first, with cosine scores."""
        vector = self._query_vector(question, None)
        return self._search(vector, k or self.settings.k, filters, question)[0]

    def ask(self, question: str, filters: Filters | None = None) -> Answer:
        """Answer from the retrieved passages, every sentence cited; abstain when none fits."""
        return self.ask_stream(question, filters).answer

    def ask_stream(self, question: str, filters: Filters | None = None) -> AnswerStream:
        """Like `ask`, but yields the draft's tokens as the model writes them."""
        return self._stream(question, None, [], filters)

    def _stream(
        self,
        question: str,
        context: np.ndarray | None,
        history: list[Answer],
        filters: Filters | None,
    ) -> AnswerStream:
        """The answer's stream, doing nothing until it is read: a terminal shows its
        stages from the moment a question is entered, loading and searching included."""
        inner: list[AnswerStream] = []

        def tokens() -> Iterator[str]:
            inner.append(self._answer_stream(question, context, history, filters, outer.stage))
            yield from inner[0]

        outer = AnswerStream(tokens(), lambda: inner[0].answer)
        return outer

    def chat(self, filters: Filters | None = None) -> Chat:
        """A conversation: follow-up questions are understood with the previous turns."""
        return Chat(self, filters)

    def _condense(self, question: str, history: list[Answer]) -> str:
        """A follow-up rewritten as a standalone question by the generator."""
        turns = "\n".join(
            f"User: {a.question}\nAssistant: {' '.join(s.text for s in a.sentences) or a.text}"
            for a in history[-3:]
        )
        prompt = self.prompts.render("condense", history=turns, question=question)
        reply = next(_guarded(self._llm_name, lambda: iter([self.llm.complete(prompt)])))
        rewritten = str(reply.text).strip().splitlines()
        return rewritten[0].strip() if rewritten and rewritten[0].strip() else question

    def _translate(self, llm: Any, text: str, source: str, lang: str) -> str:
        """`text` put from language `source` into `lang` by the generator."""
        from llama_index.core.llms import ChatMessage

        prompt = self.prompts.render(
            "translate",
            sentence=text,
            source=language_name(source),
            language=language_name(lang),
        )
        reply = _guarded(
            self._llm_name,
            lambda: iter([llm.chat([ChatMessage(role="user", content=prompt)])]),
        )
        return str(next(reply).message.content or "")

    def _translation(self, llm: Any, text: str, source: str, lang: str, article: str) -> str | None:
        """`text` translated from `source` into `lang`, on one line; None when the model
        wrote nothing, or wrote it in the `article`'s language or English (where a small
        model slips) instead of `lang`."""
        again = " ".join(self._translate(llm, text, source, lang).split())
        return again if again and not written_in(again, lang, {article, "en"}) else None

    def _answer_stream(
        self,
        question: str,
        context: np.ndarray | None,
        history: list[Answer],
        filters: Filters | None,
        stage: Callable[[str], None],
    ) -> AnswerStream:
        t0 = time.perf_counter()
        asked, question = question, question[:_QUESTION_CHARS]
        lang = detect_language(question)
        self.preload()
        standalone = None
        if history:
            if not self._llm_loaded:
                stage("loading the model")
            if self.llm is not None:
                stage("rewriting the question")
                standalone = self._condense(question, history)
                context = None
        stage("searching")
        vector = self._query_vector(standalone or question, context)
        t1 = time.perf_counter()
        passages, stored = self._search(vector, self.settings.k, filters, standalone or question)
        self._prefill_sentences(passages, stored)
        t2 = time.perf_counter()
        if self._llm_lock.locked():
            stage("loading the model")
        llm = self.llm
        scored = score_sentences(vector, passages, self._sentence_vectors, self._floor(lang))
        t3 = time.perf_counter()
        timings = {"embed_ms": _ms(t0, t1), "retrieve_ms": _ms(t1, t2), "sentences_ms": _ms(t2, t3)}
        timings.update(self._load_ms)
        self._load_ms.clear()

        def translator(english: str) -> str:
            # Kept only when in the question's language: a small model may answer in
            # English, and a wrong-language refusal must not be cached.
            text = self._translate(llm, english, "en", lang)
            return text if detect_language(text.replace("{question}", "")) == lang else ""

        def abstain(mode: str) -> Answer:
            # In a language with no template of its own, the model translates the English
            # one once (kept in the cache folder); with no model, the English text.
            translate = None if llm is None else translator
            template = self.prompts.template("no_answer", lang, translate)
            text = fill(template, question=question.strip())
            timings["total_ms"] = _ms(t0, time.perf_counter())
            return Answer(asked, text, True, (), tuple(passages), timings, (), mode, standalone)

        if not scored:
            return AnswerStream(iter(()), lambda: abstain("none"))
        asking = standalone or question

        def extract(selected: list[Scored]) -> Answer:
            text, citations, sentences = cite_extract(selected)
            timings["total_ms"] = _ms(t0, time.perf_counter())
            return Answer(
                asked, text, False, citations, (), timings, sentences, "extractive", standalone
            )

        judge = self._judge_for(llm)
        stage("reading the passages")
        can_answer = answerable_by(asking, lang)
        if llm is None:
            if judge is None:
                answer = extract(select_sentences(scored, self.settings.answer_sentences))
            else:
                # The judge decides whether the articles answer, and what is quoted.
                read = judge_passages(
                    judge, asking, vector, scored, shown_passages(scored, len(scored))
                )
                timings["judge_ms"] = _ms(t3, time.perf_counter())
                # A quote is a claim: it answers as verification asks a source to (in
                # the question's language, naming what the question names).
                quotes = [
                    s
                    for s in judged_quotes(scored, read, self.settings.answer_sentences)
                    if can_answer(s.passage, s.quote.text)
                ]
                if not read.answerable() or not quotes:
                    return AnswerStream(iter(()), lambda: abstain("none"))
                answer = extract(quotes)
            return AnswerStream(iter([answer.text]), lambda: answer)

        candidates = shown_passages(scored, self.settings.context_sentences)
        shown = candidates
        judgement: Judgement | None = None
        if judge is not None:
            reader = judge
            judgement = next(
                _guarded(
                    self._llm_name,
                    lambda: iter([judge_passages(reader, asking, vector, scored, candidates)]),
                )
            )
            timings["judge_ms"] = _ms(t3, time.perf_counter())
            if not judgement.answerable():
                return AnswerStream(iter(()), lambda: abstain("none"))
            # The generator sees only the passages the judge accepts: less to read, a
            # sooner first token, and nothing off the question to wander into.
            shown = [candidates[i] for i in sorted(judgement.accepted())]

        def declined(sentences: tuple[AnswerSentence, ...] = ()) -> Answer:
            # The model declined, or wrote nothing the passages support. Whether the
            # articles answer is the judge's call: a quote of the passage it chose, or
            # an abstention.
            if judgement is not None:
                best = judged_best(scored, candidates, judgement)
                if best is not None and not can_answer(best.passage, best.quote.text):
                    best = None
                quote = best.quote.text if best is not None else ""
                # A quote is its own claim: the judge only asks whether it answers.
                if best is not None and not all(
                    holding([(best.passage.chunk_id, best.quote.start, quote, quote, "")])
                ):
                    best = None
            else:
                best = confident_sentence(scored, asking, lang)
            if best is not None:
                return translated(best) or extract([best])
            return replace(abstain("generated"), sentences=sentences)

        def written(
            text: str, citations: tuple[Citation, ...], sentences: tuple[AnswerSentence, ...]
        ) -> Answer:
            timings["total_ms"] = _ms(t0, time.perf_counter())
            return Answer(
                asked, text, False, citations, (), timings, sentences, "generated", standalone
            )

        def translated(best: Scored) -> Answer | None:
            # A quote in another language than the question's is put in the question's
            # language by the model, and the translation verified against the quote
            # like any generated sentence; if it does not hold, the quote stands.
            if best.passage.lang == lang:
                return None
            original = " ".join(best.quote.text.split())
            text = self._translation(llm, original, best.passage.lang, lang, best.passage.lang)
            # A translation not in the question's language leaves the quote as it is.
            # (Words shared with the original are not held against it: most are
            # cognates, "decision", "international"; holding them made Spanish quotes
            # stand for English questions.)
            if text is None or text == original:
                return None
            one = [(best.passage, [best.quote])]
            verifier = Verifier(self._sentence_vectors, best.floor)
            verdicts = verifier.verify(split_claims(f"{text} [1]", lang), one, asking, None, lang)
            if not any(v.passage is not None for v in verdicts):
                return None
            return written(*cite_verified(verdicts, one))

        def holding(claims: list[tuple[str, int, str, str, str]]) -> list[bool]:
            if judge is None or judgement is None or not claims:
                return [True] * len(claims)
            ruling, read = judge, judgement
            return next(
                _guarded(self._llm_name, lambda: iter([ruling.claims_hold(read, asking, claims)]))
            )

        draft: list[str] = []
        messages = self._answer_messages(shown, asking, lang)

        def tokens() -> Iterator[str]:
            stage("writing")
            for chunk in _guarded(self._llm_name, lambda: llm.stream_chat(messages)):
                if chunk.delta:
                    if not draft:
                        timings["first_token_ms"] = _ms(t0, time.perf_counter())
                    draft.append(chunk.delta)
                    yield chunk.delta

        def in_language(verdicts: list[Verdict], verifier: Verifier) -> list[Verdict]:
            """Kept sentences written in their source's language or English instead of
            the question's, or carrying words copied from a source in another language,
            are translated by the model and checked again; a translation that the source
            does not support leaves the sentence as it was."""
            out = []
            for v in verdicts:
                if v.passage is not None:
                    source = shown[v.passage][0]
                    slipped = written_in(v.claim.text, lang, {source.lang, "en"})
                    if slipped is None and source.lang != lang:
                        copied = copied_words(v.claim.text, source.text, asking)
                        slipped = source.lang if copied else None
                    again = slipped and self._translation(
                        llm, v.claim.text, slipped, lang, source.lang
                    )
                    if again:
                        claim = replace(v.claim, text=again)
                        (checked,) = verifier.verify([claim], shown, asking, None, lang)
                        v = checked if checked.passage is not None else v
                out.append(v)
            return out

        def finish() -> Answer:
            t4 = time.perf_counter()
            stage("checking")
            raw = "".join(draft).strip()
            if not raw or " ".join(re.sub(r"[\W\d_]+", " ", raw).split()).upper() == NO_ANSWER:
                return declined()
            verifier = Verifier(self._sentence_vectors, min(self._floor(lang)(p) for p, _ in shown))
            verdicts = verifier.verify(
                # The first of the passages shown (they keep the retrieval order), not of
                # those retrieved: the judge may have kept that one from the generator.
                split_claims(raw, lang),
                shown,
                asking,
                shown[0][0].score,
                lang,
            )
            if judgement is not None:
                # A claim is verified only if the sentence it rests on answers the
                # question: true sentences on the same subject, and instructions planted
                # in an article, are not answers.
                resting = [
                    (i, shown[v.passage][0], v.quote)
                    for i, v in enumerate(verdicts)
                    if v.passage is not None and v.quote is not None
                ]
                held = holding(
                    [
                        (p.chunk_id, q.start, q.text, verdicts[i].claim.text, p.title)
                        for i, p, q in resting
                    ]
                )
                for (i, _, _), ok in zip(resting, held, strict=True):
                    if not ok:
                        v = verdicts[i]
                        verdicts[i] = Verdict(v.claim, "off-topic", None, None, v.support)
            verdicts = in_language(verdicts, verifier)
            text, citations, sentences = cite_verified(verdicts, shown)
            timings["verify_ms"] = _ms(t4, time.perf_counter())
            if not citations:
                return declined(sentences)
            return written(text, citations, sentences)

        return AnswerStream(tokens(), finish)

    def _answer_messages(
        self, shown: list[tuple[Passage, list[Quote]]], question: str, lang: str
    ) -> list[Any]:
        """The chat the generator answers: system prompt, then the numbered passages and
        the question as quoted data in the user turn."""
        from llama_index.core.llms import ChatMessage

        values = {"passages": passage_blocks(shown), "question": question}
        return [
            ChatMessage(role="system", content=self.prompts.render("answer_system")),
            ChatMessage(
                role="user",
                content=self.prompts.render("answer", language=language_name(lang), **values),
            ),
        ]


def _guarded(backend: str, start: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """The generator's output; any failure of the backend becomes one GenerationError."""
    try:
        yield from start()
    except (KeyboardInterrupt, QAError):
        raise
    except Exception as e:  # each backend has its own exception types
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise GenerationError(f"The {backend} model failed to answer: {first}") from None


def passage_blocks(shown: list[tuple[Passage, list[Quote]]]) -> str:
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


class Chat:
    """A conversation with an `Assistant`. `reset()` forgets the previous turns."""

    def __init__(self, assistant: Assistant, filters: Filters | None = None):
        self.assistant = assistant
        self.filters = filters
        self.history: list[Answer] = []
        self._context: np.ndarray | None = None

    def ask(self, question: str) -> Answer:
        return self.ask_stream(question).answer

    def ask_stream(self, question: str) -> AnswerStream:
        stream = self.assistant._stream(question, self._context, self.history, self.filters)

        def tokens() -> Iterator[str]:
            stream.on_stage = outer.on_stage
            yield from stream
            self._context = self.assistant._query_vector(question, self._context)
            self.history.append(stream.answer)

        outer = AnswerStream(tokens(), lambda: stream.answer)
        return outer

    @property
    def last(self) -> Answer | None:
        return self.history[-1] if self.history else None

    def reset(self) -> None:
        self.history.clear()
        self._context = None
