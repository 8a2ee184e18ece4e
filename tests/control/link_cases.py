"""Ableton Link cases, run by ``test_link.py`` inside a private network namespace with loopback only.

A real Link session: the daemon (``serve --link``) and a peer in this process, which sets the
tempo and reads the phase. Link discovers peers by multicast on every interface; here the
only interface is loopback, so nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from tests.daemon_helpers import DaemonProcess, media_folder

pytestmark = pytest.mark.skipif(os.environ.get("INPAINT_BRIDGE_PRIVATE_NET") != "1",
                                reason="Link cases run only inside the private network namespace (test_link.py)")


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return media_folder(tmp_path, sr=48000, seconds=8.0, seed=2, subtype="PCM_16")


def test_only_loopback_is_here() -> None:
    assert [name for _, name in socket.if_nameindex()] == ["lo"]


def test_the_daemon_follows_the_session_and_announces_takes_on_the_bar(media: Path, tmp_path: Path) -> None:
    from aalink import Link

    async def main() -> None:
        peer = Link(120.0)
        peer.quantum = 4
        peer.enabled = True
        daemon = DaemonProcess(media, "--link", log=tmp_path / "log")
        client = daemon.client
        try:
            def status() -> dict[str, object]:
                client.send("/bridge/status")
                args = client.reply("/bridge/status")[1]
                return dict(zip(args[::2], args[1::2], strict=True))

            while peer.num_peers < 1:  # the daemon joins the session
                await asyncio.sleep(0.02)
            peer.tempo = 133.0
            now = await asyncio.to_thread(status)
            while abs(float(now["tempo"]) - 133.0) > 0.01:  # type: ignore[arg-type]
                await asyncio.sleep(0.02)
                now = await asyncio.to_thread(status)
            assert now["time"] == "link" and now["peers"] == 1 and now["quantum"] == 4.0
            assert 0.0 <= float(now["phase"]) < 4.0  # type: ignore[arg-type]

            song = str(media / "song.wav")
            for quantize, spacing in (("bar", 4.0), ("beat", 1.0), ("2", 8.0)):
                client.send("/bridge/inpaint", song, 2.0, 2.05, "", "quantize", quantize, "keep", 1)
                job = (await asyncio.to_thread(client.reply, "/bridge/accepted"))[1][0]
                address, args = await asyncio.to_thread(client.job_end, job, 30)
                # where the shared timeline is when the take is announced: Link lines peers' beats up
                # modulo the quantum only, so a 2-bar boundary of the daemon is a bar line of the peer
                shared = min(spacing, 4.0)
                phase = peer.beat % shared
                assert address == "/bridge/done", args
                boundary = args[6]
                assert boundary % spacing == pytest.approx(0.0, abs=1e-6), (quantize, boundary)
                assert phase < 0.25 or phase > shared - 0.02, (quantize, phase)  # on the boundary, not before
        finally:
            daemon.stop()
            peer.enabled = False

    asyncio.run(main())
