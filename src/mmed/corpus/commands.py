"""`mmed corpus score` and `mmed corpus calibrate`: thin commands over the scorer and calibration.

cli.py registers them with `app.add_typer(corpus_app, name="corpus")`. `score_file` and `calibrate_files` are
the library calls behind the commands (tests and scripts call them directly). Heavy imports happen inside
the functions, so `mmed --help` stays instant.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

corpus_app = typer.Typer(help="The medical corpus: keyword scoring and threshold calibration.", no_args_is_help=True)

COMPAT_MODES = ("mmedlm",)


def scorer_factory(keywords: Path | None = None, compat: str | None = None,
                   thresholds: Path | None = None) -> Callable[[str], Any]:
    """lang -> scorer, built once per language: our scorer, or the released filter's (`compat="mmedlm"`)."""
    from mmed.errors import MmedError

    if compat is not None and compat not in COMPAT_MODES:
        raise MmedError(f"unknown --compat mode {compat!r}; known: {' '.join(COMPAT_MODES)}")
    cache: dict[str, Any] = {}

    def make(lang: str) -> Any:
        if lang not in cache:
            if compat == "mmedlm":
                from mmed.corpus.compat import CompatScorer

                cache[lang] = CompatScorer.for_language(lang, keywords)
            else:
                from mmed.corpus.medical import MedicalScorer

                cache[lang] = MedicalScorer.for_language(lang, keywords, thresholds)
        return cache[lang]

    return make


def _check_keywords_lang(keywords: Path | None, lang: str | None) -> None:
    from mmed.errors import MmedError

    if keywords is not None and lang is None:
        raise MmedError("--keywords FILE needs --lang: a keyword list belongs to one language")


def score_file(path: Path, out: Path, *, lang: str | None = None, keywords: Path | None = None,
               compat: str | None = None, thresholds: Path | None = None,
               on_record: Callable[[], None] | None = None) -> dict[str, dict[str, int]]:
    """Copy the records of `path` to `out` (jsonl) with `language`, `mkc`, `dens`, `is_medical` added.

    `lang` forces the language of every record; otherwise each record's "language" (or "lang") field decides.
    Returns {language: {"documents": n, "medical": k}}. Bad records stop the run with file:line: field.
    """
    from mmed.corpus.calibrate import record_language
    from mmed.errors import DataError
    from mmed.io import iter_records, write_jsonl

    _check_keywords_lang(keywords, lang)
    make = scorer_factory(keywords, compat, thresholds)
    if lang is not None:
        make(lang)  # fail on a bad language, list or thresholds file before reading any record
    counts: dict[str, Counter[str]] = {}

    def scored() -> Iterator[dict]:
        for where, rec in iter_records(path):
            if isinstance(rec, DataError):
                raise rec
            if not isinstance(rec, dict):
                raise DataError(where, f"expected a JSON object, found {type(rec).__name__}")
            text = rec.get("text")
            if not isinstance(text, str):
                raise DataError(where, "missing or not a string", field="text")
            rec_lang = lang or record_language(rec, where)
            s = make(rec_lang).score(text)
            stats = counts.setdefault(rec_lang, Counter())
            stats["documents"] += 1
            stats["medical"] += s.is_medical
            if on_record is not None:
                on_record()
            yield {**rec, "language": rec_lang, "mkc": s.mkc, "dens": round(s.dens, 6), "is_medical": s.is_medical}

    write_jsonl(out, scored())
    return {k: {"documents": v["documents"], "medical": v["medical"]} for k, v in sorted(counts.items())}


def calibrate_files(paths: Sequence[Path], *, lang: str | None = None, keywords: Path | None = None,
                    compat: str | None = None, thresholds: Path | None = None,
                    min_precision: float = 0.95) -> list[Any]:
    """One CalibrationReport per language found in the labelled files (or for `lang`)."""
    from mmed.corpus.calibrate import calibrate, read_labelled

    _check_keywords_lang(keywords, lang)
    records = read_labelled(paths, lang)
    make = scorer_factory(keywords, compat, thresholds)
    by_lang: dict[str, list] = {}
    for r in records:
        by_lang.setdefault(r.lang, []).append(r)
    return [calibrate(recs, make, code, min_precision=min_precision) for code, recs in sorted(by_lang.items())]


def _console():
    from rich.console import Console

    return Console(stderr=True)


@corpus_app.command("score")
def score_cmd(
    path: Annotated[Path, typer.Argument(help="Records (jsonl, .jsonl.gz/.zst, json list or parquet) with 'text'.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output jsonl (.jsonl, .jsonl.gz or .jsonl.zst).")],
    lang: Annotated[str | None, typer.Option(help="Language of every record (default: each record's "
                                                  "'language' or 'lang' field).")] = None,
    keywords: Annotated[Path | None, typer.Option(help="External keyword list (needs --lang).")] = None,
    compat: Annotated[str | None, typer.Option(help="'mmedlm': the released MMedLM filter's semantics and "
                                                    "thresholds (needs --keywords and --lang).")] = None,
    thresholds: Annotated[Path | None, typer.Option(help="Thresholds YAML (default: the shipped one).")] = None,
) -> None:
    """Add language, mkc, dens and is_medical to each record."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = _console()
    with Progress(SpinnerColumn(), TextColumn("scoring {task.completed} records"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("score")
        summary = score_file(path, out, lang=lang, keywords=keywords, compat=compat, thresholds=thresholds,
                             on_record=lambda: progress.advance(task))
    table = Table("language", "documents", "medical", "share")
    for code, s in summary.items():
        table.add_row(code, str(s["documents"]), str(s["medical"]), f"{s['medical'] / max(s['documents'], 1):.1%}")
    console.print(table)
    console.print(f"-> {out}")


@corpus_app.command("calibrate")
def calibrate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Labelled jsonl: 'text', 'label' (medical|general), 'lang'.")],
    lang: Annotated[str | None, typer.Option(help="Language of every record (default: each record's "
                                                  "'lang' field).")] = None,
    keywords: Annotated[Path | None, typer.Option(help="External keyword list (needs --lang).")] = None,
    compat: Annotated[str | None, typer.Option(help="'mmedlm': measure the released MMedLM filter.")] = None,
    thresholds: Annotated[Path | None, typer.Option(help="Thresholds YAML to read and, with --write-thresholds, "
                                                         "update (default: the shipped one).")] = None,
    write_thresholds: Annotated[bool, typer.Option("--write-thresholds", help="Store the suggested thresholds "
                                                   "(best F1 at precision >= --min-precision).")] = False,
    min_precision: Annotated[float, typer.Option(help="Precision floor of the suggested point.")] = 0.95,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full report (grid included).")] = None,
) -> None:
    """Precision, recall and F1 of the keyword filter at the current thresholds and over a threshold grid."""
    from rich.table import Column, Table

    from mmed.corpus.calibrate import pareto
    from mmed.corpus.calibrate import write_thresholds as store
    from mmed.corpus.medical import thresholds_file
    from mmed.errors import MmedError

    if write_thresholds and compat is not None:
        raise MmedError("--write-thresholds stores our filter's thresholds; it cannot be used with --compat")
    reports = calibrate_files(paths, lang=lang, keywords=keywords, compat=compat, thresholds=thresholds,
                              min_precision=min_precision)
    console = _console()
    cols = [Column(name, no_wrap=True, min_width=width) for name, width in
            (("lang", 4), ("med/gen", 7), ("mkc/dens", 8), ("P", 5), ("R", 5), ("F1", 5), ("best", 8), ("P", 5),
             ("R", 5), ("F1", 5))]
    table = Table(*cols, box=None, pad_edge=False,
                  title=f"keyword filter on labelled text (best: top F1 with P >= {min_precision})")
    for r in reports:
        c, b = r.current, r.best
        best = (f"{b.mkc}/{b.dens:g}", f"{b.precision:.3f}", f"{b.recall:.3f}", f"{b.f1:.3f}") if b else ("none",)
        table.add_row(r.lang, f"{r.n_medical}/{r.n_general}", f"{c.mkc}/{c.dens:g}",
                      f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", *best)
    console.print(table)
    for r in reports:
        curve = ", ".join(f"{p.mkc}/{p.dens:g}: P {p.precision:.2f} R {p.recall:.2f}" for p in pareto(r.grid))
        console.print(f"[bold]{r.lang}[/bold] trade-off (mkc/dens): {curve}", soft_wrap=True, markup=True,
                      highlight=False)
    if json_out is not None:
        from mmed.io import write_json

        write_json(json_out, [r.to_dict() for r in reports])
        console.print(f"report -> {json_out}")
    if write_thresholds:
        target = thresholds or thresholds_file()
        for r in reports:
            if r.best is None:
                console.print(f"[yellow]{r.lang}: no threshold reaches precision {min_precision}; not written")
                continue
            store(target, r.lang, r.best.mkc, r.best.dens)
            console.print(f"{r.lang}: mkc {r.best.mkc} dens {r.best.dens:g} -> {target}")
    typer.echo(json.dumps({r.lang: {"current": r.current.to_dict(), "best": r.best.to_dict() if r.best else None}
                           for r in reports}, ensure_ascii=False))


@corpus_app.command("pack")
def pack_cmd(
    inputs: Annotated[list[Path], typer.Argument(help="Kept documents: jsonl(.gz/.zst) or parquet files or folders, "
                                                      "or a `mmed corpus build` output folder (its kept/).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder for token shards and meta.json.")],
    tokenizer: Annotated[str, typer.Option(help="smollm2 (bundled) or a local HF tokenizer folder.")] = "smollm2",
    seq_len: Annotated[int, typer.Option(help="Tokens per training sequence.")] = 2048,
    overlap: Annotated[int, typer.Option(help="> 0: the paper's overlapping windows (e.g. 512).")] = 0,
    text_field: Annotated[str, typer.Option(help="Field holding the document text.")] = "text",
) -> None:
    """Tokenize documents and pack them, EOS-separated, into fixed-length sequences (no padding)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from mmed.corpus.pack import PackConfig, pack
    from mmed.models import load_tokenizer

    tok, name = load_tokenizer(tokenizer)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} documents"),
                  console=_console()) as progress:
        task = progress.add_task("tokenizing and packing", total=None)
        meta = pack(inputs, out, tok, name, PackConfig(seq_len=seq_len, overlap=overlap, text_field=text_field),
                    progress=lambda n: progress.advance(task, n))
    share = meta["tokens"] / meta["document_tokens"] if meta["document_tokens"] else 0.0
    _console().print(f"{meta['sequences']} sequences x {seq_len} tokens -> {out} ({100 * share:.2f}% of document "
                     f"tokens packed, {meta['dropped_tail_tokens']} in the dropped tail, no padding)")
    for lang, n in meta["tokens_per_language"].items():
        _console().print(f"  {lang}: {meta['documents_per_language'][lang]} documents, {n} tokens")


def _register_build() -> None:
    from mmed.corpus.build_cli import build_cmd  # typer + stdlib at import time, like this module

    corpus_app.command("build")(build_cmd)


_register_build()
