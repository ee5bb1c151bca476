"""The import contracts of pyproject.toml (`lint-imports`, run by `make test`) hold on the code,
and fail on a copy of it with deliberate layer violations and a new import cycle."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ("accounts", "venues", "conference")

# (module, the import appended to it, the contract it breaks, how lint-imports names the edge)
VIOLATIONS = [
    # A service reaching up into the live layer.
    (
        "conference/services/qa.py",
        "from conference.live import errors",
        "Conference: edges above services above models above the credit engine",
        "conference.services.qa -> conference.live.errors",
    ),
    # A model reaching up into the services.
    (
        "conference/models/events.py",
        "from conference.services import schedule",
        "Conference: edges above services above models above the credit engine",
        "conference.models.events -> conference.services.schedule",
    ),
    # The credit engine touching the models.
    (
        "conference/credit/rules.py",
        "from conference.models import Session",
        "The credit engine is pure: no database, no models, no services",
        "conference.credit.rules -> conference.models",
    ),
    # venues importing conference.
    (
        "venues/services.py",
        "from conference.models import Event",
        "Apps: accounts <- venues <- conference",
        "venues.services -> conference.models",
    ),
    # A cycle between two services: capture -> pipeline -> capture.
    (
        "conference/services/recordings/pipeline.py",
        "from conference.services.recordings import capture",
        "No import cycles in any package",
        "No cycles are allowed in conference.services.recordings.",
    ),
]


def _lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_code(folder: Path) -> Path:
    for app in APPS:
        shutil.copytree(
            ROOT / app, folder / app, ignore=shutil.ignore_patterns("__pycache__", "migrations")
        )
    shutil.copy(ROOT / "pyproject.toml", folder)
    return folder


def _status(report: str, contract: str) -> str:
    """KEPT or BROKEN: the word after the contract's name in lint-imports' report."""
    line = next(line for line in report.splitlines() if line.startswith(contract))
    return line.removeprefix(contract).split()[0]


def test_import_contracts_kept_by_the_code(tmp_path):
    result = _lint(_copy_code(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken\.", result.stdout)


def test_import_contracts_fail_on_violations(tmp_path):
    folder = _copy_code(tmp_path)
    for module, line, _, _ in VIOLATIONS:
        path = folder / module
        path.write_text(f"{path.read_text()}\n{line}  # noqa\n")

    result = _lint(folder)

    assert result.returncode != 0
    for module, _, contract, edge in VIOLATIONS:
        assert _status(result.stdout, contract) == "BROKEN", module
        assert edge in result.stdout, module
