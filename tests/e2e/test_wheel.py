"""The built wheel is self-sufficient: it carries migrations and service templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from folio.core.migrations import head_revision
from folio.ops.templates import deploy_template
from tests.conftest import REPO_ROOT, uv_executable

pytestmark = pytest.mark.e2e


def test_wheel_carries_migrations_and_templates(tmp_path: Path) -> None:
    """`uv build` puts Alembic's env, the revisions, the web templates and deploy/ templates in the wheel."""
    subprocess.run(
        [uv_executable(), "build", "--wheel", "-o", str(tmp_path), "-q"], cwd=REPO_ROOT, check=True
    )
    wheel = next(tmp_path.glob("folio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "folio/migrations/env.py",
        "folio/migrations/script.py.mako",
        "folio/migrations/versions/0001_baseline.py",
        "folio/entrypoints/web/templates/base.html",
        "folio/entrypoints/web/static/folio.css",
        "folio/identity/templates/auth/login.html",
        "folio/tasks/templates/board/index.html",
        "folio/search/templates/search/index.html",
        "folio/_deploy/nginx/nginx.conf.j2",
        "folio/_deploy/prometheus/prometheus.yml.j2",
    } <= names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = (
        "from folio.ops.templates import deploy_template; from folio.core import migrations; "
        "print(deploy_template('nginx', 'nginx.conf.j2')); print(migrations.head_revision())"
    )
    # PYTHONPATH precedes site-packages, so `folio` resolves to the unpacked wheel, not the checkout.
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**_without_coverage(os.environ), "PYTHONPATH": str(target)},
        check=True,
    )
    template_path, head = done.stdout.split()
    assert template_path.startswith(str(target))
    assert head == head_revision()  # every revision made it into the wheel


def _without_coverage(environ: os._Environ[str]) -> dict[str, str]:
    """The environment minus coverage's hooks: the unpacked copy is not Folio's source."""
    return {k: v for k, v in environ.items() if not k.upper().startswith(("COV", "COVERAGE"))}


def test_missing_template_is_a_clear_error() -> None:
    """Asking for a template that exists nowhere names it."""
    with pytest.raises(FileNotFoundError, match=r"deploy/nginx/absent\.j2"):
        deploy_template("nginx", "absent.j2")
