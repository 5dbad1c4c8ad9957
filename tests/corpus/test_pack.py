"""Packing invariants on a tiny word-level tokenizer built in the test (no model files needed)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mmed.corpus.pack import PackConfig, load_sequences, pack, windows
from mmed.errors import DataError, MmedError
from mmed.io import read_json, write_jsonl

WORDS = [f"w{i}" for i in range(200)]


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<eos>": 0, "<unk>": 1, **{w: i + 2 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", unk_token="<unk>")


def corpus(tmp_path: Path, n_docs: int = 60, seed: int = 0) -> tuple[Path, list[tuple[str, list[int]]]]:
    """Documents of random length in two languages, and their expected token ids (word wN -> id N+2)."""
    rng = random.Random(seed)
    docs, expected = [], []
    for i in range(n_docs):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 90))]
        lang = "en" if i % 3 else "zh"
        docs.append({"text": " ".join(words), "language": lang})
        expected.append((lang, [WORDS.index(w) + 2 for w in words]))
    path = tmp_path / "kept" / "docs.jsonl.gz"
    write_jsonl(path, docs)
    return path.parent, expected


def test_packing_has_no_padding_and_keeps_every_token_in_order(tmp_path: Path, tokenizer) -> None:
    src, expected = corpus(tmp_path)
    meta = pack([src], tmp_path / "packed", tokenizer, "tiny", PackConfig(seq_len=64))
    seqs = load_sequences(tmp_path / "packed")
    stream = [t for _, ids in expected for t in [*ids, 0]]  # every document followed by EOS
    assert seqs.shape == (len(stream) // 64, 64) and meta["sequences"] == seqs.shape[0]
    assert seqs.flatten().tolist() == stream[: seqs.size]  # all documents, in order, EOS between them
    assert meta["dropped_tail_tokens"] == len(stream) - seqs.size < 64
    assert meta["padding_tokens"] == 0
    assert meta["documents_per_language"] == {"en": 40, "zh": 20}
    assert sum(meta["tokens_per_language"].values()) == len(stream) == meta["document_tokens"]
    assert meta["tokenizer"]["eos_id"] == 0 and meta["dtype"] == "uint16"


def test_real_token_share_is_at_least_99_percent_on_a_larger_corpus(tmp_path: Path, tokenizer) -> None:
    src, _ = corpus(tmp_path, n_docs=2000, seed=1)
    meta = pack([src], tmp_path / "packed", tokenizer, "tiny", PackConfig(seq_len=128))
    assert meta["tokens"] / meta["document_tokens"] >= 0.99  # only the last partial sequence is dropped


def test_windows_overlap_like_the_paper() -> None:
    tokens = list(range(3000))
    full, rest = windows(tokens, 2048, 512)
    assert [w[0] for w in full] == [0] and rest == tokens[2048:]
    full, rest = windows(list(range(5000)), 2048, 512)
    assert [w[0] for w in full] == [0, 1536] and full[1][:512] == full[0][-512:]  # 512 tokens shared
    assert rest == list(range(3584, 5000))  # nothing lost, nothing repeated beyond the overlap
    assert windows(list(range(10)), 2048, 512) == ([], list(range(10)))


def test_window_mode_packs_the_remainders_instead_of_padding(tmp_path: Path, tokenizer) -> None:
    src, expected = corpus(tmp_path, n_docs=200)
    meta = pack([src], tmp_path / "w", tokenizer, "tiny", PackConfig(seq_len=32, overlap=8))
    seqs = load_sequences(tmp_path / "w")
    assert meta["overlap_windows"] > 0 and meta["padding_tokens"] == 0
    assert seqs.shape[1] == 32 and not (seqs == -1).any()
    # Every token of every document appears somewhere (windows or packed remainders).
    assert set(seqs.flatten().tolist()) >= {t for _, ids in expected for t in ids}


def test_rerun_is_skipped_and_changed_settings_rebuild(tmp_path: Path, tokenizer) -> None:
    src, _ = corpus(tmp_path)
    first = pack([src], tmp_path / "p", tokenizer, "tiny", PackConfig(seq_len=64))
    shard = tmp_path / "p" / first["shards"][0]["file"]
    mtime = shard.stat().st_mtime_ns
    assert pack([src], tmp_path / "p", tokenizer, "tiny", PackConfig(seq_len=64)) == first
    assert shard.stat().st_mtime_ns == mtime  # nothing rewritten
    second = pack([src], tmp_path / "p", tokenizer, "tiny", PackConfig(seq_len=32))
    assert second["settings"]["seq_len"] == 32 and load_sequences(tmp_path / "p").shape[1] == 32
    assert read_json(tmp_path / "p" / "meta.json") == second


def test_bad_input_is_a_clear_error(tmp_path: Path, tokenizer) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "w1 w2"}) + "\n" + json.dumps({"body": "w3"}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: field 'text'"):
        pack([bad], tmp_path / "o", tokenizer, "tiny", PackConfig(seq_len=16))
    with pytest.raises(MmedError, match="--overlap"):
        pack([bad], tmp_path / "o", tokenizer, "tiny", PackConfig(seq_len=16, overlap=16))
    with pytest.raises(MmedError, match="no such file"):
        pack([tmp_path / "missing"], tmp_path / "o", tokenizer, "tiny")


def test_a_corpus_build_folder_stands_for_its_kept_documents(tmp_path: Path) -> None:
    from mmed.corpus.pack import input_files

    build = tmp_path / "corpus"
    for sub in ("kept/en", "kept/zh", "rejected/not_medical", "work/filtered"):
        (build / sub).mkdir(parents=True)
        write_jsonl(build / sub / "00000.jsonl.gz", [{"text": f"a document in {sub}"}])
    (build / "work" / "plan.json").write_text("{}", encoding="utf-8")
    with pytest.raises(MmedError, match=r"corpus: a corpus build that has not finished \(no stats\.json\)"):
        input_files([build])
    (build / "stats.json").write_text("{}", encoding="utf-8")
    assert input_files([build]) == [build / "kept/en/00000.jsonl.gz", build / "kept/zh/00000.jsonl.gz"]
    # Any other folder is read whole, and a build's subfolder as given.
    assert len(input_files([build / "work"])) == 1 and len(input_files([tmp_path])) == 4
