"""`mmed quickstart` end to end with a tiny model (the real run with SmolLM2 is `make demo`; it takes minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("peft")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from mmed.models import load_tokenizer
    from tests.helpers import tiny_llama

    torch.set_num_threads(1)
    return tiny_llama(tmp_path_factory.mktemp("tiny") / "model", load_tokenizer("smollm2")[0])


@pytest.fixture(scope="module")
def run(tiny_model: Path, tmp_path_factory) -> Path:
    from mmed.quickstart import Quickstart, QuickstartConfig

    out = tmp_path_factory.mktemp("qs") / "out"
    Quickstart(QuickstartConfig(out=out, model=str(tiny_model), seq_len=64, cpt_steps=3, cpt_lr=1e-2),
               say=lambda _: None).run()
    return out


def test_quickstart_writes_a_report_with_lineage_perplexity_and_accuracy(run: Path) -> None:
    summary = json.loads((run / "quickstart.json").read_text(encoding="utf-8"))
    names = [a["name"] for a in summary["lineage"]]
    for want in ("raw sample", "kept corpus", "packed shards", "base model", "CPT model", "SFT model", "eval sft"):
        assert want in names
    assert all(len(a["sha256"]) == 64 for a in summary["lineage"])
    # The three models differ: CPT and SFT changed the weights.
    shas = {a["name"]: a["sha256"] for a in summary["lineage"]}
    assert len({shas["base model"], shas["CPT model"], shas["SFT model"]}) == 3
    ppl = summary["cpt"]["perplexity"]
    assert set(ppl["before"]) == set(ppl["after"]) == {"medical", "general"}
    assert summary["cpt"]["global_step"] == 3
    for name in ("base", "cpt", "sft"):
        assert summary["accuracy"][name]["n"] == 72  # 6 held-out test items x 12 languages
        assert len(summary["accuracy"][name]["by_lang"]) == 12
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "Tiny demo runs" in html and shas["SFT model"][:16] in html
    # Held-out medical text is not in the CPT corpus.
    held = {json.loads(x)["id"] for x in (run / "heldout" / "medical.jsonl").read_text().splitlines()}
    trained = {json.loads(x)["id"] for x in (run / "cpt-data" / "train.jsonl").read_text().splitlines()}
    assert len(held) == 12 and not held & trained


def test_quickstart_rerun_skips_every_complete_stage(run: Path, tiny_model: Path) -> None:
    from mmed.quickstart import Quickstart, QuickstartConfig

    before = (run / "sft" / "train_summary.json").stat().st_mtime_ns
    qs = Quickstart(QuickstartConfig(out=run, model=str(tiny_model), seq_len=64, cpt_steps=3, cpt_lr=1e-2),
                    say=lambda _: None)
    qs.run()
    assert [s.name for s in qs.log if not s.skipped] == ["report"]
    assert (run / "sft" / "train_summary.json").stat().st_mtime_ns == before
