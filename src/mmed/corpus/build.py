"""`mmed corpus build`: raw web text -> medical corpus, as a chain of datatrove stages.

    S1 filter    RawReader(s) -> LanguageFilter -> MedicalFilter -> [QualityFilter...] -> work/filtered/<rank>
                 (-> ExactDedupSignature when exact dedup is on)
    S2 exact     ExactFindDedups                                               (1 task)
    S3 sigs      work/filtered/<rank> -> ExactDedupFilter(rejected/duplicate) -> LanguageAwareMinhashSignature
    S4 buckets   MinhashDedupBuckets                                           (num_buckets tasks)
    S5 cluster   MinhashDedupCluster                                           (1 task)
    S6 final     work/filtered/<rank> -> ExactDedupFilter -> MinhashDedupFilter(rejected/near_duplicate)
                 -> PIIScrubber -> kept/<language>/<rank>.jsonl.gz
    S7 stats     stats.json + summary.txt from the writers' counts             (1 task)

Exact dedup runs before MinHash signing, so MinHash only sees exact-dedup survivors: a document kept by exact dedup
can never be lost because its exact twin was chosen as a MinHash cluster's representative. Dedup stages are left out
when dedup is off. Every stage runs on the configured executor (local, Ray, Slurm) and writes per-rank completion
markers under work/logs/<stage>/completions: a rerun after a kill skips finished ranks and reruns the others, which
overwrite their own output files (names carry the rank), so nothing is lost or written twice. The stats are a
stage too, so a Slurm submission ends with stats.json like a local run does.

Output folder: kept/<lang>/, rejected/<reason>/, stats.json, summary.txt, work/ (intermediate files, logs, counts,
plan.json). A rerun against the same folder with a different plan is refused (`--fresh` starts over).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmed.corpus.config import CorpusConfig, InputSpec
from mmed.errors import ConfigError, MmedError
from mmed.io import write_json

STAGES = ("filter", "exact", "sigs", "buckets", "cluster", "final", "stats")


@dataclass
class Stage:
    name: str
    pipeline: list[Any]
    tasks: int | None = None  # None: the executor settings' tasks
    workers: int | None = None


@dataclass(frozen=True)
class Layout:
    out: Path

    @property
    def kept(self) -> Path:
        return self.out / "kept"

    @property
    def rejected(self) -> Path:
        return self.out / "rejected"

    @property
    def work(self) -> Path:
        return self.out / "work"

    @property
    def counts(self) -> Path:
        return self.work / "counts"

    @property
    def filtered(self) -> Path:
        return self.work / "filtered"

    def logs(self, stage: str) -> Path:
        return self.work / "logs" / stage


def _reader(spec: InputSpec, max_chars: int, rejects: Any) -> Any:
    from mmed.corpus.readers import RawReader

    folder, glob = (spec.path, spec.glob) if spec.path.is_dir() else (spec.path.parent, spec.path.name)
    return RawReader(str(folder), fmt=spec.fmt, glob_pattern=glob, text_key=spec.text_key, id_key=spec.id_key,
                     max_chars=max_chars, exclusion_writer=rejects)


def _rank_reader(folder: Path) -> Any:
    from mmed.corpus.rankio import RankFileReader

    return RankFileReader(str(folder))


def dedup_settings(cfg: CorpusConfig) -> Any:
    from mmed.corpus.dedup import DedupSettings

    raw = cfg.step("dedup")
    try:
        return DedupSettings(**raw)
    except TypeError as e:  # unknown key
        raise ConfigError(f"{cfg.path or 'config'}: steps.dedup: {e}") from None


def executor_settings(cfg: CorpusConfig) -> Any:
    from mmed.corpus.executors import ExecutorSettings

    return ExecutorSettings.from_dict(cfg.executor, where=f"{cfg.path or 'config'}: executor")


def plan(cfg: CorpusConfig, out: Path) -> list[Stage]:
    """The stages of a build, as datatrove pipelines (lists of steps)."""
    from mmed.corpus.lid import LanguageFilter
    from mmed.corpus.pii import PIIScrubber
    from mmed.corpus.quality import QualityFilter
    from mmed.corpus.stats import BuildStats
    from mmed.corpus.steps import MedicalFilter
    from mmed.corpus.writers import KeptWriter, RejectWriter

    lay = Layout(out)
    if not cfg.inputs:
        raise ConfigError(f"{cfg.path or 'config'}: no inputs (give them in the config or with --input)")

    def rejects(name: str, reason: str | None = None) -> Any:
        return RejectWriter(str(lay.rejected), str(lay.counts), name, reason)

    lang = cfg.step("language")
    med = cfg.step("medical")
    max_chars = int(cfg.step("reader").get("max_chars", 1_000_000))
    s1: list[Any] = [_reader(spec, max_chars, rejects(f"read{i}")) for i, spec in enumerate(cfg.inputs)]
    s1.append(LanguageFilter(cfg.languages, exclusion_writer=rejects("language"), **lang))
    s1.append(MedicalFilter(med.get("thresholds"), med.get("keywords_dir"), med.get("compat"),
                            exclusion_writer=rejects("medical")))
    for kind, params in (cfg.step("quality") or {}).items():
        if params is not False and params is not None:
            s1.append(QualityFilter(kind, params or {}, languages=cfg.languages,
                                    exclusion_writer=rejects(f"quality-{kind}")))
    from datatrove.pipeline.writers.jsonl import JsonlWriter

    s1.append(JsonlWriter(str(lay.filtered), output_filename="${rank}.jsonl.gz", compression="gzip"))

    dd = dedup_settings(cfg)
    stages = [Stage("filter", s1)]
    final: list[Any] = [_rank_reader(lay.filtered)]
    if dd.exact:
        from datatrove.pipeline.dedup.exact_dedup import ExactDedupFilter, ExactDedupSignature, ExactFindDedups

        from mmed.corpus.dedup import exact_config

        sigs, dups = lay.work / "exact" / "sigs", lay.work / "exact" / "dups"
        s1.append(ExactDedupSignature(str(sigs), exact_config()))
        stages.append(Stage("exact", [ExactFindDedups(str(sigs), str(dups), exact_config())], tasks=1, workers=1))
        final.append(ExactDedupFilter(str(dups), exact_config()))
    if dd.near:
        from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter

        from mmed.corpus.dedup import LanguageAwareMinhashSignature

        mh = dd.minhash_config()
        base = lay.work / "minhash"
        s3: list[Any] = [_rank_reader(lay.filtered)]
        if dd.exact:  # MinHash signs exact-dedup survivors only (see the module docstring)
            s3.append(ExactDedupFilter(str(dups), exact_config(), exclusion_writer=rejects("exact", "duplicate")))
        s3.append(LanguageAwareMinhashSignature(str(base / "sigs"), config=mh))
        stages += [
            Stage("sigs", s3),
            Stage("buckets", [MinhashDedupBuckets(str(base / "sigs"), str(base / "buckets"), config=mh)],
                  tasks=mh.num_buckets),
            Stage("cluster", [MinhashDedupCluster(str(base / "buckets"), str(base / "remove"), config=mh)],
                  tasks=1, workers=1),
        ]
        final.append(MinhashDedupFilter(str(base / "remove"), exclusion_writer=rejects("near", "near_duplicate")))
    elif dd.exact:
        # No MinHash stage to write the exact duplicates out: the final stage does it.
        final[-1] = ExactDedupFilter(str(dups), exact_config(), exclusion_writer=rejects("exact", "duplicate"))
    pii = cfg.step("pii")
    if pii.get("enabled", True):
        final.append(PIIScrubber(pii.get("kinds")))
    final.append(KeptWriter(str(lay.kept), str(lay.counts)))
    stages.append(Stage("final", final))
    stages.append(Stage("stats", [BuildStats(str(out), name=cfg.name, languages=list(cfg.languages))],
                        tasks=1, workers=1))
    return stages


def plan_fingerprint(cfg: CorpusConfig, tasks: int) -> str:
    """What must not change between a killed run and its resume: inputs, languages, steps, task count."""
    data = {
        "inputs": [{**spec.__dict__, "path": str(spec.path)} for spec in cfg.inputs],
        "languages": list(cfg.languages), "steps": cfg.steps, "tasks": tasks,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _guard(lay: Layout, fingerprint: str, fresh: bool) -> None:
    plan_file = lay.work / "plan.json"
    if fresh and lay.out.exists():
        for sub in ("kept", "rejected", "work", "stats.json", "summary.txt"):
            target = lay.out / sub
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    if plan_file.exists():
        found = json.loads(plan_file.read_text(encoding="utf-8")).get("fingerprint")
        if found != fingerprint:
            raise ConfigError(f"{lay.out} holds a build with other inputs, steps or task count; resuming it would "
                              "mix the two. Use another output folder, or --fresh to delete it and start over.")
        return
    if (lay.out / "kept").exists() or (lay.out / "work").exists():
        raise ConfigError(f"{lay.out} holds files from another build; use another output folder or --fresh")
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    plan_file.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")


def _refuse_while_queued(jobs_file: Path) -> None:
    """A rerun while the submitted chain waits in the queue would submit every incomplete rank a second time,
    and the two chains would write the same rank files."""
    from mmed.corpus.executors import queued_jobs

    if not jobs_file.exists():
        return
    job_ids = [str(j) for j in json.loads(jobs_file.read_text(encoding="utf-8")).get("job_ids", [])]
    if queued := queued_jobs(job_ids):
        raise MmedError(f"{jobs_file.parent.parent}: this build's Slurm jobs are still queued or running "
                        f"({'; '.join(queued[:5])}{' ...' if len(queued) > 5 else ''}). Wait for them "
                        f"(squeue -j {','.join(job_ids)}) or cancel them (scancel {' '.join(job_ids)}), then run "
                        "the build again: it resumes from the ranks they completed.")


@dataclass
class BuildResult:
    out: Path
    complete: bool  # False when the stages were submitted (Slurm) rather than run
    stats: dict[str, Any] | None
    submitted: Any = None


def build(cfg: CorpusConfig, out: Path | None = None, *, fresh: bool = False,
          watch: Callable[[list[tuple[str, Path, int]]], AbstractContextManager[Any]] | None = None) -> BuildResult:
    """Run (or, on Slurm, submit) every stage; on completion return the stats.

    `watch` gets [(stage, logging dir, number of tasks)] and returns a context manager held while the stages run
    (the CLI's progress display polls the completion markers).
    """
    from mmed.corpus.executors import make_executor, run_stages

    out = Path(out or cfg.output or "")
    if not str(out):
        raise ConfigError(f"{cfg.path or 'config'}: no output folder (set `output` or pass -o)")
    out = out.resolve()
    settings = executor_settings(cfg)
    stages = plan(cfg, out)
    lay = Layout(out)
    _guard(lay, plan_fingerprint(cfg, settings.tasks), fresh)
    executors: list[Any] = []
    for stage in stages:
        executors.append(make_executor(
            settings, stage.pipeline, name=f"{cfg.name}-{stage.name}", logging_dir=str(lay.logs(stage.name)),
            tasks=stage.tasks, workers=stage.workers, depends=executors[-1] if executors else None))
    stages_info = [(st.name, lay.logs(st.name), ex.world_size) for st, ex in zip(stages, executors, strict=True)]
    jobs_file = lay.work / "slurm-jobs.json"
    if settings.kind == "slurm":
        _refuse_while_queued(jobs_file)
    with watch(stages_info) if watch is not None else nullcontext():
        outcome = run_stages(executors)
    if settings.kind == "slurm" and outcome.job_ids:
        write_json(jobs_file, {"job_ids": list(outcome.job_ids)})
    stats_file = out / "stats.json"
    complete = stats_file.exists() and getattr(outcome, "complete", True)
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if complete else None
    return BuildResult(out=out, complete=complete, stats=stats, submitted=outcome)
