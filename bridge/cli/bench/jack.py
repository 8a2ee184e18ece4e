"""A private JACK server (dummy driver) for MIDI measurements and tests, waited for, never slept on.

The server gets a fixed name of its own, so it never meets a user's server; callers wait
for it to answer (``jack_wait``) and for a MIDI connection to take effect (``jack_lsp -c``)
instead of sleeping a fixed time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["available", "connect", "connected", "private_server"]

WAIT_S = 20.0


def available() -> bool:
    """Whether jackd and its command-line clients are installed (Debian package jackd2)."""
    return all(shutil.which(tool) for tool in ("jackd", "jack_wait", "jack_lsp", "jack_connect"))


@contextmanager
def private_server(name: str, *, period: int = 512) -> Iterator[str | None]:
    """Run ``jackd -d dummy`` as ``name`` with ``JACK_DEFAULT_SERVER`` set; yields ``None`` once it
    answers, or why it did not start.

    The server runs its clients' MIDI threads in real time where the system allows, as a
    musician's server does (elsewhere it goes on without); without that, busy cores make it
    drop cycles and clients. Its messages go to a file: it reports every late cycle, and a
    pipe nobody reads fills up under load until the server blocks writing to it.
    """
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    with tempfile.TemporaryFile("w+") as said:
        proc = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p",
                                 str(period)], stdout=subprocess.DEVNULL, stderr=said, text=True)
        try:
            waited = subprocess.run(["jack_wait", "-w", "-s", name, "-t", str(int(WAIT_S))], capture_output=True,
                                    text=True, timeout=WAIT_S + 10)
            problem = None
            if "server is available" not in waited.stdout or proc.poll() is not None:
                said.seek(0)
                problem = f"jackd did not start: {waited.stdout.strip()} {said.read()[-2000:]}".strip()
            yield problem
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if old is None:
                os.environ.pop("JACK_DEFAULT_SERVER", None)
            else:
                os.environ["JACK_DEFAULT_SERVER"] = old


def connected(server: str, source: str, destination: str, *, timeout: float = WAIT_S) -> bool:
    """Wait until a port whose name holds ``source`` is connected to one whose name holds ``destination``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = subprocess.run(["jack_lsp", "-c", "-s", server], capture_output=True, text=True, timeout=10).stdout
        port = ""
        for line in listing.splitlines():
            if not line.startswith((" ", "\t")):
                port = line
            elif source in port and destination in line.strip():
                return True
        time.sleep(0.05)
    return False


def connect(server: str, source: str, destination: str, *, timeout: float = WAIT_S) -> bool:
    """Connect the first output port whose name starts with ``source`` to the port ``destination``, and
    wait until the connection shows."""
    listing = subprocess.run(["jack_lsp", "-s", server], capture_output=True, text=True, timeout=10).stdout
    port = next((line.strip() for line in listing.splitlines() if line.strip().startswith(source)), None)
    if port is None:
        return False
    subprocess.run(["jack_connect", "-s", server, port, destination], capture_output=True, text=True, timeout=10)
    return connected(server, port, destination, timeout=timeout)
