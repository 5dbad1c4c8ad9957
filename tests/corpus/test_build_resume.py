"""A multi-task corpus build killed mid-run resumes without losing or duplicating documents; Ray and Slurm builds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.corpus.test_build import SAMPLE, read_gz_jsonl
from tests.helpers import REPO

TASKS = 4


def write_sharded_config(tmp: Path, *, kind: str = "local", tasks: int = TASKS, workers: int = 1) -> Path:
    """The sample split into 4 input files (one per task), and a config over them."""
    rows = (SAMPLE / "web-00000.jsonl").read_text(encoding="utf-8").splitlines()
    data = tmp / "raw"
    data.mkdir(parents=True, exist_ok=True)
    for i in range(TASKS):
        (data / f"part-{i}.jsonl").write_text("\n".join(rows[i::TASKS]) + "\n", encoding="utf-8")
    cfg = tmp / "build.yaml"
    cfg.write_text(json.dumps({  # JSON is YAML
        "name": "resume-test", "inputs": [{"path": "raw"}],
        "executor": {"kind": kind, "tasks": tasks, "workers": workers},
        "steps": {"language": {"engine": "fasttext"}},
    }), encoding="utf-8")
    return cfg


def kept_ids(out: Path) -> list[str]:
    return sorted(r["id"] for r in read_gz_jsonl(out / "kept"))


def rejected_ids(out: Path) -> list[str]:
    return sorted(str(r.get("id")) for r in read_gz_jsonl(out / "rejected"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """An uninterrupted build of the 4-file sample: (config, output)."""
    from mmed.corpus.build import build
    from mmed.corpus.config import load_config

    tmp = tmp_path_factory.mktemp("reference")
    cfg = write_sharded_config(tmp)
    result = build(load_config(cfg), tmp / "out")
    assert result.complete
    return cfg, tmp / "out"


def test_killed_build_resumes_without_loss_or_duplicates(reference, tmp_path: Path) -> None:
    from mmed.corpus.build import build
    from mmed.corpus.config import load_config

    _, ref_out = reference
    cfg = write_sharded_config(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "mmed.cli", "corpus", "build", str(cfg), "-o", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    marker = out / "work" / "logs" / "filter" / "completions" / "00001"
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-stage: ranks 0-1 done, rank 2 running or about to
    proc.wait()
    assert marker.exists(), "the build did not get far enough before the deadline"
    assert not (out / "stats.json").exists(), "killed too late: the build had finished"
    done = sorted(p.name for p in marker.parent.iterdir())
    assert len(done) < TASKS

    result = build(load_config(cfg), out)  # the rerun resumes
    assert result.complete
    assert kept_ids(out) == kept_ids(ref_out)
    assert len(kept_ids(out)) == len(set(kept_ids(out)))
    assert rejected_ids(out) == rejected_ids(ref_out)
    ref_stats = json.loads((ref_out / "stats.json").read_text(encoding="utf-8"))
    assert result.stats["languages"] == ref_stats["languages"]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    yield ray
    if ray.is_initialized():
        ray.shutdown()


def test_ray_build_matches_local(reference, ray_local, tmp_path: Path) -> None:
    from mmed.corpus.build import build
    from mmed.corpus.config import load_config

    _, ref_out = reference
    cfg = write_sharded_config(tmp_path, kind="ray", workers=2)
    result = build(load_config(cfg), tmp_path / "out")
    assert result.complete
    assert kept_ids(tmp_path / "out") == kept_ids(ref_out)
    assert rejected_ids(tmp_path / "out") == rejected_ids(ref_out)


def test_slurm_build_submits_every_stage_in_order(fake_slurm: Path, tmp_path: Path) -> None:
    """No Slurm here: a fake sbatch records what `mmed corpus build` submits (see conftest.py)."""
    import re

    from mmed.corpus.build import STAGES, build
    from mmed.corpus.config import load_config

    cfg = write_sharded_config(tmp_path, kind="slurm", workers=2)
    raw = json.loads(cfg.read_text(encoding="utf-8"))
    raw["executor"]["slurm"] = {"partition": "cpu", "time": "04:00:00", "venv_path": "/opt/mmed/.venv"}
    cfg.write_text(json.dumps(raw), encoding="utf-8")
    result = build(load_config(cfg), tmp_path / "out")
    assert not result.complete and result.stats is None
    calls = [json.loads((fake_slurm / f"sbatch-{n}.json").read_text())
             for n in range(1, len(list(fake_slurm.glob("sbatch-*.json"))) + 1)]
    calls = [c for c in calls if "merge_stats" not in c["script"]]  # datatrove adds a stats-merge job per stage
    names = [re.search(r"^#SBATCH --job-name=(.*)$", c["script"], re.MULTILINE).group(1) for c in calls]
    assert names == [f"resume-test-{s}" for s in STAGES]
    arrays = [re.search(r"^#SBATCH --array=(.*)$", c["script"], re.MULTILINE) for c in calls]
    by_name = dict(zip(names, arrays, strict=True))
    assert by_name["resume-test-filter"].group(1) == "0-3%2"
    assert by_name["resume-test-buckets"].group(1).startswith("0-13")  # one task per MinHash bucket
    assert by_name["resume-test-stats"].group(1) == "0-0"
    for call, name in zip(calls, names, strict=True):
        assert "source /opt/mmed/.venv/bin/activate" in call["script"]
        if name != "resume-test-filter":
            assert any(a.startswith("--dependency=afterok:") for a in call["argv"]), name


def test_slurm_rerun_refuses_while_the_chain_is_queued_and_resumes_after(fake_slurm: Path, tmp_path: Path) -> None:
    """A second submission over a queued chain would run every rank twice into the same files."""
    from mmed.corpus.build import build
    from mmed.corpus.config import load_config
    from mmed.errors import MmedError

    cfg = write_sharded_config(tmp_path, kind="slurm", workers=2)
    raw = json.loads(cfg.read_text(encoding="utf-8"))
    raw["executor"]["slurm"] = {"partition": "cpu"}
    cfg.write_text(json.dumps(raw), encoding="utf-8")
    first = build(load_config(cfg), tmp_path / "out")
    submitted = len(list(fake_slurm.glob("sbatch-*.json")))
    assert first.submitted.job_ids and submitted > 0
    recorded = json.loads((tmp_path / "out" / "work" / "slurm-jobs.json").read_text(encoding="utf-8"))
    assert recorded["job_ids"] == list(first.submitted.job_ids)

    (fake_slurm / "queued").write_text(f"{first.submitted.job_ids[0]}_[0-3%2] PENDING\n")
    with pytest.raises(MmedError, match=r"still queued or running .*PENDING.*scancel"):
        build(load_config(cfg), tmp_path / "out")
    assert len(list(fake_slurm.glob("sbatch-*.json"))) == submitted  # nothing submitted a second time
    assert ",".join(first.submitted.job_ids) in (fake_slurm / "squeue.calls").read_text()

    (fake_slurm / "queued").unlink()  # the jobs left the queue (here: without completing a rank)
    again = build(load_config(cfg), tmp_path / "out")
    assert not again.complete and len(list(fake_slurm.glob("sbatch-*.json"))) == 2 * submitted
