"""Reading abstract dumps and writing tables: the bottom layer, which imports nothing above it.

``records`` is the paper record and its ids; ``sniff`` opens a dump once and judges its
format; ``listing`` and ``delimited`` read listing pages and CSV, ``fields`` maps a record's
fields to a paper for all but listing pages and reads JSON Lines and Parquet; ``readers``
reads any of them with repeats merged; ``writers`` and ``atomic`` write tables and files so that an
interrupted run never leaves half a file.
"""

from __future__ import annotations

from .._lazy import attach

__all__, __getattr__, __dir__ = attach(__name__, {
    "atomic_path": "atomic", "write_text": "atomic",
    "papers_frame": "papers", "parse_papers": "papers", "parse_to_file": "papers",
    "FORMATS": "readers", "read_file": "readers", "read_papers": "readers",
    "ReadLog": "readlog",
    "PAPER_COLUMNS": "records", "Deduplicator": "records", "Paper": "records",
    "arxiv_id": "records", "paper_id": "records", "title_hash": "records",
    "Source": "sniff",
    "TABLE_FORMATS": "writers", "TableWriter": "writers", "read_table": "writers",
    "table_format": "writers", "write_frame": "writers",
})
