"""`mmed corpus build CONFIG`: the command around mmed.corpus.build, with a progress display per stage.

datatrove logs every task to stderr; the command sends that to `work/logs/datatrove.log` in the output folder
(each task also keeps its own log under work/logs/<stage>/logs/) and shows one progress bar per stage instead.
`--verbose` keeps datatrove's output on the terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 (inherited by datatrove's worker processes) at `path` for the duration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def watcher(console: Any, log_file: Path | None):
    """A `watch` for mmed.corpus.build.build: one progress bar per stage; datatrove's stderr to `log_file`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def watch(stages: list[tuple[str, Path, int]]) -> Iterator[None]:
        done = threading.Event()
        with Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TextColumn("tasks"),
                      TimeElapsedColumn(), console=console) as progress:
            ids = [progress.add_task(name, total=n) for name, _, n in stages]

            def poll() -> None:
                while not done.is_set():
                    for tid, (_, logs, _n) in zip(ids, stages, strict=True):
                        marks = logs / "completions"
                        progress.update(tid, completed=len(list(marks.iterdir())) if marks.is_dir() else 0)
                    done.wait(0.5)

            thread = threading.Thread(target=poll, daemon=True)
            thread.start()
            try:
                if log_file is None:
                    yield
                else:
                    with _stderr_to(log_file):
                        yield
            finally:
                done.set()
                thread.join()
                for tid, (_, logs, _n) in zip(ids, stages, strict=True):
                    marks = logs / "completions"
                    progress.update(tid, completed=len(list(marks.iterdir())) if marks.is_dir() else 0)

    return watch


def build_cmd(
    config: Annotated[str, typer.Argument(help="A corpus config (YAML) or a shipped one: mmedc, sample.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output folder (overrides the config's).")] = None,
    inputs: Annotated[list[Path] | None, typer.Option("--input", "-i",
                                                       help="Input file or folder (replaces the config's).")] = None,
    executor: Annotated[str | None, typer.Option(help="local, ray or slurm (overrides the config's).")] = None,
    tasks: Annotated[int | None, typer.Option(help="Tasks (input shards) of the per-document stages.")] = None,
    workers: Annotated[int | None, typer.Option(help="Tasks run at once.")] = None,
    languages: Annotated[str | None, typer.Option(help="Comma-separated languages to keep.")] = None,
    fresh: Annotated[bool, typer.Option(help="Delete this output folder's previous build first.")] = False,
    verbose: Annotated[bool, typer.Option(help="Show datatrove's logs on the terminal.")] = False,
) -> None:
    """Build a medical corpus from raw web text: language ID, keyword filter, quality, dedup, PII, writers."""
    import dataclasses

    from rich.console import Console

    from mmed.corpus.build import build
    from mmed.corpus.config import load_config, parse_input

    console = Console(stderr=False)
    cfg = load_config(config)
    changes: dict[str, Any] = {}
    if inputs:
        changes["inputs"] = tuple(parse_input(str(p), where=f"--input {p}", base=Path.cwd()) for p in inputs)
    ex = dict(cfg.executor)
    for key, value in (("kind", executor), ("tasks", tasks), ("workers", workers)):
        if value is not None:
            ex[key] = value
    changes["executor"] = ex
    if languages:
        changes["languages"] = tuple(x.strip() for x in languages.split(",") if x.strip())
    cfg = dataclasses.replace(cfg, **changes)
    target = (out or cfg.output or Path()).resolve() if (out or cfg.output) else None
    log_file = None if verbose or target is None else target / "work" / "logs" / "datatrove.log"
    t0 = time.perf_counter()
    result = build(cfg, out, fresh=fresh, watch=watcher(console, log_file))
    if not result.complete:
        console.print(f"submitted: {result.submitted}; stats.json appears in {result.out} when the last stage ends")
        return
    typer.echo((result.out / "summary.txt").read_text(encoding="utf-8"))  # plain: a table must not wrap
    tot = result.stats["total"] if result.stats else {}
    typer.echo(f"kept {tot['kept']['docs']} of {tot['in']['docs']} documents in {time.perf_counter() - t0:.1f} s "
                  f"-> {result.out / 'kept'} (stats: {result.out / 'stats.json'}"
                  + (f"; datatrove log: {log_file})" if log_file else ")"))
