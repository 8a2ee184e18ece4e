"""The OSC codec and the hardened receiver: hostile datagrams never stop the daemon answering."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.control.osc import MAX_DEPTH, decode_packet, encode_message
from bridge.daemon import Daemon
from bridge.errors import OscDecodeError

from ..daemon_helpers import OscClient, running_daemon


def osc_string(text: bytes) -> bytes:
    return text + b"\x00" * (4 - len(text) % 4)


def bundle(*elements: bytes, timetag: int = 1) -> bytes:
    body = b"".join(struct.pack(">i", len(e)) + e for e in elements)
    return b"#bundle\x00" + struct.pack(">Q", timetag) + body


def test_messages_round_trip() -> None:
    data = encode_message("/bridge/inpaint", ["/a b.wav", 1.5, 2, True, "ü"])
    [(address, params)] = decode_packet(data)
    assert address == "/bridge/inpaint" and params == ["/a b.wav", 1.5, 2, True, "ü"]


def test_bundles_are_read_with_bounds_and_timetags_ignored() -> None:
    ping = encode_message("/bridge/ping", [])
    far_future = (2**32 - 1) << 32
    assert [a for a, _ in decode_packet(bundle(ping, bundle(ping), timetag=far_future))] == ["/bridge/ping"] * 2
    deep = ping
    for _ in range(MAX_DEPTH + 1):
        deep = bundle(deep)
    with pytest.raises(OscDecodeError, match="nested deeper"):
        decode_packet(deep)


@pytest.mark.parametrize("data,words", [
    (b"", "must start with"),
    (b"hello", "must start with"),
    (b"#bundle\x00\x00", "shorter than its header"),
    (bundle(b"/x\x00\x00,\x00\x00\x00")[:-3], "size"),
    (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", -4), "size -4"),
    (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 6) + b"/x\x00\x00,\x00", "size 6"),
    (osc_string(b"/a") + osc_string(b",s") + b"\xff\xfe\x00\x00", "malformed message"),
    (osc_string(b"/a") + osc_string(b",f") + b"\x00", "runs past the end"),
    (osc_string(b"/a") + osc_string(b",i"), "runs past the end"),
    (osc_string(b"/a") + osc_string(b",q") + b"\x00" * 4, "unknown type tag 'q'"),
    (osc_string(b"/a"), "no type tag"),
    (osc_string(b"/a") + osc_string(b",i") + b"\x00" * 8, "4 bytes after the last argument"),
    (osc_string(b"/a") + osc_string(b",s") + b"abcd", "terminating NUL"),
    (osc_string(b"/a") + osc_string(b",b") + struct.pack(">i", 100) + b"xx\x00\x00", "runs past the end"),
])
def test_malformed_packets_are_refused(data: bytes, words: str) -> None:
    with pytest.raises(OscDecodeError, match=words):
        decode_packet(data)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    with running_daemon(media=[tmp_path]) as d:
        yield d


hostile = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda a, t, rest: osc_string(b"/" + a) + osc_string(b"," + t) + rest,
              st.binary(max_size=40), st.binary(max_size=12), st.binary(max_size=60)),
    st.builds(lambda depth, tag: (lambda p: [p := bundle(p, timetag=tag) for _ in range(depth)][-1])(
        encode_message("/bridge/ping", [])), st.integers(1, 12), st.integers(0, 2**64 - 1)),
    st.builds(lambda a: osc_string(a.encode("utf-8", "surrogatepass")) + osc_string(b","),
              st.text(alphabet="/*?[]{}!,#ab\u00e9\U0001f600", max_size=60)),
    st.builds(lambda n: b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", n) + b"\x00" * 8,
              st.integers(-(2**31), 2**31 - 1)),
    st.just(b"/" + b"a" * 70000),
)


@settings(max_examples=250, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(packet=hostile)
def test_hostile_datagrams_never_stop_the_daemon(daemon: Daemon, packet: bytes) -> None:
    client = OscClient(daemon.osc_address)
    try:
        try:
            client.send_raw(packet[:65000])
        except OSError:
            pass
        client.ping(timeout=10.0)  # still answering; how fast is the bench's business, not a test's
    finally:
        client.close()


def test_floods_are_counted_and_the_daemon_keeps_answering(daemon: Daemon) -> None:
    client = OscClient(daemon.osc_address)
    try:
        for i in range(3000):
            client.send_raw(b"junk" + bytes([i % 256]))
        client.ping(timeout=2.0)
        assert daemon.endpoint is not None
        stats = daemon.endpoint.stats
        assert stats.malformed + stats.rate_limited >= 3000
    finally:
        client.close()
