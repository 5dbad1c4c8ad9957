"""`RankFileReader`: stage k+1 of the corpus build reads exactly the file that rank r wrote in stage 1.

datatrove's dedup filters address documents by their position in a rank's stream, so the stages after the first
must see each rank's documents in the same order, and rank r must read rank r's file. A plain JsonlReader shards
the *existing* files of a folder round-robin, which shifts every rank after one that wrote nothing (a rank whose
documents were all rejected writes no file). This reader opens `<folder>/<rank>.jsonl.gz` or yields nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _reader_class() -> type:
    from datatrove.pipeline.readers.jsonl import JsonlReader

    class RankFileReader(JsonlReader):
        name = "📂 Rank file"

        def __init__(self, data_folder: str) -> None:
            super().__init__(data_folder, compression="gzip", add_file_path=False)

        def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> Any:
            if data:
                yield from data
            path = f"{rank:05d}.jsonl.gz"
            if not self.data_folder.isfile(path):
                return
            for doc in self.read_files_shard([path]):
                self.update_doc_stats(doc)
                yield doc

    RankFileReader.__module__, RankFileReader.__qualname__ = __name__, "RankFileReader"
    return RankFileReader


def __getattr__(name: str) -> Any:
    if name == "RankFileReader":
        return _reader_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
