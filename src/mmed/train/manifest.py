"""OUTPUT/manifest.json: everything needed to trace a trained model back to its inputs.

Written before training starts (a killed run still says what it was), by the main process only. A resumed run
keeps the original manifest and appends to its "resumes" list, so a config edited between the two is visible.
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mmed.train.config import LoadedConfig

MANIFEST = "manifest.json"


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    from mmed import __version__

    out: dict[str, str | None] = {"mmed": __version__, "python": platform.python_version()}
    for name in ("torch", "transformers", "accelerate", "peft", "deepspeed"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def cpt_data_info(shards: Path, meta: dict[str, Any], n_train: int, n_heldout: int,
                  heldout_files: dict[str, list[Path]]) -> dict[str, Any]:
    from mmed.io import sha256_file

    return {
        "shards": str(shards),
        "meta_sha256": sha256_file(shards / "meta.json"),
        "tokenizer": meta.get("tokenizer"),
        "seq_len": meta.get("settings", {}).get("seq_len"),
        "sequences": {"total": n_train + n_heldout, "train": n_train, "heldout": n_heldout},
        "heldout_texts": {group: [{"path": str(p), "sha256": sha256_file(p) if p.is_file() else None} for p in files]
                          for group, files in heldout_files.items()},
    }


def sft_data_info(bench: list[Path], counters: dict[str, int], n_items: int, split: str) -> dict[str, Any]:
    from mmed.io import sha256_file

    return {"items_files": [{"path": str(p), "sha256": sha256_file(p)} for p in bench],
            "split": split, "items": n_items, "examples": counters}


def build_manifest(loaded: LoadedConfig, *, model_spec: str, model_folder: str, data: dict[str, Any],
                   params: dict[str, int], lora_targets: list[str] | None) -> dict[str, Any]:
    from mmed.eval.runner import _git_commit
    from mmed.models import fingerprint_hf

    return {
        "kind": loaded.kind,
        "config": {"path": str(loaded.path), "sha256": loaded.sha256, "overrides": list(loaded.overrides),
                   "resolved": loaded.as_dict()},
        "model": {"spec": model_spec, "path": model_folder, "fingerprint": fingerprint_hf(model_folder),
                  "parameters": params, "lora_target_modules": lora_targets},
        "data": data,
        "seed": loaded.config.train.seed,
        "versions": _versions(),
        "git_commit": _git_commit(),
        "created": _now(),
        "resumes": [],
    }


def write_manifest(output: Path, manifest: dict[str, Any], resumed_from: Path | None) -> None:
    """A fresh run writes it; a resumed run appends {checkpoint, config sha256, time} to the original's resumes."""
    from mmed.io import read_json, write_json

    path = output / MANIFEST
    if resumed_from is not None and path.is_file():
        old = read_json(path)
        old.setdefault("resumes", []).append({"checkpoint": resumed_from.name, "config_sha256": manifest["config"]
                                              ["sha256"], "overrides": manifest["config"]["overrides"],
                                              "created": _now()})
        manifest = old
    output.mkdir(parents=True, exist_ok=True)
    write_json(path, manifest)
