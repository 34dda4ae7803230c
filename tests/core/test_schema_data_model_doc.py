"""docs/data-model.md documents every column of every canonical table."""

from __future__ import annotations

import re

from cxlens.schema import SCHEMAS


def test_every_schema_column_is_documented(repo_root):
    text = (repo_root / "docs" / "data-model.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)
    for schema in SCHEMAS.values():
        section = next((s for s in sections if s.startswith(f"`{schema.name}`")), None)
        assert section is not None, f"docs/data-model.md has no section for table {schema.name}"
        for column in schema.columns:
            row = re.search(rf"^\| `{column.name}` \|([^|]*)\|([^|]*)\|", section, flags=re.M)
            assert row is not None, f"{schema.name}.{column.name} is not documented in docs/data-model.md"
            assert ("yes" in row.group(2)) == column.required, f"{schema.name}.{column.name}: required differs"


def test_scored_columns_are_documented(repo_root):
    text = (repo_root / "docs" / "data-model.md").read_text(encoding="utf-8")
    for column in ("request_type", "request_type_confidence", "topic", "topic_confidence", "sentiment",
                   "sentiment_score", "sentiment_confidence", "language", "script_adherence", "auto_fail",
                   "is_question", "is_complaint", "churn_probability", "health_score", "health_band"):
        assert f"`{column}`" in text, column
