"""Ableton Link, for real: the cases in ``link_cases.py`` run in a private network namespace.

Link discovers peers by multicast on every network interface, so the cases run in a namespace
of their own (``unshare --net``) whose only interface is loopback, with multicast routed to
it: two Link peers find each other there, and nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"


def test_link_cases_in_a_private_network_namespace() -> None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare and ip (util-linux, iproute2) are needed for a private network namespace")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {probe.stderr.strip()}")
    inner = f"{SETUP} && exec {sys.executable} -m pytest -q -p no:cacheprovider tests/control/link_cases.py"
    done = subprocess.run(["unshare", "--net", "sh", "-c", inner], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "INPAINT_BRIDGE_PRIVATE_NET": "1"}, timeout=300)
    assert done.returncode == 0 and " passed" in done.stdout and "skipped" not in done.stdout, \
        done.stdout[-4000:] + done.stderr[-2000:]
