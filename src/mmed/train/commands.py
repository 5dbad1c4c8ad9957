"""`mmed train cpt|sft|merge-lora`: thin commands over the recipes (cpt.py, sft.py, lora.py).

cli.py registers them with `app.add_typer(train_app, name="train")`. Heavy imports happen inside the commands, so
`mmed --help` stays instant. Multi-GPU: the same commands under a launcher, e.g.
    accelerate launch --config_file src/mmed/train/configs/accelerate-fsdp.yaml -m mmed.cli train cpt CONFIG
    torchrun --nproc_per_node 8 -m mmed.cli train cpt CONFIG   (with train.deepspeed: configs/deepspeed-zero3.json)
(configs/slurm-cpt-8gpu.sbatch is a Slurm example for the paper's 8-GPU setting).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

train_app = typer.Typer(help="Training: continued pretraining (cpt), supervised fine-tuning (sft), LoRA merging.",
                        no_args_is_help=True)

ConfigArg = Annotated[Path, typer.Argument(help="The training config (YAML), or a shipped one by name (cpt-demo, "
                                                 "sft-lora-demo, sft-full-demo).")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in the output folder, "
                                                          "with the same data order.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a config field: key.sub=value "
                                                                 "(value as YAML), e.g. --set train.max_steps=10. "
                                                                 "Repeatable.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (overrides the config's).")]


def _overrides(sets: list[str] | None, output: Path | None) -> list[str]:
    return [*(sets or []), *([f"output={output}"] if output is not None else [])]


def _report(summary: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console(stderr=True)
    tp = summary.get("throughput") or {}
    steps = summary["global_step"]
    line = (f"{summary['kind']}: {steps} step{'s' if steps != 1 else ''}, train loss {summary['train_loss']:.4f}, "
            f"{tp.get('tokens_per_s', 0):,.0f} tokens/s") if summary.get("train_loss") is not None else ""
    if "mfu" in tp:
        line += f", MFU {tp['mfu']:.1%}"
    console.print(line, highlight=False)
    ppl = summary.get("perplexity") or {}
    if ppl.get("before") and ppl.get("after"):
        for group, before in ppl["before"].items():
            console.print(f"perplexity {group}: {before:.3f} -> {ppl['after'][group]:.3f}", highlight=False)
    for what, folder in (summary.get("saved") or {}).items():
        console.print(f"{what}: {folder}", highlight=False)
    typer.echo(json.dumps(summary, ensure_ascii=False))


@train_app.command("cpt")
def cpt_cmd(config: ConfigArg, resume: ResumeOpt = False, sets: SetOpt = None, output: OutputOpt = None) -> None:
    """Continued pretraining on `mmed corpus pack` shards; perplexity on held-out medical/general text before/after."""
    from mmed.train.config import load_config
    from mmed.train.cpt import train

    _report(train(load_config(config, "cpt", _overrides(sets, output)), resume=resume))


@train_app.command("sft")
def sft_cmd(config: ConfigArg, resume: ResumeOpt = False, sets: SetOpt = None, output: OutputOpt = None) -> None:
    """Supervised fine-tuning (full or LoRA) on unified benchmark items; loss on the response tokens only."""
    from mmed.train.config import load_config
    from mmed.train.sft import train

    _report(train(load_config(config, "sft", _overrides(sets, output)), resume=resume))


@train_app.command("merge-lora")
def merge_lora_cmd(
    adapter: Annotated[Path, typer.Argument(help="A LoRA adapter folder (OUTPUT/adapter of a LoRA run).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the merged full model.")],
    base: Annotated[str | None, typer.Option(help="Base model spec (smollm2, a folder, hf:<id>); default: the "
                                                  "one the adapter was trained on.")] = None,
    dtype: Annotated[str, typer.Option(help="float32, bfloat16, float16 or auto (the base's).")] = "float32",
    trust_remote_code: Annotated[bool, typer.Option(help="Run the model's own Python code (off unless you trust "
                                                         "it).")] = False,
) -> None:
    """Merge a LoRA adapter into its base model and write a full safetensors model folder."""
    from mmed.errors import MmedError
    from mmed.train.lora import merge_lora

    if dtype not in ("float32", "bfloat16", "float16", "auto"):
        raise MmedError(f"--dtype {dtype}: choose float32, bfloat16, float16 or auto")
    folder = merge_lora(adapter, out, base=base, trust_remote_code=trust_remote_code, dtype=dtype)
    typer.echo(f"merged model: {folder}")
