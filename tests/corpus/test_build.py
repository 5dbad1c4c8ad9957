"""`mmed corpus build` end to end on the shipped raw sample: what is kept, what is set aside and why, the stats."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mmed.corpus.config import load_config, parse_config
from mmed.errors import ConfigError

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "mmed" / "data" / "sample_raw"
# What the filter is known to keep although it is not medical (asserted in test_steps.py too).
HARD_NEGATIVES_KEPT = {"zh-12"}


def read_gz_jsonl(folder: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(folder.rglob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            out += [json.loads(line) for line in f if line.strip()]
    return out


@pytest.fixture(scope="module")
def labels() -> dict[str, dict[str, Any]]:
    return json.loads((SAMPLE / "labels.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory) -> Path:
    from mmed.corpus.build import build

    out = tmp_path_factory.mktemp("corpus") / "out"
    result = build(load_config("sample"), out)
    assert result.complete and result.stats is not None
    return out


def expected_kept(labels: dict[str, dict[str, Any]]) -> set[str]:
    medical = {k for k, v in labels.items() if v["label"] == "medical"}
    # One of each planted near-duplicate pair goes.
    pairs = {frozenset((k, v["near_duplicate_of"])) for k, v in labels.items() if v.get("near_duplicate_of")}
    assert len(pairs) == 2
    return medical | HARD_NEGATIVES_KEPT


def test_sample_build_keeps_the_medical_documents_once(sample_build: Path, labels) -> None:
    kept = read_gz_jsonl(sample_build / "kept")
    ids = [r["id"] for r in kept]
    assert len(ids) == len(set(ids))  # nothing written twice
    want = expected_kept(labels)
    pairs = [(k, v["near_duplicate_of"]) for k, v in labels.items() if v.get("near_duplicate_of")]
    for a, b in pairs:
        assert (a in ids) != (b in ids), f"exactly one of {a}/{b} must be kept"
    assert set(ids) | {a if a not in ids else b for a, b in pairs} == want
    for rec in kept:  # kept/<lang>/ holds that language, with the scores as metadata
        meta = rec["metadata"]
        assert meta["language"] == labels[rec["id"]]["lang"]
        assert meta["mkc"] >= 1 and meta["dens"] > 0 and meta["is_medical"] is True
        assert isinstance(meta["pii"], dict)
    langs = {p.name for p in (sample_build / "kept").iterdir()}
    assert langs == {labels[i]["lang"] for i in ids}


def test_sample_build_sets_aside_every_rejection_with_its_reason(sample_build: Path, labels) -> None:
    rejected = {p.name: read_gz_jsonl(p) for p in (sample_build / "rejected").iterdir() if p.is_dir()}
    by_reason = {reason: sorted(r.get("id", "") for r in recs) for reason, recs in rejected.items()}
    assert len(by_reason["empty_text"]) == 2 and len(by_reason["missing_text"]) == 1
    assert {labels[i]["label"] for i in by_reason["not_medical"]} <= {"general", "hard_negative"}
    assert len(by_reason["near_duplicate"]) == 2
    kept = {r["id"] for r in read_gz_jsonl(sample_build / "kept")}
    everything = [i for ids in by_reason.values() for i in ids] + list(kept)
    assert len(everything) == 149  # every record comes out exactly once: kept or set aside


def test_sample_build_scrubs_pii_in_kept_documents(sample_build: Path, labels) -> None:
    kept = {r["id"]: r for r in read_gz_jsonl(sample_build / "kept")}
    with_pii = [i for i in kept if labels[i]["has_pii"]]
    assert with_pii, "the sample plants PII in kept medical documents"
    for i in with_pii:
        assert sum(kept[i]["metadata"]["pii"].values()) >= 1
        assert any(f"<{kind}>" in kept[i]["text"] for kind in kept[i]["metadata"]["pii"])  # typed placeholders


def test_sample_build_stats_add_up(sample_build: Path) -> None:
    stats = json.loads((sample_build / "stats.json").read_text(encoding="utf-8"))
    assert stats["total"]["in"]["docs"] == 149
    for lang, row in stats["languages"].items():
        removed = sum(c["docs"] for c in row["removed"].values())
        assert row["in"]["docs"] == row["kept"]["docs"] + removed, lang
        removed_chars = sum(c["chars"] for c in row["removed"].values())
        assert row["in"]["chars"] == row["kept"]["chars"] + removed_chars, lang
    assert stats["languages"]["-"]["removed"].keys() == {"missing_text", "empty_text"}
    assert stats["total"]["pii"] and sum(stats["total"]["pii"].values()) >= 4
    summary = (sample_build / "summary.txt").read_text(encoding="utf-8")
    assert summary.splitlines()[0].split()[:3] == ["lang", "docs", "in"]
    assert any(line.startswith("total") for line in summary.splitlines())


def test_rerun_of_a_complete_build_is_a_no_op_and_other_plans_are_refused(sample_build: Path) -> None:
    from mmed.corpus.build import build

    before = {p: p.stat().st_mtime_ns for p in (sample_build / "kept").rglob("*.gz")}
    result = build(load_config("sample"), sample_build)
    assert result.complete
    assert before == {p: p.stat().st_mtime_ns for p in (sample_build / "kept").rglob("*.gz")}
    other = dataclasses.replace(load_config("sample"), languages=("en",))
    with pytest.raises(ConfigError, match="--fresh"):
        build(other, sample_build)


def test_kept_corpus_packs(sample_build: Path, tmp_path: Path) -> None:
    from mmed.corpus.pack import PackConfig, pack
    from mmed.models import load_tokenizer

    tok, name = load_tokenizer("smollm2")
    meta = pack([sample_build / "kept"], tmp_path / "packed", tok, name, PackConfig(seq_len=128))
    assert meta["sequences"] >= 1
    assert set(meta["tokens_per_language"]) == {p.name for p in (sample_build / "kept").iterdir()}


@pytest.mark.parametrize(("raw", "match"), [
    ({"inputs": ["x"], "bogus": 1}, "unknown key"),
    ({"inputs": ["web-00000.jsonl"], "languages": ["en", "nl"]}, "no shipped keyword list"),
    ({"inputs": ["missing.jsonl"]}, "not found"),
    ({"inputs": [{"path": "web-00000.jsonl", "format": "csv"}]}, "format"),
    ({"inputs": ["web-00000.jsonl"], "steps": {"medical": {"thresold": 1}}}, "steps.medical"),
    ({"inputs": ["web-00000.jsonl"], "steps": {"dedupe": {}}}, "unknown step"),
])
def test_config_errors_name_the_key(raw: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config(raw, where="cfg.yaml", base=SAMPLE)


def test_shipped_recipes_load() -> None:
    sample = load_config("sample")
    assert sample.inputs[0].path == (SAMPLE / "web-00000.jsonl").resolve()
    mmedc = load_config("mmedc")
    assert mmedc.inputs == () and len(mmedc.languages) == 12
    from mmed.corpus.build import plan

    with pytest.raises(ConfigError, match="no inputs"):
        plan(mmedc, Path("/tmp/never-written"))


def test_build_without_dedup_or_pii(tmp_path: Path) -> None:
    from mmed.corpus.build import build

    steps = {"dedup": {"exact": False, "near": False}, "pii": {"enabled": False}, "language": {"engine": "fasttext"}}
    cfg = dataclasses.replace(load_config("sample"), steps=steps)
    result = build(cfg, tmp_path / "out")
    kept = read_gz_jsonl(tmp_path / "out" / "kept")
    ids = Counter(r["id"] for r in kept)
    assert "en-13" in ids and "en-02" in ids  # no dedup: both near-duplicates stay
    assert all("pii" not in r["metadata"] for r in kept)
    assert result.stats["total"]["kept"]["docs"] == len(kept)


def test_quality_rejections_go_to_their_folder(tmp_path: Path) -> None:
    """Keyword-stuffed spam passes the medical filter; the recipe's repetition filter sets it aside."""
    from mmed.corpus.build import build
    from mmed.corpus.config import parse_input

    line = "Buy cheap insulin and metformin online, diabetes hypertension treatment, no prescription needed!"
    spam = "\n".join([line] * 40)
    (tmp_path / "spam.jsonl").write_text(json.dumps({"id": "spam-1", "text": spam}) + "\n", encoding="utf-8")
    cfg = load_config("sample")
    extra = parse_input(str(tmp_path / "spam.jsonl"), where="test", base=tmp_path)
    result = build(dataclasses.replace(cfg, inputs=(*cfg.inputs, extra)), tmp_path / "out")
    quality = read_gz_jsonl(tmp_path / "out" / "rejected" / "quality")
    assert [r["id"] for r in quality] == ["spam-1"]
    assert quality[0]["metadata"]["filter_reason"].startswith("quality:gopher_")
    assert result.stats["languages"]["en"]["removed"]["quality"]["docs"] == 1
