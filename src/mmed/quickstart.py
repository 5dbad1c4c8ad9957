"""`mmed quickstart` (what `make demo` runs): raw web text -> corpus -> shards -> CPT -> LoRA SFT -> eval -> report.

Everything runs on bundled data and the bundled model (SmolLM2-135M-Instruct), offline, on a CPU in minutes:

    corpus    mmed corpus build sample (the 149-record raw sample; language ID, keyword filter, dedup, PII)
    heldout   one kept medical document per language, and two rejected general ones per language, as held-out
              text for perplexity; the other kept documents are the CPT corpus
    pack      mmed corpus pack (SmolLM2 tokenizer, no padding)
    bench     mmed bench build sample; SFT items: 2 of its 4 train items per language (+ up to 4 train items per
              language of the native train splits in ../shared, when present: FrenchMedMCQA, HEAD-QA, RuMedDaNet)
    eval-base mmed eval, letter mode, mmedlm prompt, on the sample benchmark's test split (never trained on)
    cpt       mmed train cpt: a short continued pretraining; perplexity on held-out medical/general text before/after
    eval-cpt  the same evaluation of the CPT model
    sft       mmed train sft: LoRA on the train split (mmedlm targets), merged into a full model
    eval-sft  the same evaluation of the SFT model
    report    report.html + quickstart.json: lineage (every artifact with its hash), perplexities, accuracies

Each stage is skipped when its output is complete, so a rerun is fast and a killed run resumes (the training
stages continue from their last checkpoint). These are tiny demo runs: they show that the machinery works end to
end, not that a 135M model learns medicine from 60 documents.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmed.io import sha256_file, write_json

# Native train splits used when ../shared is present: (language, source, path under the bench folder).
SHARED_TRAIN = (
    ("fr", "frenchmedmcqa", "FrenchMedMCQA/corpus/train.json"),
    ("es", "headqa", "HEAD-QA/data/HEAD/train_HEAD.json"),
    ("ru", "rumeddanet", "RuMedBench/data/RuMedDaNet/train_v1.jsonl"),
)


@dataclass(frozen=True)
class QuickstartConfig:
    out: Path = Path("out/quickstart")
    model: str = "smollm2"
    seq_len: int = 256
    cpt_steps: int = 12
    cpt_lr: float = 1e-4
    sft_epochs: float = 1.0
    shared_bench: Path | None = None  # a folder with the native datasets (../shared/data/bench); None: not used
    shared_per_lang: int = 4
    sft_items_per_lang: int = 2  # of the sample benchmark's 4 train items per language: keeps the demo short
    general_heldout_per_lang: int = 2
    threads: int | None = None  # torch CPU threads; None: torch's default


@dataclass
class StageLog:
    name: str
    seconds: float
    skipped: bool


@dataclass
class Quickstart:
    cfg: QuickstartConfig
    say: Callable[[str], None] = print
    log: list[StageLog] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.cfg.out

    def stage(self, name: str, done: Callable[[], bool], run: Callable[[], None]) -> None:
        if done():
            self.say(f"[{name}] complete, skipped")
            self.log.append(StageLog(name, 0.0, True))
            return
        self.say(f"[{name}] ...")
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        self.say(f"[{name}] done in {seconds:.1f} s")
        self.log.append(StageLog(name, round(seconds, 1), False))

    # ---- stages ---------------------------------------------------------------------------------------------

    def corpus(self) -> None:
        from rich.console import Console

        from mmed.corpus.build import build
        from mmed.corpus.build_cli import watcher
        from mmed.corpus.config import load_config

        out = self.out / "corpus"
        build(load_config("sample"), out, watch=watcher(Console(stderr=True), out / "work" / "logs" / "datatrove.log"))

    def heldout(self) -> None:
        from mmed.io import write_jsonl

        kept = sorted(_read_gz(self.out / "corpus" / "kept"), key=lambda r: r["id"])
        first: dict[str, dict] = {}
        for rec in kept:
            first.setdefault(rec["metadata"]["language"], rec)
        held = {id(r) for r in first.values()}
        general: list[dict] = []
        per_lang: dict[str, int] = {}
        for rec in sorted(_read_gz(self.out / "corpus" / "rejected" / "not_medical"), key=lambda r: r["id"]):
            lang = rec["metadata"]["language"]
            if per_lang.get(lang, 0) < self.cfg.general_heldout_per_lang:
                per_lang[lang] = per_lang.get(lang, 0) + 1
                general.append(rec)
        folder = self.out / "heldout"
        write_jsonl(folder / "medical.jsonl", [_plain(r) for r in first.values()])
        write_jsonl(folder / "general.jsonl", [_plain(r) for r in general])
        # Written last: the stage is complete when the CPT corpus exists.
        write_jsonl(self.out / "cpt-data" / "train.jsonl", [_plain(r) for r in kept if id(r) not in held])

    def pack(self) -> None:
        from mmed.corpus.pack import PackConfig, pack
        from mmed.models import load_tokenizer

        tok, name = load_tokenizer(self.cfg.model)
        pack([self.out / "cpt-data" / "train.jsonl"], self.out / "packed", tok, name,
             PackConfig(seq_len=self.cfg.seq_len))

    def bench(self) -> None:
        from mmed.bench.build import build, load_config
        from mmed.bench.schema import load_items
        from mmed.io import write_jsonl

        build(load_config("sample"), self.out / "bench")
        taken: dict[str, int] = {}
        extra = []
        for it in load_items([self.out / "bench"]):
            if it.split == "train" and taken.get(it.lang, 0) < self.cfg.sft_items_per_lang:
                taken[it.lang] = taken.get(it.lang, 0) + 1
                extra.append(it.to_dict())
        if self.cfg.shared_bench is not None:
            from mmed.bench.convert import convert

            for lang, source, rel in SHARED_TRAIN:
                path = self.cfg.shared_bench / rel
                if path.exists():
                    items = [it for it in convert(source, [path], split="train", skip_invalid=True).items
                             if it.lang == lang][: self.cfg.shared_per_lang]
                    extra += [it.to_dict() for it in items]
        write_jsonl(self.out / "sft-data" / "train.jsonl", extra)

    def evaluate(self, name: str, model: str) -> None:
        from mmed.eval.runner import EvalConfig, run_eval

        run_eval(EvalConfig(model=model, bench=[self.out / "bench"], out=self.out / "eval" / name, mode="letter",
                            prompt="mmedlm", split="test"))

    def cpt(self) -> None:
        from mmed.train import cpt

        path = self._write_config("cpt", {
            "model": self.cfg.model, "output": str(self.out / "cpt"),
            "data": {"shards": str(self.out / "packed"), "heldout_fraction": 0.0,
                     "heldout": {"medical": [str(self.out / "heldout" / "medical.jsonl")],
                                 "general": [str(self.out / "heldout" / "general.jsonl")],
                                 "seq_len": self.cfg.seq_len, "max_texts": 100}},
            "train": {"max_steps": self.cfg.cpt_steps, "batch_size": 4, "grad_accum": 1, "lr": self.cfg.cpt_lr,
                      "warmup_ratio": 0.1, "seed": 42, "save_steps": max(1, self.cfg.cpt_steps // 2),
                      "logging_steps": 5, "save_total_limit": 1},
        })
        cpt.train(_load_train_config(path, "cpt"), resume=_has_checkpoint(self.out / "cpt"))

    def sft(self) -> None:
        from mmed.train import sft

        bench = [str(self.out / "sft-data" / "train.jsonl")]
        path = self._write_config("sft", {
            "model": str(self.out / "cpt" / "final"), "output": str(self.out / "sft"),
            "data": {"bench": bench, "split": "train", "style": "mmedlm", "rationale": True, "max_len": 768},
            "train": {"epochs": self.cfg.sft_epochs, "batch_size": 4, "lr": 2e-4, "warmup_ratio": 0.05, "seed": 42,
                      "save_steps": 20, "logging_steps": 5, "save_total_limit": 1},
            "lora": {"enabled": True, "r": 16, "alpha": 32, "dropout": 0.05, "merge": True},
        })
        sft.train(_load_train_config(path, "sft"), resume=_has_checkpoint(self.out / "sft"))

    def _write_config(self, name: str, data: dict[str, Any]) -> Path:
        import yaml

        from mmed.io import atomic_path

        path = self.out / "configs" / f"{name}.yaml"
        with atomic_path(path) as tmp:
            tmp.write_text("# Written by mmed quickstart; rerun it with `mmed train " + name + " " + str(path) + "`\n"
                           + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    def report(self) -> None:
        from mmed.quickstart_report import render

        summary = self.summary()
        write_json(self.out / "quickstart.json", summary)
        from mmed.io import atomic_path

        with atomic_path(self.out / "report.html") as tmp:
            tmp.write_text(render(summary), encoding="utf-8")

    # ---- the whole run ----------------------------------------------------------------------------------------

    def run(self) -> Path:
        o = self.out
        if self.cfg.threads:
            import torch

            torch.set_num_threads(self.cfg.threads)
        self.stage("corpus", lambda: (o / "corpus" / "stats.json").exists(), self.corpus)
        self.stage("heldout", lambda: (o / "cpt-data" / "train.jsonl").exists(), self.heldout)
        self.stage("pack", lambda: (o / "packed" / "meta.json").exists(), self.pack)
        self.stage("bench", lambda: (o / "sft-data" / "train.jsonl").exists(), self.bench)
        self.stage("eval-base", lambda: _evaluated(o / "eval" / "base"), lambda: self.evaluate("base", self.cfg.model))
        self.stage("cpt", lambda: (o / "cpt" / "train_summary.json").exists(), self.cpt)
        self.stage("eval-cpt", lambda: _evaluated(o / "eval" / "cpt"),
                   lambda: self.evaluate("cpt", str(o / "cpt" / "final")))
        self.stage("sft", lambda: (o / "sft" / "train_summary.json").exists(), self.sft)
        self.stage("eval-sft", lambda: _evaluated(o / "eval" / "sft"),
                   lambda: self.evaluate("sft", str(o / "sft" / "final")))
        self.stage("report", lambda: False, self.report)
        return o / "report.html"

    def summary(self) -> dict[str, Any]:
        """What report.html shows: lineage with hashes, perplexities, accuracies, stage times."""
        from mmed.models import fingerprint_hf, resolve_hf_path
        from mmed.models import parse_model_spec as spec

        o = self.out
        cpt = json.loads((o / "cpt" / "train_summary.json").read_text(encoding="utf-8"))
        sft = json.loads((o / "sft" / "train_summary.json").read_text(encoding="utf-8"))
        evals = {name: json.loads((o / "eval" / name / "results.json").read_text(encoding="utf-8"))["metrics"]
                 for name in ("base", "cpt", "sft")}
        raw = _sample_raw()
        lineage = [
            _artifact("raw sample", raw, "input: bundled raw web sample (149 records, 12 languages)"),
            _artifact("corpus stats", o / "corpus" / "stats.json", "mmed corpus build sample"),
            _artifact("kept corpus", o / "corpus" / "kept", "kept/<lang>/*.jsonl.gz"),
            _artifact("held-out medical", o / "heldout" / "medical.jsonl", "one kept document per language"),
            _artifact("held-out general", o / "heldout" / "general.jsonl", "rejected not_medical documents"),
            _artifact("CPT corpus", o / "cpt-data" / "train.jsonl", "kept minus held-out"),
            _artifact("packed shards", o / "packed" / "meta.json", f"mmed corpus pack --seq-len {self.cfg.seq_len}"),
            _artifact("benchmark", o / "bench" / "manifest.json", "mmed bench build sample"),
            _artifact("SFT items", o / "sft-data" / "train.jsonl",
                      f"{self.cfg.sft_items_per_lang} sample train items per language"
                      + (f" + up to {self.cfg.shared_per_lang} per language of native train splits in ../shared"
                         if self.cfg.shared_bench is not None else "")),
            {"name": "base model", "path": resolve_hf_path(spec(self.cfg.model)), "note": self.cfg.model,
             "sha256": fingerprint_hf(resolve_hf_path(spec(self.cfg.model)))},
            _artifact("CPT config", o / "configs" / "cpt.yaml", "mmed train cpt"),
            {"name": "CPT model", "path": str(o / "cpt" / "final"), "note": "mmed.models.fingerprint_hf",
             "sha256": fingerprint_hf(o / "cpt" / "final")},
            _artifact("SFT config", o / "configs" / "sft.yaml", "mmed train sft (LoRA, merged)"),
            {"name": "SFT model", "path": str(o / "sft" / "final"), "note": "mmed.models.fingerprint_hf",
             "sha256": fingerprint_hf(o / "sft" / "final")},
            *[_artifact(f"eval {n}", o / "eval" / n / "results.json", "mmed eval --mode letter --prompt mmedlm")
              for n in ("base", "cpt", "sft")],
        ]
        return {
            "title": "mmed quickstart", "out": str(o), "config": {k: str(v) if isinstance(v, Path) else v
                                                         for k, v in self.cfg.__dict__.items()},
            "lineage": lineage, "cpt": cpt, "sft": sft,
            "accuracy": {name: {"overall": m["overall"].get("accuracy"), "n": m["overall"].get("n"),
                                "by_lang": {lang: v.get("accuracy") for lang, v in m.get("by_lang", {}).items()}}
                         for name, m in evals.items()},
            "stages": [s.__dict__ for s in self.log],
        }


def _evaluated(folder: Path) -> bool:
    return (folder / "results.json").exists()


def _has_checkpoint(folder: Path) -> bool:
    return folder.is_dir() and any(p.name.startswith("checkpoint-") for p in folder.iterdir())


def _load_train_config(path: Path, kind: str) -> Any:
    from mmed.train.config import load_config

    return load_config(path, kind)  # type: ignore[arg-type]


def _read_gz(folder: Path) -> list[dict]:
    import gzip

    out: list[dict] = []
    for path in sorted(folder.rglob("*.jsonl.gz")) if folder.is_dir() else []:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            out += [json.loads(line) for line in f if line.strip()]
    return out


def _plain(rec: dict) -> dict:
    meta = rec.get("metadata", {})
    return {"id": rec["id"], "text": rec["text"], "language": meta.get("language")}


def _sample_raw() -> Path:
    from importlib.resources import files

    return Path(str(files("mmed") / "data" / "sample_raw" / "web-00000.jsonl"))


def _artifact(name: str, path: Path, note: str) -> dict[str, Any]:
    """A file's sha256, or for a folder the sha256 of its files' relative names and sha256s."""
    import hashlib

    if path.is_dir():
        digest = hashlib.sha256()
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            digest.update(f"{p.relative_to(path)}\0{sha256_file(p)}\n".encode())
        sha = digest.hexdigest()
    else:
        sha = sha256_file(path)
    return {"name": name, "path": str(path), "note": note, "sha256": sha}


def default_shared_bench() -> Path | None:
    """The native datasets folder when this checkout sits next to ../shared (or $MMED_SHARED): else None."""
    root = Path(os.environ["MMED_SHARED"]) if os.environ.get("MMED_SHARED") else Path.cwd().parent / "shared"
    bench = root / "data" / "bench"
    return bench if bench.is_dir() else None
