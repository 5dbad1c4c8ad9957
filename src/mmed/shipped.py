"""Config files shipped inside the package, usable by name (`mmed bench build sample`, `mmed train cpt cpt-demo`)
from any working directory, as well as by path."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

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
