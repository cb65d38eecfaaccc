"""CI as code: the GitHub workflows, ``.ci/run``, pre-commit and the README's quick start."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))

pytestmark = pytest.mark.unit


def tool(name: str) -> str:
    """The path of a console script installed in this environment (the dev group)."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed; run `uv sync --locked` (it is in the dev group)", pytrace=False
        )
    return found


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` from the repository root, capturing its output."""
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO_ROOT)


def load(path: Path) -> dict[Any, Any]:
    """A workflow as data (PyYAML reads the key ``on`` as ``True``)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def workflow(name: str) -> dict[Any, Any]:
    """The workflow file ``.github/workflows/<name>``."""
    return load(REPO_ROOT / ".github" / "workflows" / name)


def steps_running(job: dict[str, Any]) -> list[str]:
    """The ``run`` scripts of a job's steps."""
    return [str(step["run"]) for step in job["steps"] if "run" in step]


def test_the_ci_and_release_workflows_exist() -> None:
    """Both workflows are present, so the parametrised checks below cannot pass vacuously."""
    assert {path.name for path in WORKFLOWS} >= {"ci.yml", "release.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path: Path) -> None:
    """Each workflow validates against the GitHub workflow JSON schema."""
    done = run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    """Each job sets ``timeout-minutes``, so a hung server cannot hold a runner for six hours."""
    done = run(
        [tool("check-jsonschema"), "--builtin-schema", "custom.github-workflows-require-timeout", str(path)]
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_pass_actionlint() -> None:
    """The workflows pass actionlint: expressions, action inputs, runner labels and scripts."""
    done = run([tool("actionlint"), "-no-color", *(str(path) for path in WORKFLOWS)])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_default_to_read_only_permissions(path: Path) -> None:
    """A workflow grants only ``contents: read``; a job that must write says so itself."""
    assert load(path)["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_setup_uv_caches(path: Path) -> None:
    """Every use of setup-uv turns its cache on."""
    uses = [
        step
        for job in load(path)["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("astral-sh/setup-uv@")
    ]
    assert uses
    assert all(step["with"]["enable-cache"] is True for step in uses)


def test_ci_tests_every_python_on_both_databases_through_ci_run() -> None:
    """The test job is the 3.11-3.13 x sqlite/postgres matrix, and it runs ``.ci/run``."""
    job = workflow("ci.yml")["jobs"]["test"]
    assert job["strategy"]["matrix"] == {
        "python": ["3.11", "3.12", "3.13"],
        "database": ["sqlite", "postgres"],
    }
    assert job["env"]["FOLIO_DATABASE_BACKEND"] == "${{ matrix.database }}"
    assert ".ci/run" in steps_running(job)


def test_ci_jobs_use_the_make_targets() -> None:
    """Lint, type checks and docs run the same make targets as a developer."""
    jobs = workflow("ci.yml")["jobs"]
    assert "make lint" in steps_running(jobs["lint"])
    assert "make typecheck" in steps_running(jobs["typecheck"])
    assert "make docs" in steps_running(jobs["docs"])
    assert "uv build" in steps_running(jobs["build"])


def test_only_the_publishing_jobs_may_write() -> None:
    """Write access is granted to the docs deployment and the release, and nowhere else."""
    writers = {
        (path.name, name)
        for path in WORKFLOWS
        for name, job in load(path)["jobs"].items()
        if "write" in dict(job.get("permissions", {})).values()
    }
    assert writers == {("ci.yml", "docs-deploy"), ("release.yml", "publish")}


def test_docs_deploy_runs_only_for_pushes_to_main() -> None:
    """The site is published with mike from main only, after the docs and tests passed."""
    job = workflow("ci.yml")["jobs"]["docs-deploy"]
    assert job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert set(job["needs"]) == {"docs", "test"}
    assert any("mike deploy --push --update-aliases" in script for script in steps_running(job))


def test_release_runs_on_version_tags_with_changelog_notes() -> None:
    """Tags ``v*`` trigger the release, whose notes come from ``scripts/changelog_section.py``."""
    release = workflow("release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}
    scripts = [script for job in release["jobs"].values() for script in steps_running(job)]
    assert any("scripts/changelog_section.py" in script for script in scripts)
    assert any(script.startswith("gh release create") and "--notes-file" in script for script in scripts)


def test_ci_run_calls_exactly_make_test() -> None:
    """``.ci/run`` runs ``make test`` and nothing else, so CI is what a developer runs."""
    lines = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [
        line.strip()
        for line in lines
        if line.strip() and not line.lstrip().startswith("#") and not re.match(r"^\s*(set|cd)\s", line)
    ]
    assert commands == ["make test"]


def test_readme_quick_start_is_make_run_then_make_test() -> None:
    """The README opens with the quick start, whose first two commands are ``make run`` and ``make test``."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)
    assert sections[0] == "Quick start"
    quick_start = readme.split("## Quick start", 1)[1]
    block = re.search(r"```(?:bash|sh|console)?\n(.*?)```", quick_start, flags=re.DOTALL)
    assert block is not None
    commands = [
        " ".join(shlex.split(line, comments=True))
        for line in block.group(1).splitlines()
        if shlex.split(line, comments=True)
    ]
    assert commands[:2] == ["make run", "make test"]


def test_pre_commit_config_is_valid() -> None:
    """``.pre-commit-config.yaml`` passes pre-commit's own validation."""
    done = run([tool("pre-commit"), "validate-config", ".pre-commit-config.yaml"])
    assert done.returncode == 0, done.stdout + done.stderr


def test_pre_commit_runs_the_ci_checks() -> None:
    """pre-commit runs ruff, ruff format, mypy, import-linter and the lock check."""
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hook_ids = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert hook_ids >= {
        "ruff-check",
        "ruff-format",
        "mypy",
        "lint-imports",
        "uv-lock",
        "check-yaml",
        "check-toml",
    }
