"""What the processing pipeline and the live capture share about processes: an exclusive file
lock that the kernel drops when its holder dies, and stopping an ffmpeg child for good."""

import fcntl
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(path: Path) -> Iterator[bool]:
    """An exclusive, non-blocking lock on the file at `path` (created with its folder); yields
    False when another process holds it.

    The kernel drops the lock when its holder dies, so a killed worker never leaves it behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stop_process(process: subprocess.Popen[bytes], *, interrupt_grace: float | None = None) -> None:
    """End `process` if it still runs and reap it: killed at once, or first interrupted with
    SIGINT (as Ctrl-C would; ffmpeg then closes its output) and killed after
    `interrupt_grace` seconds."""
    if process.poll() is not None:
        return
    if interrupt_grace is not None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=interrupt_grace)
            return
        except subprocess.TimeoutExpired:
            pass
    process.kill()
    process.wait()
