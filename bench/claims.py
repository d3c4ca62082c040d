"""Whether the local generator, asked "does the source say what the statement says?",
tells right claims from wrong ones: the only labelled data for the judge's `states`
threshold (`qa/judge.py`), hand-made in four languages on the trial articles and the
seed. Each pair is scored with the source sentence alone and under its headline. Then
translations of a sentence, faithful or not, read the same way and by the embedding.

    python bench/claims.py [--out FILE]

Right claims reword their source, name what it is about from the headline, or answer
in another language; wrong ones change its subject, a number, a date, or its sense.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from common import ROOT  # noqa: F401 - puts the checkout first on the path

TRAM = "Grenoble inaugure sa ligne de tram F"
TRAM_COST = "Le chantier a coûté 310 millions d'euros, financés pour moitié par la métropole."
TRAM_LENGTH = "Longue de 11,2 kilomètres, elle relie la gare à Meylan en 31 minutes."
BIKE = "Lyon amplía su red de carriles bici"
BIKE_COST = "La obra costará 38 millones de euros."
BIKE_KM = (
    "El ayuntamiento de Lyon anunció el martes que añadirá 45 kilómetros de carriles bici "
    "antes de 2028."
)
KIM = "Maintenant que Kim Jong-un envisage un voyage en Russie"
KIM_WHY = (
    "Et – raison tout aussi valable pour la rencontre physique : c’est l’occasion de se "
    "réaffirmer sur la scène internationale."
)
KIM_BREUKER = (
    "“D’un point de vue politique, Kim Jong-un ne voudra de toute façon pas revenir de "
    "Russie les mains vides, et cela ne contribuera pas à plus de stabilité dans le "
    "monde”, estime Breuker"
)
BUDGET = "Le conseil municipal de Lyon adopte son budget 2027"
BUDGET_SPEND = (
    "La ville dépensera 892 millions d'euros l'an prochain, dont 64 millions pour la "
    "rénovation des écoles."
)
# (headline, source sentence, claim, whether the source says it)
PAIRS = [
    (TRAM, TRAM_COST, "The works on tram line F in Grenoble cost 310 million euros.", True),
    (TRAM, TRAM_COST, "Le chantier de la ligne F a coûté 310 millions d'euros.", True),
    (TRAM, TRAM_COST, "The tram ticket in Grenoble costs 310 million euros.", False),
    (TRAM, TRAM_COST, "Le ticket de tram à Grenoble coûte 310 millions d'euros.", False),
    (TRAM, TRAM_LENGTH, "Line F is 11.2 kilometres long.", True),
    (TRAM, TRAM_LENGTH, "Line F is 14 kilometres long.", False),
    (
        TRAM,
        TRAM_LENGTH,
        "Die Linie F ist 11,2 Kilometer lang und verbindet den Bahnhof mit Meylan.",
        True,
    ),
    (TRAM, TRAM_LENGTH, "La ligne F relie la gare à Grenoble en 11 minutes.", False),
    (
        BIKE,
        BIKE_COST,
        "El coste de añadir 45 kilómetros de carriles bici a Lyon antes de 2028 será de 38 "
        "millones de euros.",
        True,
    ),
    (BIKE, BIKE_COST, "El billete de bus en Lyon costará 38 millones de euros.", False),
    (BIKE, BIKE_KM, "Lyon ampliará su red de carriles bici a 45 kilómetros antes de 2028.", True),
    (BIKE, BIKE_KM, "Lyon añadirá 45 kilómetros de carriles bici en 2026.", False),
    (
        KIM,
        KIM_WHY,
        "Kim would meet Putin in person to reassert himself on the international stage.",
        True,
    ),
    (KIM, KIM_WHY, "Kim would meet Putin in person to obtain nuclear weapons.", False),
    (
        KIM,
        KIM_BREUKER,
        "Breuker thinks Kim will not want to come back from Russia empty-handed.",
        True,
    ),
    (KIM, KIM_BREUKER, "Breuker thinks Kim will come back from Russia empty-handed.", False),
    (BUDGET, BUDGET_SPEND, "Lyon will spend 892 million euros next year.", True),
    (BUDGET, BUDGET_SPEND, "Lyon will spend 64 million euros next year.", False),
    (BUDGET, BUDGET_SPEND, "Le budget a été annulé par le préfet.", False),
]

# (source sentence, translation, whether it is faithful): for the translation floor
# (`qa.respond.TRANSLATION_FLOOR`). Wrong ones are the 1.5B model's, from newcomers'
# trials and the multilingual set (2026-11-30); right ones, its own or written by hand.
TRANSLATIONS = [
    (
        (
            "Battery maker Voltaris has secured a €2.1 billion financing package for its planned "
            "cell factory in Lauterfeld, Germany, the company said on Wednesday."
        ),
        (
            "Le fabricant de batteries Voltaris a obtenu un financement de 2,1 milliards d'euros "
            "pour son projet d'usine de cellules à Lauterfeld, en Allemagne, a indiqué "
            "l'entreprise mercredi."
        ),
        True,
    ),
    (
        "Het KNMI mat op Vlieland een windstoot van 141 kilometer per uur.",
        "O KNMI mediu em Vlieland uma rajada de vento de 141 quilómetros por hora.",
        True,
    ),
    (
        (
            "Beslutet kommer efter att 1 350 boende i Masthugget och Majorna klagat på buller och"
            " avgaser från fartygen under förra säsongen."
        ),
        (
            "La décision fait suite aux plaintes de 1 350 habitants de Masthugget et Majorna "
            "concernant le bruit et les gaz d'échappement des navires la saison dernière."
        ),
        True,
    ),
    (
        "Kesintiden yaklaşık 4,4 milyon kişi etkilenecek.",
        "Von der Abschaltung werden etwa 4,4 Millionen Menschen betroffen sein.",
        True,
    ),
    (
        (
            "La mise en service de la ligne de tramway T10, qui doit relier Saint-Fons à la gare "
            "de Vénissieux, est repoussée de septembre 2027 à mai 2028, a annoncé mardi le "
            "Sytral."
        ),
        (
            "The announcement of the postponement of the T10 tramway line from September 2027 to "
            "May 2028 was made on Tuesday by Sytral."
        ),
        True,
    ),
    (
        (
            "Från den 1 april 2027 får kryssningsfartyg inte lägga till i Göteborgs hamn mellan "
            "klockan 23 och 06, meddelade hamnbolaget på måndagen."
        ),
        (
            "From 1 April 2027, cruise ships may not dock in Gothenburg's port between 11 pm and "
            "6 am, the port company said on Monday."
        ),
        True,
    ),
    (
        "Lyon : la ligne de tramway T10 retardée de huit mois",
        "Lyon: T10-tramvägen är 8 månader att vänta.",
        True,
    ),
    (
        (
            "Hamnen tog emot 214 anlöp av kryssningsfartyg under 2025, en ökning med 40 procent "
            "på två år."
        ),
        "214 accidents de chasse en 2025, une augmentation de 40% au cours d'un an.",
        False,
    ),
    (
        (
            "İzmir, 20 Eylül 2026 — İzmir Su ve Kanalizasyon İdaresi (İZSU), kentin en büyük içme"
            " suyu kaynağı olan Tahtalı Barajı'nın doluluk oranının yüzde 9'a düştüğünü açıkladı."
        ),
        (
            "Izmir, 20. September 2026 - Die Stadt ist die größte Wasserquellenquelle für die "
            "Inlandseis der Stadt Tahrli Baraj in der Türkei."
        ),
        False,
    ),
    (
        "Kesintiden yaklaşık 4,4 milyon kişi etkilenecek.",
        "Esstens 4,4 Millionen Menschen werden verletzt.",
        False,
    ),
    (
        (
            "Das Bremerhavener Start-up Nordakku bekommt für seine geplante Fabrik für "
            "Natrium-Ionen-Batterien eine Förderung von 180 Millionen Euro."
        ),
        (
            "De Bremerhavener Start-up Nordakku krijgt voor zijn geplante Fabrik voor "
            "Natrium-Ionen-Batterien een ondersteuning van 180 miljard Euro."
        ),
        False,
    ),
    (
        (
            "Meteorologen zufolge zieht Mareike anschließend über die Niederlande und Dänemark "
            "weiter Richtung Ostsee."
        ),
        "Zgodnie z meteorologią, Mareike przeszedła do Niedlandów i Danemark w stronę Oceany.",
        False,
    ),
    (
        (
            "Från den 1 april 2027 får kryssningsfartyg inte lägga till i Göteborgs hamn mellan "
            "klockan 23 och 06, meddelade hamnbolaget på måndagen."
        ),
        (
            "À partir du 1er avril 2027, les navires de croisière doivent accoster à Göteborg "
            "entre 23 heures et 6 heures."
        ),
        False,
    ),
    (
        (
            "Insured losses from Storm Mareike, which swept across northern Europe two weeks ago,"
            " have reached an estimated €1.3 billion, according to figures released on Tuesday by"
            " the reinsurance analytics firm Nordrisk."
        ),
        (
            "Verwirkte Schaden aus Storm Mareike, der zwei Wochen zuvor über Nord Europa "
            "geschlagen hat, betrug an estimated €1.3 billion, wie die Reinsuranzanalytiker "
            "Nordrisk am Dienstag veröffentlicht haben."
        ),
        False,
    ),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    from qa import Assistant
    from qa.judge import THRESHOLDS

    qa = Assistant()
    judge = qa.models.judge_for(qa.llm)
    if judge is None or judge.checker is None:
        raise SystemExit("needs the local model (QA_LLM=local) and an e5 index")
    threshold = THRESHOLDS["scorer+generator"].states
    report: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "threshold": threshold}
    for form in ("sentence", "headline+sentence"):
        rows = []
        for headline, sentence, claim, right in PAIRS:
            source = sentence if form == "sentence" else f"{headline}\n\n{sentence}"
            rows.append((round(judge.checker.rate(claim, [source])[0], 3), right, claim))
        kept_right = sum(p >= threshold for p, r, _ in rows if r)
        kept_wrong = sum(p >= threshold for p, r, _ in rows if not r)
        right, wrong = sum(r for _, r, _ in rows), sum(not r for _, r, _ in rows)
        print(f"\n{form}: at {threshold}, {kept_right}/{right} right, {kept_wrong}/{wrong} wrong")
        for p, right, claim in rows:
            print(f"  {p:.3f} {'right' if right else 'WRONG'}  {claim}")
        report[form] = [{"p": p, "right": r, "claim": c} for p, r, c in rows]
    # A translation, read by the generator as a claim and by the embedding's cosine.
    embedding = qa.models.embedding()
    rows = []
    for source, translation, right in TRANSLATIONS:
        said = round(judge.checker.rate(translation, [source])[0], 3)
        vectors = np.asarray(embedding.passages([source, translation]))
        rows.append((said, round(float(vectors[0] @ vectors[1]), 3), right, translation))
    print("\ntranslations: generator (says), embedding cosine")
    for said, cosine, right, translation in rows:
        print(f"  {said:.3f} {cosine:.3f} {'right' if right else 'WRONG'}  {translation[:80]}")
    report["translations"] = [
        {"says": p, "cosine": c, "right": r, "translation": t} for p, c, r, t in rows
    ]
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
