"""The `mmed` command line. Each command is a thin call into a library function.

Heavy imports happen inside the commands so that `mmed --help` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="mmed",
    help="Build and evaluate multilingual medical language models: corpus, benchmark, evaluation, training.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
bench_app = typer.Typer(help="The unified medical benchmark: convert native datasets, validate, stats, build.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _register_corpus() -> None:
    from mmed.corpus.commands import corpus_app  # typer + stdlib only: keeps `mmed --help` instant

    app.add_typer(corpus_app, name="corpus")


_register_corpus()


def _register_train() -> None:
    from mmed.train.commands import train_app  # typer + stdlib only: keeps `mmed --help` instant

    app.add_typer(train_app, name="train")


_register_train()


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from mmed import __version__

        typer.echo(f"mmed {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """mmed: multilingual medical LLM toolkit."""


@app.command("langs")
def langs_cmd() -> None:
    """List the supported languages and their prompt words."""
    from rich.table import Table

    from mmed.langs import LANGUAGES

    table = Table("code", "name", "native", "script", "spaces", "question / options / answer")
    for lang in LANGUAGES.values():
        w = lang.words
        table.add_row(lang.code, lang.name, lang.native, lang.script, "yes" if lang.space_delimited else "no",
                      f"{w.question} / {w.options} / {w.answer}")
    from rich.console import Console

    Console().print(table)


@bench_app.command("sources")
def bench_sources() -> None:
    """List the native dataset formats `mmed bench convert` understands, with licences and expected files."""
    from rich.table import Table

    from mmed.bench.sources import SOURCES, get_source

    table = Table("source", "dataset", "languages", "licence", "pass these files", show_lines=True)
    for name in SOURCES:
        info = get_source(name).INFO
        table.add_row(name, info.title, " ".join(info.languages), info.licence, info.expected_paths)
    from rich.console import Console

    Console().print(table)


@bench_app.command("convert")
def bench_convert(
    source: Annotated[str, typer.Argument(help="Native format: see `mmed bench sources`.")],
    paths: Annotated[list[Path], typer.Argument(help="Native files or folders.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output jsonl (.jsonl, .jsonl.gz or .jsonl.zst).")],
    split: Annotated[str | None, typer.Option(help="Keep this split (or label split-less files with it).")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid",
                                               help="Set malformed records aside in OUT.rejects.jsonl.")] = False,
) -> None:
    """Convert a native medical QA dataset into unified multiple-choice items."""
    from mmed.bench.convert import convert, write_result

    result = convert(source, paths, split=split, skip_invalid=skip_invalid)
    report = write_result(result, out)
    console = _console()
    console.print(f"[green]{report['items']}[/green] items -> {out}")
    for reason, n in report["skipped"].items():
        console.print(f"  skipped {n} ({reason})")
    if report["rejected"]:
        console.print(f"  [yellow]rejected {report['rejected']}[/yellow] malformed records (see the .rejects.jsonl)")


@bench_app.command("stats")
def bench_stats(
    files: Annotated[list[Path], typer.Argument(help="Unified jsonl files or built benchmark folders.")],
) -> None:
    """Print JSON statistics: totals per language, split and subject, multi-answer, rationales, skips."""
    from mmed.bench.stats import file_stats

    typer.echo(json.dumps(file_stats(files), ensure_ascii=False, indent=2))


@bench_app.command("validate")
def bench_validate(
    files: Annotated[list[Path], typer.Argument(help="Unified jsonl files or folders.")],
) -> None:
    """Check unified files; print every problem as file:line: field: message. Exit 1 if any."""
    from mmed.bench.schema import InvalidItem, expand_paths, read_items

    n_ok = n_bad = 0
    seen: dict[str, str] = {}
    for path in expand_paths(files):
        for item in read_items(path, strict=False):
            if isinstance(item, InvalidItem):
                n_bad += 1
                for problem in item.problems:
                    typer.echo(f"{item.where}: {problem}")
            elif item.id in seen:
                n_bad += 1
                typer.echo(f"{path}: field 'id': duplicate id '{item.id}' (first in {seen[item.id]})")
            else:
                seen[item.id] = str(path)
                n_ok += 1
    _console().print(f"{n_ok} valid, {n_bad} invalid")
    if n_bad:
        raise typer.Exit(1)


@bench_app.command("build")
def bench_build(
    config: Annotated[str, typer.Argument(help="A build config (YAML), or a shipped one: mmedbench-test, sample.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    root: Annotated[Path | None, typer.Option(help="Folder that relative data paths in the config start from.")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Set malformed records aside.")] = False,
) -> None:
    """Assemble a multilingual benchmark: one jsonl per language plus manifest.json."""
    from rich.table import Table

    from mmed.bench.build import build, load_config

    manifest = build(load_config(config, root), out, skip_invalid=skip_invalid)
    table = Table("lang", "items", "multi-answer", "with rationale", "skipped", "rejected", title=manifest["name"])
    for lang, entry in manifest["languages"].items():
        skipped = ", ".join(f"{k} {v}" for k, v in entry["skipped"].items()) or "-"
        table.add_row(lang, str(entry["items"]), str(entry["multi_answer"]), str(entry["with_rationale"]), skipped,
                      str(entry["rejected"]))
    console = _console()
    console.print(table)
    console.print(f"{manifest['total']} items -> {out} (manifest.json records sources, sha256 and licences)")


def _model_options(values: list[str] | None) -> dict:
    """--model-option key=value (repeatable) -> backend keyword arguments; numbers and booleans parsed."""
    import json as _json

    options = {}
    for value in values or []:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            from mmed.errors import MmedError

            raise MmedError(f"--model-option '{value}': expected key=value, e.g. batch_size=8 or dtype=bfloat16")
        try:
            options[key] = _json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


@app.command("eval")
def eval_cmd(
    model: Annotated[str, typer.Option(
        help="smollm2 | PATH | hf:<id> | openai:<base_url>#<model> | vllm:<path> | dummy")],
    bench: Annotated[list[Path], typer.Option(help="Unified jsonl file(s) or built benchmark folder(s).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    mode: Annotated[str, typer.Option(help="letter | option | generate")] = "letter",
    shots: Annotated[int, typer.Option(help="Few-shot examples (from train/dev items, never test).")] = 0,
    rationale: Annotated[bool, typer.Option("--rationale",
                                            help="Generate mode: reasoning first, then the answer.")] = False,
    prompt: Annotated[str, typer.Option(help="native (ours, localised) | mmedlm (the MMed models' format)")] = "native",
    limit: Annotated[int | None, typer.Option(help="At most N items per language.")] = None,
    langs: Annotated[list[str] | None, typer.Option(help="Only these languages (repeatable).")] = None,
    split: Annotated[str, typer.Option(help="Which split to evaluate.")] = "test",
    seed: Annotated[int, typer.Option(help="Seed for few-shot sampling and sampling decoders.")] = 0,
    fewshot_from: Annotated[list[Path] | None, typer.Option(help="Extra unified files to draw examples from.")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(
        help="Generate mode (default 32, or 512 with --rationale).")] = None,
    chunk_size: Annotated[int, typer.Option(help="Items per backend call (unit of progress and resume).")] = 16,
    cache: Annotated[Path | None, typer.Option(help="Answer cache (SQLite); default in the mmed cache folder.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the answer cache.")] = False,
    human_checked_only: Annotated[bool, typer.Option("--human-checked-only",
                                                     help="Rationale metrics on human-checked items only.")] = False,
    bertscore_encoder: Annotated[Path | None, typer.Option(help="Local encoder folder for BERTScore.")] = None,
    model_option: Annotated[list[str] | None, typer.Option(help="Backend option key=value (repeatable), "
                                                           "e.g. batch_size=8, dtype=bfloat16, concurrency=8.")] = None,
) -> None:
    """Evaluate a model on unified benchmark items: predictions, metrics per language, report."""
    from mmed.eval.runner import EvalConfig, run_eval

    cfg = EvalConfig(model=model, bench=list(bench), out=out, mode=mode, shots=shots, rationale=rationale,
                     prompt=prompt, limit=limit, langs=langs or None, split=split, seed=seed,
                     fewshot_from=list(fewshot_from or []), max_new_tokens=max_new_tokens, chunk_size=chunk_size,
                     cache=cache, use_cache=not no_cache, human_checked_only=human_checked_only,
                     bertscore_encoder=bertscore_encoder, model_options=_model_options(model_option))
    results = run_eval(cfg)
    metrics = results["metrics"]
    console = _console()
    by_lang = "  ".join(f"{lang} {100 * b['accuracy']:.2f}" for lang, b in metrics["by_lang"].items())
    console.print(f"accuracy {100 * metrics['overall']['accuracy']:.2f} (n={metrics['overall']['n']}); "
                  f"Avg. over languages {100 * metrics['macro_avg_accuracy']:.2f}")
    console.print(by_lang)
    console.print(f"-> {out}/results.json, predictions.jsonl, results.md, report.html")


@app.command("report")
def report_cmd(
    runs: Annotated[list[Path], typer.Argument(help="Run folders written by `mmed eval -o` (several: side by side).")],
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Output folder (default: the run's own folder when one is given).")] = None,
) -> None:
    """Write results.md and report.html for one run, or compare several runs side by side."""
    from mmed.eval.report import compare

    for path in compare(list(runs), out):
        _console().print(f"wrote {path}")


@app.command("serve")
def serve_cmd(
    model: Annotated[str, typer.Argument(help="smollm2, a local HF folder, hf:<id>, vllm:<path> or dummy.")],
    host: Annotated[str, typer.Option(help="Address to listen on; loopback by default (others print a warning).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 = any free port).")] = 8000,
    concurrency: Annotated[int, typer.Option(help="Most backend calls running at once.")] = 1,
    api_key_env: Annotated[str | None, typer.Option(
        help="Require 'Authorization: Bearer <key>', the key read from this environment variable.")] = None,
    name: Annotated[str | None, typer.Option(help="Model name clients ask for (default: the model's own).")] = None,
) -> None:
    """Serve a model over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions, /v1/models)."""
    from mmed.serve import serve

    serve(model, host=host, port=port, max_concurrency=concurrency, api_key_env=api_key_env, model_name=name)


@app.command("quickstart")
def quickstart_cmd(
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("out/quickstart"),
    cpt_steps: Annotated[int, typer.Option(help="Continued-pretraining steps.")] = 12,
    shared: Annotated[Path | None, typer.Option(help="Native datasets folder for extra SFT items "
                                                     "(default: ../shared/data/bench when present).")] = None,
    no_shared: Annotated[bool, typer.Option("--no-shared", help="Use the bundled sample only.")] = False,
) -> None:
    """Raw text -> corpus -> packed shards -> CPT -> LoRA SFT -> eval before/after -> report.html (tiny demo)."""
    from mmed.quickstart import Quickstart, QuickstartConfig, default_shared_bench

    bench = None if no_shared else (shared or default_shared_bench())
    cfg = QuickstartConfig(out=out, cpt_steps=cpt_steps, shared_bench=bench)
    report = Quickstart(cfg, say=lambda m: _console().print(m, highlight=False)).run()
    typer.echo(f"report: {report}  (tiny demo runs: they show the machinery works, not medical skill)")


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors print one clear message (exit 2) instead of a traceback."""
    from mmed.errors import MmedError

    try:
        app(args=argv, prog_name="mmed")
    except MmedError as e:
        from rich.text import Text

        # Text, not markup: messages quote user data, which may contain [brackets].
        _console().print(Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        _console().print("interrupted; finished outputs are kept, rerun to continue")
        sys.exit(130)


if __name__ == "__main__":
    main()
