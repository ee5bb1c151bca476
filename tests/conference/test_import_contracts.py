"""The import contracts of pyproject.toml (`lint-imports`, run by `make test`) hold on the code,
and fail on a copy of it with a deliberate layer violation or a new import cycle."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ("accounts", "venues", "conference")


@pytest.fixture(scope="module")
def lint_copy(tmp_path_factory):
    """A copy of the apps' Python sources and pyproject.toml, and a function running
    `lint-imports` on it."""
    copy = tmp_path_factory.mktemp("code")
    for app in APPS:
        shutil.copytree(
            ROOT / app, copy / app, ignore=shutil.ignore_patterns("__pycache__", "migrations")
        )
    shutil.copy(ROOT / "pyproject.toml", copy)

    def lint() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(LINT_IMPORTS), "--no-cache"],
            cwd=copy,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return copy, lint


def _append(path: Path, line: str) -> str:
    original = path.read_text()
    path.write_text(f"{original}\n{line}\n")
    return original


def test_import_contracts_kept_by_the_code(lint_copy):
    _, lint = lint_copy

    result = lint()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # A service reaching up into the live layer.
        (
            "conference/services/qa.py",
            "from conference.live import errors  # noqa",
            "Conference: edges above services above models above the credit engine",
        ),
        # A model reaching up into the services.
        (
            "conference/models/events.py",
            "from conference.services import schedule  # noqa",
            "Conference: edges above services above models above the credit engine",
        ),
        # The credit engine touching the database.
        (
            "conference/credit/rules.py",
            "from conference.models import Session  # noqa",
            "The credit engine is pure: no database, no models, no services",
        ),
        # venues importing conference.
        (
            "venues/services.py",
            "from conference.models import Event  # noqa",
            "Apps: accounts <- venues <- conference",
        ),
        # A cycle between two services: capture -> pipeline -> capture.
        (
            "conference/services/recordings/pipeline.py",
            "from conference.services.recordings import capture  # noqa",
            "No import cycles in any package",
        ),
    ],
)
def test_import_contracts_fail_on_a_violation(lint_copy, module, line, broken):
    copy, lint = lint_copy
    original = _append(copy / module, line)
    try:
        result = lint()
    finally:
        (copy / module).write_text(original)

    assert result.returncode != 0
    assert _status(result.stdout, broken) == "BROKEN"


def _status(report: str, contract: str) -> str:
    """KEPT or BROKEN: the word after the contract's name in lint-imports' report."""
    line = next(line for line in report.splitlines() if line.startswith(contract))
    return line.removeprefix(contract).split()[0]
