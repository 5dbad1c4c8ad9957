"""The corpus pipeline's raw reader (mmed.corpus.readers.RawReader): every bad record counted and set aside."""

from __future__ import annotations

import gzip
import json
import pickle
from collections.abc import Iterator
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pytest

from mmed.corpus.readers import REASONS, RawReader, file_format
from mmed.errors import ConfigError, DataError

MAX = 40  # max_chars of the fixtures

# Good records in several scripts; the reader must keep them, in order, around the bad ones.
FR = {"id": "fr-1", "text": "Le patient présente une fièvre.", "url": "https://example.fr/1"}
ZH = {"id": "zh-1", "text": "患者出现发热和咳嗽，持续三天。", "source": "web"}
AR = {"id": "ar-1", "text": "يعاني المريض من الحمى والسعال.", "metadata": {"site": "example.eg", "n": 3}}
HI = {"text": "रोगी को तीन दिन से बुखार है।"}  # no id: `<file>:<line>`
KO = {"id": "", "text": "환자는 사흘 동안 열이 났다."}  # empty id: the same
RU = {"id": 7, "text": "Пациент жалуется на кашель."}  # an int id becomes "7"
JA_MAX = {"id": "ja-max", "text": "発" * MAX}  # MAX characters (3 * MAX bytes): not too long


def _line(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


# (line content, reason or None for a good record); lines are numbered from 1 in this order.
MIXED: list[tuple[bytes, str | None]] = [
    (_line(FR), None),
    ('{"id": "bad-1", "text": "café au lait"}'.encode("latin-1"), "bad_utf8"),
    (_line(ZH), None),
    (b'{"id": "bad-2", "text": "unterminated', "invalid_json"),
    (b"", None),  # blank lines are skipped, not records
    (b"  \t", None),
    (b'["a list", 1]', "not_an_object"),
    (b'"just a string"', "not_an_object"),
    (_line(AR), None),
    (_line({"id": "bad-3", "body": "no text key"}), "missing_text"),
    (_line({"id": "bad-4", "text": None}), "missing_text"),
    (_line({"id": "bad-5", "text": 42}), "missing_text"),
    (_line({"id": "bad-6", "text": ""}), "empty_text"),
    (_line({"id": "bad-7", "text": " \n\t\u3000"}), "empty_text"),
    (_line({"id": "bad-8", "text": "長" * (MAX + 1)}), "too_long"),
    (_line(HI), None),
    (_line(KO), None),
    (_line(RU) + b"\r", None),  # a CRLF line
    (_line(JA_MAX), None),  # the last line, without a final newline
]
GOOD_IDS = ["fr-1", "zh-1", "ar-1", "data.jsonl:16", "data.jsonl:17", "7", "ja-max"]
BAD = {  # id -> (reason, line)
    "data.jsonl:2": ("bad_utf8", 2), "data.jsonl:4": ("invalid_json", 4), "data.jsonl:7": ("not_an_object", 7),
    "data.jsonl:8": ("not_an_object", 8), "bad-3": ("missing_text", 10), "bad-4": ("missing_text", 11),
    "bad-5": ("missing_text", 12), "bad-6": ("empty_text", 13), "bad-7": ("empty_text", 14),
    "bad-8": ("too_long", 15),
}  # fmt: skip


class Collect:
    """An exclusion writer that keeps what it is given, and whether it was opened and closed."""

    def __init__(self) -> None:
        self.docs: list[tuple[Any, int]] = []
        self.opened = self.closed = 0

    def __enter__(self) -> Collect:
        self.opened += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed += 1

    def write(self, doc: Any, rank: int = 0) -> None:
        self.docs.append((doc, rank))


def _write_mixed(path: Path) -> None:
    path.write_bytes(b"\n".join(line for line, _ in MIXED))


def _write_text_records(path: Path, records: list[dict[str, Any]]) -> None:
    from mmed.io import write_jsonl

    write_jsonl(path, records)


def _stats(step: Any) -> dict[str, float]:
    # PipelineStep.stat_update adds to step.stats[label] (a MetricStats); `total` is the sum of the values.
    return {name: stat.total for name, stat in step.stats.stats.items()}


def _bad_stats(step: Any) -> dict[str, float]:
    return {k: v for k, v in _stats(step).items() if k.startswith("bad_")}


def _read_gz_jsonl(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_every_reason_set_aside_and_good_records_kept_in_order(tmp_path: Path) -> None:
    from mmed.corpus.writers import RejectWriter

    (tmp_path / "in").mkdir()
    _write_mixed(tmp_path / "in" / "data.jsonl")
    for name in ("a.jsonl", "b.jsonl", "c.jsonl"):  # empty files, so that data.jsonl is task 3's of 4
        (tmp_path / "in" / name).write_bytes(b"")
    writer = RejectWriter(str(tmp_path / "out" / "rejected"), str(tmp_path / "out" / "counts"), "rejected")
    step = RawReader(str(tmp_path / "in"), max_chars=MAX, exclusion_writer=writer)
    docs = list(step.run(rank=3, world_size=4))

    assert [d.id for d in docs] == GOOD_IDS
    assert [d.text for d in docs] == [r["text"] for r in (FR, ZH, AR, HI, KO, RU, JA_MAX)]
    assert docs[0].metadata == {"url": FR["url"], "source_file": "data.jsonl", "line": 1, "chars": len(FR["text"])}
    assert docs[1].metadata["chars"] == 15 and docs[1].metadata["source"] == "web"  # characters, not bytes
    assert docs[2].metadata == {"site": "example.eg", "n": 3, "source_file": "data.jsonl", "line": 9,
                                "chars": len(AR["text"])}  # a nested metadata dict is merged in
    assert [d.metadata["line"] for d in docs] == [1, 3, 9, 16, 17, 18, 19]
    assert docs[-1].metadata["chars"] == MAX

    assert _bad_stats(step) == {"bad_bad_utf8": 1, "bad_invalid_json": 1, "bad_not_an_object": 2,
                                "bad_missing_text": 3, "bad_empty_text": 2, "bad_too_long": 1}
    assert _stats(step)["documents"] == len(GOOD_IDS) and _stats(step)["input_files"] == 1

    rows = {}
    for reason in {r for r, _ in BAD.values()}:
        for row in _read_gz_jsonl(tmp_path / "out" / "rejected" / reason / "00003.jsonl.gz"):
            rows[row["id"]] = row
    assert {i: (r["metadata"]["filter_reason"], r["metadata"]["line"]) for i, r in rows.items()} == BAD
    assert all(r["metadata"]["source_file"] == "data.jsonl" for r in rows.values())
    # The text of a rejected record is its raw line, decoded with errors="replace" and cut to max_chars.
    by_line = {r["metadata"]["line"]: r["text"] for r in rows.values()}
    assert by_line[2] == '{"id": "bad-1", "text": "caf\ufffd au lait"}'
    assert by_line[15] == MIXED[14][0].decode()[:MAX]
    assert by_line[7] == '["a list", 1]' and by_line[13] == MIXED[12][0].decode()
    # The rejected counts: chars are those of the record's text (0 when it has none), not of the raw line.
    counts = json.loads((tmp_path / "out" / "counts" / "rejected-00003.json").read_text())["counts"]
    assert counts == {"bad_utf8|-": {"docs": 1, "chars": 0}, "invalid_json|-": {"docs": 1, "chars": 0},
                      "not_an_object|-": {"docs": 2, "chars": 0}, "missing_text|-": {"docs": 3, "chars": 0},
                      "empty_text|-": {"docs": 2, "chars": 4}, "too_long|-": {"docs": 1, "chars": MAX + 1}}


# Records that every format can hold: good ones and the bad kinds a parquet string column can represent.
ROWS = [
    FR, {"id": "bad-4", "text": None}, ZH, {"id": "bad-6", "text": ""}, AR, {"id": "bad-8", "text": "長" * (MAX + 1)},
    {"id": "hi-1", "text": HI["text"]}, {"id": "bad-7", "text": "\u3000 "}, JA_MAX,
]  # fmt: skip
ROW_REASONS = {"bad-4": "missing_text", "bad-6": "empty_text", "bad-8": "too_long", "bad-7": "empty_text"}


def _write_rows(path: Path) -> None:
    """ROWS in the format `path`'s suffix names."""
    from mmed.io import write_parquet

    if path.suffix == ".parquet":
        write_parquet(path, [{"id": r["id"], "text": r["text"]} for r in ROWS])
        return
    data = b"".join(_line(r) + b"\n" for r in ROWS)
    if path.suffix == ".gz":
        data = gzip.compress(data)
    elif path.suffix == ".zst":
        import zstandard

        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("name", ["rows.jsonl", "rows.jsonl.gz", "rows.jsonl.zst", "rows.parquet"])
def test_compressed_jsonl_and_parquet_read_alike(tmp_path: Path, name: str) -> None:
    _write_rows(tmp_path / name)
    writer = Collect()
    step = RawReader(str(tmp_path), max_chars=MAX, exclusion_writer=writer)
    docs = list(step.run())
    good = [r for r in ROWS if r["id"] not in ROW_REASONS]
    assert [(d.id, d.text) for d in docs] == [(r["id"], r["text"]) for r in good]
    assert [d.metadata["line"] for d in docs] == [i + 1 for i, r in enumerate(ROWS) if r["id"] not in ROW_REASONS]
    assert all(d.metadata["source_file"] == name for d in docs)
    assert {d.id: d.metadata["filter_reason"] for d, _ in writer.docs} == ROW_REASONS
    assert writer.opened == writer.closed == 1
    assert _bad_stats(step) == {"bad_missing_text": 1, "bad_empty_text": 2, "bad_too_long": 1}


def test_parquet_text_of_another_type_is_missing_text(tmp_path: Path) -> None:
    from mmed.io import write_parquet

    write_parquet(tmp_path / "ints.parquet", [{"id": "a", "text": 1}, {"id": "b", "text": None}])
    writer = Collect()
    assert list(RawReader(str(tmp_path), exclusion_writer=writer).run()) == []
    assert [(d.id, d.metadata["filter_reason"], d.metadata["line"]) for d, _ in writer.docs] == [
        ("a", "missing_text", 1), ("b", "missing_text", 2)]
    assert json.loads(writer.docs[0][0].text) == {"id": "a", "text": 1}  # the row, as JSON


def test_parquet_without_the_text_column_is_a_data_error(tmp_path: Path) -> None:
    from mmed.io import write_parquet

    write_parquet(tmp_path / "crawl.parquet", [{"id": "a", "content": "Le patient tousse."}])
    with pytest.raises(DataError, match=r"crawl\.parquet: field 'text': .*columns \['id', 'content'\]"):
        list(RawReader(str(tmp_path)).run())
    docs = list(RawReader(str(tmp_path), text_key="content").run())
    assert [(d.id, d.text) for d in docs] == [("a", "Le patient tousse.")]


def _many(n: int) -> list[dict[str, str]]:
    texts = ("Le patient tousse depuis {} jours.", "患者咳嗽了{}天。", "يسعل المريض منذ {} أيام.")
    return [{"id": f"r{i}", "text": texts[i % 3].format(i)} for i in range(n)]


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_truncated_compressed_file_keeps_its_good_prefix_and_goes_on(tmp_path: Path, suffix: str) -> None:
    records = _many(3000)
    data = b"".join(_line(r) + b"\n" for r in records)
    if suffix == ".gz":
        packed = gzip.compress(data)
    else:
        import zstandard

        # Several frames, as zstd writes a long stream: the reader must go across them, then notice the cut.
        frames = (data[i : i + 20_000] for i in range(0, len(data), 20_000))
        packed = b"".join(zstandard.ZstdCompressor().compress(frame) for frame in frames)
    (tmp_path / f"a.jsonl{suffix}").write_bytes(packed[: len(packed) * 6 // 10])
    (tmp_path / "b.jsonl").write_bytes(_line(FR) + b"\n")
    writer = Collect()
    step = RawReader(str(tmp_path), exclusion_writer=writer)
    docs = list(step.run())

    kept = [d for d in docs if d.metadata["source_file"] == f"a.jsonl{suffix}"]
    assert 0 < len(kept) < len(records)
    assert [(d.id, d.text) for d in kept] == [(r["id"], r["text"]) for r in records[: len(kept)]]
    assert docs[len(kept):] and [d.id for d in docs[len(kept):]] == ["fr-1"]  # the next file is still read
    assert _bad_stats(step) == {"bad_corrupt_file": 1}  # the cut line is part of the damage, not invalid_json
    [(bad, _)] = writer.docs
    assert bad.metadata["filter_reason"] == "corrupt_file" and bad.metadata["source_file"] == f"a.jsonl{suffix}"
    assert bad.metadata["line"] == len(kept) + 1


def test_whole_compressed_files_are_not_damaged(tmp_path: Path) -> None:
    import zstandard

    records = _many(50)
    data = b"".join(_line(r) + b"\n" for r in records)
    # two gzip members and two zstd frames: files made by `cat a.gz b.gz` or `zstd -c a b`
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]))
    (tmp_path / "b.jsonl.zst").write_bytes(b"".join(zstandard.ZstdCompressor().compress(p) for p in (data[:999],
                                                                                                    data[999:])))
    step = RawReader(str(tmp_path))
    docs = list(step.run())
    assert [d.id for d in docs] == [r["id"] for r in records] * 2
    assert _bad_stats(step) == {}


@pytest.mark.parametrize(("name", "content"), [
    ("a.jsonl.gz", b"this was never gzip\n"),
    ("a.jsonl.zst", b"nor zstd\n"),
    ("a.parquet", b"PAR1 garbage, not a parquet file"),
])  # fmt: skip
def test_unreadable_file_is_one_corrupt_file_record(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "b.jsonl").write_bytes(_line(FR))
    writer = Collect()
    step = RawReader(str(tmp_path), exclusion_writer=writer)
    assert [d.id for d in step.run()] == ["fr-1"]
    assert _bad_stats(step) == {"bad_corrupt_file": 1}
    assert [(d.metadata["filter_reason"], d.metadata["source_file"], d.metadata["line"]) for d, _ in writer.docs] == [
        ("corrupt_file", name, 1)]


def test_file_choice_by_format_and_glob(tmp_path: Path) -> None:
    from mmed.io import write_parquet

    (tmp_path / "sub").mkdir()
    (tmp_path / "README.md").write_text("# not data\n")
    (tmp_path / "labels.json").write_text(json.dumps({"fr-1": {"label": "medical"}}, indent=2))  # one JSON object
    (tmp_path / "a.jsonl").write_bytes(_line(FR))
    (tmp_path / "c.json").write_bytes(_line(ZH))  # JSON lines under a .json name
    write_parquet(tmp_path / "sub" / "b.parquet", [AR | {"metadata": json.dumps(AR["metadata"])}])

    def read(**kwargs: Any) -> tuple[list[str], dict[str, float]]:
        step = RawReader(str(tmp_path), **kwargs)
        return [d.id for d in step.run()], _bad_stats(step)

    assert read() == (["fr-1", "ar-1"], {})  # no README.md, no labels.json: nothing but data files is read
    assert read(fmt="parquet") == (["ar-1"], {})
    assert read(glob_pattern="*.jsonl") == (["fr-1"], {})
    assert read(glob_pattern="**/*.parquet") == (["ar-1"], {})
    assert read(fmt="jsonl", glob_pattern="c.json") == (["zh-1"], {})
    # Forcing jsonl reads every .json as JSON lines: labels.json's 5 lines are then invalid_json records.
    assert read(fmt="jsonl") == (["fr-1", "zh-1"], {"bad_invalid_json": 5})
    assert RawReader(str(tmp_path), fmt="jsonl").input_files() == ["a.jsonl", "c.json", "labels.json"]
    assert [file_format(p) for p in ("x.JSONL.GZ", "x.jsonl.zst", "x.json", "x.parquet", "x.txt")] == [
        "jsonl", "jsonl", None, "parquet", None]
    [ar] = list(RawReader(str(tmp_path), fmt="parquet").run())
    assert ar.metadata["site"] == "example.eg" and ar.metadata["source_file"] == "sub/b.parquet"  # JSON string merged


def test_sharding_reads_every_file_once(tmp_path: Path) -> None:
    from mmed.io import write_parquet

    names = ["p0.jsonl", "p1.jsonl.gz", "p2.parquet", "p3.jsonl.zst", "sub/p4.jsonl"]
    (tmp_path / "sub").mkdir()
    (tmp_path / "README.md").write_text("not read, and not given to a task")
    for i, name in enumerate(names):
        record = {"id": f"doc-{i}", "text": f"Document {i}."}
        if name.endswith(".parquet"):
            write_parquet(tmp_path / name, [record])
        else:
            _write_text_records(tmp_path / name, [record])

    def read(rank: int, world_size: int) -> list[str]:
        return [d.metadata["source_file"] for d in RawReader(str(tmp_path)).run(rank=rank, world_size=world_size)]

    shards = [read(rank, 2) for rank in range(2)]
    assert shards == [["p0.jsonl", "p2.parquet", "sub/p4.jsonl"], ["p1.jsonl.gz", "p3.jsonl.zst"]]
    assert shards == [read(rank, 2) for rank in range(2)]  # deterministic
    assert read(0, 1) == names
    assert [read(rank, 8) for rank in range(8)] == [[n] for n in names] + [[]] * 3  # more tasks than files


def test_limit_counts_good_documents_per_task(tmp_path: Path) -> None:
    _write_mixed(tmp_path / "data.jsonl")
    _write_text_records(tmp_path / "more.jsonl", _many(5))
    step = RawReader(str(tmp_path), max_chars=MAX, limit=2)
    assert [d.id for d in step.run()] == ["fr-1", "zh-1"]
    assert _bad_stats(step) == {"bad_bad_utf8": 1}  # only what was read before the limit
    assert [d.id for d in RawReader(str(tmp_path), max_chars=MAX, limit=9).run()] == [*GOOD_IDS, "r0", "r1"]
    assert list(RawReader(str(tmp_path), limit=0).run()) == []


def test_readers_chain_in_one_pipeline(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    _write_text_records(tmp_path / "one" / "x.jsonl", [FR, ZH])
    _write_text_records(tmp_path / "two" / "x.jsonl.gz", [AR])
    first, second = RawReader(str(tmp_path / "one")), RawReader(str(tmp_path / "two"))
    docs = list(second.run(first.run()))
    assert [(d.id, d.metadata["source_file"]) for d in docs] == [("fr-1", "x.jsonl"), ("zh-1", "x.jsonl"),
                                                                 ("ar-1", "x.jsonl.gz")]
    assert _stats(first)["documents"] == 2 and _stats(second)["documents"] == 1  # each counts its own


def test_step_pickles_with_its_exclusion_writer(tmp_path: Path) -> None:
    from mmed.corpus.writers import RejectWriter

    (tmp_path / "in").mkdir()
    _write_mixed(tmp_path / "in" / "data.jsonl")
    writer = RejectWriter(str(tmp_path / "rejected"), str(tmp_path / "counts"), "rejected")
    step = pickle.loads(pickle.dumps(RawReader(str(tmp_path / "in"), max_chars=MAX, exclusion_writer=writer)))
    assert type(step) is RawReader and step.max_chars == MAX
    assert [d.id for d in step.run()] == GOOD_IDS
    assert sorted(p.parent.name for p in (tmp_path / "rejected").glob("*/00000.jsonl.gz")) == sorted(
        {reason for reason, _ in BAD.values()})


def test_configuration_mistakes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown fmt 'xml'"):
        RawReader(str(tmp_path), fmt="xml")
    with pytest.raises(ConfigError, match="max_chars"):
        RawReader(str(tmp_path), max_chars=0)
    with pytest.raises(ConfigError, match="limit"):
        RawReader(str(tmp_path), limit=-2)
    (tmp_path / "labels.json").write_text("{}")
    with pytest.raises(DataError, match=r"no input files for fmt='auto'.*\.jsonl\.gz"):
        list(RawReader(str(tmp_path)).run())


def test_local_executor_collects_the_bad_record_stats(tmp_path: Path) -> None:
    from datatrove.executor import LocalPipelineExecutor

    from mmed.corpus.writers import RejectWriter

    (tmp_path / "in").mkdir()
    _write_mixed(tmp_path / "in" / "data.jsonl")
    _write_text_records(tmp_path / "in" / "more.jsonl", _many(3))
    writer = RejectWriter(str(tmp_path / "rejected"), str(tmp_path / "counts"), "rejected")
    pipeline = [RawReader(str(tmp_path / "in"), max_chars=MAX, exclusion_writer=writer)]
    LocalPipelineExecutor(pipeline=pipeline, tasks=2, workers=1, logging_dir=str(tmp_path / "logs")).run()
    [reader_stats] = json.loads((tmp_path / "logs" / "stats.json").read_text())
    # Stats.to_dict writes a plain number for a count that only ever went up by 1, else a dict with its total.
    totals = {k: v["total"] if isinstance(v, dict) else v for k, v in reader_stats["stats"].items()}
    assert totals["documents"] == len(GOOD_IDS) + 3 and totals["bad_missing_text"] == 3
    assert sorted(p.name for p in (tmp_path / "counts").iterdir()) == ["rejected-00000.json"]  # all in data.jsonl


# The shipped sample: 149 records, of which es-13 (empty), it-13 (whitespace) and pt-13 (no text field) are bad.
SAMPLE_BAD = {"es-13": "empty_text", "it-13": "empty_text", "pt-13": "missing_text"}


@pytest.fixture(scope="module")
def sample_dir() -> Iterator[Path]:
    with as_file(files("mmed") / "data" / "sample_raw") as path:
        yield Path(path)


@pytest.fixture(scope="module")
def sample_labels(sample_dir: Path) -> dict[str, dict[str, Any]]:
    return json.loads((sample_dir / "labels.json").read_text(encoding="utf-8"))


def _read_sample(sample_dir: Path, name: str) -> tuple[Any, list[Any], Collect]:
    writer = Collect()
    step = RawReader(str(sample_dir), glob_pattern=name, exclusion_writer=writer)
    return step, list(step.run()), writer


def test_shipped_sample_jsonl(sample_dir: Path, sample_labels: dict[str, dict[str, Any]]) -> None:
    step, docs, writer = _read_sample(sample_dir, "web-00000.jsonl")
    assert len(docs) == 146 == len({d.id for d in docs})
    assert {d.id for d in docs} == {i for i, v in sample_labels.items() if v["label"] != "bad"}
    assert {d.id: d.metadata["filter_reason"] for d, _ in writer.docs} == SAMPLE_BAD
    assert _bad_stats(step) == {"bad_empty_text": 2, "bad_missing_text": 1}
    assert all(set(d.metadata) == {"url", "timestamp", "source", "source_file", "line", "chars"} for d in docs)
    assert sorted([d.metadata["line"] for d in docs] + [d.metadata["line"] for d, _ in writer.docs]) == list(
        range(1, 150))


def test_shipped_parquet_twin_reads_the_same(sample_dir: Path) -> None:
    _, from_jsonl, _ = _read_sample(sample_dir, "web-00000.jsonl")
    step, docs, writer = _read_sample(sample_dir, "web-00000.parquet")
    assert {d.id: d.metadata["filter_reason"] for d, _ in writer.docs} == {"es-13": "empty_text",
                                                                         "it-13": "empty_text"}
    assert _stats(step)["documents"] + len(writer.docs) == 148  # the rows: all but pt-13

    def comparable(d: Any) -> tuple[str, str, dict[str, Any]]:
        return d.id, d.text, {k: v for k, v in d.metadata.items() if k not in ("source_file", "line")}

    assert [comparable(d) for d in docs] == [comparable(d) for d in from_jsonl]


def test_bom_is_not_a_bad_record_and_writer_errors_are_not_damage(tmp_path: Path) -> None:
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + _line(FR) + b"\n" + _line({"id": "x", "text": ""}))
    step = RawReader(str(tmp_path))
    assert [d.id for d in step.run()] == ["fr-1"] and _bad_stats(step) == {"bad_empty_text": 1}

    class Full(Collect):
        def write(self, doc: Any, rank: int = 0) -> None:
            raise OSError("No space left on device")

    # Only reading is guarded: an OSError of the exclusion writer stops the run, it is not a corrupt input file.
    with pytest.raises(OSError, match="No space left"):
        list(RawReader(str(tmp_path), exclusion_writer=Full()).run())


def test_reasons_are_the_documented_folder_names() -> None:
    assert REASONS == ("bad_utf8", "invalid_json", "not_an_object", "missing_text", "empty_text", "too_long",
                       "corrupt_file")


def test_importing_the_module_does_not_import_datatrove() -> None:
    import subprocess
    import sys

    code = "import sys, mmed.corpus.readers; print(sorted({'datatrove', 'orjson', 'pyarrow'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
