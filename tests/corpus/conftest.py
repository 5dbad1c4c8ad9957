"""Fixtures shared by the corpus tests."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """sbatch records argv and script and answers like Slurm; scontrol/squeue record any call; squeue prints the
    file `queued` in the returned folder when a test writes one."""
    bin_dir, log = tmp_path / "fakebin", tmp_path / "slurm-calls"
    bin_dir.mkdir()
    log.mkdir()
    sbatch = f"""\
        #!{sys.executable}
        import json, pathlib, sys
        log = pathlib.Path({str(log)!r})
        if any(a.startswith("--dependency") for a in sys.argv) and pathlib.Path(log, "fail-dependent").exists():
            sys.exit("sbatch: error: Batch job submission failed: Invalid account")
        n = len(list(log.glob("sbatch-*.json"))) + 1
        script = pathlib.Path(sys.argv[-1]).read_text()
        (log / f"sbatch-{{n}}.json").write_text(json.dumps({{"argv": sys.argv[1:-1], "script": script}}))
        print(f"Submitted batch job {{1000 + n}}")
        """
    other = f"""\
        #!{sys.executable}
        import pathlib, sys
        with open(pathlib.Path({str(log)!r}) / (pathlib.Path(sys.argv[0]).name + ".calls"), "a") as f:
            f.write(" ".join(sys.argv[1:]) + "\\n")
        if sys.argv[1:3] == ["show", "hostnames"]:
            print("node1")
        queued = pathlib.Path({str(log)!r}) / "queued"  # what squeue answers: written by a test
        if pathlib.Path(sys.argv[0]).name == "squeue" and queued.exists():
            print(queued.read_text(), end="")
        """
    for name, text in (("sbatch", sbatch), ("scontrol", other), ("squeue", other)):
        (bin_dir / name).write_text(textwrap.dedent(text))
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
    return log
