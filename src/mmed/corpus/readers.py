"""The corpus pipeline's raw reader (issue 4, step 1): `RawReader`, jsonl (plain, .gz, .zst) and parquet, with every
bad record counted and set aside.

Why not datatrove's JsonlReader: it drops a line that is not JSON with only a log warning and a document without
text silently, it decodes the whole stream as text so one bad UTF-8 byte ends the file, and a truncated .gz ends the
task. Here each jsonl line is read as bytes and decoded on its own, so a bad byte costs one record, and every record
that cannot become a document is counted in the step's stats as `bad_<reason>` and, given an `exclusion_writer`
(mmed.corpus.writers.RejectWriter), written to `rejected/<reason>/` with the file and line it came from.

Reasons (they become folder names): `bad_utf8`, `invalid_json` (strict JSON as orjson reads it: NaN or an unpaired
surrogate escape is invalid, as the writers could not write them back), `not_an_object`, `missing_text` (key absent,
null or not a string), `empty_text` (empty or whitespace only), `too_long` (more than max_chars characters), and
`corrupt_file`: a compressed file that is truncated or damaged, or a parquet file that cannot be read. The documents
read before the damage are kept, the damage is counted once, and the reader goes on with the next file.

Files: fmt="auto" reads `.jsonl`, `.jsonl.gz`, `.jsonl.zst` and `.parquet` and skips everything else (README.md,
and `.json`, which is as often one JSON document, like the sample's labels.json, as JSON lines); fmt="jsonl" reads
the jsonl files and also `.json`/`.ndjson` (+ .gz/.zst) as JSON lines; fmt="parquet" reads `.parquet` only.
`glob_pattern` narrows the choice further. Files are listed recursively and sorted, and task `rank` of `world_size`
reads every world_size-th of them (datatrove's DataFolder.get_shard rule, applied after the suffix filter so that
ignored files do not unbalance the shards).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, closing, nullcontext, suppress
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from mmed.errors import ConfigError, DataError, Location

if TYPE_CHECKING:
    from datatrove.data import Document

BAD_UTF8, INVALID_JSON, NOT_AN_OBJECT = "bad_utf8", "invalid_json", "not_an_object"
MISSING_TEXT, EMPTY_TEXT, TOO_LONG, CORRUPT_FILE = "missing_text", "empty_text", "too_long", "corrupt_file"
REASONS = (BAD_UTF8, INVALID_JSON, NOT_AN_OBJECT, MISSING_TEXT, EMPTY_TEXT, TOO_LONG, CORRUPT_FILE)

FORMATS = ("auto", "jsonl", "parquet")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst")
JSON_LINES_SUFFIXES = (".json", ".json.gz", ".json.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")  # fmt="jsonl" only
PARQUET_SUFFIXES = (".parquet",)
CHUNK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 1024  # rows per batch: web pages of ~10 KB make batches of ~10 MB
_BOM = b"\xef\xbb\xbf"


def file_format(path: str, fmt: str = "auto") -> str | None:
    """"jsonl", "parquet", or None for a file this reader skips under `fmt`."""
    name = path.lower()
    if fmt in ("auto", "parquet") and name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if fmt in ("auto", "jsonl") and name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if fmt == "jsonl" and name.endswith(JSON_LINES_SUFFIXES):
        return "jsonl"
    return None


def _compression(path: str) -> str | None:
    name = path.lower()
    return "gz" if name.endswith(".gz") else "zst" if name.endswith(".zst") else None


def _zstd_chunks(raw: IO[bytes]) -> Iterator[bytes]:
    # Not zstandard's stream_reader: at a truncated frame it just stops, and the damage would go unnoticed.
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    dobj, inside = dctx.decompressobj(), False
    for data in iter(lambda: raw.read(CHUNK_BYTES), b""):
        while data:
            inside = True
            if out := dobj.decompress(data):
                yield out
            if not dobj.eof:
                break
            # A frame ended; a file may hold several (zstd -c a b > ab.zst, pzstd), so go on with the next one.
            data, dobj, inside = dobj.unused_data, dctx.decompressobj(), False
    if inside:
        raise EOFError("the zstd stream ends inside a frame (truncated file)")


def _chunks(raw: IO[bytes], compression: str | None) -> Iterator[bytes]:
    """The file's decompressed bytes; raises (EOFError, OSError, zlib.error, ZstdError) where the data is damaged."""
    if compression == "gz":
        import gzip

        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            # read1, not read: what was decompressed before the damage comes back before the error is raised.
            yield from iter(lambda: stream.read1(CHUNK_BYTES), b"")
    elif compression == "zst":
        yield from _zstd_chunks(raw)
    else:
        yield from iter(lambda: raw.read(CHUNK_BYTES), b"")


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Lines without their b"\\n"; a partial last line before damage is never yielded (the error comes first)."""
    pending: list[bytes] = []  # a list, not bytes +=, so that a very long line costs linear time
    for chunk in chunks:
        parts = chunk.split(b"\n")
        if len(parts) == 1:
            pending.append(chunk)
            continue
        pending.append(parts[0])
        yield b"".join(pending)
        yield from parts[1:-1]
        pending = [parts[-1]] if parts[-1] else []
    if pending:
        yield b"".join(pending)


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a line holding a JSON object, else (None, reason)."""
    import orjson

    try:
        # orjson reads the bytes and checks the UTF-8 itself: twice as fast as decoding first, on the good lines.
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, BAD_UTF8
        return None, INVALID_JSON
    return (value, None) if isinstance(value, dict) else (None, NOT_AN_OBJECT)


def text_problem(record: dict[str, Any], text_key: str, max_chars: int) -> str | None:
    """Why the record's text cannot make a document, or None when it can."""
    text = record.get(text_key)
    if not isinstance(text, str):
        return MISSING_TEXT
    if not text.strip():
        return EMPTY_TEXT
    return TOO_LONG if len(text) > max_chars else None


def record_id(value: Any, source_file: str, line: int) -> str:
    """The record's own id when it has a non-empty one, else `<source_file>:<line>`."""
    if value is not None and (text := str(value)):
        return text
    return f"{source_file}:{line}"


def document_fields(record: dict[str, Any], text_key: str, id_key: str, source_file: str, line: int) -> dict[str, Any]:
    """text, id and metadata of a good record, as datatrove's default adapter does: the remaining fields and a nested
    "metadata" dict (or JSON string of one) become metadata; then source_file, line and chars (the text's length in
    characters, used for the accounting; later steps may change the text) are added."""
    record = dict(record)
    text = record.pop(text_key)
    doc_id = record_id(record.pop(id_key, None), source_file, line)
    metadata = record.pop("metadata", {})
    if isinstance(metadata, str):
        with suppress(json.JSONDecodeError):
            metadata = json.loads(metadata)
    if not isinstance(metadata, dict):
        metadata = {"metadata": metadata}
    metadata = {**metadata, **record, "source_file": source_file, "line": line, "chars": len(text)}
    return {"text": text, "id": doc_id, "metadata": metadata}


class Rejected(NamedTuple):
    """A record set aside: why, where, what it was (text for the exclusion writer), its id and its text's length."""

    reason: str
    line: int
    raw: str
    doc_id: str
    chars: int = 0


def _rejected(reason: str, raw: str, record: dict[str, Any] | None, keys: tuple[str, str], source_file: str,
              line: int) -> Rejected:
    text_key, id_key = keys
    text = record.get(text_key) if record is not None else None
    doc_id = record_id(record.get(id_key) if record is not None else None, source_file, line)
    return Rejected(reason, line, raw, doc_id, len(text) if isinstance(text, str) else 0)


@lru_cache(maxsize=1)
def _raw_reader_class() -> type:
    """Build the datatrove step on first use, so importing this module does not import datatrove."""
    from datatrove.data import Document
    from datatrove.pipeline.readers.base import BaseDiskReader
    from datatrove.utils.logging import logger

    class RawReader(BaseDiskReader):
        """datatrove reader of raw jsonl (plain, .gz, .zst) and parquet files that counts and sets aside every bad
        record instead of dropping it (see the module docstring for the reasons and the files it reads).

        Good records become Documents: text, id (the record's `id_key`, else `<source_file>:<line>`), metadata =
        the other fields (a nested "metadata" dict merged in) plus `source_file` (relative to data_folder), `line`
        (1-based line, or row for parquet) and `chars` (len(text)). Bad records: stat `bad_<reason>` and, given an
        exclusion_writer, a Document with the raw record as text (decoded with errors="replace", cut to max_chars)
        and metadata filter_reason, source_file, line and chars (the length of the record's text, 0 when it has
        none). A damaged file is one `corrupt_file` record: the error as text, `line` where the damage was found.
        A parquet file without the `text_key` column raises DataError: that is a configuration mistake.

        `limit` counts good documents per task. Documents of a previous step (`data`) are passed on first, so several
        RawReaders in one pipeline read several inputs.
        """

        name = "📥 Raw"
        _requires_dependencies = ("orjson",)

        def __init__(self, data_folder: Any, *, fmt: str = "auto", glob_pattern: str | None = None,
                     text_key: str = "text", id_key: str = "id", max_chars: int = 1_000_000,
                     exclusion_writer: Any = None, limit: int = -1, doc_progress: bool = False,
                     file_progress: bool = False) -> None:
            if fmt not in FORMATS:
                raise ConfigError(f"raw reader: unknown fmt {fmt!r}; choose from {list(FORMATS)}")
            if max_chars < 1:
                raise ConfigError(f"raw reader: max_chars must be >= 1, found {max_chars}")
            if limit < -1:
                raise ConfigError(f"raw reader: limit must be -1 (no limit) or >= 0, found {limit}")
            super().__init__(data_folder, limit=limit, file_progress=file_progress, doc_progress=doc_progress,
                             text_key=text_key, id_key=id_key, recursive=True, glob_pattern=glob_pattern,
                             add_file_path=False)
            self.fmt = fmt
            self.max_chars = max_chars
            self.exclusion_writer = exclusion_writer

        def input_files(self) -> list[str]:
            """Every file this reader reads, all tasks together: paths relative to data_folder, sorted."""
            files = self.data_folder.list_files(recursive=self.recursive, glob_pattern=self.glob_pattern)
            return [f for f in files if file_format(f, self.fmt)]

        def shard(self, rank: int, world_size: int) -> list[str]:
            """The files of task `rank`; raises DataError when the reader has no files at all."""
            files = self.input_files()
            if not files:
                raise DataError(self.data_folder.path, f"no input files for fmt={self.fmt!r}"
                                + (f" matching {self.glob_pattern!r}" if self.glob_pattern else "")
                                + f"; the reader takes {', '.join(JSONL_SUFFIXES + PARQUET_SUFFIXES)}"
                                + (", .json, .ndjson" if self.fmt == "jsonl" else ""))
            return files[rank::world_size]

        def read_file(self, filepath: str) -> Iterator[Document]:
            """Good documents of one file (datatrove's reader API); bad records are only counted here."""
            for item in self._records(filepath):
                if isinstance(item, Rejected):
                    self.stat_update(f"bad_{item.reason}")
                else:
                    yield item

        def _records(self, filepath: str) -> Iterator[Document | Rejected]:
            if file_format(filepath, self.fmt) == "parquet":
                yield from self._parquet_records(filepath)
            else:
                yield from self._jsonl_records(filepath)

        def _damage(self, filepath: str, line: int, error: BaseException) -> Rejected:
            where = self.data_folder.resolve_paths(filepath)
            logger.warning(f"{where}: damaged at line/row {line} ({type(error).__name__}: {error}); kept what was "
                           "read before, going on with the next file")
            return Rejected(CORRUPT_FILE, line, f"{type(error).__name__}: {error}", f"{filepath}:{line}")

        def _jsonl_records(self, filepath: str) -> Iterator[Document | Rejected]:
            import zlib

            import zstandard

            damage = (EOFError, OSError, zlib.error, zstandard.ZstdError)
            line_no = 0
            with ExitStack() as stack:  # an error while opening is damage too; the file is closed however we stop
                try:
                    raw_file = stack.enter_context(self.data_folder.open(filepath, "rb"))
                    lines = _lines(_chunks(raw_file, _compression(filepath)))
                except damage as e:
                    yield self._damage(filepath, 1, e)
                    return
                while True:
                    # Only the reading is guarded: an OSError from our own writing must not pass for a bad file.
                    try:
                        raw = next(lines)
                    except StopIteration:
                        return
                    except damage as e:
                        yield self._damage(filepath, line_no + 1, e)
                        return
                    line_no += 1
                    if line_no == 1 and raw.startswith(_BOM):
                        raw = raw[len(_BOM):]
                    if not raw or raw.isspace():  # blank lines are not records (isspace: no copy of a long line)
                        continue
                    with self.track_time():
                        item = self._from_line(raw, filepath, line_no)
                    yield item

        def _from_line(self, raw: bytes, filepath: str, line_no: int) -> Document | Rejected:
            record, reason = parse_line(raw)
            if record is not None:
                reason = text_problem(record, self.text_key, self.max_chars)
            if reason is not None:
                text = raw.rstrip(b"\r").decode("utf-8", errors="replace")
                return _rejected(reason, text, record, (self.text_key, self.id_key), filepath, line_no)
            return Document(**document_fields(record, self.text_key, self.id_key, filepath, line_no))

        def _parquet_records(self, filepath: str) -> Iterator[Document | Rejected]:
            import pyarrow as pa
            import pyarrow.parquet as pq

            damage = (pa.ArrowException, OSError, EOFError)
            row_no = 0
            with ExitStack() as stack:
                try:
                    raw_file = stack.enter_context(self.data_folder.open(filepath, "rb"))
                    pqf = stack.enter_context(pq.ParquetFile(raw_file))
                    columns = pqf.schema_arrow.names
                    batches = pqf.iter_batches(batch_size=PARQUET_BATCH_ROWS)
                except damage as e:
                    yield self._damage(filepath, 1, e)
                    return
                if self.text_key not in columns:
                    raise DataError(Location(self.data_folder.resolve_paths(filepath)),
                                    f"no such column; the file has columns {columns}. Set text_key to the column "
                                    "that holds the text", field=self.text_key)
                while True:
                    try:
                        rows = next(batches).to_pylist()
                    except StopIteration:
                        return
                    except damage as e:
                        yield self._damage(filepath, row_no + 1, e)
                        return
                    for row in rows:
                        row_no += 1
                        with self.track_time():
                            item = self._from_row(row, filepath, row_no)
                        yield item

        def _from_row(self, row: dict[str, Any], filepath: str, row_no: int) -> Document | Rejected:
            if (reason := text_problem(row, self.text_key, self.max_chars)) is not None:
                raw = json.dumps(row, ensure_ascii=False, default=str)
                return _rejected(reason, raw, row, (self.text_key, self.id_key), filepath, row_no)
            return Document(**document_fields(row, self.text_key, self.id_key, filepath, row_no))

        def _set_aside(self, item: Rejected, filepath: str, writer: Any, rank: int, logged: set[str]) -> None:
            self.stat_update(f"bad_{item.reason}")
            if item.reason not in logged:  # once per reason and task: a bad source can have millions
                logged.add(item.reason)
                logger.warning(f"{self.data_folder.resolve_paths(filepath)}:{item.line}: bad record ({item.reason}); "
                               "further ones are only counted (stats bad_<reason>)")
            if writer is not None:
                doc = Document(text=item.raw[: self.max_chars], id=item.doc_id,
                               metadata={"filter_reason": item.reason, "source_file": filepath, "line": item.line,
                                         "chars": item.chars})
                writer.write(doc, rank)

        def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Iterator[Document]:
            if data:
                yield from data
            shard = self.shard(rank, world_size)
            if not shard:
                logger.warning(f"No files found on {self.data_folder.path} for {rank=}")
            # Open for the whole run, as datatrove's BaseFilter does with its exclusion writer.
            with self.exclusion_writer if self.exclusion_writer else nullcontext() as writer:
                yield from self._read_shard(shard, writer, rank)

        def _read_shard(self, shard: list[str], writer: Any, rank: int) -> Iterator[Document]:
            from tqdm import tqdm

            good, logged = 0, set()
            with (
                tqdm(total=self.limit if self.limit != -1 else None, desc="Document progress", unit="doc",
                     disable=not self.doc_progress) as doc_pbar,
                tqdm(total=len(shard), desc="File progress", unit="file", disable=not self.file_progress) as file_pbar,
            ):
                for i, filepath in enumerate(shard):
                    if self.limit != -1 and good >= self.limit:
                        return
                    self.stat_update("input_files")
                    logger.info(f"Reading input file {filepath}, {i + 1}/{len(shard)}")
                    in_file = 0
                    with closing(self._records(filepath)) as records:  # closes the file when `limit` stops early
                        for item in records:
                            if isinstance(item, Rejected):
                                self._set_aside(item, filepath, writer, rank, logged)
                                continue
                            self.update_doc_stats(item)
                            yield item
                            good, in_file = good + 1, in_file + 1
                            doc_pbar.update()
                            if self.limit != -1 and good >= self.limit:
                                break
                    file_pbar.update()
                    self.stat_update("documents", value=in_file, unit="input_file")

    # Pickled by reference as mmed.corpus.readers.RawReader, which __getattr__ below resolves to this same class.
    RawReader.__module__, RawReader.__qualname__ = __name__, "RawReader"
    return RawReader


def __getattr__(name: str) -> Any:
    if name == "RawReader":
        return _raw_reader_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
