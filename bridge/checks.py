"""The one value checker: numbers, whole numbers, booleans, choices and text, with one wording.

Config, presets, controller maps, OSC arguments, request options and model parameters
all check through here. Each checker names the field and the value in its
:class:`~bridge.errors.BadValue`; a caller that knows more (the config file, the binding)
adds that in front with :func:`where`::

    number("fade_ms", 3000, 0, 2000)  ->  fade_ms = 3000: must be a number in range 0..2000
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Collection, Iterator

from bridge.errors import BadValue, BridgeError

__all__ = ["boolean", "choice", "integer", "name", "number", "scalar", "text", "where"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bound(low: float, high: float) -> str:
    if math.isfinite(low) and math.isfinite(high):
        return f" in range {low:g}..{high:g}"
    if math.isfinite(low):
        return f" >= {low:g}"
    if math.isfinite(high):
        return f" <= {high:g}"
    return ""


def number(field: str, value: object, low: float = -math.inf, high: float = math.inf, *,
           text_ok: bool = False) -> float:
    """A finite number in ``[low, high]``; with ``text_ok`` a numeric string is read too."""
    parsed = _parse_number(value, text_ok)
    if parsed is None or not low <= parsed <= high:
        raise BadValue(field, value, f"must be a {'number' if _bound(low, high) else 'finite number'}"
                                     f"{_bound(low, high)}")
    return parsed


def integer(field: str, value: object, low: float = -math.inf, high: float = math.inf, *,
            text_ok: bool = False) -> int:
    """A whole number in ``[low, high]`` (``2.0`` counts; ``2.5`` and ``True`` do not)."""
    parsed = _parse_number(value, text_ok)
    if parsed is None or parsed != int(parsed) or not low <= parsed <= high:
        raise BadValue(field, value, f"must be a whole number{_bound(low, high)}")
    return int(parsed)


def boolean(field: str, value: object, *, text_ok: bool = False) -> bool:
    """``True``/``False``; 1 and 0 count, and with ``text_ok`` words such as on/off too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if text_ok and isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise BadValue(field, value, "must be true or false (1 or 0)")


def choice(field: str, value: object, choices: Collection[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise BadValue(field, value, f"must be one of {', '.join(choices)}")
    return value


def text(field: str, value: object, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or not (value or empty_ok):
        raise BadValue(field, value, "must be a string" if empty_ok else "must be a non-empty string")
    return value


def scalar(field: str, value: object) -> bool | int | float | str:
    """Any one value an option or a model parameter can hold: a number, a string or a boolean."""
    if isinstance(value, bool | int | float | str):
        return value
    raise BadValue(field, value, "must be a number, a string or a boolean")


def name(field: str, value: object) -> str:
    """An identifier such as ``steps`` or ``guidance`` (option and parameter names)."""
    if not isinstance(value, str) or not value.isidentifier():
        raise BadValue(field, value, "must be a name such as steps, guidance or strength")
    return value


@contextlib.contextmanager
def where(prefix: str, error: Callable[[str], BridgeError]) -> Iterator[None]:
    """Re-raise a :class:`BadValue` inside as ``error(f"{prefix}{message}")`` (the file, the binding)."""
    try:
        yield
    except BadValue as exc:
        raise error(f"{prefix}{exc}") from None


def _parse_number(value: object, text_ok: bool) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif text_ok and isinstance(value, str):
            number = float(value)
        else:
            return None
    except (ValueError, OverflowError):  # not a number, or a whole number too large for a float
        return None
    return number if math.isfinite(number) else None
