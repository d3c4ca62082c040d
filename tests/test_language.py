import pytest

from qa.language import detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Why would Kim meet Putin in person?", "en"),
        ("Who is Breuker?", "en"),
        ("And what does Breuker think?", "en"),
        ("Pourquoi Kim rencontre-t-il Poutine ?", "fr"),
        ("Qui est Breuker ?", "fr"),
        ("Warum trifft Kim Putin?", "de"),
        ("Was denkt Breuker?", "de"),
        ("¿Por qué Kim se reúne con Putin?", "es"),
        ("¿Quién es Breuker?", "es"),
        ("Les services de renseignement sud-coréens envisagent une visite en Russie.", "fr"),
        ("?!…", "en"),
    ],
)
def test_short_questions(text: str, lang: str) -> None:
    assert detect_language(text) == lang
