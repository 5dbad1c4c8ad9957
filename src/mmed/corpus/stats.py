"""The statistics of a corpus build: `stats.json` and `summary.txt`, summed from the writers' counts files.

Every document that enters the pipeline leaves it through exactly one writer (kept, or rejected for one reason), and
each writer counts what it wrote per language (mmed.corpus.writers). So per language:

    in = kept + sum(removed by each reason)          (documents and characters; characters as read)

Documents rejected before language ID (unreadable or textless records) are under the language "-". Languages that
are not kept appear with their `language` removals only. PII counts are replacements in kept documents.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmed.corpus.writers import NO_LANGUAGE

# Column order of the summary: the pipeline's order. Reasons not listed here (new steps) go after them.
REASON_ORDER = ("bad_utf8", "invalid_json", "not_an_object", "missing_text", "empty_text", "too_long", "language",
                "language_low_score", "no_language", "no_keywords_for_language", "not_medical", "quality",
                "duplicate", "near_duplicate")
BAD_RECORD = frozenset(REASON_ORDER[:6])


def _cell() -> dict[str, int]:
    return {"docs": 0, "chars": 0}


def aggregate(counts_dir: Path) -> dict[str, Any]:
    """Sum every counts file under `counts_dir` into {language: {in, kept, removed: {reason: cell}, pii}}."""
    langs: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"in": _cell(), "kept": _cell(), "removed": defaultdict(_cell), "pii": defaultdict(int)})
    for path in sorted(counts_dir.glob("*.json")) if counts_dir.is_dir() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, cell in data.get("counts", {}).items():
            reason, lang = key.split("|", 1)
            row = langs[lang]
            target = row["kept"] if reason == "kept" else row["removed"][reason]
            for part in ("docs", "chars"):
                target[part] += cell[part]
                row["in"][part] += cell[part]
        for lang, kinds in data.get("pii", {}).items():
            for kind, n in kinds.items():
                langs[lang]["pii"][kind] += n
    out: dict[str, Any] = {}
    for lang in sorted(langs, key=lambda x: (x == NO_LANGUAGE, x)):
        row = langs[lang]
        out[lang] = {"in": row["in"], "kept": row["kept"],
                     "removed": {r: row["removed"][r] for r in _ordered(row["removed"])},
                     "pii": dict(sorted(row["pii"].items()))}
    return out


def _ordered(reasons: Any) -> list[str]:
    known = [r for r in REASON_ORDER if r in reasons]
    return known + sorted(r for r in reasons if r not in REASON_ORDER)


def totals(per_lang: dict[str, Any]) -> dict[str, Any]:
    tot: dict[str, Any] = {"in": _cell(), "kept": _cell(), "removed": defaultdict(_cell), "pii": defaultdict(int)}
    for row in per_lang.values():
        for part in ("docs", "chars"):
            tot["in"][part] += row["in"][part]
            tot["kept"][part] += row["kept"][part]
            for reason, cell in row["removed"].items():
                tot["removed"][reason][part] += cell[part]
        for kind, n in row["pii"].items():
            tot["pii"][kind] += n
    removed = {r: tot["removed"][r] for r in _ordered(tot["removed"])}
    return {"in": tot["in"], "kept": tot["kept"], "removed": removed, "pii": dict(sorted(tot["pii"].items()))}


def summary_table(stats: dict[str, Any], kept_languages: list[str]) -> str:
    """A fixed-width table: one row per kept language, then `other` (languages not kept), `-` and `total`."""
    per_lang = stats["languages"]
    rows: dict[str, Any] = {lang: per_lang[lang] for lang in kept_languages if lang in per_lang}
    others = {k: v for k, v in per_lang.items() if k not in kept_languages and k != NO_LANGUAGE}
    if others:
        rows["other"] = totals(others)
    if NO_LANGUAGE in per_lang:
        rows[NO_LANGUAGE] = per_lang[NO_LANGUAGE]
    rows["total"] = stats["total"]
    reasons = list(stats["total"]["removed"])
    short = {r: ("bad:" + r) if r in BAD_RECORD else r for r in reasons}
    head = ["lang", "docs in", "MB in", *[short[r] for r in reasons], "kept", "MB kept", "kept %", "PII"]
    lines = []
    for lang, row in rows.items():
        kept_pct = 100.0 * row["kept"]["docs"] / row["in"]["docs"] if row["in"]["docs"] else 0.0
        lines.append([lang, str(row["in"]["docs"]), f"{row['in']['chars'] / 1e6:.3f}",
                      *[str(row["removed"].get(r, {}).get("docs", 0)) for r in reasons],
                      str(row["kept"]["docs"]), f"{row['kept']['chars'] / 1e6:.3f}", f"{kept_pct:.1f}",
                      str(sum(row["pii"].values()))])
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out) + "\n(MB = millions of characters as read; removed counts are documents)\n"


def write_stats(out_dir: Path, *, name: str, languages: list[str]) -> dict[str, Any]:
    """Aggregate the counts of a finished build into out/stats.json and out/summary.txt (atomically)."""
    from mmed.io import atomic_path

    per_lang = aggregate(out_dir / "work" / "counts")
    stats = {"name": name, "kept_languages": languages, "languages": per_lang, "total": totals(per_lang)}
    with atomic_path(out_dir / "stats.json") as tmp:
        tmp.write_text(json.dumps(stats, ensure_ascii=False, indent=1), encoding="utf-8")
    with atomic_path(out_dir / "summary.txt") as tmp:
        tmp.write_text(summary_table(stats, languages), encoding="utf-8")
    return stats


@lru_cache(maxsize=1)
def _step_class() -> type:
    from datatrove.pipeline.base import PipelineStep

    class BuildStats(PipelineStep):
        """The last stage of a build (1 task): writes stats.json and summary.txt from the counts files."""

        name = "📊 Build stats"
        type = "📊 - STATS"

        def __init__(self, out_dir: str, name: str, languages: list[str]) -> None:
            super().__init__()
            self.out_dir, self.build_name, self.languages = out_dir, name, list(languages)

        def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> None:
            write_stats(Path(self.out_dir), name=self.build_name, languages=self.languages)

    BuildStats.__module__, BuildStats.__qualname__ = __name__, "BuildStats"
    return BuildStats


def __getattr__(name: str) -> Any:
    if name == "BuildStats":
        return _step_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
