"""mmed.corpus.executors: settings validation, local and Ray chains with resume, Slurm job scripts (fake sbatch)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmed.corpus.executors import (
    ExecutorSettings,
    RaySettings,
    SlurmSettings,
    make_executor,
    run_stages,
)
from mmed.errors import ConfigError, MmedError

N_FILES, PER_FILE = 4, 3


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    for f in range(N_FILES):
        rows = [{"id": f"d{f}-{i}", "text": f"document {f} line {i}"} for i in range(PER_FILE)]
        (folder / f"part-{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def _tracker(side_file: Path) -> Any:
    """A pipeline step that records each run of a rank in a side file (a nested function: pickled by value)."""
    path = str(side_file)

    def track(data: Any, rank: int = 0, world_size: int = 1) -> Any:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{rank}\n")
        yield from data

    return track


def _fail_once(flag: Path, bad_rank: int) -> Any:
    """Fails `bad_rank` after its first document while `flag` exists: a rank killed halfway (partial output)."""
    path = str(flag)

    def maybe_fail(data: Any, rank: int = 0, world_size: int = 1) -> Any:
        for i, doc in enumerate(data):
            if i == 1 and rank == bad_rank and os.path.exists(path):
                raise RuntimeError("injected failure")
            yield doc

    return maybe_fail


def _chain(settings: ExecutorSettings, input_dir: Path, root: Path, fail_flag: Path | None = None) -> list:
    """Stage `split` (settings' tasks) copies the input per rank; stage `merge` (1 task) merges it."""
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    def writer(name: str) -> Any:
        return JsonlWriter(str(root / name), output_filename="${rank}.jsonl", compression=None)

    split = [JsonlReader(str(input_dir), glob_pattern="*.jsonl"), _tracker(root / "ran-split.txt")]
    split += [_fail_once(fail_flag, 1)] if fail_flag else []
    split.append(writer("split"))
    merge = [JsonlReader(str(root / "split"), glob_pattern="*.jsonl"), _tracker(root / "ran-merge.txt"),
             writer("merged")]
    first = make_executor(settings, split, name="split", logging_dir=str(root / "logs" / "split"))
    second = make_executor(settings, merge, name="merge", logging_dir=str(root / "logs" / "merge"), tasks=1,
                           depends=first)
    return [first, second]


def _runs(side_file: Path) -> list[int]:
    return sorted(int(x) for x in side_file.read_text().split()) if side_file.exists() else []


def _markers(root: Path, stage: str) -> list[str]:
    folder = root / "logs" / stage / "completions"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _records(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """{file name: [(id, text), ...]} of a writer's output."""
    out = {}
    for path in sorted(folder.glob("*.jsonl")):
        out[path.name] = [(r["id"], r["text"]) for r in map(json.loads, path.read_text().splitlines())]
    return out


ALL_IDS = sorted(f"d{f}-{i}" for f in range(N_FILES) for i in range(PER_FILE))


def _merged_ids(root: Path) -> list[str]:
    return sorted(i for rows in _records(root / "merged").values() for i, _ in rows)


# ---------------------------------------------------------------- settings


def test_from_dict_full_and_defaults() -> None:
    s = ExecutorSettings.from_dict({
        "kind": "slurm", "tasks": 64, "workers": 16,
        "slurm": {"partition": "cpu", "time": "2-00:00:00", "cpus_per_task": 2, "mem_per_cpu_gb": 4,
                  "qos": "high", "account": "proj", "sbatch_args": {"constraint": "amd", "nice": 10},
                  "env_command": "module load python", "venv_path": "/opt/venv/"},
        "ray": {"address": "auto", "mem_per_cpu_gb": 0.5},
    }, "build.yaml")
    assert (s.kind, s.tasks, s.workers) == ("slurm", 64, 16)
    assert s.slurm == SlurmSettings(partition="cpu", time="2-00:00:00", cpus_per_task=2, mem_per_cpu_gb=4, qos="high",
                                    account="proj", sbatch_args={"constraint": "amd", "nice": "10"},
                                    env_command="module load python", venv_path="/opt/venv/")
    assert s.slurm.activation() == "module load python && source /opt/venv/bin/activate"
    assert s.ray == RaySettings(address="auto", cpus_per_task=1, mem_per_cpu_gb=0.5)
    assert ExecutorSettings.from_dict({}, "b.yaml") == ExecutorSettings("local", 1, -1, None, None)
    assert SlurmSettings("p", venv_path="/v/bin/activate").activation() == "source /v/bin/activate"
    assert SlurmSettings("p").activation() is None


@pytest.mark.parametrize(("raw", "field", "hint"), [
    ({"kind": "spark"}, "executor.kind", "local, ray, slurm"),
    ({"tasks": 0}, "executor.tasks", ">= 1"),
    ({"tasks": "4"}, "executor.tasks", "whole number"),
    ({"tasks": True}, "executor.tasks", "whole number"),
    ({"workers": 0}, "executor.workers", "-1"),
    ({"threads": 4}, "executor: unknown key(s) ['threads']", "allowed"),
    ({"kind": "slurm"}, "executor.slurm", "partition"),
    ({"kind": "slurm", "slurm": {"time": "1:00:00"}}, "executor.slurm.partition", "sinfo"),
    ({"kind": "slurm", "slurm": {"partition": "p", "time": "1 day"}}, "executor.slurm.time", "HH:MM:SS"),
    ({"kind": "slurm", "slurm": {"partition": "p", "mem_per_cpu_gb": 1.5}}, "executor.slurm.mem_per_cpu_gb", "whole"),
    ({"kind": "slurm", "slurm": {"partition": "p", "cpus_per_task": 0}}, "executor.slurm.cpus_per_task", ">= 1"),
    ({"kind": "slurm", "slurm": {"partition": "p", "sbatch_args": {"array": "0-3"}}}, "executor.slurm.sbatch_args",
     "set by the executor"),
    ({"kind": "slurm", "slurm": {"partition": "p", "sbatch_args": {"--gres": "gpu:1"}}},
     "executor.slurm.sbatch_args", "without dashes"),
    ({"kind": "slurm", "slurm": {"partition": "p", "partion": "q"}}, "executor.slurm: unknown key(s) ['partion']",
     "allowed"),
    ({"slurm": "cpu"}, "executor.slurm", "mapping"),
    ({"kind": "ray", "ray": {"mem_per_cpu_gb": 0}}, "executor.ray.mem_per_cpu_gb", "> 0"),
    ({"kind": "ray", "ray": {"adress": "auto"}}, "executor.ray: unknown key(s) ['adress']", "allowed"),
])
def test_from_dict_errors_name_file_and_field(raw: dict, field: str, hint: str) -> None:
    with pytest.raises(ConfigError) as e:
        ExecutorSettings.from_dict(raw, "configs/build.yaml: executor")
    assert str(e.value).startswith(f"configs/build.yaml: {field}"), str(e.value)
    assert hint in str(e.value)


def test_from_dict_rejects_a_non_mapping_and_code_built_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"b\.yaml: executor: expected a mapping"):
        ExecutorSettings.from_dict(["local"], "b.yaml: executor")
    with pytest.raises(ConfigError, match="slurm settings"):
        ExecutorSettings(kind="slurm")
    with pytest.raises(ConfigError, match="tasks must be >= 1"):
        ExecutorSettings(tasks=0)


def test_make_executor_counts_and_overrides(tmp_path: Path) -> None:
    from mmed.corpus.executors import _cores

    local = ExecutorSettings(kind="local", tasks=8, workers=-1)
    assert make_executor(local, [], name="a", logging_dir=str(tmp_path / "a")).workers == min(_cores(), 8)
    one = make_executor(local, [], name="b", logging_dir=str(tmp_path / "b"), tasks=1)
    assert (one.tasks, one.workers) == (1, 1)
    assert make_executor(ExecutorSettings(tasks=2, workers=5), [], name="c", logging_dir=str(tmp_path)).workers == 2
    with pytest.raises(ValueError, match="tasks must be >= 1"):
        make_executor(local, [], name="d", logging_dir=str(tmp_path), tasks=0)
    slurm = ExecutorSettings(kind="slurm", slurm=SlurmSettings("p"))
    with pytest.raises(ValueError, match="depends on a LocalPipelineExecutor"):
        make_executor(slurm, [], name="e", logging_dir=str(tmp_path / "e"), depends=one)
    with pytest.raises(ValueError, match="different kinds"):
        run_stages([one, make_executor(slurm, [], name="f", logging_dir=str(tmp_path / "f"))])


# ---------------------------------------------------------------- local


def test_local_chain_markers_skip_and_rerun_one_rank(input_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "run"
    settings = ExecutorSettings(kind="local", tasks=2, workers=2)  # 2 workers: datatrove's process pool
    result = run_stages(_chain(settings, input_dir, root))
    assert result.complete and result.kind == "local" and result.job_ids == ()
    assert [(s.name, s.tasks, s.pending) for s in result.stages] == [("split", 2, 2), ("merge", 1, 1)]
    assert _markers(root, "split") == ["00000", "00001"] and _markers(root, "merge") == ["00000"]
    assert _runs(root / "ran-split.txt") == [0, 1] and _runs(root / "ran-merge.txt") == [0]
    assert _merged_ids(root) == ALL_IDS
    split_output = _records(root / "split")
    assert sorted(split_output) == ["00000.jsonl", "00001.jsonl"]

    again = run_stages(_chain(settings, input_dir, root))  # everything complete: nothing runs
    assert [s.pending for s in again.stages] == [0, 0] and again.complete
    assert _runs(root / "ran-split.txt") == [0, 1] and _runs(root / "ran-merge.txt") == [0]

    (root / "logs" / "split" / "completions" / "00001").unlink()
    run_stages(_chain(ExecutorSettings(kind="local", tasks=2, workers=1), input_dir, root))
    assert _runs(root / "ran-split.txt") == [0, 1, 1] and _runs(root / "ran-merge.txt") == [0]
    assert _records(root / "split") == split_output  # rank 1's file rewritten, not appended to
    assert _markers(root, "split") == ["00000", "00001"]


def test_local_failed_rank_resumes_without_loss_or_duplicates(input_dir: Path, tmp_path: Path) -> None:
    root, flag = tmp_path / "run", tmp_path / "fail-rank-1"
    flag.touch()
    settings = ExecutorSettings(kind="local", tasks=2, workers=1)  # sequential: rank 0 finishes before 1 fails
    with pytest.raises(MmedError, match=r"stage split failed: RuntimeError: injected failure") as e:
        run_stages(_chain(settings, input_dir, root, fail_flag=flag))
    assert f"{root}/logs/split/logs/" in str(e.value) and "completed are skipped" in str(e.value)
    assert _markers(root, "split") == ["00000"] and _markers(root, "merge") == []
    assert not (root / "ran-merge.txt").exists()  # the next stage did not start on incomplete input
    partial = _records(root / "split")["00001.jsonl"]
    assert 0 < len(partial) < len(ALL_IDS) // 2  # the killed rank left part of its output behind

    flag.unlink()
    result = run_stages(_chain(settings, input_dir, root, fail_flag=flag))
    assert [s.pending for s in result.stages] == [1, 1]
    assert _runs(root / "ran-split.txt") == [0, 1, 1]  # only the failed rank ran again
    assert _merged_ids(root) == ALL_IDS  # nothing lost, nothing twice


# ---------------------------------------------------------------- ray


@pytest.fixture(scope="module")
def ray_module() -> Any:
    ray = pytest.importorskip("ray")
    yield ray
    ray.shutdown()


@pytest.mark.filterwarnings("ignore:placement_group:DeprecationWarning")  # datatrove's use of Ray's API
def test_ray_chain_matches_local_and_resumes(ray_module: Any, input_dir: Path, tmp_path: Path) -> None:
    local_root, ray_root, flag = tmp_path / "local", tmp_path / "ray", tmp_path / "fail-rank-1"
    run_stages(_chain(ExecutorSettings(kind="local", tasks=2, workers=1), input_dir, local_root))

    settings = ExecutorSettings.from_dict({"kind": "ray", "tasks": 2, "workers": 2, "ray": {"mem_per_cpu_gb": 0.25}},
                                          "b.yaml")
    flag.touch()
    with pytest.raises(MmedError, match=r"stage split \(ray\): 1 of 2 ranks did not complete \(first: \[1\]\)"):
        run_stages(_chain(settings, input_dir, ray_root, fail_flag=flag))
    assert ray_module.cluster_resources()["CPU"] == 2  # the local instance: workers x cpus_per_task
    assert _markers(ray_root, "split") == ["00000"] and not (ray_root / "ran-merge.txt").exists()

    flag.unlink()
    result = run_stages(_chain(settings, input_dir, ray_root, fail_flag=flag))
    assert result.complete and result.kind == "ray" and [s.pending for s in result.stages] == [1, 1]
    assert _runs(ray_root / "ran-split.txt") == [0, 1, 1]
    assert _markers(ray_root, "split") == ["00000", "00001"] and _markers(ray_root, "merge") == ["00000"]
    assert (ray_root / "logs" / "split" / "logs" / "task_00001.log").is_file()
    for stage in ("split", "merged"):
        assert _records(ray_root / stage) == _records(local_root / stage)
    assert _merged_ids(ray_root) == ALL_IDS

    # A task larger than any Ray node would wait for a placement forever: refused when the stage is made.
    too_big = ExecutorSettings(kind="ray", tasks=2, ray=RaySettings(cpus_per_task=1, mem_per_cpu_gb=100_000))
    with pytest.raises(ConfigError, match=r"needs 1 CPU\(s\) and 100000 GB, but the local Ray instance has 2 CPU"):
        make_executor(too_big, [], name="big", logging_dir=str(tmp_path / "big"))


# ---------------------------------------------------------------- slurm (a fake sbatch)


def _submissions(log: Path) -> list[dict[str, Any]]:
    """Each sbatch call: argv, script, and its #SBATCH options as a dict."""
    out = []
    for n in range(1, len(list(log.glob("sbatch-*.json"))) + 1):
        call = json.loads((log / f"sbatch-{n}.json").read_text())
        call["sbatch"] = dict(re.findall(r"^#SBATCH --([\w-]+)(?:=(.*))?$", call["script"], re.MULTILINE))
        out.append(call)
    return out


SLURM = {"kind": "slurm", "tasks": 4, "workers": 2,
         "slurm": {"partition": "cpu", "time": "02:00:00", "cpus_per_task": 2, "mem_per_cpu_gb": 3, "qos": "high",
                   "account": "proj42", "sbatch_args": {"constraint": "amd"},
                   "env_command": "module load python/3.11", "venv_path": "/opt/venvs/mmed"}}


def _slurm_chain(settings: ExecutorSettings, input_dir: Path, root: Path) -> list:
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    def stage(name: str, src: Path, tasks: int | None, depends: Any) -> Any:
        pipeline = [JsonlReader(str(src), glob_pattern="*.jsonl"),
                    JsonlWriter(str(root / name), output_filename="${rank}.jsonl", compression=None)]
        return make_executor(settings, pipeline, name=f"mmed-{name}", logging_dir=str(root / "logs" / name),
                             tasks=tasks, depends=depends)

    split = stage("split", input_dir, None, None)
    dedup = stage("dedup", root / "split", 2, split)
    return [split, dedup, stage("merge", root / "dedup", 1, None)]  # run_stages chains a stage without depends


def test_slurm_chain_scripts_and_dependencies(fake_slurm: Path, input_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "run"
    result = run_stages(_slurm_chain(ExecutorSettings.from_dict(SLURM, "b.yaml"), input_dir, root))
    assert not result.complete and result.kind == "slurm"
    assert result.job_ids == ("1001", "1003", "1005")
    assert [(s.name, s.tasks, s.pending) for s in result.stages] == [("mmed-split", 4, 4), ("mmed-dedup", 2, 2),
                                                                      ("mmed-merge", 1, 1)]
    calls = _submissions(fake_slurm)
    assert len(calls) == 6  # per stage: the array job, then datatrove's stats merge job
    jobs, merges = calls[0::2], calls[1::2]
    for n, (job, stage, array) in enumerate(zip(jobs, ("split", "dedup", "merge"), ("0-3%2", "0-1", "0-0"),
                                                strict=True)):
        logdir = root / "logs" / stage
        assert job["sbatch"] == {
            "cpus-per-task": "2", "mem-per-cpu": "3G", "nodes": "1", "partition": "cpu", "job-name": f"mmed-{stage}",
            "time": "02:00:00", "output": f"{logdir}/slurm_logs/%A_%a.out", "error": f"{logdir}/slurm_logs/%A_%a.out",
            "array": array, "constraint": "amd", "account": "proj42", "requeue": "", "qos": "high",
        }
        lines = job["script"].splitlines()
        assert "module load python/3.11 && source /opt/venvs/mmed/bin/activate" in lines
        launch = [x for x in lines if "launch_pickled_pipeline" in x]
        assert len(launch) == 1 and launch[0].split()[-1] == f"{logdir}/executor.pik"
        assert launch[0].startswith("srun") and (logdir / "executor.pik").is_file()
        assert json.loads((logdir / "ranks_to_run.json").read_text()) == list(range(result.stages[n].tasks))
        deps = [a for a in job["argv"] if a.startswith("--dependency")]
        assert deps == ([] if n == 0 else [f"--dependency=afterok:{1001 + 2 * (n - 1)}"])
        assert merges[n]["sbatch"]["dependency"] == f"afterok:{1001 + 2 * n}" and "merge_stats" in merges[n]["script"]
    assert not list(fake_slurm.glob("*.calls"))  # submitting makes no scontrol/squeue call

    # What one array task runs on a node: datatrove's launcher with the pickled executor (rank 0 of stage split).
    launcher = Path(sys.executable).parent / "launch_pickled_pipeline"
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "0", "SLURM_NODELIST": "node1"}
    subprocess.run([str(launcher), str(root / "logs" / "split" / "executor.pik")], env=env, check=True,
                   capture_output=True)
    assert _markers(root, "split") == ["00000"]
    assert [i for i, _ in _records(root / "split")["00000.jsonl"]] == [f"d0-{i}" for i in range(PER_FILE)]
    assert (fake_slurm / "scontrol.calls").read_text() == "show hostnames node1\n"  # faked, not a real Slurm


def test_slurm_resume_submits_only_incomplete_ranks(fake_slurm: Path, input_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "run"
    settings = ExecutorSettings.from_dict(SLURM, "b.yaml")
    for stage, ranks in (("split", [0, 2]), ("dedup", [0, 1])):  # split: 2 of 4 done; dedup complete
        (root / "logs" / stage / "completions").mkdir(parents=True)
        for r in ranks:
            (root / "logs" / stage / "completions" / f"{r:05d}").touch()
    result = run_stages(_slurm_chain(settings, input_dir, root))
    assert [(s.pending, s.job_id) for s in result.stages] == [(2, "1001"), (0, None), (1, "1003")]
    split, _, merge, _ = _submissions(fake_slurm)
    assert split["sbatch"]["array"] == "0-1%2"  # 2 tasks left; array indexes map onto ranks_to_run.json
    assert json.loads((root / "logs" / "split" / "ranks_to_run.json").read_text()) == [1, 3]
    # dedup was skipped; merge still waits for the resubmitted split rather than starting at once
    assert [a for a in merge["argv"] if a.startswith("--dependency")] == ["--dependency=afterok:1001"]

    for stage in ("split", "merge"):  # now everything is complete: nothing is submitted
        for r in range(4 if stage == "split" else 1):
            (root / "logs" / stage / "completions").mkdir(parents=True, exist_ok=True)
            (root / "logs" / stage / "completions" / f"{r:05d}").touch()
    done = run_stages(_slurm_chain(settings, input_dir, root))
    assert done.complete and done.job_ids == () and len(_submissions(fake_slurm)) == 4


def test_slurm_refuses_to_submit_from_inside_an_array_job(fake_slurm: Path, input_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    with pytest.raises(MmedError, match="login node"):
        run_stages(_slurm_chain(ExecutorSettings.from_dict(SLURM, "b.yaml"), input_dir, tmp_path / "run"))
    assert _submissions(fake_slurm) == []


def test_slurm_submission_errors_say_what_was_submitted(fake_slurm: Path, input_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ExecutorSettings.from_dict(SLURM, "b.yaml")
    (fake_slurm / "fail-dependent").touch()  # the second stage's sbatch fails
    with pytest.raises(MmedError, match=r"stage mmed-dedup: submitting to Slurm failed: .*Already submitted: "
                                        r"\['1001'\] \(scancel"):
        run_stages(_slurm_chain(settings, input_dir, tmp_path / "a"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no sbatch at all
    with pytest.raises(MmedError, match=r"stage mmed-split: .*on a Slurm login node\. Already submitted: nothing"):
        run_stages(_slurm_chain(settings, input_dir, tmp_path / "b"))
