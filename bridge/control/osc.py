"""The hardened OSC receiver: every datagram is treated as hostile.

python-osc encodes and decodes single messages; everything around that is here, because
its dispatcher and bundle parser can be stalled by small hostile packets
(osc-midi-daemon.md §1.4, §1.7):

* senders outside the allow-list are dropped before anything is parsed;
* a token bucket per sender host; beyond it datagrams are counted and dropped;
* a size cap; a first byte that must be ``/`` or ``#bundle``;
* bundles parsed with bounds: element sizes positive, multiples of 4 and within the
  packet, at most :data:`MAX_DEPTH` levels and :data:`MAX_MESSAGES` messages; timetags
  are ignored, so nothing ever waits;
* addresses looked up exactly; pattern characters are refused;
* a malformed packet gets a ``/bridge/error`` reply (at most 20 a second per sender) and a
  count, never a traceback;
* a 4 MiB receive buffer absorbs bursts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.errors import OscDecodeError

__all__ = ["MAX_DATAGRAM", "Address", "LogLimit", "OscEndpoint", "OscStats", "decode_packet", "encode_message"]

log = logging.getLogger("bridge.osc")

MAX_DATAGRAM = 8192
MAX_DEPTH = 4
MAX_MESSAGES = 64
RECEIVE_BUFFER = 4 * 1024 * 1024

Address = tuple[str, int]
OscArg = int | float | str | bool | bytes | None
Outgoing = tuple[Address, str, Sequence[object]]


def decode_packet(data: bytes) -> list[tuple[str, list[object]]]:
    """The messages in ``data`` (one message, or a bundle read with bounds)."""
    out: list[tuple[str, list[object]]] = []
    _decode(data, 0, out)
    return out


_FIXED = {"i": 4, "f": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8, "T": 0, "F": 0, "N": 0, "[": 0, "]": 0}
"""The type tags python-osc reads (``c``, ``S`` and ``I`` it skips with a log line per message: refused here)."""


def _string_end(data: bytes, pos: int) -> int:
    """Where the padded OSC-string starting at ``pos`` ends."""
    nul = data.find(b"\x00", pos)
    if nul < 0:
        raise OscDecodeError("string without its terminating NUL")
    return (nul // 4 + 1) * 4


def _check_layout(data: bytes) -> None:
    """Walk the type tags and arguments with bounds, so nothing is read past the packet or made up.

    python-osc pads a truncated float with zeros and skips unknown tags; here the
    arguments must fill the packet exactly.
    """
    pos = _string_end(data, 0)
    if pos >= len(data) or data[pos : pos + 1] != b",":
        raise OscDecodeError("no type tag string (OSC 1.1 requires one)")
    end = _string_end(data, pos)
    tags = data[pos + 1 : data.find(b"\x00", pos)].decode("ascii", errors="replace")
    pos = end
    for tag in tags:
        if tag in _FIXED:
            pos += _FIXED[tag]
        elif tag == "s":
            pos = _string_end(data, pos) if pos < len(data) else pos + 4
        elif tag == "b":
            if pos + 4 > len(data):
                raise OscDecodeError("blob size cut off")
            (size,) = struct.unpack(">i", data[pos : pos + 4])
            if size < 0:
                raise OscDecodeError(f"blob size {size}")
            pos += 4 + (size + 3) // 4 * 4
        else:
            raise OscDecodeError(f"unknown type tag {tag!r}")
        if pos > len(data):
            raise OscDecodeError(f"argument of type {tag!r} runs past the end of the packet")
    if pos != len(data):
        raise OscDecodeError(f"{len(data) - pos} bytes after the last argument")


def _decode(data: bytes, depth: int, out: list[tuple[str, list[object]]]) -> None:
    if data[:1] == b"/":
        _check_layout(data)
        try:
            message = OscMessage(data)
            address, params = message.address, list(message.params)
        except Exception as exc:  # python-osc raises ParseError, UnicodeDecodeError, IndexError, struct.error ...
            raise OscDecodeError(f"malformed message ({type(exc).__name__})") from None
        if len(out) >= MAX_MESSAGES:
            raise OscDecodeError(f"more than {MAX_MESSAGES} messages in one packet")
        out.append((address, params))
        return
    if not data.startswith(b"#bundle\x00"):
        raise OscDecodeError("not an OSC message or bundle (must start with '/' or '#bundle')")
    if depth >= MAX_DEPTH:
        raise OscDecodeError(f"bundles nested deeper than {MAX_DEPTH}")
    if len(data) < 16:
        raise OscDecodeError("bundle shorter than its header")
    pos = 16  # "#bundle\0" and the timetag, which is ignored: nothing waits for a time
    while pos < len(data):
        if pos + 4 > len(data):
            raise OscDecodeError("bundle element size cut off")
        (size,) = struct.unpack(">i", data[pos : pos + 4])
        pos += 4
        if size <= 0 or size % 4 or pos + size > len(data):
            raise OscDecodeError(f"bundle element size {size} is not a positive multiple of 4 within the packet")
        _decode(data[pos : pos + size], depth + 1, out)
        pos += size


def encode_message(address: str, args: Sequence[object]) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        if isinstance(arg, bool):
            builder.add_arg(arg)
        elif isinstance(arg, int):
            builder.add_arg(arg, "i" if -(2**31) <= arg < 2**31 else "h")
        elif isinstance(arg, float):
            builder.add_arg(arg, "f")
        elif arg is None:
            builder.add_arg(None)
        else:
            builder.add_arg(str(arg), "s")
    return bytes(builder.build().dgram)


@dataclass
class OscStats:
    received: int = 0
    handled: int = 0
    malformed: int = 0
    oversized: int = 0
    refused: int = 0
    rate_limited: int = 0
    sent: int = 0


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimit:
    """A token bucket per sender (address and port): ``rate`` datagrams per second, bursts up to
    ``burst``. One flooding socket cannot starve another, on loopback too."""

    rate: float = 2000.0
    burst: float = 6000.0
    buckets: dict[Address, _Bucket] = field(default_factory=dict)

    def take(self, sender: Address) -> bool:
        now = time.monotonic()
        bucket = self.buckets.get(sender)
        if bucket is None:
            if len(self.buckets) > 4096:
                self.buckets.clear()
            bucket = self.buckets[sender] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True


@dataclass
class LogLimit:
    """At most one log line per ``every_s`` for what remote senders cause: a flood cannot flood the log."""

    every_s: float = 1.0
    _last: float = -math.inf

    def allow(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return False
        self._last = now
        return True


Handle = Callable[[str, list[object], Address], list[Outgoing]]


class OscEndpoint(asyncio.DatagramProtocol):
    """The UDP shell: checks, decodes, hands each message to ``handle`` and sends what it returns."""

    def __init__(self, handle: Handle, *, allow: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
                 max_size: int = MAX_DATAGRAM, rate_limit: RateLimit | None = None,
                 redact: Callable[[str], str] | None = None) -> None:
        self.handle = handle
        self.redact = redact
        """Applied to every string sent: no key leaves the process, whatever a service quoted."""
        self.allow = tuple(allow)
        self.max_size = max_size
        self.rate_limit = rate_limit or RateLimit()
        self.error_replies = RateLimit(rate=20.0, burst=20.0)
        """Replies to malformed packets are rate-limited too, so junk cannot be amplified."""
        self.stats = OscStats()
        self.transport: asyncio.DatagramTransport | None = None
        self.closing = False
        """Set at shutdown: requests are answered with an error while running jobs still report."""
        self._log_limit = LogLimit()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            except OSError:
                pass

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        sender = (str(addr[0]), int(addr[1]))
        self.stats.received += 1
        if self.allow and not self._allowed(sender[0]):
            self.stats.refused += 1
            self._warn(f"OSC from {sender[0]} refused: not in --allow")
            return
        if not self.rate_limit.take(sender):
            self.stats.rate_limited += 1
            self._warn(f"OSC from {sender[0]}:{sender[1]} over the rate limit; dropping")
            return
        if len(data) > self.max_size:
            self.stats.oversized += 1
            if self.error_replies.take(sender):
                self.send(sender, "/bridge/error", ["packet", f"{len(data)} bytes, larger than {self.max_size}"])
            return
        try:
            messages = decode_packet(data)
        except OscDecodeError as exc:
            self.stats.malformed += 1
            self._warn(f"malformed OSC from {sender[0]}: {exc}")
            if self.error_replies.take(sender):
                self.send(sender, "/bridge/error", ["packet", str(exc)])
            return
        if not messages:
            if self.error_replies.take(sender):
                self.send(sender, "/bridge/error", ["packet", "an empty bundle: no message to answer"])
            return
        for address, params in messages:
            self.stats.handled += 1
            if self.closing:
                self.send(sender, "/bridge/error", [address[:128], "the daemon is shutting down"])
                continue
            for dest, reply, args in self.handle(address, params, sender):
                self.send(dest, reply, args)

    def send(self, dest: Address, address: str, args: Sequence[object]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.redact is not None:
            args = [self.redact(a) if isinstance(a, str) else a for a in args]
        try:
            self.transport.sendto(encode_message(address, args), dest)
            self.stats.sent += 1
        except (OSError, ValueError, TypeError) as exc:
            self._warn(f"OSC reply {address} to {dest[0]}:{dest[1]} failed: {exc}")

    def error_received(self, exc: Exception) -> None:
        self._warn(f"OSC socket error: {exc}")

    def _allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self.allow)

    def _warn(self, text: str) -> None:
        """At most one line per second, so a flood cannot flood the log."""
        if self._log_limit.allow():
            log.warning(text, extra={"event": "osc_refused"})
