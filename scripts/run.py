#!/usr/bin/env python3
"""Run several processes together and stop them together.

    scripts/run.py "web=uvicorn conference.asgi:application --port 8000" \
                   "worker=celery -A conference worker -l info"

Ctrl-C (SIGINT) or SIGTERM stops every process: each gets SIGTERM, and its whole process
group SIGKILL after a grace period. When one process exits on its own, the others are stopped too, and this script exits
with the first one's exit code, so a crash is never hidden behind a process that keeps running.
"""

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 20.0


def parse_command(spec: str) -> tuple[str, list[str]]:
    name, separator, command = spec.partition("=")
    if not separator or not name.strip() or not command.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=COMMAND, got {spec!r}")
    return name.strip(), shlex.split(command)


def start(name: str, argv: list[str]) -> subprocess.Popen:
    print(f"[run] starting {name}: {shlex.join(argv)}", flush=True)
    # A session of its own: the terminal's Ctrl-C reaches this script only, which then stops
    # every child in order instead of leaving them to race.
    return subprocess.Popen(argv, start_new_session=True)  # noqa: S603 - argv from our own Makefile


def stop_all(processes: dict[str, subprocess.Popen]) -> None:
    for name, process in processes.items():
        if process.poll() is None:
            print(f"[run] stopping {name} (pid {process.pid})", flush=True)
            # The main process only: Celery and daphne shut their own children down.
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def supervise(processes: dict[str, subprocess.Popen]) -> int:
    while True:
        for name, process in processes.items():
            code = process.poll()
            if code is not None:
                print(f"[run] {name} exited with code {code}; stopping the others", flush=True)
                return code
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commands", nargs="+", type=parse_command, metavar="NAME=COMMAND")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, command in args.commands:
            processes[name] = start(name, command)
        return supervise(processes)
    except Stop as stop:
        print(f"[run] {stop} received", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(processes)
        print("[run] all stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
