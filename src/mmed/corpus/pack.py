"""Tokenize a corpus and pack it into fixed-length training sequences (what `mmed corpus pack` runs).

Packing (default): every document is tokenized, followed by EOS, and the documents are concatenated into
one stream cut into `seq_len`-token sequences. No padding exists, so every trained token is a real token;
only the final partial sequence (< seq_len tokens) is dropped, and meta.json says how many tokens that was.
This fixes the released MMedLM pipeline, which right-padded short documents without masking the padding.

Windows (`overlap > 0`, the paper's scheme): each document + EOS is cut into windows of `seq_len` tokens with
stride `seq_len - overlap` (2048 / 1536 in the paper: 512 tokens shared by consecutive windows); the pieces
shorter than a window are then packed together as above instead of being padded.

Output folder:
- `shard-00000.npy`, ...: int arrays [n_sequences, seq_len] (numpy .npy, loaded with allow_pickle=False);
- `meta.json`: tokenizer (name, sha256 of its files, EOS id), seq_len, overlap, counts (sequences, tokens,
  dropped tail tokens, documents and tokens per language), shard sha256s, input files with sha256.
Shards and meta.json are written atomically; meta.json is written last, so a folder with meta.json is
complete, and a rerun with the same inputs and settings returns at once.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmed.errors import DataError, MmedError
from mmed.io import atomic_path, iter_records, read_json, sha256_file, write_json

SHARD_SEQUENCES = 2048  # sequences per shard file: 2048 x 2048 x 4 bytes = 16 MiB


@dataclass(frozen=True)
class PackConfig:
    seq_len: int = 2048
    overlap: int = 0  # > 0: the paper's overlapping windows (e.g. 512 with seq_len 2048)
    text_field: str = "text"
    lang_field: str = "language"  # metadata written by the corpus pipeline; "lang" is accepted too
    batch_docs: int = 256  # documents tokenized per call (fast tokenizers batch in Rust)

    def check(self) -> None:
        if self.seq_len < 8:
            raise MmedError(f"--seq-len {self.seq_len}: too short to train on")
        if not 0 <= self.overlap < self.seq_len:
            raise MmedError(f"--overlap {self.overlap}: must be >= 0 and smaller than --seq-len {self.seq_len}")


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a folder stands for every jsonl/parquet file under it (the pipeline's kept/<lang>/...).

    A `mmed corpus build` output folder stands for its kept/ documents only: everything under it would also pack
    the rejected documents and the build's intermediate files. It must be complete (stats.json written)."""
    out: list[Path] = []
    suffixes = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet")
    for p in map(Path, paths):
        if p.is_dir() and (p / "work" / "plan.json").is_file():
            if not (p / "stats.json").is_file():
                raise MmedError(f"{p}: a corpus build that has not finished (no stats.json): run `mmed corpus build` "
                                "again to complete it before packing")
            p = p / "kept"
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.name.endswith(suffixes)))
        elif p.exists():
            out.append(p)
        else:
            raise MmedError(f"{p}: no such file or folder")
    if not out:
        raise MmedError(f"no jsonl or parquet files in {', '.join(map(str, paths))}")
    return out


def documents(files: list[Path], cfg: PackConfig) -> Iterator[tuple[str, str]]:
    """(language, text) of every record; a record without usable text is a clear error naming file:line."""
    for path in files:
        for where, record in iter_records(path):
            if isinstance(record, DataError):
                raise record
            if not isinstance(record, dict):
                raise DataError(where, "expected a JSON object")
            text = record.get(cfg.text_field)
            if not isinstance(text, str):
                raise DataError(where, "missing or not a string", field=cfg.text_field)
            meta = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
            lang = record.get(cfg.lang_field) or record.get("lang") or meta.get(cfg.lang_field) or "und"
            if text.strip():
                yield str(lang), text


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """sha256 of the tokenizer's vocabulary and special tokens: shards made with another tokenizer are unusable."""
    payload = json.dumps({"vocab": sorted(tokenizer.get_vocab().items()), "eos": tokenizer.eos_token,
                          "bos": tokenizer.bos_token, "class": type(tokenizer).__name__}, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def windows(tokens: list[int], seq_len: int, overlap: int) -> tuple[list[list[int]], list[int]]:
    """Full windows of seq_len with stride seq_len - overlap, and the remainder not covered by any full window.

    The remainder is what follows the last full window's stride position, so no token is lost; with
    overlap 0 this is plain chunking.
    """
    stride = seq_len - overlap
    full: list[list[int]] = []
    start = 0
    while start + seq_len <= len(tokens):
        full.append(tokens[start:start + seq_len])
        start += stride
    # Tokens after the last full window (start - stride + seq_len) are not yet in any window.
    covered = start - stride + seq_len if full else 0
    return full, tokens[covered:]


class _ShardWriter:
    def __init__(self, out_dir: Path, seq_len: int, dtype: str):
        self.out_dir, self.seq_len, self.dtype = out_dir, seq_len, dtype
        self.rows: list[list[int]] = []
        self.shards: list[dict[str, Any]] = []

    def add(self, row: list[int]) -> None:
        self.rows.append(row)
        if len(self.rows) == SHARD_SEQUENCES:
            self.flush()

    def flush(self) -> None:
        import numpy as np

        if not self.rows:
            return
        path = self.out_dir / f"shard-{len(self.shards):05d}.npy"
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, np.asarray(self.rows, dtype=self.dtype), allow_pickle=False)
        self.shards.append({"file": path.name, "sequences": len(self.rows), "sha256": sha256_file(path)})
        self.rows = []


def pack(paths: Iterable[str | Path], out_dir: str | Path, tokenizer: Any, tokenizer_name: str,
         cfg: PackConfig = PackConfig(), progress: Any = None) -> dict[str, Any]:
    """Tokenize and pack; returns meta.json's content (skips the work when out_dir already holds it)."""
    cfg.check()
    out_dir = Path(out_dir)
    files = input_files(paths)
    eos = tokenizer.eos_token_id
    if eos is None:
        raise MmedError(f"tokenizer {tokenizer_name} has no EOS token: documents could not be separated")
    inputs = [{"path": str(f), "sha256": sha256_file(f)} for f in files]
    settings = {"seq_len": cfg.seq_len, "overlap": cfg.overlap, "text_field": cfg.text_field}
    tok_hash = tokenizer_fingerprint(tokenizer)
    meta_path = out_dir / "meta.json"
    if meta_path.exists():
        old = read_json(meta_path)
        if old.get("inputs") == inputs and old.get("settings") == settings and old["tokenizer"]["sha256"] == tok_hash:
            return old  # complete and identical: nothing to do
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("shard-*.npy"):  # another run's shards must not mix with these
        stale.unlink()

    dtype = "uint16" if len(tokenizer) <= 65535 else "int32"
    writer = _ShardWriter(out_dir, cfg.seq_len, dtype)
    docs: Counter[str] = Counter()
    lang_tokens: Counter[str] = Counter()
    stream: list[int] = []  # tokens waiting to fill a sequence
    n_windows = 0

    def emit_stream() -> None:
        nonlocal stream
        while len(stream) >= cfg.seq_len:
            writer.add(stream[:cfg.seq_len])
            stream = stream[cfg.seq_len:]

    batch: list[tuple[str, str]] = []

    def tokenize_batch() -> None:
        nonlocal n_windows
        ids = tokenizer([t for _, t in batch], add_special_tokens=False)["input_ids"]
        for (lang, _), tokens in zip(batch, ids, strict=True):
            tokens = [*tokens, eos]
            docs[lang] += 1
            lang_tokens[lang] += len(tokens)
            if cfg.overlap:
                full, rest = windows(tokens, cfg.seq_len, cfg.overlap)
                for w in full:
                    writer.add(w)
                n_windows += len(full)
                stream.extend(rest)
            else:
                stream.extend(tokens)
            emit_stream()
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for doc in documents(files, cfg):
        batch.append(doc)
        if len(batch) >= cfg.batch_docs:
            tokenize_batch()
    if batch:
        tokenize_batch()
    dropped = len(stream)
    writer.flush()
    n_seq = sum(s["sequences"] for s in writer.shards)
    meta = {
        "tokenizer": {"name": tokenizer_name, "sha256": tok_hash, "eos_id": eos, "vocab_size": len(tokenizer)},
        "settings": settings,
        "dtype": dtype,
        "sequences": n_seq,
        "tokens": n_seq * cfg.seq_len,
        "padding_tokens": 0,
        "document_tokens": sum(lang_tokens.values()),  # each document's tokens + its EOS
        "dropped_tail_tokens": dropped,
        "overlap_windows": n_windows,
        "documents_per_language": dict(sorted(docs.items())),
        "tokens_per_language": dict(sorted(lang_tokens.items())),
        "shards": writer.shards,
        "inputs": inputs,
    }
    write_json(meta_path, meta)
    return meta


def load_sequences(folder: str | Path) -> Any:
    """All packed sequences of a folder as one int64 array [n, seq_len] (tests and small runs)."""
    import numpy as np

    folder = Path(folder)
    meta = read_json(folder / "meta.json")
    arrays = [np.load(folder / s["file"], allow_pickle=False) for s in meta["shards"]]
    if not arrays:
        return np.zeros((0, meta["settings"]["seq_len"]), dtype=np.int64)
    return np.concatenate(arrays).astype(np.int64)
