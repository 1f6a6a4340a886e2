"""`taxonomy report papers.db`: the coverage report of a paper store's tagged papers, the
same report a tags file gives."""

from __future__ import annotations

import os

from ..errors import TaxonomyError
from ..io.readlog import ReadLog
from ..io.writers import read_table
from ..labels.categories import Taxonomy
from ..store.frame import counts, tagged_frame
from ..tagging.tagger import Tagger
from .figures import build_report
from .render import write_report
from .run import CoverageRun, is_tagged_table


def run_store_report(db: str | os.PathLike, out_dir: str | os.PathLike, tagger: Tagger,
                     taxonomy: Taxonomy, label_support: dict[str, int] | None = None,
                     compare: str | os.PathLike | None = None, review: int = 50
                     ) -> tuple[CoverageRun, int]:
    """The report of every tagged paper in the store (per paper, its tag from the model in
    use, else its latest); returns the run and how many papers have no tags yet."""
    import pandas as pd

    if compare is not None and not is_tagged_table(compare):
        raise TaxonomyError("is not a table written by 'taxonomy tag'; give an older tags "
                            "file", compare)
    tagged = tagged_frame(db, taxonomy.ids, tagger.model.version)
    if tagged.empty:
        raise TaxonomyError("holds no tagged papers; run taxonomy tag --db first", db)
    untagged = counts(db)["papers"] - len(tagged)
    older = pd.concat(list(read_table(compare)), ignore_index=True) if compare else None
    report = build_report(tagged, taxonomy, tagger.model.card["thresholds"],
                          label_support=label_support, compare=older, uncertain_top=review)
    return CoverageRun(report, write_report(report, out_dir), ReadLog(), []), untagged
