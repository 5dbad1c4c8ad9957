"""Training throughput of the recipes: tokens/s of `mmed train cpt` and `mmed train sft` (full and LoRA).

Runs each recipe for a few optimizer steps on the bundled SmolLM2-135M (CPU by default, as in CI) through the same
library calls as the commands, and prints one JSON object per recipe:
    tokens_per_s          tokens processed per second of training step (forward + backward + optimizer)
    trained_tokens_per_s  of those, the tokens with a loss (all of them for packed CPT; the responses for SFT)
    mfu                   on a CUDA GPU with a known peak (6 x parameters x tokens/s / peak bf16 FLOPs)
The first step is a warm-up (allocations, kernel selection) and is left out. Usage:
    python benchmarks/train_speed.py [--model smollm2] [--steps 4] [--seq-len 256] [--batch-size 4] [--threads 1]
                                     [--recipes cpt,sft,sft-lora]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def _steady_rates(out: Path) -> dict[str, float]:
    """tokens/s over steps 2..N from metrics.jsonl (logging_steps=1: one row per step, with that step's rates)."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if "loss" in r]
    seen = [0] + [r["tokens_seen"] for r in rows]
    steps = [(r, seen[i + 1] - seen[i]) for i, r in enumerate(rows)][1:] or [(rows[0], seen[1])]
    seconds = sum(tokens / r["tokens_per_s"] for r, tokens in steps)  # each step's time
    tokens = sum(tokens for _, tokens in steps)
    trained = sum(r["trained_tokens_per_s"] * tokens / r["tokens_per_s"] for r, tokens in steps)
    rates = {"tokens_per_s": round(tokens / seconds, 1), "trained_tokens_per_s": round(trained / seconds, 1)}
    if all("mfu" in r for r, _ in steps):
        rates["mfu"] = round(sum(r["mfu"] for r, _ in steps) / len(steps), 4)
    return rates


def run(recipe: str, args: argparse.Namespace, root: Path, packed: Path) -> dict[str, Any]:
    import yaml

    from mmed.train.config import load_config

    out = root / recipe
    train_opts = {"max_steps": args.steps, "batch_size": args.batch_size, "lr": 1e-5, "save_steps": 10_000,
                  "logging_steps": 1, "use_cpu": args.device == "cpu"}
    if recipe == "cpt":
        data: dict[str, Any] = {"shards": str(packed)}
    else:
        data = {"bench": "mmed:data/sample_bench", "max_len": args.seq_len * 4}
    config = {"model": args.model, "output": str(out), "data": data, "train": train_opts}
    if recipe == "sft-lora":
        config["lora"] = {"enabled": True, "r": 16, "alpha": 32}
    path = root / f"{recipe}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    kind = "cpt" if recipe == "cpt" else "sft"
    if kind == "cpt":
        from mmed.train.cpt import train
    else:
        from mmed.train.sft import train
    started = time.perf_counter()
    summary = train(load_config(path, kind))  # type: ignore[arg-type]
    return {"recipe": recipe, "model": args.model, "device": args.device, "threads": args.threads,
            "steps": summary["global_step"], "batch_size": args.batch_size,
            "seq_len": args.seq_len if kind == "cpt" else "variable", **_steady_rates(out),
            "train_loss": round(summary["train_loss"], 4), "wall_s": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--recipes", default="cpt,sft,sft-lora")
    args = parser.parse_args()

    import torch

    from mmed.corpus.pack import PackConfig, pack
    from mmed.models import load_tokenizer

    torch.set_num_threads(args.threads)
    sample = Path(__file__).resolve().parents[1] / "src" / "mmed" / "data" / "sample_raw" / "web-00000.parquet"
    with tempfile.TemporaryDirectory(prefix="mmed-train-speed-") as tmp:
        root = Path(tmp)
        tok, name = load_tokenizer(args.model)
        pack([sample], root / "packed", tok, name, PackConfig(seq_len=args.seq_len))
        for recipe in args.recipes.split(","):
            print(json.dumps(run(recipe, args, root, root / "packed")), flush=True)


if __name__ == "__main__":
    main()
