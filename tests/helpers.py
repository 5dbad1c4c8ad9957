"""Helpers for tests. Real data lives in ../shared (or $MMED_SHARED) and is read in place, never copied."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("MMED_SHARED", REPO.parent / "shared"))


def shared_path(relative: str) -> Path:
    """A path under ../shared; skips the calling test cleanly when it is absent (e.g. on a user's machine)."""
    path = shared_dir() / relative
    if not path.exists():
        pytest.skip(f"real data not available: {path} (set MMED_SHARED to the shared folder)")
    return path


def bench_data(relative: str) -> Path:
    """A native benchmark file or folder under ../shared/data/bench."""
    return shared_path(f"data/bench/{relative}")


# Unicode ranges of the scripts the sample data is checked against (tests of hand-written multilingual text).
SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "Han": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)),
    "Kana": ((0x3040, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF)),
    "Hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)),
    "Cyrillic": ((0x0400, 0x04FF),),
    "Arabic": ((0x0600, 0x06FF), (0x0750, 0x077F)),
    "Devanagari": ((0x0900, 0x097F),),
    "Latin": ((0x0041, 0x005A), (0x0061, 0x007A), (0x00C0, 0x024F)),
}
# The script(s) most letters of a text must be in; Latin letters (ECG leads, gene names) may appear in any text.
MAIN_SCRIPTS = {
    "zh": ("Han",), "ja": ("Han", "Kana"), "ru": ("Cyrillic",), "ar": ("Arabic",),
    "ko": ("Hangul",), "hi": ("Devanagari",),
}


def script_of(ch: str) -> str | None:
    """The SCRIPTS name a character belongs to, if any."""
    code = ord(ch)
    for name, ranges in SCRIPTS.items():
        if any(lo <= code <= hi for lo, hi in ranges):
            return name
    return None


def script_share(text: str, scripts: tuple[str, ...]) -> float:
    """Share of the text's letters that are in one of `scripts`."""
    letters = [c for c in text if c.isalpha()]
    return sum(script_of(c) in scripts for c in letters) / len(letters)


def tiny_llama(folder: Path, tokenizer: Any) -> Path:
    """A 2-layer random Llama over `tokenizer`'s vocabulary, saved (safetensors) with it: for fast training tests."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
