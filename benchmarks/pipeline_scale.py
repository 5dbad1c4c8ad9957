"""Throughput of the whole corpus build (`mmed corpus build`) with 1 and 2 workers, on the local and Ray executors.

Input: --mb of mixed-language documents (the generator of filter_speed.py: filter-dev sentences when ../shared is
there, else built-in word lists), split into --files jsonl files; the build runs the MMedC recipe (fastText
language ID, keyword filter, exact + MinHash dedup, PII scrubbing, writers, stats) with --tasks tasks per stage.
Each configuration builds into a fresh folder; wall-clock seconds of the whole build (all 7 stages) count. A local
Ray instance is started once before the Ray runs (its start-up is reported, not counted).

The last line is a summary: MB/s per configuration, the 2-worker speedups, and an estimate for CulturaX-size input
(6.3T tokens; --bytes-per-token converts, an assumption stated in the output) in core-hours, from the 1-worker local
rate (per core, since one worker is one core). `machine_2_process_scaling` (before and after) is a pure-Python
2-process calibration: below ~1.8 the machine was busy and the 2-worker figures say nothing about the pipeline.
The generated input is about half medical (after language ID), far richer than web text (where the keyword filter
keeps a few percent), so the steps after the keyword filter (quality, dedup, PII) weigh more here than on CulturaX:
the per-core rate is a conservative bound; the first stage alone is `pipeline_mb_s` of filter_speed.py.
Usage: python benchmarks/pipeline_scale.py [--mb 6] [--files 8] [--tasks 8] [--no-ray]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from filter_speed import LANGS, build_documents, keyword_list

CULTURAX_TOKENS = 6.3e12


def write_input(folder: Path, mb: float, files: int, seed: int) -> int:
    pools = []
    for lang in LANGS:
        kl, _ = keyword_list(lang)
        docs, _ = build_documents(lang, kl, int(mb * 1e6 / len(LANGS)), random.Random(f"{lang}-{seed}"))
        pools.append(docs)
    mixed = [d for group in zip(*pools, strict=False) for d in group]
    random.Random(seed).shuffle(mixed)
    folder.mkdir(parents=True)
    for k in range(files):
        with open(folder / f"part-{k:03d}.jsonl", "w", encoding="utf-8") as f:
            for i in range(k, len(mixed), files):
                f.write(json.dumps({"id": f"d{i}", "text": mixed[i]}, ensure_ascii=False) + "\n")
    return sum(p.stat().st_size for p in folder.iterdir())


def _spin(_: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def machine_scaling() -> float:
    """2 processes of pure-Python work vs 1: how much parallelism the machine gives right now (2.0 = two free
    cores). A busy machine makes every 2-worker figure below meaningless; this says whether it was."""
    import multiprocessing

    one = _spin(0)
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_spin, [0, 1])
    return round(2 * one / (time.perf_counter() - start), 2)


def run(cfg, out: Path) -> float:
    from mmed.corpus.build import build

    start = time.perf_counter()
    result = build(cfg, out)
    assert result.complete
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=6.0)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bytes-per-token", type=float, default=4.0,
                        help="to turn CulturaX's 6.3T tokens into bytes (an assumption; multilingual web text "
                             "with a Llama-style tokenizer is ~3-5 bytes per token)")
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    scaling_before = machine_scaling()

    from mmed.corpus.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        nbytes = write_input(root / "raw", args.mb, args.files, args.seed)
        base = load_config("mmedc")
        from mmed.corpus.config import parse_input

        inputs = (parse_input(str(root / "raw"), where="--input", base=root),)
        kinds = ["local"] + ([] if args.no_ray else ["ray"])
        rows = []
        ray_start = None
        for kind in kinds:
            if kind == "ray":
                import ray

                t0 = time.perf_counter()
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
                ray_start = round(time.perf_counter() - t0, 1)
            for workers in (1, 2):
                cfg = dataclasses.replace(base, inputs=inputs, executor={
                    "kind": kind, "tasks": args.tasks, "workers": workers})
                seconds = run(cfg, root / f"out-{kind}-{workers}")
                stats = json.loads((root / f"out-{kind}-{workers}" / "stats.json").read_text(encoding="utf-8"))
                row = {"executor": kind, "workers": workers, "tasks": args.tasks, "mb": round(nbytes / 1e6, 2),
                       "seconds": round(seconds, 1), "mb_s": round(nbytes / seconds / 1e6, 3),
                       "docs_in": stats["total"]["in"]["docs"], "kept": stats["total"]["kept"]["docs"]}
                rows.append(row)
                print(json.dumps(row), flush=True)
    rate = {(r["executor"], r["workers"]): r["mb_s"] for r in rows}
    per_core = rate[("local", 1)]
    total_bytes = CULTURAX_TOKENS * args.bytes_per_token
    core_hours = total_bytes / (per_core * 1e6) / 3600
    print(json.dumps({
        "summary": True, "input_mb": round(nbytes / 1e6, 2),
        "machine_2_process_scaling": {"before": scaling_before, "after": machine_scaling()},
        "local_speedup_2_workers": round(rate[("local", 2)] / rate[("local", 1)], 2),
        **({"ray_speedup_2_workers": round(rate[("ray", 2)] / rate[("ray", 1)], 2), "ray_start_s": ray_start}
           if ("ray", 1) in rate else {}),
        "per_core_mb_s": per_core,
        "culturax_estimate": {"tokens": CULTURAX_TOKENS, "bytes_per_token": args.bytes_per_token,
                              "tb": round(total_bytes / 1e12, 1), "core_hours": round(core_hours),
                              "hours_on_1000_cores": round(core_hours / 1000, 1)},
    }))


if __name__ == "__main__":
    main()
