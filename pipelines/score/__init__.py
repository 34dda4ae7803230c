"""``cxlens score``: batch-scoring an archive in chunks (local or Spark engine), resumable, with a manifest."""

from __future__ import annotations

from cxlens.pipelines.score._heads import (  # noqa: F401
    HeadOptions,
    ScoreHeads,
    customer_texts,
    mention_heads,
    score_heads,
    scored_messages,
    scored_ticket_chunk,
    steps_with_evidence,
    ticket_sentiment,
)
from cxlens.pipelines.score._output import (  # noqa: F401
    AI_TICKET_COLUMNS,
    PART_TABLES,
    SINGLE_TABLES,
    ScoredArchive,
    archive_tables,
    is_score_output,
    read_parts,
    read_scored,
)
from cxlens.pipelines.score._folder import is_foreign_folder  # noqa: F401
from cxlens.pipelines.score._partition import (  # noqa: F401
    Partition,
    TableCounts,
    partition_inputs,
    quarantine_part,
)
from cxlens.pipelines.score._run import (  # noqa: F401
    ScoreInputs,
    ScoreSummary,
    chunk_files,
    mark_chunk_done,
    read_chunk,
    run_score,
    score_chunk,
    score_inputs_from,
)
from cxlens.pipelines.score._spark import (  # noqa: F401
    run_score_spark,
    spark_session,
)

__all__ = [
    "AI_TICKET_COLUMNS",
    "HeadOptions",
    "PART_TABLES",
    "Partition",
    "SINGLE_TABLES",
    "ScoreHeads",
    "ScoreInputs",
    "ScoreSummary",
    "ScoredArchive",
    "TableCounts",
    "archive_tables",
    "chunk_files",
    "customer_texts",
    "is_foreign_folder",
    "is_score_output",
    "mark_chunk_done",
    "mention_heads",
    "partition_inputs",
    "quarantine_part",
    "read_chunk",
    "read_parts",
    "read_scored",
    "run_score",
    "run_score_spark",
    "score_chunk",
    "score_inputs_from",
    "score_heads",
    "scored_messages",
    "scored_ticket_chunk",
    "spark_session",
    "steps_with_evidence",
    "ticket_sentiment",
]
