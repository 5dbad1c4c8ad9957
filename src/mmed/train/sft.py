"""`mmed train sft CONFIG`: supervised fine-tuning on unified benchmark items. A recipe: setup / train / save.

Training data = the items of `data.split` (train) of the given benchmark files; each becomes one or two examples
(answer-only, and rationale + answer when the item has a rationale) in the `mmedlm` or `chat` style
(mmed.train.data.sft_examples), with the loss on the response tokens only. Full fine-tuning, or LoRA
(`lora.enabled`), optionally merged into a full model at the end (`lora.merge`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmed.errors import ConfigError
from mmed.train.config import LoadedConfig, SftConfig, check_paths


@dataclass
class SftSetup:
    loaded: LoadedConfig
    cfg: SftConfig
    checkpoint: Path | None
    bench_files: list[Path]
    n_items: int
    train_examples: list[Any]  # SftExample
    eval_examples: list[Any] | None
    counters: dict[str, int]
    tokenizer: Any
    collator: Any
    args: Any
    model: Any


def _items(cfg: SftConfig, split: str) -> list[Any]:
    from mmed.bench.schema import load_items

    items = [it for it in load_items(cfg.data.bench) if it.split == split]
    if cfg.data.langs is not None:
        items = [it for it in items if it.lang in cfg.data.langs]
    return items


def setup(loaded: LoadedConfig, *, resume: bool = False) -> SftSetup:
    from mmed.bench.schema import expand_paths
    from mmed.train.data import SftCollator, sft_examples
    from mmed.train.loop import load_model, load_train_tokenizer, prepare_output, training_arguments

    cfg = loaded.config
    if not isinstance(cfg, SftConfig):
        raise ConfigError(f"{loaded.path}: not an SFT config")
    check_paths(loaded)
    where, d = str(loaded.path), cfg.data
    checkpoint = prepare_output(cfg.output, resume, where)
    items = _items(cfg, d.split)
    langs = f" in languages {', '.join(d.langs)}" if d.langs else ""
    if not items:
        raise ConfigError(f"{where}: data.bench: no item of split '{d.split}'{langs} in {', '.join(map(str, d.bench))}")
    eval_items = _items(cfg, d.eval_split) if d.eval_split else None
    if eval_items is not None and not eval_items:
        raise ConfigError(f"{where}: data.eval_split: no item of split '{d.eval_split}'{langs}")
    tokenizer = load_train_tokenizer(cfg.model, trust_remote_code=cfg.model_options.trust_remote_code)

    def examples(its: list[Any]) -> tuple[list[Any], dict[str, int]]:
        return sft_examples(its, tokenizer, style=d.style, max_len=d.max_len, rationale=d.rationale)

    train_examples, counters = examples(items)
    if not train_examples:
        raise ConfigError(f"{where}: every example is longer than data.max_len={d.max_len} tokens; raise it")
    eval_examples = examples(eval_items)[0] if eval_items else None
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    collator = SftCollator(pad_id=pad, pad_to_multiple_of=d.pad_to_multiple_of)
    args = training_arguments(cfg.train, cfg.output, has_eval=bool(eval_examples))
    model = load_model(cfg.model, cfg.model_options, cfg.lora, cfg.train)
    return SftSetup(loaded, cfg, checkpoint, expand_paths(d.bench), len(items), train_examples, eval_examples or None,
                    counters, tokenizer, collator, args, model)


def train(loaded: LoadedConfig, *, resume: bool = False, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run the recipe; returns (and writes to OUTPUT/train_summary.json) the run's summary."""
    from mmed.train.loop import count_parameters, finish_run, model_path, run_trainer
    from mmed.train.manifest import build_manifest, sft_data_info, write_manifest

    s = setup(loaded, resume=resume)
    cfg = s.cfg
    total, trainable = count_parameters(s.model)
    if s.args.should_save:
        targets = sorted(s.model.peft_config["default"].target_modules) if cfg.lora.enabled else None
        write_manifest(cfg.output, build_manifest(
            loaded, model_spec=cfg.model, model_folder=model_path(cfg.model),
            data=sft_data_info(s.bench_files, s.counters, s.n_items, cfg.data.split),
            params={"total": total, "trainable": trainable}, lora_targets=targets), s.checkpoint)
    result = run_trainer(args=s.args, model=s.model, tokenizer=s.tokenizer, train_dataset=s.train_examples,
                         eval_dataset=s.eval_examples, collator=s.collator, output=cfg.output,
                         checkpoint=s.checkpoint, lora=cfg.lora, model_options=cfg.model_options, n_params=total,
                         callbacks=callbacks)
    return finish_run("sft", cfg.output, result, s.checkpoint, {"total": total, "trainable": trainable},
                      examples=s.counters)
