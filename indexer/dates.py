"""Article dates normalised to ISO 8601 once, at read time, so filters and `--sort date` compare real dates.

Every form that sites and feeds commonly write is understood: ISO 8601 with or without a time and zone
(`2019-02-14`, `2014-03-27T15:37:00-04:00`, `2019-02-14 09:24:00 -0500`, YAML's `... -5`), RFC 2822
(`Thu, 03 Sep 2020 10:00:00 GMT`, RSS), written-out dates (`Sep 3, 2020`, `3 September 2020`), slashed
dates whose order is unambiguous (`2020/09/03`, `25/12/2020`), and Unix timestamps (seconds or
milliseconds). The result is `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` with `±HH:MM` when a zone was given:
the wall-clock date the publisher wrote is kept (not moved to UTC), because that is the date people
search for. Anything else raises `ValueError`, which readers report while indexing the article undated.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

#: Timestamps above this are milliseconds (this many seconds is the year 5138).
_MILLISECONDS_FROM = 100_000_000_000
_YEARS = range(1000, 3000)

# 2019-02-14[ T]9:24[:00[.123]][ ][Z|±H[H][[:]MM]]: the loose ISO forms that Jekyll and YAML accept.
_ISO_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)
_PLAIN_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2})?")
_PARTIAL_RE = re.compile(r"\d{4}(?:-\d{2})?")  # a year, or a year and month: kept as written
_SLASHED_RE = re.compile(r"(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})")
_WRITTEN_FORMATS = (
    "%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y", "%a %b %d %Y", "%A %B %d %Y", "%a %d %b %Y", "%A %d %B %Y",
    "%b %d %Y %H:%M", "%B %d %Y %H:%M", "%b %d %Y %I:%M %p", "%B %d %Y %I:%M %p",
    "%d %b %Y %H:%M", "%d %B %Y %H:%M", "%b %Y", "%B %Y",
)
_ORDINAL_RE = re.compile(r"(?<=\d)(st|nd|rd|th)\b|,", re.IGNORECASE)


def iso_date(value: object) -> str:
    """`value` (text, a number of seconds, a date or datetime) as an ISO 8601 date; ValueError if it is none."""
    if isinstance(value, datetime):
        return _format(value, with_time=True)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_timestamp(float(value))
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    if _PLAIN_RE.fullmatch(value):  # the common case, already as it should be: checked, kept
        try:
            if datetime.fromisoformat(value).year in _YEARS:
                return value
        except ValueError:
            pass
    text = " ".join(value.split())
    if not text or len(text) > 100:
        raise ValueError(f"not a date: {value!r}")
    for parse in (_iso, _partial, _timestamp_text, _rfc2822, _written, _slashed):
        try:
            result = parse(text)
        except ValueError as exc:  # the form was recognised, its numbers are impossible
            raise ValueError(f"not a date: {value!r} ({exc})") from None
        if result is not None:
            return result
    raise ValueError(f"not a date: {value!r}")


def _format(moment: datetime, with_time: bool) -> str:
    if moment.year not in _YEARS:
        raise ValueError(f"year {moment.year} is out of range")
    if not with_time:
        return moment.date().isoformat()
    text = moment.replace(microsecond=0, tzinfo=None).isoformat()
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _iso(text: str) -> str | None:
    match = _ISO_RE.fullmatch(text)
    if match is None:
        return None
    day = date.fromisoformat(match["date"])  # ValueError for 2019-02-30
    if match["hour"] is None:
        return _format(datetime(day.year, day.month, day.day), with_time=False)
    moment = datetime(day.year, day.month, day.day, int(match["hour"]), int(match["minute"]), int(match["second"] or 0))
    zone = (match["zone"] or "").upper()
    if zone in ("Z", "UTC", "GMT"):
        moment = moment.replace(tzinfo=timezone.utc)
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
        if hours > 23 or minutes > 59:
            raise ValueError(f"bad time zone {zone!r}")
        moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return _format(moment, with_time=True)


def _partial(text: str) -> str | None:
    if not _PARTIAL_RE.fullmatch(text):
        return None
    year, _, month = text.partition("-")
    if int(year) not in _YEARS or (month and not 1 <= int(month) <= 12):
        raise ValueError("year or month out of range")
    return text


def _from_timestamp(seconds: float) -> str:
    if seconds >= _MILLISECONDS_FROM:
        seconds /= 1000
    try:
        return _format(datetime.fromtimestamp(seconds, timezone.utc), with_time=True)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp {seconds!r} is out of range") from exc


def _timestamp_text(text: str) -> str | None:
    """Nine or more digits are seconds (or milliseconds) since 1970; shorter numbers are not dates."""
    return _from_timestamp(float(text)) if text.isdigit() and len(text) >= 9 else None


def _rfc2822(text: str) -> str | None:
    if not re.search(r"\d{1,2} [A-Za-z]{3} \d{4} \d", text):
        return None
    try:
        return _format(parsedate_to_datetime(text), with_time=True)
    except (TypeError, ValueError, IndexError):
        return None


def _written(text: str) -> str | None:
    plain = " ".join(_ORDINAL_RE.sub(" ", text).split())
    for pattern in _WRITTEN_FORMATS:
        try:
            moment = datetime.strptime(plain, pattern)
        except ValueError:
            continue
        if "%d" not in pattern:
            return f"{moment.year:04d}-{moment.month:02d}"
        return _format(moment, with_time="%H" in pattern or "%I" in pattern)
    return None


def _slashed(text: str) -> str | None:
    """2020/09/03 always; 25/12/2020 or 12/25/2020 only when one number can only be the day."""
    match = _SLASHED_RE.fullmatch(text)
    if match is None:
        return None
    first, second, third = (int(part) for part in match.groups())
    if len(match[1]) == 4:
        year, month, day = first, second, third
    elif len(match[3]) == 4 and first > 12 >= second:
        year, month, day = third, second, first
    elif len(match[3]) == 4 and second > 12 >= first:
        year, month, day = third, first, second
    else:
        raise ValueError("day and month could be either way round")
    return _format(datetime(year, month, day), with_time=False)
