"""The config of `mmed corpus build` (YAML), read and checked before any work starts.

    name: mmedc-sample
    output: ../out/corpus                   # optional; `-o` overrides
    inputs:                                 # files or folders; CulturaX / FineWeb-2 layout (a `text` column)
      - {path: ../data/sample_raw/web-00000.jsonl, format: auto, text_key: text, id_key: id}
    languages: [en, zh, ja, fr, ru, es, de, pt, ar, ko, hi, it]    # kept languages (default: all 12)
    executor: {kind: local, tasks: 4, workers: 2}                  # or ray / slurm (see executors.py)
    steps:
      reader: {max_chars: 1000000}
      language: {engine: fasttext, min_score: 0.5}
      medical: {thresholds: null, keywords_dir: null, compat: null}
      quality: {gopher_repetition: {}}      # kind -> datatrove params ({} = its defaults); absent/false = off
      dedup: {exact: true, near: true}
      pii: {enabled: true, kinds: null}

Relative paths resolve against the config file's folder. Every error names the config file and the key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmed import configfiles
from mmed.errors import ConfigError
from mmed.langs import LANGUAGES

CONFIG_KEYS = {"name", "description", "output", "inputs", "languages", "executor", "steps"}
INPUT_KEYS = {"path", "format", "glob", "text_key", "id_key"}
INPUT_FORMATS = ("auto", "jsonl", "parquet")
# step -> allowed keys (None: validated by the module that owns the step)
STEP_KEYS: dict[str, set[str] | None] = {
    "reader": {"max_chars"},
    "language": {"engine", "min_score", "max_chars", "low_accuracy", "model_path"},
    "medical": {"thresholds", "keywords_dir", "compat"},
    "quality": None,
    "dedup": None,
    "pii": {"enabled", "kinds"},
}


@dataclass(frozen=True)
class InputSpec:
    path: Path  # a file or a folder
    fmt: str = "auto"
    glob: str | None = None
    text_key: str = "text"
    id_key: str = "id"


@dataclass(frozen=True)
class CorpusConfig:
    name: str
    path: Path | None  # the YAML file (None when built in code)
    output: Path | None
    inputs: tuple[InputSpec, ...]
    languages: tuple[str, ...] = tuple(LANGUAGES)
    executor: dict[str, Any] = field(default_factory=lambda: {"kind": "local", "tasks": 1, "workers": 1})
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    sha256: str = ""

    def step(self, name: str) -> dict[str, Any]:
        return dict(self.steps.get(name) or {})


def shipped_configs() -> dict[str, Path]:
    """Corpus configs that ship with mmed, by name (`mmed corpus build NAME`)."""
    return configfiles.shipped_configs("mmed.corpus", "recipes")


def resolve_config_path(name_or_path: str | Path) -> Path:
    return configfiles.resolve_config_path(name_or_path, shipped_configs(), "corpus")


def load_config(name_or_path: str | Path) -> CorpusConfig:
    path = resolve_config_path(name_or_path)
    raw, data = configfiles.read_yaml_mapping(path)
    cfg = parse_config(raw, where=str(path), base=path.parent)
    return CorpusConfig(**{**cfg.__dict__, "path": path, "sha256": hashlib.sha256(data).hexdigest()})


def parse_config(raw: dict[str, Any], *, where: str, base: Path) -> CorpusConfig:
    if unknown := set(raw) - CONFIG_KEYS:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(CONFIG_KEYS)}")
    inputs_raw = raw.get("inputs") or []
    if not isinstance(inputs_raw, list):
        raise ConfigError(f"{where}: inputs: expected a list of paths or {{path: ...}} mappings")
    inputs = tuple(parse_input(item, where=f"{where}: inputs[{i}]", base=base) for i, item in enumerate(inputs_raw))
    langs = raw.get("languages", list(LANGUAGES))
    if not isinstance(langs, list) or not langs or not all(isinstance(x, str) for x in langs):
        raise ConfigError(f"{where}: languages: expected a non-empty list of language codes")
    if bad := [x for x in langs if x not in LANGUAGES]:
        # Other languages have no keyword list: the medical filter could only reject them.
        raise ConfigError(f"{where}: languages: {bad} have no shipped keyword list; supported: {' '.join(LANGUAGES)}")
    executor = raw.get("executor") or {"kind": "local"}
    if not isinstance(executor, dict):
        raise ConfigError(f"{where}: executor: expected a mapping (kind, tasks, workers, slurm, ray)")
    steps = raw.get("steps") or {}
    if not isinstance(steps, dict):
        raise ConfigError(f"{where}: steps: expected a mapping of step name -> settings")
    for name, settings in steps.items():
        if name not in STEP_KEYS:
            raise ConfigError(f"{where}: steps.{name}: unknown step; known: {', '.join(STEP_KEYS)}")
        if settings is None:
            steps[name] = {}
            continue
        if not isinstance(settings, dict):
            raise ConfigError(f"{where}: steps.{name}: expected a mapping of settings")
        allowed = STEP_KEYS[name]
        if allowed is not None and (unknown := set(settings) - allowed):
            raise ConfigError(f"{where}: steps.{name}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    medical = dict(steps.get("medical") or {})
    for key in ("thresholds", "keywords_dir"):
        if medical.get(key) is not None:
            medical[key] = str(_existing(base / str(medical[key]), f"{where}: steps.medical.{key}"))
    if medical:
        steps["medical"] = medical
    output = raw.get("output")
    return CorpusConfig(
        name=str(raw.get("name") or "corpus"), path=None,
        output=None if output is None else (base / str(output)).resolve(),
        inputs=inputs, languages=tuple(dict.fromkeys(langs)), executor=dict(executor), steps=dict(steps),
        description=str(raw.get("description") or ""),
    )


def parse_input(item: Any, *, where: str, base: Path) -> InputSpec:
    if isinstance(item, str):
        item = {"path": item}
    if not isinstance(item, dict) or "path" not in item:
        raise ConfigError(f"{where}: expected a path or a mapping with 'path'")
    if unknown := set(item) - INPUT_KEYS:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(INPUT_KEYS)}")
    fmt = str(item.get("format", "auto"))
    if fmt not in INPUT_FORMATS:
        raise ConfigError(f"{where}.format: {fmt!r}; choose one of {', '.join(INPUT_FORMATS)}")
    path = _existing(base / str(item["path"]), f"{where}.path")
    return InputSpec(path=path, fmt=fmt, glob=item.get("glob"), text_key=str(item.get("text_key", "text")),
                     id_key=str(item.get("id_key", "id")))


def _existing(path: Path, where: str) -> Path:
    path = path.expanduser().resolve()
    if not path.exists():
        raise ConfigError(f"{where}: not found: {path} (relative paths resolve against the config file's folder)")
    return path
