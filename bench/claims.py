"""Whether the local generator, asked "does the source say what the statement says?",
tells right claims from wrong ones: the only labelled data for the judge's `states`
threshold (`qa/judge.py`), hand-made in four languages on the trial articles and the
seed. Each pair is scored with the source sentence alone and under its headline.

    python bench/claims.py [--out FILE]

Right claims reword their source, name what it is about from the headline, or answer
in another language; wrong ones change its subject, a number, a date, or its sense.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

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
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
