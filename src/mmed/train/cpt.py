"""`mmed train cpt CONFIG`: continued pretraining on `mmed corpus pack` shards. A recipe: setup / train / save.

Loss: causal LM loss on every position of the packed sequences (they hold only real tokens). Held-out medical and
general texts are scored (perplexity) before and after training, and at each evaluation when eval_steps > 0 in a
single-process run; a seeded fraction of the packed sequences can be held out for eval_loss.

setup() checks everything it can before the model weights load: config fields, paths, the shards' meta.json, the
held-out files, then the tokenizer against the shards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmed.errors import ConfigError
from mmed.train.config import CptConfig, LoadedConfig, check_paths


@dataclass
class CptSetup:
    loaded: LoadedConfig
    cfg: CptConfig
    checkpoint: Path | None
    packed: Any  # PackedDataset
    train_dataset: Any
    heldout_dataset: Any | None
    texts: dict[str, list[str]]  # group (medical, general) -> held-out texts
    tokenizer: Any
    args: Any  # TrainingArguments
    model: Any


def load_texts(files: Sequence[Path], limit: int | None) -> list[str]:
    """Held-out texts: .txt files give one text per non-empty line; jsonl/parquet files (or folders) their "text"."""
    from mmed.train.data import heldout_texts

    texts: list[str] = []
    records = [p for p in files if not p.name.endswith(".txt")]
    for p in files:
        if p.name.endswith(".txt"):
            texts.extend(line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
    if records:
        for group in heldout_texts(records).values():
            texts.extend(group)
    return texts[:limit] if limit is not None else texts


def setup(loaded: LoadedConfig, *, resume: bool = False) -> CptSetup:
    from mmed.train.data import PackedDataset, split_heldout
    from mmed.train.loop import load_model, load_train_tokenizer, prepare_output, training_arguments

    cfg = loaded.config
    if not isinstance(cfg, CptConfig):
        raise ConfigError(f"{loaded.path}: not a CPT config")
    check_paths(loaded)
    where = str(loaded.path)
    checkpoint = prepare_output(cfg.output, resume, where)
    packed = PackedDataset(cfg.data.shards)
    if len(packed) < 1:
        raise ConfigError(f"{where}: data.shards: {cfg.data.shards} holds no packed sequence")
    held = cfg.data.heldout
    texts = {group: load_texts(files, held.max_texts)
             for group, files in (("medical", held.medical), ("general", held.general)) if files}
    for group, found in texts.items():
        if not found:
            raise ConfigError(f"{where}: data.heldout.{group}: the files hold no text")
    tokenizer = load_train_tokenizer(cfg.model, trust_remote_code=cfg.model_options.trust_remote_code)
    packed.check_tokenizer(tokenizer, where=f"{where}: data.shards")
    train_ds, heldout = split_heldout(packed, cfg.data.heldout_fraction, cfg.train.seed)
    args = training_arguments(cfg.train, cfg.output, has_eval=len(heldout) > 0)
    model = load_model(cfg.model, cfg.model_options, cfg.lora, cfg.train)
    return CptSetup(loaded, cfg, checkpoint, packed, train_ds, heldout if len(heldout) else None, texts, tokenizer,
                    args, model)


def _perplexities(model: Any, s: CptSetup) -> dict[str, float]:
    from mmed.train.data import perplexity

    h = s.cfg.data.heldout
    return {group: round(perplexity(model, s.tokenizer, texts, seq_len=h.seq_len, batch_size=h.batch_size), 4)
            for group, texts in s.texts.items()}


def _zero3() -> bool:
    try:
        from transformers.integrations import is_deepspeed_zero3_enabled

        return bool(is_deepspeed_zero3_enabled())
    except ImportError:
        return False


def train(loaded: LoadedConfig, *, resume: bool = False, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run the recipe; returns (and writes to OUTPUT/train_summary.json) the run's summary."""
    from mmed.train.loop import count_parameters, finish_run, model_path, run_trainer
    from mmed.train.manifest import build_manifest, cpt_data_info, write_manifest

    s = setup(loaded, resume=resume)
    cfg, args = s.cfg, s.args
    total, trainable = count_parameters(s.model)
    if args.should_save:
        data = cpt_data_info(cfg.data.shards, s.packed.meta, len(s.train_dataset),
                             len(s.heldout_dataset) if s.heldout_dataset is not None else 0,
                             {"medical": list(cfg.data.heldout.medical), "general": list(cfg.data.heldout.general)})
        targets = sorted(s.model.peft_config["default"].target_modules) if cfg.lora.enabled else None
        write_manifest(cfg.output, build_manifest(loaded, model_spec=cfg.model, model_folder=model_path(cfg.model),
                                                  data=data, params={"total": total, "trainable": trainable},
                                                  lora_targets=targets), s.checkpoint)
    # Under ZeRO-3 the weights are partitioned as they load: no single process can score them before training.
    in_process = bool(s.texts) and not _zero3()
    before: dict[str, float] = {}
    if in_process:
        s.model.to(args.device)  # where the Trainer puts it anyway
        before = _perplexities(s.model, s)
    on_evaluate = (lambda model, step: {f"{k}_ppl": v for k, v in _perplexities(model, s).items()}) if s.texts \
        else None
    result = run_trainer(args=args, model=s.model, tokenizer=s.tokenizer, train_dataset=s.train_dataset,
                         eval_dataset=s.heldout_dataset, collator=None, output=cfg.output, checkpoint=s.checkpoint,
                         lora=cfg.lora, model_options=cfg.model_options, n_params=total, callbacks=callbacks,
                         on_evaluate=on_evaluate)
    after: dict[str, float] = {}
    if s.texts and result.is_main:
        after = _perplexities(_trained_model(result, s), s)
    return finish_run("cpt", cfg.output, result, s.checkpoint, {"total": total, "trainable": trainable},
                      perplexity={"before": before or None, "after": after or None})


def _trained_model(result: Any, s: CptSetup) -> Any:
    """The trained weights as one plain module: in-process for a single process, else reloaded from disk."""
    if s.args.world_size == 1 and not _zero3():
        return result.trainer.model
    from mmed.train.loop import load_base_model

    if "final" in result.saved:
        return load_base_model(result.saved["final"], dtype=s.cfg.model_options.torch_dtype).to(s.args.device)
    from mmed.train.lora import load_adapter_model

    return load_adapter_model(s.cfg.model, Path(result.saved["adapter"]),
                              dtype=s.cfg.model_options.torch_dtype).to(s.args.device)
