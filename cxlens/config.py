"""Configuration: KPI settings, the SLA policy and business-hours calendars.

Plain frozen dataclasses with defaults that follow the common benchmarks; a
TOML file overrides any of them::

    [kpi]
    csat_threshold = 4
    abandon_short_s = 5
    backlog_age_s = 604800
    operating_cost = 125000.0

    [sla]                       # seconds; keys are channel or channel.priority
    first_response_s = { email = 86400, chat = 60, "email.urgent" = 3600 }
    resolution_s = { email = 259200 }

    [business_hours]
    timezone = "Europe/Berlin"
    days = ["mon", "tue", "wed", "thu", "fri"]
    start = "09:00"
    end = "17:00"
    holidays = ["2026-12-25", "2026-12-26"]
    use_for_durations = true    # compute every duration KPI in business hours

Unknown keys are errors (with the file and key named), never ignored.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxlens.errors import ConfigError

__all__ = ["BusinessHours", "KPIConfig", "SLAPolicy", "load_config", "read_toml"]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# First-response targets by channel, in seconds (common industry benchmarks).
DEFAULT_FIRST_RESPONSE_S = (
    ("email", 24 * 3600.0), ("web", 24 * 3600.0), ("chat", 60.0), ("phone", 180.0), ("social", 3600.0),
)


@dataclass(frozen=True)
class BusinessHours:
    """A weekly opening calendar in one time zone, with holidays.

    Durations "in business hours" count only the seconds inside opening
    hours, in local wall-clock time (DST-safe).
    """

    timezone: str = "UTC"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: str = "09:00"
    end: str = "17:00"
    holidays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [d for d in self.days if d not in DAY_NAMES]
        if unknown:
            raise ConfigError(f"business_hours.days: unknown day(s) {unknown}; use {', '.join(DAY_NAMES)}.")
        if self.start_s >= self.end_s:
            raise ConfigError(f"business_hours: start {self.start} must be before end {self.end}.")
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(self.timezone)
        except Exception as exc:
            raise ConfigError(f"business_hours.timezone: unknown time zone {self.timezone!r}.") from exc

    @staticmethod
    def _seconds(hhmm: str) -> int:
        try:
            hours, minutes = hhmm.split(":")
            value = int(hours) * 3600 + int(minutes) * 60
        except ValueError as exc:
            raise ConfigError(f"business_hours: {hhmm!r} is not HH:MM.") from exc
        if not 0 <= value <= 86400:
            raise ConfigError(f"business_hours: {hhmm!r} is not a time of day.")
        return value

    @property
    def start_s(self) -> int:
        return self._seconds(self.start)

    @property
    def end_s(self) -> int:
        return self._seconds(self.end)

    @property
    def weekmask(self) -> str:
        """numpy busday weekmask, e.g. ``1111100``."""
        return "".join("1" if d in self.days else "0" for d in DAY_NAMES)


@dataclass(frozen=True)
class SLAPolicy:
    """Targets in seconds per channel, optionally refined per ``channel.priority``.

    A ticket with no target for its channel has no SLA and is not counted in
    ``sla_compliance_rate``.  Time spent in paused statuses (pending, on hold:
    the tickets' ``paused_s`` column, where present) does not count against resolution.
    """

    first_response_s: tuple[tuple[str, float], ...] = DEFAULT_FIRST_RESPONSE_S
    resolution_s: tuple[tuple[str, float], ...] = ()

    def target(self, kind: str, channel: str | None, priority: str | None) -> float | None:
        """The target for one ticket: ``channel.priority`` first, then ``channel``, then ``*``."""
        table = dict(self.first_response_s if kind == "first_response" else self.resolution_s)
        for key in (f"{channel}.{priority}", str(channel), "*"):
            if key in table:
                return float(table[key])
        return None


@dataclass(frozen=True)
class KPIConfig:
    """Every setting a KPI reads. Defaults are the standard definitions."""

    csat_scale: tuple[float, float] = (1.0, 5.0)
    csat_threshold: float = 4.0          # a response >= this counts as satisfied
    esat_threshold: float = 4.0
    nps_promoter_min: float = 9.0
    nps_detractor_max: float = 6.0
    abandon_short_s: float = 5.0         # abandons quicker than this are excluded
    backlog_age_s: float = 7 * 86400.0   # backlog_aged counts tickets open longer than this
    operating_cost: float | None = None  # support cost for the period (cost_per_resolution)
    top_performers_min_n: int = 10       # agents need this many tickets to be ranked
    # churn_probability at or above this counts as at risk; None: the at-risk review's rule relative to the
    # portfolio (the accounts' ``at_risk`` flag: top decile or >= 2x the base rate, cxlens.models.risk),
    # 0.5 for accounts scored without the review
    risk_threshold: float | None = None
    business_hours: BusinessHours | None = None
    use_business_hours: bool = False     # compute duration KPIs in business hours
    sla: SLAPolicy = field(default_factory=SLAPolicy)


def _tuples(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((str(k), float(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(value)
    return value


def _build(cls: type, data: dict[str, Any], *, section: str, source: str) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) in [{section}]: {', '.join(unknown)}. "
                          f"Known: {', '.join(sorted(known))}.")
    try:
        return cls(**{k: _tuples(v) for k, v in data.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: [{section}] is invalid: {exc}") from exc


def read_toml(path: str | Path, *, what: str = "Config file") -> dict[str, Any]:
    """A TOML file as a dict; a missing or invalid file is a :class:`ConfigError` naming it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def load_config(path: str | Path | None = None, **overrides: Any) -> KPIConfig:
    """Defaults, then the TOML file (if any), then keyword overrides."""
    kpi: dict[str, Any] = {}
    if path is not None:
        source = str(path)
        data = read_toml(path)
        unknown = sorted(set(data) - {"kpi", "sla", "business_hours"})
        if unknown:
            raise ConfigError(f"{source}: unknown section(s) {unknown}; use [kpi], [sla], [business_hours].")
        kpi_data = dict(data.get("kpi", {}))
        if "csat_scale" in kpi_data:
            kpi_data["csat_scale"] = tuple(float(v) for v in kpi_data["csat_scale"])
        kpi = {k: v for k, v in kpi_data.items()}
        if "sla" in data:
            kpi["sla"] = _build(SLAPolicy, data["sla"], section="sla", source=source)
        if "business_hours" in data:
            hours = dict(data["business_hours"])
            use = bool(hours.pop("use_for_durations", False))
            kpi["business_hours"] = _build(BusinessHours, hours, section="business_hours", source=source)
            kpi["use_business_hours"] = use
        config = _build(KPIConfig, kpi, section="kpi", source=source)
    else:
        config = KPIConfig()
    if overrides:
        config = dataclasses.replace(config, **overrides)
    if config.use_business_hours and config.business_hours is None:
        raise ConfigError("use_business_hours is set but no [business_hours] calendar is given.")
    risk = config.risk_threshold
    if risk is not None and (isinstance(risk, bool) or not isinstance(risk, (int, float)) or not 0 < risk < 1):
        raise ConfigError(f"risk_threshold must be a churn probability between 0 and 1 (e.g. 0.3), got {risk!r}; "
                          "leave it out for the at-risk review's rule relative to the portfolio.")
    return config
