"""cxlens.metrics: the customer-service KPIs as a registry of small pure functions.

>>> from cxlens.metrics import get_kpi_names, compute_kpis, make_tables
>>> "csat" in get_kpi_names()
True

Importing this package registers every KPI module listed in ``_KPI_MODULES``.
"""

from __future__ import annotations

import importlib

from cxlens.metrics._registry import KPI, Measure, Tables, get_kpi, get_kpi_names, register_kpi
from cxlens.metrics.compute import KPIReport, available_kpis, compute_kpis, explain_kpi, make_tables

__all__ = [
    "KPI",
    "KPIReport",
    "Measure",
    "Tables",
    "available_kpis",
    "compute_kpis",
    "explain_kpi",
    "get_kpi",
    "get_kpi_names",
    "make_tables",
    "register_kpi",
]

# Every module that registers KPIs; the registry is filled once, here.
_KPI_MODULES = (
    "volume",
    "response",
    "resolution",
    "sla",
    "contact_center",
    "satisfaction",
    "revenue",
    "agents",
    "ai",
    "qa",
    "health",
    "social",
    "csat_estimated",
    "topics",
)

for _module in _KPI_MODULES:
    importlib.import_module(f"cxlens.metrics.{_module}")
