"""One exception tree for the whole bridge.

::

    BridgeError                      every failure the bridge reports to a user
    ├── UsageError                   the request itself is wrong (CLI exit status 2)
    │   ├── BadValue                 a field holds a value outside what it accepts
    │   ├── RegionOutOfBounds        the time range does not fit the source
    │   └── SourceError              the source is missing, unreadable, empty or not audio
    ├── AudioError                   the audio core refused its input or result
    │   ├── AudioParameterError      an array or knob passed to the core is unusable
    │   └── AlignmentError           returned audio does not line up with the original
    ├── EngineError                  an engine could not produce audio
    │   ├── EngineUnavailable        not configured, not reachable
    │   ├── EngineRejected           the engine refused the request
    │   └── EngineTimeout            the engine passed its deadline
    ├── OutputError                  a take or manifest could not be written
    └── ConfigError                  the configuration file or environment is invalid

Foreign exceptions (soundfile, OS errors) are translated where they enter, with
``raise ... from exc``, so callers only ever catch :class:`BridgeError`.
Messages name the offending field and value: ``"start = -1.0: must be >= 0"``.
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "AudioError",
    "AudioParameterError",
    "BadValue",
    "BridgeError",
    "ConfigError",
    "EngineError",
    "EngineRejected",
    "EngineTimeout",
    "EngineUnavailable",
    "OutputError",
    "RegionOutOfBounds",
    "SourceError",
    "UsageError",
]


class BridgeError(Exception):
    """Base of every error the bridge reports. ``exit_code`` is the CLI's status."""

    exit_code = 1


class UsageError(BridgeError):
    """The request is wrong as given; retrying it unchanged cannot succeed."""

    exit_code = 2


class BadValue(UsageError):
    """A field holds a value it does not accept."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field} = {value!r}: {reason}")
        self.field = field
        self.value = value


class RegionOutOfBounds(UsageError):
    """The requested time range does not lie inside the source."""


class SourceError(UsageError):
    """The source file is missing, unreadable, empty or not audio."""


class AudioError(BridgeError):
    """The audio core refused its input or its result."""


class AudioParameterError(AudioError):
    """An array or parameter passed to the audio core is unusable."""


class AlignmentError(AudioError):
    """Audio returned by an engine does not line up with the original."""


class EngineError(BridgeError):
    """An engine could not produce audio."""


class EngineUnavailable(EngineError):
    """The engine is not configured or cannot be reached."""


class EngineRejected(EngineError):
    """The engine refused the request."""


class EngineTimeout(EngineError):
    """The engine did not answer before the deadline."""


class OutputError(BridgeError):
    """A take or manifest could not be written."""


class ConfigError(BridgeError):
    """The configuration file or environment holds an invalid value."""

    exit_code = 2
