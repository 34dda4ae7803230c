"""Durations between two timestamps, in wall-clock or business seconds.

Business time counts only the seconds inside the opening hours of a
:class:`~cxlens.config.BusinessHours` calendar, in its local time zone
(wall clock, so DST days are handled), skipping closed weekdays and holidays.
It is computed without a Python loop: ``F(t)`` = business seconds from a fixed
origin to ``t``; a duration is ``F(end) - F(start)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import BusinessHours, KPIConfig

__all__ = ["business_seconds", "elapsed_seconds", "utc_naive", "wall_seconds"]

_ORIGIN = np.datetime64("1970-01-05", "D")  # a Monday


def _business_clock(stamps: pd.Series, hours: BusinessHours) -> np.ndarray:
    """Business seconds from the origin to each timestamp (NaN where NaT)."""
    local = stamps.dt.tz_convert(hours.timezone).dt.tz_localize(None)
    valid = local.notna().to_numpy()
    out = np.full(len(local), np.nan)
    if not valid.any():
        return out
    values = local.to_numpy()[valid]
    days = values.astype("datetime64[D]")
    seconds_into_day = (values - days).astype("timedelta64[s]").astype(np.int64)
    holidays = np.array(hours.holidays, dtype="datetime64[D]")
    open_days_before = np.busday_count(_ORIGIN, days, weekmask=hours.weekmask, holidays=holidays)
    is_open_day = np.is_busday(days, weekmask=hours.weekmask, holidays=holidays)
    day_length = hours.end_s - hours.start_s
    partial = np.clip(seconds_into_day - hours.start_s, 0, day_length) * is_open_day
    out[valid] = open_days_before.astype(np.float64) * day_length + partial
    return out


def business_seconds(start: pd.Series, end: pd.Series, hours: BusinessHours) -> pd.Series:
    """Seconds of opening hours between ``start`` and ``end`` (NaN when either is missing)."""
    return pd.Series(_business_clock(end, hours) - _business_clock(start, hours), index=start.index)


def utc_naive(stamps: pd.Series) -> np.ndarray:
    """Timestamps as a numpy ``datetime64`` array in UTC (NaT kept)."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):  # the UTC values, without a copy
        return np.asarray(stamps.array, dtype=f"datetime64[{stamps.dtype.unit}]")
    return stamps.to_numpy()


def wall_seconds(start: pd.Series, end: pd.Series) -> pd.Series:
    """``end - start`` in wall-clock seconds (NaN when either is missing), computed in numpy."""
    delta = utc_naive(end) - utc_naive(start)
    return pd.Series(delta / np.timedelta64(1, "s"), index=start.index, dtype="float64")


def elapsed_seconds(start: pd.Series, end: pd.Series, config: KPIConfig) -> pd.Series:
    """``end - start`` in seconds: business seconds when the config asks for them."""
    if config.use_business_hours and config.business_hours is not None:
        return business_seconds(start, end, config.business_hours)
    return wall_seconds(start, end)
