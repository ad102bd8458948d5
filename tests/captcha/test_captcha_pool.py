"""The training pool: a worker process renders exactly what this process would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("captcha")
from jiema_captcha.generator import CaptchaSettings  # noqa: E402
from jiema_captcha.pool import Pool, render  # noqa: E402


def test_worker_pool_equals_in_process_pool_and_stream_window() -> None:
    settings = CaptchaSettings(alphabet="AB", min_length=2, max_length=2)
    pools = [Pool(settings, 3, 16, 48, pool_size=6, refresh=4, workers=w, chunk=2)
             for w in (0, 1)]
    try:
        for _ in range(2):
            assert np.array_equal(pools[0].images, pools[1].images)
            assert pools[0].labels == pools[1].labels
            for p in pools:
                p.refresh()
        # after two refreshes of 4 the pool is stream images [8, 14), image i in slot i % 6
        images, labels = render(settings.model_dump_json(), 3, 8, 6, 16, 48)
        slots = [i % 6 for i in range(8, 14)]
        assert np.array_equal(pools[1].images[slots], images)
        assert [pools[1].labels[s] for s in slots] == labels
        resumed = Pool(settings, 3, 16, 48, pool_size=6, refresh=4, refreshes_done=2, workers=0)
        assert np.array_equal(resumed.images, pools[1].images)
    finally:
        for p in pools:
            p.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_worker_leaves_when_the_trainer_is_killed(tmp_path) -> None:
    code = (
        "import os, signal\n"
        "from jiema_captcha.generator import CaptchaSettings\n"
        "from jiema_captcha.pool import Pool\n"
        "p = Pool(CaptchaSettings(alphabet='AB', min_length=2, max_length=2), 0, 16, 48,\n"
        "         pool_size=4, refresh=2, workers=1, chunk=2)\n"
        "print(p.executor.submit(os.getpid).result(), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    log = tmp_path / "out.txt"  # a file, not a pipe: an orphaned worker would hold a pipe open
    with log.open("w") as f:
        rc = subprocess.run([sys.executable, "-c", code], stdout=f, stderr=subprocess.STDOUT,
                            timeout=60).returncode
    assert rc == -signal.SIGKILL, log.read_text()
    worker = int(log.read_text().split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(worker):
        time.sleep(0.2)
    if alive(worker):
        os.kill(worker, signal.SIGKILL)  # leave no orphan behind, then fail
        raise AssertionError("the pool worker outlived its killed trainer")


def alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
