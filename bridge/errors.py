"""One exception tree for the whole bridge.

::

    BridgeError                      every failure the bridge reports to a user
    ├── UsageError                   the request itself is wrong (CLI exit status 2)
    │   ├── BadValue                 a field holds a value outside what it accepts
    │   ├── RegionOutOfBounds        the time range does not fit the source
    │   ├── SourceError              the source is missing, unreadable, empty or not audio
    │   ├── AccessDenied             a path lies outside the allowed media or output roots
    │   ├── PresetError              a preset file or name is invalid
    │   ├── BudgetError              a hosted request would pass a [budget] ceiling
    │   └── ControlError             an OSC/MIDI/spool message cannot be used
    │       ├── OscDecodeError       a datagram is not well-formed OSC
    │       ├── UnknownAddress       no such OSC address
    │       └── BadArguments         the arguments do not fit the address
    ├── AudioError                   the audio core refused its input or result
    │   ├── AudioParameterError      an array or knob passed to the core is unusable
    │   └── AlignmentError           returned audio does not line up with the original
    ├── EngineError                  an engine could not produce audio
    │   ├── EngineUnavailable        not configured, or refused the key
    │   │   └── EngineUnreachable    the service cannot be reached (the daemon may fall back to local)
    │   ├── EngineRejected           the engine refused the request
    │   └── EngineTimeout            the engine passed its deadline
    ├── OutputError                  a take or manifest could not be written
    ├── JobError                     a job id is unknown, or the queue is full
    ├── MidiUnavailable              no MIDI system could be opened (the daemon runs without MIDI)
    └── ConfigError                  the configuration file or environment is invalid

Foreign exceptions (soundfile, OS errors) are translated where they enter, with
``raise ... from exc``, so callers only ever catch :class:`BridgeError`.
Messages name the offending field and value: ``"start = -1.0: must be >= 0"``.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AlignmentError",
    "AudioError",
    "AudioParameterError",
    "BadValue",
    "BadArguments",
    "BudgetError",
    "BridgeError",
    "ConfigError",
    "ControlError",
    "EngineError",
    "EngineRejected",
    "EngineTimeout",
    "EngineUnavailable",
    "EngineUnreachable",
    "JobError",
    "MidiUnavailable",
    "OscDecodeError",
    "OutputError",
    "PresetError",
    "RegionOutOfBounds",
    "SourceError",
    "UnknownAddress",
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


class AccessDenied(UsageError):
    """A path lies outside the media roots (reading) or the output roots (writing)."""


class PresetError(UsageError):
    """A preset file holds an invalid key or value, or a preset name is unknown."""


class BudgetError(UsageError):
    """A hosted request would pass a ``[budget]`` ceiling; it is refused before anything is sent."""


class ControlError(UsageError):
    """A control message (OSC, MIDI, spool) cannot be used."""


class UnknownAddress(ControlError):
    """No handler is registered for the OSC address."""


class BadArguments(ControlError):
    """The arguments of a control message do not fit its address."""


class OscDecodeError(ControlError):
    """A datagram that is not a well-formed OSC message or bundle."""


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


class EngineUnreachable(EngineUnavailable):
    """The service cannot be reached at all (connection refused, DNS, network down)."""


class EngineRejected(EngineError):
    """The engine refused the request."""


class EngineTimeout(EngineError):
    """The engine did not answer before the deadline."""


class OutputError(BridgeError):
    """A take or manifest could not be written."""


class JobError(BridgeError):
    """A job id is unknown, or the daemon's queue is full."""


class MidiUnavailable(BridgeError):
    """No MIDI system could be opened; the message says why."""


class ConfigError(BridgeError):
    """The configuration file or environment holds an invalid value."""

    exit_code = 2
