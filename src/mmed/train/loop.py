"""What every recipe shares: loading, TrainingArguments, the output folder, throughput logging, the Trainer run.

The trainer is transformers' Trainer: checkpoints, `--resume` with the same data order (seeded sampler, seen
batches skipped, RNG states restored), cosine schedule with warmup, clipping, bf16 autocast, gradient
checkpointing, and FSDP / DeepSpeed when started with `accelerate launch --config_file ...` (configs/).

Output folder:
  checkpoint-N/        Trainer checkpoints (weights as safetensors; optimizer, scheduler and RNG states as the
                       Trainer's own torch files, loaded back only by `--resume` of this same run)
  final/               the trained model (safetensors, with the tokenizer); LoRA runs: adapter/ (+ final/ if merged)
  manifest.json        config, data and model fingerprints, versions, git commit (manifest.py)
  metrics.jsonl        one line per log/eval event: loss, lr, grad norm, tokens/s, MFU (CUDA), perplexities
  train_summary.json   the run's result
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmed.errors import ConfigError, MmedError
from mmed.train.config import LoraOptions, ModelOptions, TrainOptions

METRICS = "metrics.jsonl"
SUMMARY = "train_summary.json"
CHECKPOINT_PREFIX = "checkpoint-"

# Dense bf16 tensor-core peak per GPU (vendor datasheets), for MFU. Matched in order against the device name;
# a GPU not listed gets no MFU rather than a wrong one.
PEAK_BF16_FLOPS: tuple[tuple[str, float], ...] = (
    ("H100 PCIe", 756e12), ("H100 NVL", 835e12), ("GH200", 989e12), ("H200", 989e12), ("H100", 989e12),
    ("H800", 989e12), ("B200", 2250e12), ("A100", 312e12), ("A800", 312e12), ("L40S", 362e12),
    ("MI300X", 1307e12),
)


# --- loading ------------------------------------------------------------------------------------------------

def model_path(spec: str) -> str:
    """A model spec (smollm2, a folder, hf:<id>) -> what from_pretrained gets; other kinds cannot be trained."""
    from mmed.models import parse_model_spec, resolve_hf_path

    parsed = parse_model_spec(spec)
    if parsed.kind != "hf":
        raise ConfigError(f"model '{spec}': only Hugging Face models can be trained (smollm2, a local folder with "
                          "safetensors weights, or hf:<id>)")
    return resolve_hf_path(parsed)


def load_train_tokenizer(spec: str, *, trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    path = model_path(spec)
    try:
        return AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise MmedError(f"model '{spec}': cannot load its tokenizer from {path}: {e}") from None


def _dtype(name: str) -> Any:
    import torch

    return "auto" if name == "auto" else getattr(torch, name)


def load_base_model(spec: str, *, trust_remote_code: bool = False, dtype: str = "float32",
                    attn_implementation: str | None = None, quantization_config: Any = None) -> Any:
    """A causal LM from safetensors weights only (a pickled .bin can run code when loaded)."""
    from transformers import AutoModelForCausalLM

    path = model_path(spec)
    extra: dict[str, Any] = {}
    if attn_implementation:
        extra["attn_implementation"] = attn_implementation
    if quantization_config is not None:
        extra["quantization_config"] = quantization_config
    try:
        return AutoModelForCausalLM.from_pretrained(path, dtype=_dtype(dtype), use_safetensors=True,
                                                    trust_remote_code=trust_remote_code, **extra)
    except (OSError, ValueError) as e:
        raise MmedError(f"model '{spec}': cannot load its weights from {path}: {e}") from None


def load_model(spec: str, opts: ModelOptions, lora: LoraOptions, train: TrainOptions) -> Any:
    """The model to train: full weights, or the base (4-bit for QLoRA) with fresh LoRA adapters."""
    import torch
    from transformers import set_seed

    quant = None
    if lora.qlora:
        from importlib.util import find_spec

        if not torch.cuda.is_available() or find_spec("bitsandbytes") is None:
            raise ConfigError("lora.qlora: 4-bit QLoRA needs a CUDA GPU and `pip install bitsandbytes`; on CPU use "
                              "plain LoRA (lora.qlora: false)")
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.bfloat16)
    model = load_base_model(spec, trust_remote_code=opts.trust_remote_code, dtype=opts.torch_dtype,
                            attn_implementation=opts.attn_implementation, quantization_config=quant)
    if train.gradient_checkpointing:
        model.config.use_cache = False  # the KV cache is useless in training and clashes with recomputation
    if not lora.enabled:
        return model
    if lora.qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=train.gradient_checkpointing)
    from mmed.train.lora import apply_lora

    set_seed(train.seed)  # the adapters' random init
    return apply_lora(model, lora.r, lora.alpha, lora.dropout, lora.target_modules)


def count_parameters(model: Any) -> tuple[int, int]:
    """(all, trainable) parameter counts."""
    total = trainable = 0
    for p in model.parameters():
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return total, trainable


# --- arguments and the output folder ------------------------------------------------------------------------

def use_bf16(train: TrainOptions) -> bool:
    import torch

    if train.bf16 == "auto":
        return not train.use_cpu and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(train.bf16)  # true on CPU is allowed (bf16 autocast), though slower than fp32 without AMX


def training_arguments(train: TrainOptions, output: Path, *, has_eval: bool) -> Any:
    """TrainingArguments from our config. Creating them also sets up the distributed state under a launcher."""
    import torch
    from transformers import TrainingArguments

    warmup: float = train.warmup_steps if train.warmup_steps > 0 else train.warmup_ratio  # < 1: a ratio
    evaluate = has_eval and train.eval_steps > 0
    return TrainingArguments(
        output_dir=str(output),
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.eval_batch_size or train.batch_size,
        gradient_accumulation_steps=train.grad_accum,
        learning_rate=train.lr,
        lr_scheduler_type=train.lr_scheduler,
        warmup_steps=warmup,
        weight_decay=train.weight_decay,
        max_grad_norm=train.max_grad_norm,
        num_train_epochs=train.epochs,
        max_steps=train.max_steps,
        seed=train.seed,
        data_seed=train.seed,
        bf16=use_bf16(train),
        activation_checkpointing=train.gradient_checkpointing,
        # Non-reentrant checkpointing works with frozen inputs (LoRA) without enable_input_require_grads hacks.
        activation_checkpointing_kwargs={"use_reentrant": False} if train.gradient_checkpointing else None,
        save_strategy="steps",
        save_steps=train.save_steps,
        save_total_limit=train.save_total_limit,
        logging_strategy="steps",
        logging_steps=train.logging_steps,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=train.eval_steps if evaluate else None,
        report_to="none",
        dataloader_num_workers=train.dataloader_workers,
        dataloader_pin_memory=not train.use_cpu and torch.cuda.is_available(),
        remove_unused_columns=False,  # our datasets yield exactly the model's inputs (and SftExample objects)
        use_cpu=train.use_cpu,
        deepspeed=str(train.deepspeed) if train.deepspeed else None,
        disable_tqdm=True,  # metrics.jsonl and our log lines say the same without redrawing a bar
    )


def _checkpoints(output: Path) -> list[Path]:
    n = len(CHECKPOINT_PREFIX)
    found = [p for p in output.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir() and p.name[n:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[n:]))


def prepare_output(output: Path, resume: bool, where: str) -> Path | None:
    """The checkpoint to resume from (None for a fresh run). Refuses to mix a new run into an old one's folder.

    A checkpoint counts when its trainer_state.json exists: the Trainer writes it last, so a run killed while
    saving leaves a checkpoint without it, and the one before is used.
    """
    complete = [p for p in _checkpoints(output) if (p / "trainer_state.json").is_file()] if output.is_dir() else []
    if resume:
        if not complete:
            raise ConfigError(f"{where}: --resume: no checkpoint in {output} (checkpoint-N folders with "
                              "trainer_state.json); start without --resume")
        return complete[-1]
    if output.is_dir() and _checkpoints(output):
        raise ConfigError(f"{where}: output {output} already holds checkpoints of an earlier run; pass --resume to "
                          "continue it, or choose another output folder")
    if output.is_dir() and ((output / "final").exists() or (output / SUMMARY).exists()):
        raise ConfigError(f"{where}: output {output} holds a finished run; choose another output folder")
    return None


def truncate_metrics(output: Path, step: int) -> None:
    """On resume: drop metrics logged after the checkpoint's step (the resumed run logs them again)."""
    from mmed.io import atomic_write_text

    path = output / METRICS
    if not path.is_file():
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and json.loads(line).get("step", 0) <= step]
    atomic_write_text(path, "".join(line + "\n" for line in kept))


# --- throughput and metrics ---------------------------------------------------------------------------------

def peak_flops(device_name: str) -> float | None:
    for key, flops in PEAK_BF16_FLOPS:
        if key.lower() in device_name.lower():
            return flops
    return None


@dataclass
class TokenCounter:
    """Tokens the training steps processed (non-padding) and trained on (labels not IGNORE_INDEX), this process."""

    tokens: int = 0
    target_tokens: int = 0

    def add(self, inputs: dict[str, Any]) -> None:
        from mmed.train.data import IGNORE_INDEX

        labels = inputs["labels"]
        mask = inputs.get("attention_mask")
        self.tokens += int(mask.sum()) if mask is not None else labels.numel()
        self.target_tokens += int((labels != IGNORE_INDEX).sum())


@lru_cache(maxsize=1)
def _trainer_class() -> type:
    """Trainer that counts tokens per micro-batch (built lazily: transformers is a heavy import)."""
    from transformers import Trainer

    class CountingTrainer(Trainer):
        mmed_counter: TokenCounter

        def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
            self.mmed_counter.add(inputs)
            return super().training_step(model, inputs, num_items_in_batch)

    CountingTrainer.__module__ = __name__
    CountingTrainer.__qualname__ = "CountingTrainer"
    return CountingTrainer


@lru_cache(maxsize=1)
def _metrics_callback_class() -> type:
    from transformers import TrainerCallback

    class MetricsCallback(TrainerCallback):
        """tokens/s (and MFU on CUDA) over the time spent in training steps, written to metrics.jsonl.

        Only step time counts (on_step_begin .. on_step_end), so evaluation and checkpoint saves do not dilute
        the throughput. Tokens are this process's; with N data-parallel processes the totals are N times that
        (exact for packed CPT batches, close for SFT).
        """

        def __init__(self, output: Path, counter: TokenCounter, n_params: int, world_size: int,
                     on_evaluate: Callable[[Any, int], dict[str, float]] | None = None):
            self.path, self.counter, self.n_params, self.world = output / METRICS, counter, n_params, world_size
            self.extra_eval = on_evaluate
            self.step_time = 0.0
            self._t0: float | None = None
            self._last = (0, 0, 0.0)  # tokens, target tokens, step time at the last log
            self.peak: float | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            import torch

            if torch.cuda.is_available() and not args.use_cpu:
                self.peak = peak_flops(torch.cuda.get_device_name())

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._t0 = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self._t0 is not None:
                self.step_time += time.perf_counter() - self._t0
                self._t0 = None

        def throughput(self) -> dict[str, float]:
            """Since the run (or resume) started: tokens, tokens/s, trained tokens/s, MFU."""
            return self._rates(self.counter.tokens, self.counter.target_tokens, self.step_time)

        def _rates(self, tokens: int, target: int, seconds: float) -> dict[str, float]:
            if seconds <= 0:
                return {}
            tps = tokens / seconds
            out = {"tokens_per_s": round(tps * self.world, 2),
                   "trained_tokens_per_s": round(target / seconds * self.world, 2),
                   "tokens_per_s_per_device": round(tps, 2)}
            if self.peak:
                out["mfu"] = round(6 * self.n_params * tps / self.peak, 4)  # 6N FLOPs per token (fwd + bwd)
            return out

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None,
                   **kw: Any) -> None:
            row: dict[str, Any] = {"step": state.global_step, "epoch": state.epoch, **(logs or {})}
            if "loss" in row:
                tokens, target, secs = self._last
                now = (self.counter.tokens, self.counter.target_tokens, self.step_time)
                row.update(self._rates(now[0] - tokens, now[1] - target, now[2] - secs))
                row["tokens_seen"] = self.counter.tokens * self.world
                row["trained_tokens_seen"] = self.counter.target_tokens * self.world
                self._last = now
            for key in [k for k in row if k.endswith("eval_loss")]:
                row[key.replace("_loss", "_ppl")] = math.exp(min(row[key], 50.0))
            self.write(args, row)

        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float] | None = None,
                        **kw: Any) -> None:
            if self.extra_eval is not None and self.world == 1 and kw.get("model") is not None:
                self.write(args, {"step": state.global_step, **self.extra_eval(kw["model"], state.global_step)})

        def write(self, args: Any, row: dict[str, Any]) -> None:
            if args.should_save:  # the main process only
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")

    MetricsCallback.__module__ = __name__
    MetricsCallback.__qualname__ = "MetricsCallback"
    return MetricsCallback


# --- the run --------------------------------------------------------------------------------------------------

@dataclass
class RunResult:
    trainer: Any
    global_step: int
    train_loss: float | None
    eval_metrics: dict[str, float]
    throughput: dict[str, float]
    runtime_s: float
    saved: dict[str, str]  # "final" / "adapter" -> folder
    is_main: bool


def run_trainer(*, args: Any, model: Any, tokenizer: Any, train_dataset: Any, eval_dataset: Any, collator: Any,
                output: Path, checkpoint: Path | None, lora: LoraOptions, model_options: ModelOptions,
                n_params: int, callbacks: Sequence[Any] = (),
                on_evaluate: Callable[[Any, int], dict[str, float]] | None = None) -> RunResult:
    """Train (or resume), evaluate, and save the final model (full, or adapter [+ merged])."""
    counter = TokenCounter()
    metrics_cb = _metrics_callback_class()(output, counter, n_params, args.world_size, on_evaluate)
    trainer = _trainer_class()(model=model, args=args, data_collator=collator, train_dataset=train_dataset,
                               eval_dataset=eval_dataset, processing_class=tokenizer,
                               callbacks=[metrics_cb, *callbacks])
    trainer.mmed_counter = counter
    if checkpoint is not None and args.should_save:
        truncate_metrics(output, int(checkpoint.name[len(CHECKPOINT_PREFIX):]))
    started = time.perf_counter()
    # resume_from_checkpoint loads the Trainer's own optimizer/scheduler/RNG state files from a checkpoint of
    # this run's output folder (written by this code); never point --resume at checkpoints from elsewhere.
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    runtime = time.perf_counter() - started
    eval_metrics: dict[str, float] = {}
    if eval_dataset is not None:  # reuse an evaluation of the last step, else run one
        last = [h for h in trainer.state.log_history if "eval_loss" in h and h.get("step") == trainer.state.global_step]
        eval_metrics = {k: v for k, v in last[-1].items() if k.startswith("eval_")} if last else trainer.evaluate()
    saved: dict[str, str] = {}
    if lora.enabled:
        saved["adapter"] = str(output / "adapter")
    else:
        saved["final"] = str(output / "final")
    folder = saved.get("adapter") or saved["final"]
    trainer.save_model(folder)
    _drop_pickles(Path(folder))
    if lora.enabled and lora.merge and args.should_save:
        from mmed.train.lora import merge_lora

        # From the saved adapter onto freshly loaded base weights (not quantised, even after QLoRA): the same
        # path as `mmed train merge-lora`, and it works whatever sharding the training used.
        saved["final"] = str(merge_lora(output / "adapter", output / "final", dtype=model_options.torch_dtype,
                                        trust_remote_code=model_options.trust_remote_code))
    return RunResult(trainer, trainer.state.global_step, result.training_loss, eval_metrics,
                     metrics_cb.throughput(), runtime, saved, bool(args.should_save))


def _drop_pickles(folder: Path) -> None:
    """The Trainer also writes training_args.bin (a pickle) next to the model; the manifest has the config."""
    (folder / "training_args.bin").unlink(missing_ok=True)


def finish_run(kind: str, output: Path, result: RunResult, checkpoint: Path | None, params: dict[str, int],
               **extra: Any) -> dict[str, Any]:
    """The run's summary (returned, and written to OUTPUT/summary.json by the main process)."""
    from mmed.io import write_json

    summary = {
        "kind": kind, "output": str(output), "global_step": result.global_step,
        "train_loss": result.train_loss, "eval": result.eval_metrics, **extra,
        "throughput": result.throughput, "runtime_s": round(result.runtime_s, 2), "saved": result.saved,
        "resumed_from": checkpoint.name if checkpoint else None, "parameters": params,
    }
    if result.is_main:
        write_json(output / SUMMARY, summary)
    return summary
