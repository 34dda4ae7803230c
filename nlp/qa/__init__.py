"""Script QA: scorecards (files, validation), step detection in agent replies, procedures and scoring."""

from __future__ import annotations

from cxlens.nlp.qa._detect import (  # noqa: F401
    Column,
    Detections,
    StepDetector,
    split_units,
)
from cxlens.nlp.qa._procedures import (  # noqa: F401
    ABCD_ACTION_TEXTS,
    abcd_scorecards,
    abcd_to_tables,
    load_abcd_dialogues,
    write_abcd_scorecards,
)
from cxlens.nlp.qa._reference_replies import (  # noqa: F401
    ReferenceReplies,
    load_reference_replies,
)
from cxlens.nlp.qa._scorecard import (  # noqa: F401
    ForbiddenItem,
    Question,
    Scorecard,
    Script,
    Step,
    load_scorecard,
    scorecard_from_dict,
)
from cxlens.nlp.qa._scorecard_files import (  # noqa: F401
    get_scorecard_names,
    read_with_lines,
    shipped_scorecard_path,
)
from cxlens.nlp.qa._scorecard_writer import (  # noqa: F401
    scorecard_to_dict,
    write_scorecard,
)
from cxlens.nlp.qa._tune import (  # noqa: F401
    read_labelled,
    step_overlaps,
    tune_scorecard,
    tuned_scorecard,
    tuning_split,
)
from cxlens.nlp.qa._scoring import (  # noqa: F401
    QAResult,
    SPEAKER_OF_ROLE,
    agent_summary,
    answer_questions,
    score_script_qa,
)

__all__ = [
    "ABCD_ACTION_TEXTS",
    "Column",
    "Detections",
    "ForbiddenItem",
    "QAResult",
    "Question",
    "ReferenceReplies",
    "SPEAKER_OF_ROLE",
    "Scorecard",
    "Script",
    "Step",
    "StepDetector",
    "abcd_scorecards",
    "abcd_to_tables",
    "agent_summary",
    "answer_questions",
    "get_scorecard_names",
    "load_abcd_dialogues",
    "load_reference_replies",
    "load_scorecard",
    "read_labelled",
    "read_with_lines",
    "score_script_qa",
    "scorecard_from_dict",
    "scorecard_to_dict",
    "shipped_scorecard_path",
    "split_units",
    "step_overlaps",
    "tune_scorecard",
    "tuned_scorecard",
    "tuning_split",
    "write_abcd_scorecards",
    "write_scorecard",
]
