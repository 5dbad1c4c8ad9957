"""Assemble a multilingual benchmark from several native sources (what `mmed bench build` runs).

A config (YAML) names, per language, the parts to convert:

    name: mmedbench-test
    languages:
      en:
        - {source: medqa, paths: [MedQA/phrases_no_exclude_test.jsonl], split: test}
      ja:
        - {source: igakuqa, paths: [IgakuQA/data]}

Relative paths resolve against `root` (the --root option, else the config's `root` key relative to the
config file, else the config's folder). Items of another language than the key are dropped (a
converter such as xmedbench can yield several). The output folder gets `<lang>.jsonl` with its
`<lang>.report.json`, rejects when --skip-invalid, and `manifest.json`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mmed import configfiles
from mmed.bench.convert import ConvertResult, convert, sidecar
from mmed.bench.schema import McqItem
from mmed.bench.sources import SOURCES
from mmed.bench.stats import item_stats
from mmed.errors import ConfigError
from mmed.io import sha256_file, write_json, write_jsonl
from mmed.langs import LANGUAGES

PART_KEYS = {"source", "paths", "split"}
CONFIG_KEYS = {"name", "description", "root", "languages", "notes"}


@dataclass(frozen=True)
class Part:
    source: str
    paths: list[Path]
    split: str | None = None


@dataclass
class BuildConfig:
    name: str
    path: Path
    languages: dict[str, list[Part]]
    description: str = ""
    notes: str = ""
    sha256: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def shipped_configs() -> dict[str, Path]:
    """Configs that ship with mmed, by name (usable as `mmed bench build NAME`)."""
    return configfiles.shipped_configs("mmed.bench", "configs")


def resolve_config_path(name_or_path: str | Path) -> Path:
    return configfiles.resolve_config_path(name_or_path, shipped_configs(), "benchmark build")


def load_config(name_or_path: str | Path, root: str | Path | None = None) -> BuildConfig:
    """Read and check a build config; every error names the config file and the offending key."""
    path = resolve_config_path(name_or_path)
    raw, data = configfiles.read_yaml_mapping(path)
    unknown = set(raw) - CONFIG_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(CONFIG_KEYS)}")
    base = (Path(root) if root is not None else path.parent / str(raw.get("root") or ".")).resolve()
    langs = raw.get("languages")
    if not isinstance(langs, dict) or not langs:
        raise ConfigError(f"{path}: 'languages' must map language codes to lists of parts")
    parsed: dict[str, list[Part]] = {}
    for lang, parts in langs.items():
        if lang not in LANGUAGES:
            raise ConfigError(f"{path}: languages.{lang}: unknown language; supported: {', '.join(LANGUAGES)}")
        if not isinstance(parts, list) or not parts:
            raise ConfigError(f"{path}: languages.{lang}: expected a non-empty list of parts")
        parsed[lang] = [_part(p, f"{path}: languages.{lang}[{i}]", base) for i, p in enumerate(parts)]
    return BuildConfig(
        name=str(raw.get("name") or path.stem), path=path, languages=parsed,
        description=str(raw.get("description") or ""), notes=str(raw.get("notes") or ""),
        sha256=hashlib.sha256(data).hexdigest(), raw=raw,
    )


def _part(raw: Any, where: str, base: Path) -> Part:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with source and paths")
    unknown = set(raw) - PART_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(PART_KEYS)}")
    source = raw.get("source")
    if source not in SOURCES:
        raise ConfigError(f"{where}.source: unknown source {source!r}; choose one of: {', '.join(SOURCES)}")
    paths = raw.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths:
        raise ConfigError(f"{where}.paths: expected a path or a list of paths")
    resolved = [base / p for p in paths]
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise ConfigError(f"{where}.paths: not found: {', '.join(missing)} "
                          f"(relative paths resolve against {base}; pass --root to the folder holding the data)")
    return Part(source=source, paths=resolved, split=raw.get("split"))


def build(config: BuildConfig, out_dir: str | Path, *, skip_invalid: bool = False) -> dict[str, Any]:
    """Convert every part, write one file per language and the manifest; return the manifest."""
    from mmed import __version__

    out_dir = Path(out_dir)
    manifest: dict[str, Any] = {
        "name": config.name,
        "description": config.description,
        "config": {"path": str(config.path), "sha256": config.sha256},
        "mmed_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "languages": {},
        "licences": {},
        "notes": config.notes,
    }
    for lang, parts in config.languages.items():
        items: list[McqItem] = []
        part_reports: list[dict[str, Any]] = []
        skipped: Counter[str] = Counter()
        rejects = []
        for part in parts:
            result: ConvertResult = convert(part.source, part.paths, split=part.split, skip_invalid=skip_invalid)
            kept = [it for it in result.items if it.lang == lang]
            report = result.report()
            report["items_for_lang"] = len(kept)
            part_reports.append(report)
            manifest["licences"][result.info.name] = result.info.licence
            skipped.update(result.ctx.skipped)
            rejects.extend(result.ctx.rejects)
            items.extend(kept)
        out = out_dir / f"{lang}.jsonl"
        write_jsonl(out, items)
        if rejects:
            write_jsonl(sidecar(out, "rejects.jsonl"), rejects)
        lang_report = {"lang": lang, "items": len(items), "skipped": dict(skipped), "rejected": len(rejects),
                       "parts": part_reports}
        write_json(sidecar(out, "report.json"), lang_report)
        stats = item_stats(items)
        manifest["languages"][lang] = {
            "file": out.name,
            "sha256": sha256_file(out),
            "items": len(items),
            "by_split": stats["by_split"],
            "by_subject": stats["by_subject"],
            "multi_answer": stats["multi_answer"],
            "with_rationale": stats["with_rationale"],
            "skipped": dict(skipped),
            "rejected": len(rejects),
            "sources": [{"source": r["source"], "licence": r["licence"], "items": r["items_for_lang"],
                         "inputs": r["inputs"]} for r in part_reports],
        }
    manifest["total"] = sum(v["items"] for v in manifest["languages"].values())
    write_json(out_dir / "manifest.json", manifest)
    return manifest
