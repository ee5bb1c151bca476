"""Test videos made by ffmpeg itself (lavfi sources), for the recording tests."""

import shutil
import subprocess
from pathlib import Path

import pytest

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="needs ffmpeg and ffprobe (apt-get install -y ffmpeg)",
)


def make_test_video(
    path: Path,
    *,
    seconds: float = 4,
    size: str = "640x360",
    rate: int = 25,
    audio: bool = True,
    container_args: tuple[str, ...] = (),
) -> Path:
    """Write an H.264/AAC test pattern with a tone to `path` and return it."""
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i"]
    command.append(f"testsrc=size={size}:rate={rate}:duration={seconds}")
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        command += ["-c:a", "aac", "-shortest"]
    command += [*container_args, str(path)]
    subprocess.run(command, check=True, timeout=120)
    return path
