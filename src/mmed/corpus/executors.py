"""Where the corpus pipeline runs (issue 4): datatrove's local, Ray and Slurm executors behind one config mapping.

A build is a chain of datatrove stages, each needing the previous one's output. `ExecutorSettings.from_dict` reads
the `executor:` mapping of a corpus config, `make_executor` turns the settings and one stage's pipeline into a
datatrove executor, and `run_stages` runs a chain: local and Ray stages run one after the other in this process;
Slurm stages are submitted as array jobs, each waiting (`afterok`) for the previous stage's job.

Resume: datatrove writes `<logging_dir>/completions/<rank:05d>` when a rank has finished, and every executor skips
ranks that have one. The writers name their files by rank, so a rank that is rerun (it was killed, or its marker
was deleted) overwrites its partial output: a rerun loses and duplicates nothing.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NoReturn

from mmed.errors import ConfigError, MmedError

KINDS = ("local", "ray", "slurm")
# sbatch options the executor sets itself: overriding them through sbatch_args would break the chain or the logs.
_MANAGED_SBATCH = {"array", "dependency", "job-name", "output", "error", "partition", "cpus-per-task",
                   "mem-per-cpu", "time", "qos", "account"}
_SLURM_TIME = re.compile(r"^(\d+|\d+:\d{1,2}(:\d{1,2})?|\d+-\d+(:\d{1,2}(:\d{1,2})?)?|UNLIMITED|infinite)$")
_STAGE_NAMES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class SlurmSettings:
    """sbatch settings of every stage. `env_command` / `venv_path` prepare the job's shell (by default the job
    inherits the submitting shell's environment: datatrove submits with --export=ALL)."""

    partition: str
    time: str = "24:00:00"
    cpus_per_task: int = 1
    mem_per_cpu_gb: int = 2
    qos: str | None = None
    account: str | None = None
    sbatch_args: Mapping[str, str] = field(default_factory=dict)  # extra `#SBATCH --key=value` lines
    env_command: str | None = None  # e.g. "module load python/3.11"
    venv_path: str | None = None  # a venv folder (or its bin/activate): sourced before the pipeline starts
    max_array_size: int = 1001  # the cluster's MaxArraySize; more tasks are submitted as several array jobs
    randomize_start_duration: int = 0  # each task sleeps up to this many seconds first (spreads load on storage)

    def activation(self) -> str | None:
        """The shell line run before the pipeline: env_command, then the venv's activate script."""
        parts = [self.env_command] if self.env_command else []
        if self.venv_path:
            venv = self.venv_path.rstrip("/")
            parts.append(f"source {venv if venv.endswith('/activate') else venv + '/bin/activate'}")
        return " && ".join(parts) or None


@dataclass(frozen=True)
class RaySettings:
    """address None: a Ray instance started in this process (CPUs: workers x cpus_per_task, or all cores);
    otherwise the address of a running cluster ("auto", "ray://head:10001")."""

    address: str | None = None
    cpus_per_task: int = 1
    mem_per_cpu_gb: float = 2


@dataclass(frozen=True)
class ExecutorSettings:
    """kind: local | ray | slurm; tasks: ranks of the parallel stages; workers: ranks running at once
    (-1: all cores for local, no limit for Ray and Slurm)."""

    kind: str = "local"
    tasks: int = 1
    workers: int = -1
    slurm: SlurmSettings | None = None
    ray: RaySettings | None = None

    def __post_init__(self) -> None:
        # from_dict reports these with the config key; this catches settings built in code.
        if self.kind not in KINDS:
            raise ConfigError(f"executor kind {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.tasks < 1 or (self.workers != -1 and self.workers < 1):
            raise ConfigError(f"executor: tasks must be >= 1 and workers >= 1 or -1 (got {self.tasks}, {self.workers})")
        if self.kind == "slurm" and self.slurm is None:
            raise ConfigError("executor kind 'slurm' needs slurm settings (at least a partition)")

    @classmethod
    def from_dict(cls, d: Any, where: str) -> ExecutorSettings:
        """Settings from a config mapping. `where` names the mapping, e.g. "build.yaml: executor"; every error
        starts with it and the field ("build.yaml: executor.slurm.partition: ...") and says what to write."""
        r = _Reader(d, where)
        r.only("kind", "tasks", "workers", "slurm", "ray")
        kind = r.get("kind", str, "local", "one of " + ", ".join(KINDS))
        if kind not in KINDS:
            r.fail("kind", f"unknown executor {kind!r}; choose one of {', '.join(KINDS)}")
        tasks = r.get("tasks", int, 1, "a whole number of tasks (>= 1)")
        if tasks < 1:
            r.fail("tasks", f"must be >= 1 (got {tasks}); it is the number of ranks the input is split into")
        workers = r.get("workers", int, -1, "a whole number of tasks run at once, or -1")
        if workers == 0 or workers < -1:
            r.fail("workers", f"must be >= 1, or -1 for all cores / no limit (got {workers})")
        slurm_raw, ray_raw = r.get("slurm", dict, None, "a mapping"), r.get("ray", dict, None, "a mapping")
        if kind == "slurm" and slurm_raw is None:
            r.fail("slurm", "missing; kind 'slurm' needs at least `slurm: {partition: <name>}` (`sinfo -s` lists them)")
        slurm = _slurm_from_dict(_Reader(slurm_raw, f"{where}.slurm")) if slurm_raw is not None else None
        ray = _ray_from_dict(_Reader(ray_raw, f"{where}.ray")) if ray_raw is not None else None
        return cls(kind=kind, tasks=tasks, workers=workers, slurm=slurm, ray=ray)


class _Reader:
    """Typed look-ups in one config mapping, failing with `<where>.<field>: <problem>`."""

    def __init__(self, d: Any, where: str) -> None:
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
        self.d, self.where = d, where

    def fail(self, name: str, problem: str) -> NoReturn:
        raise ConfigError(f"{self.where}.{name}: {problem}")

    def only(self, *allowed: str) -> None:
        if unknown := sorted(set(self.d) - set(allowed)):
            raise ConfigError(f"{self.where}: unknown key(s) {unknown}; allowed: {', '.join(allowed)}")

    def get(self, name: str, typ: type | tuple[type, ...], default: Any, expected: str) -> Any:
        value = self.d.get(name)
        if value is None:
            if default is _REQUIRED:
                self.fail(name, f"missing; expected {expected}")
            return default
        if (isinstance(value, bool) and typ is not bool) or not isinstance(value, typ):  # YAML `yes` is not a 1
            self.fail(name, f"expected {expected}, got {value!r}")
        return value


_REQUIRED = object()


def _slurm_from_dict(r: _Reader) -> SlurmSettings:
    r.only(*SlurmSettings.__dataclass_fields__)
    partition = r.get("partition", str, _REQUIRED, "the Slurm partition to submit to (`sinfo -s` lists them)")
    time = str(r.get("time", (str, int), "24:00:00", "a Slurm time limit such as 24:00:00 or 2-00:00:00"))
    if not _SLURM_TIME.match(time):
        r.fail("time", f"{time!r} is not a Slurm time limit; write minutes, HH:MM:SS or D-HH:MM:SS")
    ints = {}
    for name, default, low in (("cpus_per_task", 1, 1), ("mem_per_cpu_gb", 2, 1), ("max_array_size", 1001, 1),
                               ("randomize_start_duration", 0, 0)):
        ints[name] = r.get(name, int, default, f"a whole number >= {low}")
        if ints[name] < low:
            r.fail(name, f"must be >= {low} (got {ints[name]})")
    extra = r.get("sbatch_args", dict, {}, "a mapping of sbatch option -> value, e.g. {constraint: cpu}")
    for opt, value in extra.items():
        if not isinstance(opt, str) or opt.startswith("-") or isinstance(value, bool) \
                or not isinstance(value, (str, int, float)):
            r.fail("sbatch_args", f"{opt!r}: {value!r}: write option names without dashes and plain values")
        if opt in _MANAGED_SBATCH:
            r.fail("sbatch_args", f"{opt!r} is set by the executor; use slurm.{opt.replace('-', '_')} if it is a "
                                  "setting, the others (array, dependency, output, error) cannot be changed")
    text = {name: r.get(name, str, None, "a string") for name in ("qos", "account", "env_command", "venv_path")}
    return SlurmSettings(partition=partition, time=time, sbatch_args={k: str(v) for k, v in extra.items()},
                         **ints, **text)


def _ray_from_dict(r: _Reader) -> RaySettings:
    r.only(*RaySettings.__dataclass_fields__)
    address = r.get("address", str, None, "a Ray address such as auto or ray://head:10001 (leave out: local)")
    cpus = r.get("cpus_per_task", int, 1, "a whole number of CPUs >= 1")
    mem = r.get("mem_per_cpu_gb", (int, float), 2, "a number of GB > 0")
    if cpus < 1:
        r.fail("cpus_per_task", f"must be >= 1 (got {cpus})")
    if mem <= 0:
        r.fail("mem_per_cpu_gb", f"must be > 0 (got {mem})")
    return RaySettings(address=address, cpus_per_task=cpus, mem_per_cpu_gb=mem)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def ensure_ray(ray_settings: RaySettings, workers: int) -> None:
    """Start (address None) or connect to Ray once per process; a no-op when Ray is already initialized."""
    import ray

    if ray.is_initialized():
        return
    # Quiet and offline: no dashboard, no usage report, only warnings from Ray itself. Task logs are written to
    # each stage's logging_dir/logs, so worker output is not echoed here.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    common: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if ray_settings.address is None:
        cpus = workers * ray_settings.cpus_per_task if workers > 0 else _cores()
        ray.init(num_cpus=max(cpus, ray_settings.cpus_per_task), include_dashboard=False, **common)
    else:
        ray.init(address=ray_settings.address, **common)


def _check_ray_fits(ray_settings: RaySettings) -> None:
    """A task asking more than the local instance has would wait for a placement forever: fail now instead."""
    import ray

    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    cpus = max((n.get("CPU", 0) for n in nodes), default=0)
    mem_gb = max((n.get("memory", 0) for n in nodes), default=0) / 2**30
    need_gb = ray_settings.mem_per_cpu_gb * ray_settings.cpus_per_task
    if cpus < ray_settings.cpus_per_task or mem_gb < need_gb:
        raise ConfigError(f"executor.ray: a task needs {ray_settings.cpus_per_task} CPU(s) and {need_gb:g} GB, but "
                          f"the local Ray instance has {cpus:g} CPU(s) and {mem_gb:.1f} GB; lower ray.cpus_per_task / "
                          "ray.mem_per_cpu_gb, or give ray.address of a cluster with bigger nodes")


def make_executor(settings: ExecutorSettings, pipeline: list, *, name: str, logging_dir: str, tasks: int | None = None,
                  workers: int | None = None, depends: Any = None, skip_completed: bool = True) -> Any:
    """The datatrove executor of one stage. `tasks` / `workers` override the settings (a merge stage: tasks=1);
    `depends` is the previous stage's executor (Slurm: this stage's job waits for it; see run_stages)."""
    tasks = settings.tasks if tasks is None else tasks
    workers = settings.workers if workers is None else workers
    if tasks < 1 or workers == 0 or workers < -1:
        raise ValueError(f"stage {name}: tasks must be >= 1 and workers >= 1 or -1 (got {tasks}, {workers})")
    common = {"pipeline": pipeline, "tasks": tasks, "logging_dir": str(logging_dir), "depends": depends,
              "skip_completed": skip_completed}
    if settings.kind == "local":
        # "fork" (datatrove's default is forkserver): pool workers start from this process, with datatrove, numpy
        # and our modules already imported; with forkserver each stage's workers re-import everything, which on a
        # small build cost more than the work (measured: 2 workers slower than 1 on 6 MB). Linux only.
        import multiprocessing

        from datatrove.executor import LocalPipelineExecutor

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        executor = LocalPipelineExecutor(workers=min(_cores() if workers == -1 else workers, tasks),
                                         start_method=method, **common)
    elif settings.kind == "ray":
        from datatrove.executor import RayPipelineExecutor

        ray_settings = settings.ray or RaySettings()
        ensure_ray(ray_settings, settings.workers)  # the chain's workers, not a 1-task stage's
        if ray_settings.address is None:  # a cluster may autoscale: its nodes now say nothing of later ones
            _check_ray_fits(ray_settings)
        executor = RayPipelineExecutor(workers=-1 if workers == -1 else min(workers, tasks), **common,
                                       cpus_per_task=ray_settings.cpus_per_task,
                                       mem_per_cpu_gb=ray_settings.mem_per_cpu_gb)
    else:
        from datatrove.executor import SlurmPipelineExecutor

        s = settings.slurm
        assert s is not None  # ExecutorSettings checks this
        executor = SlurmPipelineExecutor(
            **common, workers=-1 if workers == -1 or workers >= tasks else workers, job_name=name,
            time=s.time, partition=s.partition, cpus_per_task=s.cpus_per_task, mem_per_cpu_gb=s.mem_per_cpu_gb,
            qos=s.qos or "",  # datatrove's default is "normal"; "" leaves the line out (the cluster default)
            sbatch_args={**s.sbatch_args, **({"account": s.account} if s.account else {})},
            env_command=s.activation(), max_array_size=s.max_array_size,
            randomize_start_duration=s.randomize_start_duration)
    if depends is not None and type(depends) is not type(executor):
        raise ValueError(f"stage {name}: depends on a {type(depends).__name__}, not a {type(executor).__name__}")
    _STAGE_NAMES[executor] = name
    return executor


@dataclass(frozen=True)
class StageRun:
    """One stage of a run_stages call. pending: ranks without a completion marker before the call (run now, or
    submitted); job_id: Slurm's (last) array job id, None when nothing was submitted or not on Slurm."""

    name: str
    logging_dir: str
    tasks: int
    pending: int
    job_id: str | None = None


@dataclass(frozen=True)
class ChainRun:
    """complete: every rank of every stage is done now (local/Ray, or Slurm with nothing left to submit);
    otherwise the chain was submitted and `job_ids` are the Slurm jobs to watch (squeue -j ...)."""

    kind: str
    complete: bool
    stages: tuple[StageRun, ...]

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(s.job_id for s in self.stages if s.job_id is not None)


def _kind_of(executor: Any) -> str:
    from datatrove.executor import LocalPipelineExecutor, RayPipelineExecutor, SlurmPipelineExecutor

    for kind, cls in (("local", LocalPipelineExecutor), ("ray", RayPipelineExecutor), ("slurm", SlurmPipelineExecutor)):
        if isinstance(executor, cls):
            return kind
    raise ValueError(f"not a datatrove local/Ray/Slurm executor: {type(executor).__name__}")


def run_stages(executors: list) -> ChainRun:
    """Run a chain of stages made by make_executor, all of one kind, in order.

    Local and Ray: each stage runs here and must finish every rank before the next starts (a failed rank raises
    MmedError; rerun to resume). Slurm: each stage is submitted with `--dependency=afterok:<previous job>`;
    a stage with no `depends` gets the previous stage. Stages already complete are skipped (not submitted).
    """
    if not executors:
        raise ValueError("run_stages: no stages")
    kinds = {_kind_of(e) for e in executors}
    if len(kinds) > 1:
        raise ValueError(f"run_stages: stages of different kinds {sorted(kinds)}; one chain runs on one executor")
    kind = kinds.pop()
    pending = [len(e.get_incomplete_ranks()) for e in executors]
    if kind == "slurm":
        return _submit_slurm(executors, pending)
    for executor in executors:
        _run_here(executor, kind)
    stages = tuple(StageRun(_name(e), e.logging_dir.path, e.world_size, p)
                   for e, p in zip(executors, pending, strict=True))
    return ChainRun(kind=kind, complete=True, stages=stages)


def _name(executor: Any) -> str:
    return _STAGE_NAMES.get(executor) or getattr(executor, "job_name", None) or executor.logging_dir.path


def _run_here(executor: Any, kind: str) -> None:
    where = executor.logging_dir.path
    resume = "fix the cause and run the build again: ranks already completed are skipped"
    try:
        executor.run()
    except Exception as e:  # a rank's exception, re-raised by datatrove's pool (local)
        raise MmedError(f"stage {_name(executor)} failed: {type(e).__name__}: {e}\n  task logs: {where}/logs/; "
                        f"{resume}") from e
    # Ray only logs failed ranks and returns; a next stage would then wait forever for its input.
    if missing := executor.get_incomplete_ranks(skip_completed=True):
        raise MmedError(f"stage {_name(executor)} ({kind}): {len(missing)} of {executor.world_size} ranks did not "
                        f"complete (first: {missing[:5]}); task logs: {where}/logs/; {resume}")


def _submit_slurm(executors: list, pending: list[int]) -> ChainRun:
    if "SLURM_ARRAY_TASK_ID" in os.environ:
        # datatrove's run() would treat this process as one of the array's tasks and run a rank instead.
        raise MmedError("submit the Slurm build from a login node, not from inside a Slurm array job "
                        "(SLURM_ARRAY_TASK_ID is set)")
    for prev, executor in pairwise(executors):
        if executor.depends is None and executor.depends_job_id is None:
            executor.depends = prev
    stages: list[StageRun] = []
    last_job = None
    for executor, p in zip(executors, pending, strict=True):
        if executor.job_id is None:  # not yet submitted as another stage's dependency
            dep = executor.depends
            if dep is not None and dep.job_id == -1 and executor.depends_job_id is None:
                # The previous stage was complete (nothing submitted): datatrove would then add no dependency, but
                # an earlier stage may have been resubmitted; keep the stages in order.
                executor.depends_job_id = last_job
            try:
                executor.launch_job()
            except (OSError, subprocess.CalledProcessError) as e:
                done = [x.job_id for x in stages if x.job_id] + ([str(executor.job_id)] if executor.job_id else [])
                hint = "run the build on a Slurm login node" if isinstance(e, FileNotFoundError) else \
                    "sbatch's message is above"
                raise MmedError(f"stage {_name(executor)}: submitting to Slurm failed: {e}; {hint}. Already "
                                f"submitted: {done or 'nothing'} (scancel them before submitting again)") from e
        job_id = None if executor.job_id in (None, -1) else str(executor.job_id)  # -1: complete, nothing submitted
        last_job = job_id or last_job
        stages.append(StageRun(_name(executor), executor.logging_dir.path, executor.world_size, p, job_id))
    return ChainRun(kind="slurm", complete=all(s.job_id is None for s in stages), stages=tuple(stages))


def queued_jobs(job_ids: list[str] | tuple[str, ...]) -> list[str]:
    """The Slurm jobs among `job_ids` still pending or running (squeue lines), so that a rerun does not submit a
    second chain over the first one's output while it is queued. Jobs Slurm has forgotten count as finished;
    without squeue (not a Slurm host) nothing is known to be queued."""
    if not job_ids:
        return []
    try:
        out = subprocess.run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(job_ids)], capture_output=True,
                             text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    # squeue exits 1 ("Invalid job id specified") when every listed job has left Slurm's memory.
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []
