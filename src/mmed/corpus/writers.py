"""The corpus pipeline's writers (issue 4, step 7): `KeptWriter` and `RejectWriter`, both jsonl.gz with counts.

Both are datatrove JsonlWriters. What they add is accounting: each writer counts what it wrote per language (and,
for rejections, per reason; for kept documents, the PII replacements) and, when it closes, writes those counts
to a small JSON file per rank under `counts_folder`. `stats.json` is the sum of these files, so the statistics
describe exactly the documents on disk, and a rank that is rerun after a kill overwrites its data files and its
counts file together (datatrove's per-rank completion markers decide which ranks rerun).

Why not datatrove's own step statistics: exclusion writers are not pipeline steps, so their stats are never
collected, and the executor's merged stats.json only covers the ranks run by the last invocation (not the ones
skipped as complete on resume).

Layout:
- kept: `<out>/kept/<language>/<rank>.jsonl.gz`
- rejected: `<out>/rejected/<reason>/<rank>.jsonl.gz`, where `reason` is the part of the document's
  `filter_reason` metadata before the first ':' (`language:nl` -> `language/`; the full value stays in the record)
  or, for steps that do not set `filter_reason` (datatrove's dedup filters), the writer's fixed `reason`.

Characters are counted from `metadata["chars"]` (the text length as read, set by the reader) when present, so that
PII scrubbing does not change the accounting of a document between input and output.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

NO_LANGUAGE = "-"  # documents rejected before language ID (bad records) are counted under this key


def reason_folder(filter_reason: str) -> str:
    """`language:nl` -> `language`: the folder of a rejection (its detail stays in the record's metadata)."""
    return filter_reason.split(":", 1)[0] or "unknown"


def chars_of(doc: Any) -> int:
    chars = doc.metadata.get("chars")
    return int(chars) if isinstance(chars, int) else len(doc.text)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class _Counts:
    """Per-rank tallies: {rank: {key: [docs, chars]}}; a process may run several ranks with one writer."""

    def __init__(self) -> None:
        self.by_rank: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        self.pii: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, rank: int, key: str, chars: int) -> None:
        cell = self.by_rank[rank][key]
        cell[0] += 1
        cell[1] += chars

    def add_pii(self, rank: int, lang: str, counts: dict[str, int]) -> None:
        for kind, n in counts.items():
            if n:
                self.pii[rank][lang][kind] += int(n)

    def flush(self, folder: Path, name: str) -> None:
        for rank in sorted(set(self.by_rank) | set(self.pii)):
            data = {
                "writer": name,
                "rank": rank,
                "counts": {k: {"docs": v[0], "chars": v[1]} for k, v in sorted(self.by_rank[rank].items())},
                "pii": {lang: dict(kinds) for lang, kinds in sorted(self.pii[rank].items())},
            }
            _write_json_atomic(folder / f"{name}-{rank:05d}.json", data)
        self.by_rank.clear()
        self.pii.clear()


@lru_cache(maxsize=1)
def _classes() -> tuple[type, type]:
    """Build the datatrove writers on first use, so importing this module does not import datatrove."""
    from datatrove.pipeline.writers.jsonl import JsonlWriter

    class _CountingWriter(JsonlWriter):
        counts_name = "writer"

        def __init__(self, output_folder: str, output_filename: str, counts_folder: str, name: str) -> None:
            super().__init__(output_folder, output_filename=output_filename, compression="gzip")
            self.counts_folder = str(counts_folder)
            self.counts_name = name
            self._counts = _Counts()

        def _key(self, doc: Any) -> str:
            raise NotImplementedError

        def write(self, document: Any, rank: int = 0, **kwargs: Any) -> None:
            self._counts.add(rank, self._key(document), chars_of(document))
            super().write(document, rank, **kwargs)

        def close(self) -> None:
            super().close()  # data first: a counts file never describes data that is not on disk
            self._counts.flush(Path(self.counts_folder), self.counts_name)

        def __getstate__(self) -> dict[str, Any]:  # counters hold lambdas; a pickled writer starts empty
            state = dict(self.__dict__)
            state.pop("_counts", None)
            return state

        def __setstate__(self, state: dict[str, Any]) -> None:
            self.__dict__.update(state)
            self._counts = _Counts()

    class KeptWriter(_CountingWriter):
        """Kept documents -> `<output_folder>/<language>/<rank>.jsonl.gz`; counts per language and PII per type."""

        name = "💾 Kept"

        def __init__(self, output_folder: str, counts_folder: str, name: str = "kept") -> None:
            super().__init__(output_folder, "${language}/${rank}.jsonl.gz", counts_folder, name)

        def _key(self, doc: Any) -> str:
            return f"kept|{doc.metadata.get('language') or NO_LANGUAGE}"

        def write(self, document: Any, rank: int = 0, **kwargs: Any) -> None:
            pii = document.metadata.get("pii")
            if isinstance(pii, dict):
                self._counts.add_pii(rank, document.metadata.get("language") or NO_LANGUAGE, pii)
            super().write(document, rank, **kwargs)

    class RejectWriter(_CountingWriter):
        """Rejected documents -> `<output_folder>/<reason>/<rank>.jsonl.gz`; counts per reason and language.

        `reason` is used for documents without `filter_reason` metadata (datatrove's dedup filters set none).
        """

        name = "🗑 Rejected"

        def __init__(self, output_folder: str, counts_folder: str, name: str, reason: str | None = None) -> None:
            super().__init__(output_folder, "${reject_folder}/${rank}.jsonl.gz", counts_folder, name)
            self.reason = reason

        def _reason(self, doc: Any) -> str:
            reason = doc.metadata.get("filter_reason") or self.reason or "unknown"
            doc.metadata["filter_reason"] = reason
            return reason

        def _key(self, doc: Any) -> str:
            return f"{reason_folder(self._reason(doc))}|{doc.metadata.get('language') or NO_LANGUAGE}"

        def write(self, document: Any, rank: int = 0, **kwargs: Any) -> None:
            reason = self._reason(document)
            super().write(document, rank, reject_folder=reason_folder(reason), **kwargs)

    for cls in (KeptWriter, RejectWriter):  # pickled by reference as mmed.corpus.writers.<name>
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return KeptWriter, RejectWriter


def __getattr__(name: str) -> Any:
    if name == "KeptWriter":
        return _classes()[0]
    if name == "RejectWriter":
        return _classes()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
