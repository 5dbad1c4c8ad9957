"""Training data: packed CPT shards, SFT examples from benchmark items, their collator, held-out perplexity.

CPT (`PackedDataset`): the shards of `mmed corpus pack` hold only real tokens (documents joined by EOS, no
padding), so every position is trained and the labels are the input ids themselves (the model shifts them).

SFT (`sft_examples`): each McqItem becomes one or two (prompt, response) pairs; the loss covers the response only.
- mmedlm: the paper's Alpaca-style wrapper, built by mmed.eval.prompts.PromptBuilder, so `mmed eval --prompt
  mmedlm` shows the model the very prompt it was trained on. Every item gets the answer-only target; an item with
  a rationale also gets the rationale + answer target (the paper trains each such question twice).
- chat: the native prompt as the user turn and the answer line (after the rationale, for the rationale target) as
  the assistant turn, rendered with the model's chat template exactly as `mmed eval` renders it for a chat model.
  Same two targets as mmedlm, so both evaluation modes (answer cue right after the prompt, reasoning first) are
  trained.

Where the prompt ends: at the end of the text the evaluation feeds the model in reasoning-first generation
(`build(item, answer_cue=False)`). For mmedlm that is "### Response:"; the newline after it starts the response
(it is trained: the model learns to emit it after the exact prompt it will see). The answer-cue prompts of the
other modes ("...### Response:\\n###Answer: OPTION", chat text + "Answer:") are prefixes of the trained text.

Prompt/response boundary, token by token (BPE merges across it must not shift labels): the prompt is tokenized
ALONE with the evaluation backends' rule (mmed.eval.backends.hf.encode: BOS as the tokenizer adds it, never
twice), so the ids the model learns to continue are the ids evaluation gives it. The response ids are the rest
of the tokenization of prompt + response when that starts with the prompt's ids (no merge crosses the boundary,
and the response is tokenized as running text, without e.g. SentencePiece's dummy-prefix space of a text
tokenized alone); when a merge does cross it, the response is tokenized alone ("boundary_retokenized" counts
these). Either way labels are IGNORE_INDEX on exactly the prompt's ids and equal the ids everywhere after.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import Dataset, Subset

from mmed.bench.schema import McqItem
from mmed.errors import ConfigError, DataError, MmedError

IGNORE_INDEX = -100  # torch cross_entropy's default ignore_index: positions that add nothing to the loss
SftStyle = Literal["mmedlm", "chat"]
SFT_STYLES: tuple[str, ...] = ("mmedlm", "chat")


# --- continued pretraining: packed shards ------------------------------------------------------------------

class PackedDataset(Dataset):
    """The sequences of a `mmed corpus pack` folder, read lazily from memory-mapped shards."""

    def __init__(self, folder: str | Path):
        import numpy as np

        from mmed.io import read_json

        self.folder = Path(folder)
        meta_path = self.folder / "meta.json"
        if not self.folder.is_dir():
            raise ConfigError(f"packed data {self.folder}: no such folder; make it with `mmed corpus pack`")
        if not meta_path.is_file():
            raise ConfigError(f"packed data {self.folder}: no meta.json, so not a finished `mmed corpus pack` output "
                              "(meta.json is written last); rerun the pack command")
        self.meta: dict[str, Any] = read_json(meta_path)
        try:
            self.seq_len: int = int(self.meta["settings"]["seq_len"])
            shards = [(str(s["file"]), int(s["sequences"])) for s in self.meta["shards"]]
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(meta_path, f"not a `mmed corpus pack` meta.json (missing or bad {e}); repack") from None
        self._files: list[Path] = []
        self._ends: list[int] = []  # cumulative sequence counts: shard k holds indices [ends[k-1], ends[k])
        total = 0
        for name, n in shards:
            path = self.folder / name
            if not path.is_file():
                raise ConfigError(f"packed data {self.folder}: shard {name} listed in meta.json is missing; repack")
            shape = np.load(path, mmap_mode="r", allow_pickle=False).shape  # reads the header only
            if shape != (n, self.seq_len):
                raise DataError(path, f"shape {shape}, meta.json says ({n}, {self.seq_len}); repack")
            self._files.append(path)
            total += n
            self._ends.append(total)
        self._arrays: list[Any] | None = None

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _shard_arrays(self) -> list[Any]:
        # Opened on first use in each process: memory maps must not be pickled into DataLoader workers.
        if self._arrays is None:
            import numpy as np

            self._arrays = [np.load(p, mmap_mode="r", allow_pickle=False) for p in self._files]
        return self._arrays

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_arrays": None}

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        import bisect

        import numpy as np

        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n} packed sequences")
        i %= n
        k = bisect.bisect_right(self._ends, i)
        row = self._shard_arrays()[k][i - (self._ends[k - 1] if k else 0)]
        ids = torch.from_numpy(np.array(row, dtype=np.int64))  # copy: uint16 shards, and mmaps are read-only
        return {"input_ids": ids, "labels": ids.clone()}

    def check_tokenizer(self, tokenizer: Any, where: str = "") -> None:
        """Fail fast when the model's tokenizer is not the one the shards were made with."""
        import numpy as np

        from mmed.corpus.pack import tokenizer_fingerprint

        prefix = f"{where}: " if where else ""
        tok_meta = self.meta.get("tokenizer") or {}
        packed, ours = tok_meta.get("sha256"), tokenizer_fingerprint(tokenizer)
        if packed != ours:
            raise ConfigError(
                f"{prefix}the packed data in {self.folder} was made with tokenizer '{tok_meta.get('name')}' "
                f"(fingerprint {packed}), but the model's tokenizer has fingerprint {ours}: its token ids would "
                "mean other words. Repack with `mmed corpus pack --tokenizer <the model's folder>`, or train the "
                "model the shards were made for.")
        vocab = len(tokenizer)
        first = self._shard_arrays()[0] if self._files else np.zeros((0,), dtype=np.int64)
        top = max(int(tok_meta.get("vocab_size") or 0) - 1, int(first.max()) if first.size else -1)
        if top >= vocab:
            raise ConfigError(f"{prefix}the packed data in {self.folder} uses token id {top}, but the tokenizer has "
                              f"only {vocab} tokens; repack with the model's tokenizer")
        if tok_meta.get("eos_id") is not None and tok_meta["eos_id"] != tokenizer.eos_token_id:
            raise ConfigError(f"{prefix}the packed data in {self.folder} separates documents with token "
                              f"{tok_meta['eos_id']}, the tokenizer's EOS is {tokenizer.eos_token_id}; repack")


def split_heldout(dataset: Dataset, fraction: float, seed: int) -> tuple[Subset, Subset]:
    """(train, held-out) subsets: a seeded random `fraction` of the indices is held out; same seed, same split.

    Both index lists are sorted (shuffling is the sampler's job; sorted reads stay local in the shards).
    """
    n = len(dataset)  # type: ignore[arg-type]
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"held-out fraction {fraction}: must be >= 0 and < 1")
    n_held = min(n - 1, max(1, round(n * fraction))) if fraction > 0 and n > 1 else 0
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    held = sorted(perm[:n_held])
    train = sorted(perm[n_held:])
    return Subset(dataset, train), Subset(dataset, held)


def heldout_texts(folder_or_files: str | Path | Sequence[str | Path], *, lang_field: str = "language",
                  text_field: str = "text", limit_per_lang: int | None = None) -> dict[str, list[str]]:
    """Texts of held-out documents (jsonl/parquet files or folders of them) grouped by language, for perplexity."""
    from mmed.corpus.pack import PackConfig, documents, input_files

    paths = [folder_or_files] if isinstance(folder_or_files, str | Path) else list(folder_or_files)
    try:
        files = input_files(paths)
    except MmedError as e:
        raise ConfigError(f"held-out texts: {e}") from None
    out: dict[str, list[str]] = {}
    for lang, text in documents(files, PackConfig(text_field=text_field, lang_field=lang_field)):
        texts = out.setdefault(lang, [])
        if limit_per_lang is None or len(texts) < limit_per_lang:
            texts.append(text)
    return dict(sorted(out.items()))


def perplexity(model: Any, tokenizer: Any, texts: list[str], *, seq_len: int = 512, batch_size: int = 4) -> float:
    """Token-weighted perplexity exp(mean NLL) over the texts, each tokenized alone and cut to seq_len tokens.

    Padding never counts (label IGNORE_INDEX); the model is put in eval mode under no_grad and given back in the
    mode it came in (the trainer calls this between steps).
    """
    from mmed.eval.backends.hf import encode

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    collate = SftCollator(pad_id=pad if pad is not None else 0)
    encoded = [ids for ids in (encode(tokenizer, t)[:seq_len] for t in texts) if len(ids) >= 2]
    if not encoded:
        raise MmedError("perplexity: no text has the 2 tokens needed to predict one")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    nll, count = 0.0, 0
    try:
        with torch.no_grad():
            for start in range(0, len(encoded), batch_size):
                batch = collate([{"input_ids": ids, "labels": ids} for ids in encoded[start:start + batch_size]])
                batch = {k: v.to(device) for k, v in batch.items()}
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                labels = batch["labels"][:, 1:]  # position t predicts token t + 1
                nll += float(torch.nn.functional.cross_entropy(
                    logits[:, :-1].float().reshape(-1, logits.shape[-1]), labels.reshape(-1),
                    ignore_index=IGNORE_INDEX, reduction="sum"))
                count += int((labels != IGNORE_INDEX).sum())
    finally:
        model.train(was_training)
    return math.exp(nll / count)


# --- supervised fine-tuning: benchmark items -------------------------------------------------------------

@dataclass(frozen=True)
class SftExample:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on the prompt, the ids on the response (its EOS included)
    item_id: str
    target: str  # "rationale" (reasoning, then the answer) or "answer" (answer only)


def _has_rationale(item: McqItem) -> bool:
    return bool(item.rationale and item.rationale.strip())


def _mmedlm_pair(item: McqItem, rationale: bool) -> tuple[str, str]:
    from mmed.eval.prompts import PromptBuilder, _mmedlm_target

    prompt = PromptBuilder("mmedlm", rationale=rationale).build(item, answer_cue=False).text
    return prompt, "\n" + _mmedlm_target(item, rationale)


def _chat_pair(item: McqItem, rationale: bool, tokenizer: Any) -> tuple[str, str]:
    """(prompt, response) texts: the template applied to the user turn (+ generation prompt), and the rest."""
    from mmed.eval.prompts import PromptBuilder, _native_solution
    from mmed.langs import get

    user: list[str] = []

    def chat(message: str) -> str:  # what HFBackend.chat_prompt does at evaluation time
        user.append(message)
        return tokenizer.apply_chat_template([{"role": "user", "content": message}], tokenize=False,
                                             add_generation_prompt=True)

    prompt = PromptBuilder("native", rationale=rationale, chat=chat).build(item, answer_cue=False).text
    reply = _native_solution(item, get(item.lang), rationale)
    full = tokenizer.apply_chat_template([{"role": "user", "content": user[0]},
                                          {"role": "assistant", "content": reply}], tokenize=False)
    if not full.startswith(prompt):
        raise ConfigError(f"SFT chat style, item {item.id}: the chat template renders the conversation so that it "
                          "does not start with the rendered generation prompt (the template rewrites earlier "
                          "turns), so the response cannot be told apart; use style 'mmedlm'")
    return prompt, full[len(prompt):]


def _tokenize_pair(tokenizer: Any, prompt: str, response: str) -> tuple[list[int], list[int], bool]:
    """(prompt ids, response ids, response tokenized alone?) as explained in the module docstring."""
    from mmed.eval.backends.hf import encode

    prompt_ids = encode(tokenizer, prompt)
    whole = encode(tokenizer, prompt + response)
    if whole[:len(prompt_ids)] == prompt_ids:
        return prompt_ids, whole[len(prompt_ids):], False
    return prompt_ids, tokenizer.encode(response, add_special_tokens=False), True


def sft_examples(items: Iterable[McqItem], tokenizer: Any, *, style: SftStyle, max_len: int = 2048,
                 rationale: bool = True) -> tuple[list[SftExample], dict[str, int]]:
    """SFT examples of the items and counters {examples, rationale, answer, dropped_too_long,
    items_without_rationale, boundary_retokenized}. An example longer than max_len tokens is dropped (cutting
    it would train on a prompt without its question, or on a response without its answer)."""
    if style not in SFT_STYLES:
        raise ConfigError(f"SFT target style '{style}': choose one of {', '.join(SFT_STYLES)}")
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ConfigError("SFT: the tokenizer has no EOS token, so the model could not learn where an answer ends")
    if style == "chat" and not getattr(tokenizer, "chat_template", None):
        raise ConfigError("SFT target style 'chat': the tokenizer has no chat template; use style 'mmedlm' for a "
                          "base model, or a tokenizer folder whose tokenizer_config.json has a chat_template")
    counts: Counter[str] = Counter(examples=0, rationale=0, answer=0, dropped_too_long=0, items_without_rationale=0,
                                   boundary_retokenized=0)
    out: list[SftExample] = []
    for item in items:
        targets = ["rationale", "answer"] if rationale and _has_rationale(item) else ["answer"]
        counts["items_without_rationale"] += not _has_rationale(item)
        for target in targets:
            with_rationale = target == "rationale"
            prompt, response = (_mmedlm_pair(item, with_rationale) if style == "mmedlm"
                                else _chat_pair(item, with_rationale, tokenizer))
            prompt_ids, response_ids, alone = _tokenize_pair(tokenizer, prompt, response)
            if style == "mmedlm" or eos not in response_ids:  # a chat template usually ends the turn with EOS
                response_ids = [*response_ids, eos]
            ids = prompt_ids + response_ids
            if len(ids) > max_len:
                counts["dropped_too_long"] += 1
                continue
            counts["boundary_retokenized"] += alone
            out.append(SftExample(ids, [IGNORE_INDEX] * len(prompt_ids) + response_ids, item.id, target))
            counts["examples"] += 1
            counts[target] += 1
    return out, dict(counts)


class SftCollator:
    """Right-pads a batch of SftExample (or dicts with input_ids and labels) into tensors.

    input_ids are padded with pad_id, labels with IGNORE_INDEX, attention_mask is 1 on real tokens, 0 on padding.
    pad_to_multiple_of rounds the batch length up (tensor-core friendly shapes on GPU).
    """

    def __init__(self, pad_id: int, pad_to_multiple_of: int | None = None):
        if pad_to_multiple_of is not None and pad_to_multiple_of < 1:
            raise ConfigError(f"pad_to_multiple_of must be at least 1, got {pad_to_multiple_of}")
        self.pad_id = pad_id
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, examples: Sequence[SftExample | dict[str, Any]]) -> dict[str, torch.Tensor]:
        rows = [(list(e.input_ids), list(e.labels)) if isinstance(e, SftExample)
                else (_as_list(e["input_ids"]), _as_list(e["labels"])) for e in examples]
        if not rows:
            raise ValueError("SftCollator: empty batch")
        length = max(len(ids) for ids, _ in rows)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), length), IGNORE_INDEX, dtype=torch.long)
        attention = torch.zeros((len(rows), length), dtype=torch.long)
        for r, (ids, labs) in enumerate(rows):
            if len(ids) != len(labs):
                raise ValueError(f"SftCollator: example {r} has {len(ids)} input ids but {len(labs)} labels")
            input_ids[r, :len(ids)] = torch.tensor(ids, dtype=torch.long)
            labels[r, :len(ids)] = torch.tensor(labs, dtype=torch.long)
            attention[r, :len(ids)] = 1
        return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def _as_list(value: Any) -> list[int]:
    return value.tolist() if hasattr(value, "tolist") else list(value)
