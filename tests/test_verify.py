"""Citation verification with the real e5 model (the slow tier): English claims, French
sources. Splitting claims and telling count questions need no model."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from qa.answer import cite_verified
from qa.types import Passage, Quote
from qa.verify import (
    Claim,
    Verifier,
    asks_count,
    invented_names,
    judged,
    names_all,
    split_claims,
    states_count,
)

from .conftest import passage as make_passage

SOURCES = [
    [
        "Kim lui-même rechercherait la technologie satellitaire russe, les sous-marins à "
        "propulsion nucléaire et l’aide alimentaire à la population.",
        "Et – raison tout aussi valable pour la rencontre physique : c’est l’occasion de se "
        "réaffirmer sur la scène internationale.",
    ],
    [
        "C’est précisément pourquoi, selon lui, il est frappant qu’une rencontre physique soit "
        "prévue.",
        "« S’il s’agit uniquement de livraisons d’armes, alors ce n’est pas du tout nécessaire. »",
    ],
    [
        "Selon le New York Times il y a de fortes chances que Kim voyage à nouveau via un train "
        "blindé jusqu’à Vladivostok, à environ 700 kilomètres de Pyongyang.",
    ],
]


@pytest.fixture(scope="module")
def shown() -> list[tuple[Passage, list[Quote]]]:
    out, pos = [], 0
    for i, sentences in enumerate(SOURCES):
        quotes = []
        for s in sentences:
            quotes.append(Quote(pos, pos + len(s), s))
            pos += len(s) + 1
        spans = tuple((q.start, q.end) for q in quotes)
        text = " ".join(sentences)
        out.append(
            (
                Passage(
                    "d",
                    f"c{i}",
                    "T",
                    None,
                    "s",
                    "fr",
                    text,
                    quotes[0].start,
                    quotes[-1].end,
                    0.8,
                    spans,
                ),
                quotes,
            )
        )
    return out


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    from qa.embeddings import load_embedding

    model = load_embedding("e5")
    return Verifier(lambda t: np.asarray(model.passages(t), dtype=np.float32), model.min_score)


def judge(verifier: Verifier, shown: Any, answer: str) -> list[tuple[str, int | None]]:
    return [(v.status, v.passage) for v in verifier.verify(split_claims(answer, "en"), shown)]


def test_split_claims_attaches_markers_to_their_sentence() -> None:
    claims = split_claims("Kim seeks aid [2]. He wants a stage. [3] It is notable [1][4, 5].", "en")
    assert claims == [
        Claim("Kim seeks aid.", (2,)),
        Claim("He wants a stage.", (3,)),
        Claim("It is notable.", (1, 4, 5)),
    ]


def test_a_preamble_naming_the_passages_is_not_part_of_the_claim() -> None:
    answer = (
        "The passage also states that the plant closes in 2025. [2] "
        "According to passage 1, Kim travels by train. [1] "
        "States that joined the union paid more. [1] The passage says so."
    )
    assert [(c.text, c.markers) for c in split_claims(answer, "en")] == [
        ("The plant closes in 2025.", (2,)),
        ("Kim travels by train.", (1,)),
        ("States that joined the union paid more.", (1,)),  # a claim, not a preamble
        ("The passage says so.", ()),  # too short to strip: a remark, never verified
    ]


def test_a_draft_written_as_a_list_gives_claims_without_their_marks() -> None:
    answer = (
        "1. Parkeren is gratis. [1]\n2. Daarna betalen fietsers 1,35 euro per dag. [1]\n"
        "- 2 doden. [2]"
    )
    assert [c.text for c in split_claims(answer, "nl")] == [
        "Parkeren is gratis.",
        "Daarna betalen fietsers 1,35 euro per dag.",
        "2 doden.",
    ]
    # A day and its month open a German sentence; "2 people" is no list mark either.
    assert [c.text for c in split_claims("3. Mai wurde sie eröffnet. [1]", "de")] == [
        "3. Mai wurde sie eröffnet."
    ]
    assert [c.text for c in split_claims("3. Mai, so die Stadt, beginnt es. [1]", "de")] == [
        "3. Mai, so die Stadt, beginnt es."
    ]
    assert [c.text for c in split_claims("2 people died. [1]", "en")] == ["2 people died."]


@pytest.mark.slow
def test_a_right_marker_is_kept(verifier: Verifier, shown: Any) -> None:
    answer = "A physical meeting is a chance for Kim to reassert himself internationally [1]."
    assert judge(verifier, shown, answer) == [("verified", 0)]


@pytest.mark.slow
def test_a_wrong_marker_is_moved_to_the_supporting_passage(verifier: Verifier, shown: Any) -> None:
    answer = "Kim seeks Russian satellite technology, nuclear submarines and food aid [2]."
    assert judge(verifier, shown, answer) == [("moved", 0)]


@pytest.mark.slow
def test_an_out_of_range_or_missing_marker_is_replaced(verifier: Verifier, shown: Any) -> None:
    answer = (
        "If it were only about arms deliveries, a meeting would not be necessary [9]. "
        "Kim may travel by armoured train to Vladivostok, about 700 kilometres from Pyongyang."
    )
    assert judge(verifier, shown, answer) == [("moved", 1), ("added", 2)]


@pytest.mark.slow
def test_unsupported_sentences_and_invented_numbers_are_dropped(
    verifier: Verifier, shown: Any
) -> None:
    answer = (
        "Kim will travel 900 kilometres by armoured train [3]. "
        "North Korea has delivered 2 million shells to Russia [1]. "
        "The weather in Paris is sunny [2]."
    )
    assert judge(verifier, shown, answer) == [("unsupported", None)] * 3


@pytest.mark.slow
def test_rebuilt_answer_numbers_citations_by_first_use(verifier: Verifier, shown: Any) -> None:
    answer = (
        "If it were only about arms deliveries, a meeting would not be necessary [1]. "
        "The weather in Paris is sunny [2]. "
        "Kim seeks Russian satellite technology, nuclear submarines and food aid [3]."
    )
    verdicts = verifier.verify(split_claims(answer, "en"), shown)
    text, citations, sentences = cite_verified(verdicts, shown)
    assert text == (
        "If it were only about arms deliveries, a meeting would not be necessary. [1] "
        "Kim seeks Russian satellite technology, nuclear submarines and food aid. [2]"
    )
    assert [(c.n, c.chunk_id) for c in citations] == [(1, "c1"), (2, "c0")]
    assert [s.status for s in sentences] == ["moved", "unsupported", "moved"]
    assert sentences[2].source is not None and "satellitaire" in sentences[2].source.text
    assert sentences[2].source_lang == "fr"


@pytest.mark.slow
def test_remarks_about_passages_and_loops_are_not_claims(verifier: Verifier, shown: Any) -> None:
    answer = (
        "Kim seeks Russian satellite technology, nuclear submarines and food aid [1]. "
        "This is stated in passage [4]. "
        "Kim wants to meet Putin to meet Putin to meet Putin to meet Putin to meet Putin [1]."
    )
    assert judge(verifier, shown, answer) == [("verified", 0), ("unsupported", None)] * 1 + [
        ("unsupported", None)
    ]


@pytest.mark.slow
def test_numbers_restated_from_the_question_are_not_held_against_a_claim(
    verifier: Verifier, shown: Any
) -> None:
    claim = split_claims("In 2023 and 2024, Kim may take the armoured train to Vladivostok.", "en")
    assert verifier.verify(claim, shown)[0].status == "unsupported"
    asked = verifier.verify(claim, shown, "Where will Kim go by train in 2023 and 2024?")
    assert (asked[0].status, asked[0].passage) == ("added", 2)


@pytest.mark.slow
def test_of_passages_supporting_a_claim_equally_the_higher_ranked_is_cited(
    verifier: Verifier, shown: Any
) -> None:
    # The third passage repeated as the first: retrieval ranked the repeat first.
    first = shown[2][0]
    repeat = Passage(**{**first.__dict__, "chunk_id": "repeat"})
    ranked = [(repeat, shown[2][1]), *shown]
    claim = "Kim will probably travel by armoured train to Vladivostok, 700 km from Pyongyang."
    assert judge(verifier, ranked, f"{claim} [4]") == [("moved", 0)]
    assert judge(verifier, ranked, f"{claim} [1]") == [("verified", 0)]
    assert judge(verifier, shown, f"{claim} [3]") == [("verified", 2)]  # no tie: kept


@pytest.mark.slow
def test_a_reason_after_a_restated_question_is_judged_alone(verifier: Verifier, shown: Any) -> None:
    # The Kim seed's answer: matched whole, the claim found the sentence that says Kim
    # would go in person, a passage retrieval ranked first, instead of the reason.
    going = "Kim Jong-un se rendrait personnellement pour rencontrer Vladimir Poutine."
    first = Passage(**{**shown[2][0].__dict__, "chunk_id": "going", "text": going})
    ranked = [(first, [Quote(0, len(going), going)]), *shown]
    answer = (
        "Kim Jong-un would meet Putin in person because he wants to reassert his position "
        "on the international stage. [1]"
    )
    question = "Why would Kim meet Putin in person?"
    (verdict,) = verifier.verify(split_claims(answer, "en"), ranked, question)
    assert (verdict.status, verdict.passage) == ("moved", 1)
    assert verdict.quote is not None and "scène internationale" in verdict.quote.text
    # Without the question nothing is restated: the claim is judged whole.
    assert judged(answer, "") == answer
    assert judged("Kim went because he was invited there.", question) == (
        "Kim went because he was invited there."
    )


@pytest.mark.slow
def test_a_claim_resting_on_a_passage_off_the_question_is_dropped(
    verifier: Verifier, shown: Any
) -> None:
    # Every shown passage has cosine 0.8; the one retrieval put first is set above it.
    claim = split_claims("Kim may travel by armoured train to Vladivostok. [3]", "en")
    near = 0.8 + verifier.topic_margin / 2
    far = 0.8 + verifier.topic_margin * 2
    (kept,) = verifier.verify(claim, shown, "", near)
    assert (kept.status, kept.passage) == ("verified", 2)
    (dropped,) = verifier.verify(claim, shown, "", far)
    assert (dropped.status, dropped.passage, dropped.quote) == ("off-topic", None, None)
    assert dropped.support == kept.support
    text, citations, _ = cite_verified([dropped], shown)
    assert (text, citations) == ("", ())


@pytest.mark.slow
def test_in_the_answer_s_own_language_the_source_must_have_what_the_claim_adds(
    verifier: Verifier, shown: Any
) -> None:
    # piaf_fr: "OUI, le frère de Napoléon Ier parvint à tenir durablement la capitale
    # espagnole." was verified against a French sentence about rumours in Madrid: e5 puts
    # any two French sentences on one subject near 0.8. What a claim adds to the question
    # must be in the source.
    question = "Que rechercherait Kim en Russie ?"
    invented = split_claims("Kim rechercherait des avions de chasse russes. [1]", "fr")
    assert verifier.verify(invented, shown, question)[0].status == "verified"
    assert verifier.verify(invented, shown, question, None, "fr")[0].status == "unsupported"
    stated = split_claims("Kim rechercherait la technologie satellitaire russe. [1]", "fr")
    (verdict,) = verifier.verify(stated, shown, question, None, "fr")
    assert (verdict.status, verdict.passage) == ("verified", 0)
    # One shared word is not enough: most of what the claim adds must be there (piaf_fr:
    # "… versés en une fois et remboursables même en cas d'échec, sous garantie bpifrance"
    # was verified against a sentence whose only such word was "garantie").
    mostly_invented = split_claims(
        "Kim rechercherait la technologie des avions de chasse japonais. [1]", "fr"
    )
    assert verifier.verify(mostly_invented, shown, question)[0].status == "verified"
    assert verifier.verify(mostly_invented, shown, question, None, "fr")[0].status == (
        "unsupported"
    )
    # Across languages (an English answer), meaning, names and numbers decide as before.
    english = split_claims("Kim would seek Russian fighter jets. [1]", "en")
    assert verifier.verify(english, shown, question, None, "en")[0].status == "verified"


@pytest.mark.slow
def test_a_sentence_that_adds_nothing_to_the_question_is_not_an_answer(
    verifier: Verifier, shown: Any
) -> None:
    # XQuAD en→es: "The expression set called is. [1]" was verified against a Spanish
    # sentence on the question's subject. In any language pair, an answer sentence must
    # add a word to the question.
    question = "Why would Kim meet Putin in person?"
    echo = split_claims("Kim would meet Putin in person. [2]", "en")
    assert verifier.verify(echo, shown, question)[0].passage is not None
    assert verifier.verify(echo, shown, question, None, "en")[0].status == "unsupported"
    answer = split_claims("Kim would meet Putin to reassert himself on the world stage. [1]", "en")
    (verdict,) = verifier.verify(answer, shown, question, None, "en")
    assert (verdict.status, verdict.passage) == ("verified", 0)


@pytest.mark.slow
def test_a_source_must_name_what_the_claim_is_about(verifier: Verifier, shown: Any) -> None:
    # piaf_fr: "La pastille noire provient du sel." was verified against a sentence on salt
    # and wine imported from France: it held what the claim adds, not what it is about.
    # In the answer's own language, the source or the sentence before it (which a pronoun
    # or an "it" refers back to) must share one of the question's words the claim repeats.
    trip = "{} un train blindé jusqu’à Vladivostok. [3]"
    about_putin = split_claims(trip.format("Poutine prendra"), "fr")
    assert verifier.verify(about_putin, shown, "Comment Poutine se déplace-t-il ?")[0].passage == 2
    (verdict,) = verifier.verify(
        about_putin, shown, "Comment Poutine se déplace-t-il ?", None, "fr"
    )
    assert verdict.status == "unsupported"
    about_kim = split_claims(trip.format("Kim prendra"), "fr")
    (verdict,) = verifier.verify(about_kim, shown, "Comment Kim se déplace-t-il ?", None, "fr")
    assert (verdict.status, verdict.passage) == ("verified", 2)
    # "… c'est l'occasion de se réaffirmer": Kim is named in the sentence before.
    reason = split_claims("Kim veut se réaffirmer sur la scène internationale. [1]", "fr")
    (verdict,) = verifier.verify(reason, shown, "Que veut Kim ?", None, "fr")
    assert (verdict.status, verdict.passage) == ("verified", 0)


@pytest.mark.slow
def test_a_question_after_a_count_is_answered_only_by_a_sentence_stating_a_number(
    verifier: Verifier, shown: Any
) -> None:
    # piaf_fr: "Combien de colonies américaines…?" was answered by a sentence on the war
    # of independence that gives no number; squad: "What year did Sigismund move his
    # court?" by one on Warsaw becoming the capital, no year in it.
    subs = split_claims("Kim seeks Russian nuclear-powered submarines. [1]", "en")
    (verdict,) = verifier.verify(subs, shown, "What does Kim seek from Russia?")
    assert (verdict.status, verdict.passage) == ("verified", 0)
    (verdict,) = verifier.verify(subs, shown, "How many submarines does Kim seek?")
    assert verdict.status == "unsupported"
    far = split_claims("Vladivostok is about 700 kilometres from Pyongyang. [3]", "en")
    (verdict,) = verifier.verify(far, shown, "How many kilometres is Vladivostok from Pyongyang?")
    assert (verdict.status, verdict.passage) == ("verified", 2)


def test_what_asks_for_a_count_and_what_states_one() -> None:
    assert asks_count("How many fumbles did Von Miller force?")
    assert asks_count("En quelle année Leroy de Saint-Arnaud est-il devenu capitaine ?")
    assert asks_count("¿Cuántos puntos anotaron?") and asks_count("Wie viele Tore?")
    assert not asks_count("When did Tesla patent the motor?")
    assert states_count("Miller recorded two forced fumbles.", "How many fumbles?")
    assert states_count("Les treize colonies.", "Combien de colonies ?")
    assert states_count("Un record de 15–1 pour dix équipes.", "Combien d'équipes à 15-1 ?")
    # An article, a number the question states, or no number at all: no count.
    assert not states_count("La guerre est un des processus de la révolution.", "Combien ?")
    assert not states_count("The Panthers had a 15–1 record.", "How many teams went 15-1?")
    assert not states_count("Warsaw became the capital.", "What year did the court move?")


@pytest.mark.slow
def test_in_the_answer_s_language_a_passage_must_name_what_the_question_names(
    verifier: Verifier, shown: Any
) -> None:
    # piaf_fr: "Qui est Edward Antill ?" was answered from a passage on Edward Baker, and
    # "Quand ZIS a-t-il fabriqué…" from one on a chainsaw maker. The headline counts: a
    # passage deep in an article names its subject there.
    about = split_claims("Kim recherche des sous-marins à propulsion nucléaire. [1]", "fr")
    (verdict,) = verifier.verify(about, shown, "Que recherche Kim selon Breuker ?", None, "fr")
    assert verdict.status == "unsupported"
    (verdict,) = verifier.verify(about, shown, "Que recherche Kim ?", None, "fr")
    assert (verdict.status, verdict.passage) == ("verified", 0)
    # Across languages names may be spelled otherwise (Warsaw, Varsovia): not required.
    (verdict,) = verifier.verify(
        split_claims("Kim seeks nuclear-powered submarines. [1]", "en"),
        shown,
        "What does Kim seek according to Breuker?",
        None,
        "en",
    )
    assert (verdict.status, verdict.passage) == ("verified", 0)
    (passage, _), *_ = shown
    assert names_all(passage, "Que veut Kim ?", "fr")
    assert not names_all(passage, "Que veut Moon ?", "fr")
    assert names_all(replace(passage, title="Moon Jae-in"), "Que veut Moon ?", "fr")
    assert names_all(passage, "Que cherche-t-il en Russie ?", "fr")  # "russe"


def test_a_german_noun_is_not_a_name_to_find() -> None:
    # Every German noun is capitalised: "der Ausbau des Fährterminals in Rostock" names
    # Rostock, and a passage that says "baut sein Fährterminal … aus" answers it.
    text = "Der Hafen Rostock baut sein Fährterminal für 42,5 Millionen Euro aus."
    passage = replace(
        make_passage("hafen#0", text, 0.9), lang="de", title="Hafen Rostock erweitert Fährterminal"
    )
    assert names_all(passage, "Wie viel kostet der Ausbau des Fährterminals in Rostock?", "de")
    assert names_all(passage, "Was kostet das neue Terminal in Rostock?", "de")
    assert not names_all(passage, "Wie viel kostet der Ausbau des Hafens in Kiel?", "de")
    assert not names_all(passage, "Wer ist Edward Antill?", "de")


def test_a_translation_naming_what_its_source_does_not_is_caught() -> None:
    # Seen in a newcomer's trial: a Polish "translation" of an English quote opened "W
    # Poznaniu" (in Poznań) and was shown as verified. Names cross languages when spelt
    # nearly alike; English and German capitalise words a translation brings.
    source = (
        "Helsinki-based Aurora Orbital launched its first weather satellite, Aurora-1, on "
        "a Falcon 9 rocket from California on Tuesday."
    )
    question = "Jakie są najnowsze wiadomości o Aurora Orbital?"
    garbled = "W Poznaniu zielonego orbitalnego wydaliło swoje pierwsze satelit, Aurora-1."
    assert invented_names(garbled, source, question, "pl") == ["Poznaniu"]
    faithful = "Aurora Orbital z Helsinek wystrzeliła satelitę Aurora-1 z Kalifornii."
    assert invented_names(faithful, source, question, "pl") == []
    assert invented_names("On Tuesday, Aurora Orbital launched it.", "mardi", "", "en") == []
    assert invented_names("Der Ausbau kostet 42,5 Millionen Euro.", "x", "", "de") == []
    assert invented_names("Le coût atteint 31 Millions d'euros.", "31 million", "", "fr") == []


RESERVOIR = (
    "英国北部のブリンドルウッド貯水池で14日、ダムの補修工事が予定より早く始まった。"
    "工事責任者のアマラ・オコンクォ技師によると、完成は2027年6月の見込みだという。"
)


def test_a_name_is_held_across_scripts_and_a_garbled_one_is_caught() -> None:
    # Seen in a newcomer's trial: an English answer from a Japanese article named the
    # "ブリンドルウッド" reservoir "Bridlington" and was labelled verified; an Italian one
    # put it in "Londra".
    question = "What's the latest on the Brindlewood dam?"
    garbled = "The dam at Bridlington in northern England was repaired early."
    assert invented_names(garbled, RESERVOIR, question, "en") == ["Bridlington"]
    # Kana hold a Latin name by its consonants; English "England" (英国) is not asked for.
    faithful = "Engineer Amara Okonkwo expects the Brindlewood dam done in June 2027, England."
    assert invented_names(faithful, RESERVOIR, question, "en") == []
    italian = "Nel piccolo lago di Londra, Amara Okonkwo ha avviato i lavori."
    assert invented_names(italian, RESERVOIR, "Novità sulla diga di Brindlewood?", "it") == [
        "Londra"
    ]
    cyrillic = "МОРВЕННИ, 2 апреля 2026 года. Жители Морвенни возвращаются домой."
    assert invented_names("I residenti di Morvenni tornano a casa.", cyrillic, "?", "it") == []


@pytest.mark.slow
def test_a_passage_that_does_not_hold_a_claim_s_names_cannot_support_it(
    verifier: Verifier,
) -> None:
    passage = Passage(
        "d", "c0", "T", None, "s", "ja", RESERVOIR, 0, len(RESERVOIR), 0.8, ((0, 40),)
    )
    shown = [(passage, [Quote(0, 40, RESERVOIR[:40])])]
    question = "What's the latest on the Brindlewood dam?"
    right = "Repairs on the Brindlewood dam started earlier than planned [1]."
    garbled = "Repairs on the Bridlington dam started earlier than planned [1]."
    verdicts = verifier.verify(
        split_claims(f"{right} {garbled}", "en"), shown, question, None, "en"
    )
    assert [v.status for v in verdicts] == ["verified", "unsupported"]


@pytest.mark.slow
def test_past_the_first_sentence_an_answer_rests_on_the_passages_it_began_with(
    verifier: Verifier, shown: Any
) -> None:
    # piaf_fr: "Pourquoi l'Elaphomyces n'est-il pas consommé ?" was answered, then padded
    # with three true side facts of the next passage ("Elaphomyces est un genre de
    # champignons…"). A later sentence may rest only on a passage already cited.
    answer = split_claims(
        "Kim seeks Russian satellite technology. [1] It is also a chance to reassert "
        "himself on the international stage. [1] Kim may travel by armoured train to "
        "Vladivostok. [3]",
        "en",
    )
    verdicts = verifier.verify(answer, shown, "What does Kim want from Russia?", 0.8)
    assert [(v.status, v.passage) for v in verdicts] == [
        ("verified", 0),
        ("verified", 0),
        ("off-topic", None),
    ]
    # Alone, the last claim rests on its passage: nothing came before it.
    (alone,) = verifier.verify(answer[2:], shown, "What does Kim want from Russia?", 0.8)
    assert (alone.status, alone.passage) == ("verified", 2)


def status_against(
    verifier: Verifier, source: str, title: str, question: str, claim: str, lang: str
) -> str:
    """The status `verifier` gives `claim` (written in `lang`) against an English
    passage of one sentence, `source`, under `title`."""
    q = Quote(0, len(source), source)
    passage = Passage(
        "m", "m#0", title, None, "m", "en", source, 0, len(source), 0.8, ((0, len(source)),)
    )
    (v,) = verifier.verify(
        split_claims(claim + " [1]", lang), [(passage, [q])], question, None, lang
    )
    return v.status


@pytest.mark.slow
def test_a_figure_is_checked_with_its_scale_in_each_language(verifier: Verifier) -> None:
    """The issue's German case: "1.3 billion" is "1,3 Milliarden"; a German "Billion"
    is a thousand times more, and Italian "bilione" too: the digits match, the figure
    does not."""
    from qa.verify import scaled_numbers, unstated

    source = "Insured losses from Storm Mareike have reached an estimated €1.3 billion."
    stated = scaled_numbers(source, "en")
    assert unstated(scaled_numbers("Die Schäden betragen 1,3 Milliarden Euro.", "de"), stated) == 0
    assert unstated(scaled_numbers("Die Schäden betragen 1,3 Billionen Euro.", "de"), stated) == 1
    assert unstated(scaled_numbers("I danni sono di circa €1,3 bilione.", "it"), stated) == 1
    assert unstated(scaled_numbers("Les dégâts atteignent 1,3 milliard.", "fr"), stated) == 0
    assert unstated(scaled_numbers("Die Schäden betragen 1,3.", "de"), stated) == 0  # no scale
    question = "Wie hoch sind die versicherten Schäden durch Sturm Mareike?"

    def status(claim: str) -> str:
        return status_against(verifier, source, "Storm Mareike", question, claim, "de")

    assert (
        status("Die versicherten Schäden durch Sturm Mareike betragen 1,3 Milliarden Euro.")
        == "verified"
    )
    assert (
        status("Die versicherten Schäden durch Sturm Mareike betragen 1,3 Billionen Euro.")
        == "unsupported"
    )


def test_a_number_or_a_day_written_as_a_word_is_a_figure_in_the_languages_with_a_list() -> None:
    """Seen in a trial: "tras ocho días" for a source's "after eighteen days" was
    verified, since only digits were compared."""
    from qa.verify import scaled_numbers, unstated

    stated = scaled_numbers("The strike ended on Thursday after eighteen days.", "en")
    assert stated == {("18", None), ("day 4", None)}
    assert unstated(scaled_numbers("La huelga terminó tras ocho días.", "es"), stated) == 1
    assert unstated(scaled_numbers("La huelga terminó tras dieciocho días.", "es"), stated) == 0
    assert unstated(scaled_numbers("Lo sciopero è finito dopo 18 giorni.", "it"), stated) == 0
    assert (
        unstated(scaled_numbers("Achttien dagen later was de staking voorbij.", "nl"), stated) == 0
    )
    # A compound's parts are not its value; a word with another meaning is left out.
    assert scaled_numbers("La grève a duré dix-huit jours.", "fr") == set()
    assert scaled_numbers("Un nouveau pont neuf.", "fr") == set()
    assert scaled_numbers("Sei stato a Roma?", "it") == set()
    # A day of the week too ("eindigd op dinsdag", seen verified).
    assert unstated(scaled_numbers("De staking eindigde op dinsdag.", "nl"), stated) == 1
    assert unstated(scaled_numbers("Lo sciopero è finito giovedì.", "it"), stated) == 0
    # Other languages compare digits only.
    assert scaled_numbers("Strajk trwał osiemnaście dni, 18 dni.", "pl") == {("18", None)}


@pytest.mark.slow
def test_a_claim_with_a_wrong_number_word_is_not_verified(verifier: Verifier) -> None:
    source = (
        "The strike by Metrovalencia train drivers ended on Thursday after eighteen days, "
        "when the regional operator FGV agreed to hire 38 new drivers by June 2027."
    )
    question = "¿Cuándo terminó la huelga del metro de Valencia?"

    def status(claim: str) -> str:
        return status_against(verifier, source, "Metro strike ends", question, claim, "es")

    right = "La huelga de los conductores de Metrovalencia terminó el jueves tras {} días."
    assert status(right.format("dieciocho")) == "verified"
    assert status(right.format("ocho")) == "unsupported"


@pytest.mark.parametrize(
    "question",
    [
        "Quantos empregos promete a fábrica da Voltaris?",
        "Hoeveel mensen kwamen om door de storm?",
        "Quanti morti ha causato la tempesta?",
        "Сколько людей погибло?",
        "Πόσοι ψήφισαν στις εκλογές;",
        "Kaç kişi öldü?",
        "몇 명이 죽었나요?",
    ],
)
def test_a_question_after_a_count_is_recognised_beyond_four_languages(question: str) -> None:
    assert asks_count(question)


@pytest.mark.slow
def test_a_claim_joining_a_sentence_to_the_one_before_keeps_its_figures(
    verifier: Verifier,
) -> None:
    # A newcomer's "Perché l'apertura della linea 4 è stata rinviata?" was answered
    # "… rinviata a marzo 2027 perché i binari … devono essere sostituiti …": the reason
    # is the article's second sentence, the date its first. The date was held against
    # the second as a figure its source lacks, and a right answer fell to a quote that
    # gives no reason.
    text = (
        "L'apertura della linea 4 del tram di Velmora è stata rinviata a marzo 2027. "
        "Lo ha annunciato l'assessore Carla Benedetti, spiegando che i binari posati in via "
        "Garibaldi devono essere sostituiti dopo che un'ispezione ha trovato saldature "
        "difettose su 600 metri."
    )
    p = replace(make_passage("v", text, 0.85), lang="it")
    shown = [(p, p.sentence_texts())]
    question = "Perché l'apertura della linea 4 è stata rinviata?"
    joined = (
        "La linea 4 di Velmora è stata rinviata a marzo 2027 perché i binari posati in via "
        "Garibaldi devono essere sostituiti dopo che un'ispezione ha trovato saldature "
        "difettose su 600 metri. [1]"
    )
    (verdict,) = verifier.verify(split_claims(joined, "it"), shown, question, None, "it")
    assert verdict.status == "verified" and verdict.quote is not None
    assert verdict.quote.text.startswith("Lo ha annunciato")
    # A figure neither sentence states is still held against it.
    wrong = joined.replace("2027", "2029")
    (verdict,) = verifier.verify(split_claims(wrong, "it"), shown, question, None, "it")
    assert verdict.status == "unsupported"


def test_a_compound_on_a_held_name_is_held() -> None:
    # Seen in a newcomer's trial: a Swedish translation's "T10-tramvägen" (the T10 line)
    # was refused as a name the French source does not give, and the French stood.
    source = "Lyon : la ligne de tramway T10 retardée de huit mois"
    question = "Varför försenas spårvagnslinjen T10 i Lyon?"
    faithful = "Lyon: T10-tramvägen är försenad i åtta månader."
    assert invented_names(faithful, source, question, "sv") == []
    garbled = "Lyon: Poznań-linjen är försenad i åtta månader."
    assert invented_names(garbled, source, question, "sv") == ["Poznań-linjen"]


def test_a_country_is_held_by_its_name_in_any_language() -> None:
    # The multilingual set: a French translation's "en Allemagne", from an English
    # source's "Germany", was refused as a name the source does not give.
    source = (
        "Battery maker Voltaris has secured a €2.1 billion financing package for its "
        "planned cell factory in Lauterfeld, Germany, the company said on Wednesday."
    )
    question = "Quel financement Voltaris a-t-il obtenu ?"
    french = "Voltaris a obtenu 2,1 milliards d'euros pour son usine de Lauterfeld, en Allemagne."
    assert invented_names(french, source, question, "fr") == []
    polish = "Voltaris otrzymał 2,1 mld euro na fabrykę w Lauterfeld w Niemczech, w Niemcy."
    assert invented_names(polish, source, question, "pl") == ["Niemczech"]  # a case CLDR lacks
    assert invented_names("Voltaris construira en Turquie.", source, question, "fr") == ["Turquie"]
    dutch = "De Nederland-fabriek van Voltaris staat in Nederland."
    assert invented_names(dutch, "La usine aux Pays-Bas de Voltaris.", "?", "nl") == []
