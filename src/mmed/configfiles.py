"""Config files: the ones shipped inside the package, usable by name from any working directory (`mmed bench
build sample`, `mmed corpus build mmedc`, `mmed train cpt cpt-demo`), and reading a YAML mapping with errors that
name the file."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from mmed.errors import ConfigError


def shipped_configs(package: str, folder: str, keep: Callable[[str], bool] = lambda name: True) -> dict[str, Path]:
    """YAML files of `package`/`folder` by stem, those whose stem `keep` accepts."""
    root = files(package) / folder
    found = (Path(str(p)) for p in root.iterdir() if str(p).endswith((".yaml", ".yml")))
    return {p.stem: p for p in found if keep(p.stem)}


def resolve_config_path(name_or_path: str | Path, shipped: dict[str, Path], what: str) -> Path:
    """A config file's path: an existing file wins over a shipped name of the same spelling."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise ConfigError(f"{name_or_path}: no such config file, and not a shipped {what} config "
                      f"({', '.join(sorted(shipped)) or 'none'})")


def read_yaml_mapping(path: Path) -> tuple[dict[str, Any], bytes]:
    """The top-level mapping of a YAML file (an empty file is an empty mapping) and the file's bytes (to hash)."""
    import yaml

    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it ({e.strerror or e})") from None
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if raw is None:
        return {}, data
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of fields at the top level, got {type(raw).__name__}")
    return raw, data
