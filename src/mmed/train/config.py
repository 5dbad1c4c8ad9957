"""Training configs: a YAML file -> frozen dataclasses, checked before anything heavy is loaded.

Every problem is a ConfigError naming the file and the field (`cpt.yaml: train.lr: expected a number, got 'fast'`),
so a typo fails in a second instead of after the model has loaded. Order of checks, cheapest first:
fields and types (`load_config`), then files and folders (`check_paths`); the recipes then load the tokenizer and
check it against the data before the model weights are loaded.

Relative paths are relative to the working directory (as with every other mmed command); `mmed:<path>` names a
file shipped inside the mmed package (e.g. `mmed:data/sample_bench`), so the demo configs run from anywhere.
`--set key.sub=value` overrides (value parsed as YAML) are applied before the checks, and recorded in the manifest.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mmed.configfiles import read_yaml_mapping, shipped_configs
from mmed.errors import ConfigError

Kind = Literal["cpt", "sft"]


@dataclass(frozen=True)
class ModelOptions:
    trust_remote_code: bool = False  # never on by default: it runs Python code shipped with the model
    # float32 master weights by default: with bf16 on, the Trainer runs bf16 autocast over fp32 weights (pure bf16
    # weights with Adam lose small updates). "auto" = the checkpoint's own dtype.
    torch_dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    attn_implementation: str | None = None  # e.g. sdpa, flash_attention_2 (GPU); None = transformers' default


@dataclass(frozen=True)
class TrainOptions:
    max_steps: int = -1  # > 0 overrides epochs
    epochs: float = 1.0
    batch_size: int = 8  # per device
    grad_accum: int = 1
    lr: float = 2e-5
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.0  # share of the steps; warmup_steps > 0 wins
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 42  # model init of new (LoRA) weights, data order, held-out split
    bf16: bool | Literal["auto"] = "auto"  # auto: on a CUDA device that supports it
    gradient_checkpointing: bool = False
    save_steps: int = 500
    eval_steps: int = 0  # 0: evaluate before and after training only
    logging_steps: int = 10
    save_total_limit: int | None = 2
    eval_batch_size: int | None = None  # default: batch_size
    dataloader_workers: int = 0  # 0 = in the training process (what CPU runs want)
    use_cpu: bool = False  # train on CPU even when a GPU is there
    deepspeed: Path | None = None  # a DeepSpeed JSON, for `torchrun` launches (accelerate passes its own)


@dataclass(frozen=True)
class LoraOptions:
    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: Literal["auto"] | tuple[str, ...] = "auto"  # auto: chosen per architecture (lora.py)
    merge: bool = False  # also write the merged full model to OUTPUT/final
    qlora: bool = False  # 4-bit NF4 base weights (bitsandbytes, CUDA only)


@dataclass(frozen=True)
class HeldoutTexts:
    medical: tuple[Path, ...] = ()  # jsonl/parquet with a "text" field (files or folders), or .txt (a text a line)
    general: tuple[Path, ...] = ()
    seq_len: int = 512  # each text is cut to this many tokens
    max_texts: int | None = 200  # per group: keeps the before/after evaluation short
    batch_size: int = 4


@dataclass(frozen=True)
class CptData:
    shards: Path  # a `mmed corpus pack` output folder
    heldout_fraction: float = 0.0  # share of the packed sequences kept out of training for eval_loss
    heldout: HeldoutTexts = HeldoutTexts()


@dataclass(frozen=True)
class SftData:
    bench: tuple[Path, ...]  # unified benchmark files or folders (`mmed bench build` output)
    split: Literal["train", "dev", "test"] = "train"
    eval_split: Literal["train", "dev", "test"] | None = None  # items of this split give eval_loss
    style: Literal["mmedlm", "chat"] = "mmedlm"
    rationale: bool = True  # items with a rationale also get the rationale + answer target
    max_len: int = 2048
    langs: tuple[str, ...] | None = None  # None: every language
    pad_to_multiple_of: int | None = None  # e.g. 8 on GPU


@dataclass(frozen=True)
class CptConfig:
    model: str
    output: Path
    data: CptData
    train: TrainOptions = TrainOptions()
    lora: LoraOptions = LoraOptions()
    model_options: ModelOptions = ModelOptions()


@dataclass(frozen=True)
class SftConfig:
    model: str
    output: Path
    data: SftData
    train: TrainOptions = TrainOptions()
    lora: LoraOptions = LoraOptions()
    model_options: ModelOptions = ModelOptions()


TrainConfig = CptConfig | SftConfig
_ROOTS: dict[str, type] = {"cpt": CptConfig, "sft": SftConfig}


@dataclass(frozen=True)
class LoadedConfig:
    """A config and where it came from (the manifest records both)."""

    config: CptConfig | SftConfig
    kind: Kind
    path: Path
    sha256: str  # of the file's bytes
    overrides: tuple[str, ...] = field(default=())
    raw: dict[str, Any] = field(default_factory=dict)  # after overrides, as parsed

    def as_dict(self) -> dict[str, Any]:
        return to_jsonable(self.config)


# --- loading ----------------------------------------------------------------------------------------------

def load_config(path: str | Path, kind: Kind, overrides: typing.Sequence[str] = ()) -> LoadedConfig:
    """Parse and type-check a training config (no file-system checks beyond reading it: see check_paths)."""
    if kind not in _ROOTS:
        raise ConfigError(f"unknown training kind '{kind}'; known: {', '.join(_ROOTS)}")
    path = _shipped_or_path(path, kind)
    raw, data = read_yaml_mapping(path)
    for item in overrides:
        _apply_override(raw, item, path)
    config = _build(_ROOTS[kind], raw, "", path)
    return LoadedConfig(config, kind, path, hashlib.sha256(data).hexdigest(), tuple(overrides), raw)


def _shipped_or_path(path: str | Path, kind: Kind) -> Path:
    """A shipped config by name (`mmed train cpt cpt-demo`: the `cpt-*`/`sft-*` files of mmed/train/configs) when
    no file of that name exists here."""
    if Path(path).exists():
        return Path(path)
    return shipped_configs("mmed.train", "configs", keep=lambda stem: stem.startswith(f"{kind}-")).get(
        str(path), Path(path))


def _apply_override(raw: dict[str, Any], item: str, path: Path) -> None:
    import yaml

    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected key.sub=value, e.g. train.max_steps=10")
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {item!r}: {part} in {path} is not a mapping")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {item!r}: the value is not valid YAML: {e}") from None


def _build(cls: type, raw: Any, where: str, path: Path) -> Any:
    """A dataclass from a mapping: unknown, missing and mistyped fields are errors naming file and field."""
    label = where or "top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {label}: expected a mapping of fields, got {_show(raw)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in raw:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{path}: {where + '.' if where else ''}{key}: unknown field{hint} "
                              f"(known fields of {label}: {', '.join(fields)})")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        dotted = f"{where}.{name}" if where else name
        if name in raw:
            values[name] = _convert(raw[name], hints[name], dotted, path)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{path}: {dotted}: required field is missing")
    return cls(**values)


def _convert(value: Any, hint: Any, where: str, path: Path) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        expected = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, where, path)
            except ConfigError as e:  # "...: expected X, got Y": keep X, say Y once
                expected.append(str(e).rsplit(": expected ", 1)[-1].rsplit(", got ", 1)[0])
        raise ConfigError(f"{path}: {where}: expected {' or '.join(expected)}, got {_show(value)}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{path}: {where}: expected one of {', '.join(map(repr, args))}, got {_show(value)}")
        return value
    if origin is tuple:
        items = value if isinstance(value, list) else [value]  # a single value is a one-item list
        return tuple(_convert(v, args[0], f"{where}[{i}]", path) for i, v in enumerate(items))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where, path)  # type: ignore[arg-type]
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: {where}: expected true or false, got {_show(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: {where}: expected an integer, got {_show(value)}")
    if hint is float:
        # YAML 1.1 reads `2e-5` (no dot) as a string: accept any string Python reads as a number.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{path}: {where}: expected a number, got {_show(value)}")
    if hint is str:
        if isinstance(value, str) and value.strip():
            return value
        raise ConfigError(f"{path}: {where}: expected a non-empty string, got {_show(value)}")
    if hint is Path:
        if isinstance(value, str) and value.strip():
            return resolve_path(value)
        raise ConfigError(f"{path}: {where}: expected a path, got {_show(value)}")
    raise TypeError(f"config field {where}: unsupported type {hint}")  # a bug in this module, not the user's


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if value is not None else "nothing (null)"


def resolve_path(value: str) -> Path:
    """`mmed:<rel>` -> that path inside the installed mmed package; anything else as given."""
    if value.startswith("mmed:"):
        from importlib.resources import files

        return Path(str(files("mmed"))) / value[len("mmed:"):]
    return Path(value).expanduser()


# --- checks that touch the file system --------------------------------------------------------------------

def check_paths(loaded: LoadedConfig) -> None:
    """Every input file and folder exists, and values make sense together; before any tokenizer or model loads."""
    cfg, path = loaded.config, loaded.path
    t = cfg.train
    _positive(path, "train.batch_size", t.batch_size)
    _positive(path, "train.grad_accum", t.grad_accum)
    _positive(path, "train.save_steps", t.save_steps)
    _positive(path, "train.logging_steps", t.logging_steps)
    if t.max_steps <= 0 and t.epochs <= 0:
        raise ConfigError(f"{path}: train.max_steps or train.epochs must be > 0")
    if t.lr <= 0:
        raise ConfigError(f"{path}: train.lr: must be > 0, got {t.lr}")
    if not 0 <= t.warmup_ratio < 1:
        raise ConfigError(f"{path}: train.warmup_ratio: must be in [0, 1), got {t.warmup_ratio}")
    if t.deepspeed is not None and not t.deepspeed.is_file():
        raise ConfigError(f"{path}: train.deepspeed: {t.deepspeed}: no such file")
    if cfg.lora.enabled:
        _positive(path, "lora.r", cfg.lora.r)
        if not 0 <= cfg.lora.dropout < 1:
            raise ConfigError(f"{path}: lora.dropout: must be in [0, 1), got {cfg.lora.dropout}")
    elif cfg.lora.merge or cfg.lora.qlora:
        raise ConfigError(f"{path}: lora.merge / lora.qlora need lora.enabled: true")
    if cfg.output.exists() and not cfg.output.is_dir():
        raise ConfigError(f"{path}: output: {cfg.output} exists and is not a folder")
    if isinstance(cfg, CptConfig):
        d = cfg.data
        if not (d.shards / "meta.json").is_file():
            what = "no such folder" if not d.shards.is_dir() else "no meta.json (not a finished pack)"
            raise ConfigError(f"{path}: data.shards: {d.shards}: {what}; make it with `mmed corpus pack`")
        if not 0 <= d.heldout_fraction < 1:
            raise ConfigError(f"{path}: data.heldout_fraction: must be in [0, 1), got {d.heldout_fraction}")
        for group in ("medical", "general"):
            for i, p in enumerate(getattr(d.heldout, group)):
                if not p.exists():
                    raise ConfigError(f"{path}: data.heldout.{group}[{i}]: {p}: no such file or folder")
        _positive(path, "data.heldout.seq_len", d.heldout.seq_len)
        if t.eval_steps > 0 and d.heldout_fraction == 0:
            raise ConfigError(f"{path}: train.eval_steps > 0 needs data.heldout_fraction > 0 (the evaluation set)")
    else:
        d = cfg.data  # type: ignore[assignment]
        if not d.bench:
            raise ConfigError(f"{path}: data.bench: give at least one benchmark file or folder")
        for i, p in enumerate(d.bench):
            if not p.exists():
                raise ConfigError(f"{path}: data.bench[{i}]: {p}: no such file or folder")
        _positive(path, "data.max_len", d.max_len)
        if t.eval_steps > 0 and d.eval_split is None:
            raise ConfigError(f"{path}: train.eval_steps > 0 needs data.eval_split (e.g. dev), the evaluation items")
        if d.langs is not None:
            from mmed.langs import LANGUAGES

            unknown = [lang for lang in d.langs if lang not in LANGUAGES]
            if unknown:
                raise ConfigError(f"{path}: data.langs: unknown language(s) {unknown}; known: {', '.join(LANGUAGES)}")


def _positive(path: Path, name: str, value: int) -> None:
    if value <= 0:
        raise ConfigError(f"{path}: {name}: must be > 0, got {value}")


def to_jsonable(obj: Any) -> Any:
    """A config as plain JSON values (paths as strings, tuples as lists): for the manifest."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
