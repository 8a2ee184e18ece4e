"""A small OSC 1.0 codec: the messages the script sends and the daemon answers.

Live's Python has no packages, so this is written out: strings, 32-bit integers and
floats, 64-bit doubles and integers, booleans and nil; bundles are unpacked (their time
tags ignored). Every read is bounds-checked, and anything malformed raises
:class:`OscError`.
"""

from __future__ import annotations

import struct
from typing import List, Sequence, Tuple, Union

MAX_DATAGRAM = 8192
MAX_DEPTH = 4

Message = Tuple[str, List[object]]


class OscError(ValueError):
    """A datagram that is not well-formed OSC."""


def _padded(raw: bytes) -> bytes:
    return raw + b"\x00" * (4 - len(raw) % 4)


def encode(address: str, args: Sequence[object]) -> bytes:
    """One OSC message. Floats go as doubles (``d``): seconds of long files need them."""
    tags = ","
    body = b""
    for arg in args:
        if isinstance(arg, bool):
            tags += "T" if arg else "F"
        elif isinstance(arg, int) and -(2**31) <= arg < 2**31:
            tags += "i"
            body += struct.pack(">i", arg)
        elif isinstance(arg, float):
            tags += "d"
            body += struct.pack(">d", arg)
        elif isinstance(arg, str):
            tags += "s"
            body += _padded(arg.encode("utf-8", errors="replace"))
        else:
            raise OscError("cannot send {!r} in OSC".format(arg))
    return _padded(address.encode("utf-8")) + _padded(tags.encode("ascii")) + body


def decode(data: bytes) -> List[Message]:
    """The messages in one datagram (a message, or a bundle of them)."""
    if len(data) > MAX_DATAGRAM:
        raise OscError("datagram of {} bytes is over {}".format(len(data), MAX_DATAGRAM))
    out: List[Message] = []
    _decode(data, 0, out)
    return out


def _decode(data: bytes, depth: int, out: List[Message]) -> None:
    if data.startswith(b"#bundle\x00"):
        if depth >= MAX_DEPTH:
            raise OscError("bundles nested too deep")
        pos = 16
        if len(data) < pos:
            raise OscError("bundle shorter than its header")
        while pos < len(data):
            size = int(_unpack(">i", data, pos))
            pos += 4
            if size <= 0 or size % 4 or pos + size > len(data):
                raise OscError("bundle element of size {} does not fit".format(size))
            _decode(data[pos:pos + size], depth + 1, out)
            pos += size
        return
    if not data.startswith(b"/"):
        raise OscError("not an OSC message or bundle")
    address, pos = _string(data, 0)
    if pos >= len(data) or data[pos:pos + 1] != b",":
        raise OscError("{}: no type tags".format(address))
    tags, pos = _string(data, pos)
    args: List[object] = []
    for tag in tags[1:]:
        if tag == "s":
            text, pos = _string(data, pos)
            args.append(text)
        elif tag == "i":
            args.append(_unpack(">i", data, pos))
            pos += 4
        elif tag == "f":
            args.append(_unpack(">f", data, pos))
            pos += 4
        elif tag == "d":
            args.append(_unpack(">d", data, pos))
            pos += 8
        elif tag == "h":
            args.append(_unpack(">q", data, pos))
            pos += 8
        elif tag in "TF":
            args.append(tag == "T")
        elif tag == "N":
            args.append(None)
        else:
            raise OscError("{}: type tag {!r} is not supported".format(address, tag))
    if pos != len(data):
        raise OscError("{}: {} bytes after the last argument".format(address, len(data) - pos))
    out.append((address, args))


def _string(data: bytes, pos: int) -> Tuple[str, int]:
    end = data.find(b"\x00", pos)
    if end < 0:
        raise OscError("string without its terminating NUL")
    try:
        text = data[pos:end].decode("utf-8")
    except UnicodeDecodeError:
        raise OscError("string is not UTF-8") from None
    return text, (end // 4 + 1) * 4


def _unpack(fmt: str, data: bytes, pos: int) -> Union[int, float]:
    size = struct.calcsize(fmt)
    if pos + size > len(data):
        raise OscError("argument runs past the end of the datagram")
    value: Union[int, float] = struct.unpack(fmt, data[pos:pos + size])[0]
    return value
