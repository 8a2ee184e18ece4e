from __future__ import annotations

import platform
import subprocess
import sys

import pytest

_FREED = """
import sys
import numpy as np
from bridge.runtime import prepare_for_jobs

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "prepared":
    prepare_for_jobs()
block = np.ones(20 << 18, dtype=np.float32)  # 20 MB, touched
held = rss_mb()
del block
print(held - rss_mb(), sys.getswitchinterval())
"""


def _after_free(how: str) -> tuple[float, float]:
    done = subprocess.run([sys.executable, "-c", _FREED, how], capture_output=True, text=True, check=True)
    returned, interval = done.stdout.split()
    return float(returned), float(interval)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the heap policy is glibc's")
def test_a_prepared_process_keeps_the_memory_a_job_frees() -> None:
    returned, interval = _after_free("plain")
    assert returned > 15 and interval == 0.005  # glibc's own policy: the block goes back at once
    returned, interval = _after_free("prepared")
    assert returned < 5 and interval == 0.001
