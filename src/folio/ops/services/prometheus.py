"""Prometheus from Debian, scraping itself, the gateway and every registered Folio process.

The configuration is rendered from ``deploy/prometheus/prometheus.yml.j2`` into
``data_dir/prometheus.yml`` before every start. Four jobs:

- ``prometheus``: itself;
- ``folio-gateway``: ``settings.gateway`` host:port, path ``/metrics``;
- ``envoy``: Envoy's admin (``services.envoy`` host:admin_port), path ``/stats/prometheus``;
- ``folio``: file-based discovery over ``data_dir/targets/*.json``, re-read every
  ``scrape_interval_s`` (and on file change). ``register_scrape_target`` drops such a
  file and ``unregister_scrape_target`` removes it; no reload is needed.

It runs as the ``prometheus`` account with its TSDB in ``data_dir/tsdb``, listens on
``services.prometheus`` host:port only, and has ``--web.enable-lifecycle`` on
(``POST /-/reload`` re-reads the configuration) and ``--enable-feature=exemplar-storage``
(the exemplars Folio's histograms attach, a trace id per bucket, are kept and queryable).

It evaluates the rules in ``deploy/prometheus/rules/`` (the SLO recording and burn-rate
alerting rules, docs/slo.md), copied to ``data_dir/rules`` before every start so the
``prometheus`` account reads its own copy. ``PROMTOOL`` checks and unit-tests them;
``AMTOOL`` validates ``deploy/prometheus/alertmanager.yml``, the routing of their alerts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from folio.core.settings import Settings
from folio.ops.health import http_probe
from folio.ops.process import ProcessSpec
from folio.ops.service import AptPackage, Requirement, Service
from folio.ops.services.accounts import SystemAccount
from folio.ops.templates import deploy_template, render_deploy_template

__all__ = [
    "AMTOOL",
    "PROMTOOL",
    "RULE_FILES",
    "PrometheusService",
    "register_scrape_target",
    "unregister_scrape_target",
]

_OS_USER = "prometheus"
_BINARY = "/usr/bin/prometheus"

PROMTOOL = AptPackage("prometheus", "/usr/bin/promtool")
"""Prometheus's own checker (``check config``, ``check rules``, ``test rules``), from the same package."""

AMTOOL = AptPackage("prometheus-alertmanager", "/usr/bin/amtool")
"""Alertmanager's checker (``check-config``): optional, no service of the harness needs it."""

RULE_FILES = ("slo.rules.yml",)
"""The rule files under ``deploy/prometheus/rules/`` Prometheus evaluates."""
_MAX_SCRAPE_TIMEOUT_S = 10
_TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PrometheusService(Service):
    """Debian's ``prometheus`` with file-based discovery of Folio's processes."""

    name = "prometheus"
    summary = "Prometheus (metrics)"

    @property
    def config_file(self) -> Path:
        """The rendered prometheus.yml."""
        return self.data_dir / "prometheus.yml"

    @property
    def rules_dir(self) -> Path:
        """Folder of the rule files Prometheus evaluates (copies of ``RULE_FILES``)."""
        return self.data_dir / "rules"

    @property
    def targets_dir(self) -> Path:
        """Folder of file-discovery ``*.json`` target lists (the ``folio`` job)."""
        return self.data_dir / "targets"

    def requirements(self) -> list[Requirement]:
        """Debian's prometheus."""
        return [AptPackage("prometheus", _BINARY), AMTOOL]  # amtool: `make test` checks the routing

    def processes(self) -> list[ProcessSpec]:
        """One Prometheus server."""
        cfg = self.settings.services.prometheus
        return [
            self.spec(
                self.name,
                [
                    _BINARY,
                    f"--config.file={self.config_file}",
                    f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                    f"--web.listen-address={cfg.host}:{cfg.port}",
                    "--web.enable-lifecycle",
                    "--enable-feature=exemplar-storage",
                ],
                http_probe(f"{cfg.url}/-/ready"),
                ports={"services.prometheus.port": cfg.port},
                user=_OS_USER,
                cwd=self.data_dir,
                prepare=self._prepare,
            )
        ]

    def endpoints(self) -> dict[str, str]:
        """The web UI and HTTP API."""
        return {"web": self.settings.services.prometheus.url}

    def render(self) -> str:
        """The prometheus.yml these settings produce (pure; writes nothing)."""
        cfg, gateway = self.settings.services.prometheus, self.settings.gateway
        return render_deploy_template(
            "prometheus",
            "prometheus.yml.j2",
            host=cfg.host,
            port=cfg.port,
            scrape_interval_s=cfg.scrape_interval_s,
            scrape_timeout_s=min(cfg.scrape_interval_s, _MAX_SCRAPE_TIMEOUT_S),
            gateway_host=gateway.host,
            gateway_port=gateway.port,
            envoy_host=self.settings.services.envoy.host,
            envoy_admin_port=self.settings.services.envoy.admin_port,
            targets_dir=str(self.targets_dir),
            rule_files=[str(self.rules_dir / name) for name in RULE_FILES],
        )

    def _prepare(self) -> None:
        """Write the configuration and give the TSDB folder to the prometheus account."""
        account = SystemAccount.lookup(_OS_USER)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        account.ensure_reachable(self.data_dir, managed_root=self.settings.services.data_dir)
        account.own_dir(self.data_dir / "tsdb", 0o750)
        self.targets_dir.mkdir(exist_ok=True)
        self.rules_dir.mkdir(exist_ok=True)
        for name in RULE_FILES:
            _write_atomically(self.rules_dir / name, deploy_template("prometheus", "rules", name).read_text())
        _write_atomically(self.config_file, self.render())


def register_scrape_target(
    settings: Settings, name: str, host: str, port: int, labels: dict[str, str] | None = None
) -> Path:
    """Have Prometheus scrape ``http://host:port/metrics`` under job ``folio``; returns the file written.

    The target carries the label ``service=<name>`` plus ``labels``. Registering the
    same name again replaces it. Works whether or not Prometheus runs yet: it picks
    the file up on start or within one scrape interval.
    """
    path = _target_file(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    group = [{"targets": [f"{host}:{port}"], "labels": {"service": name, **(labels or {})}}]
    _write_atomically(path, json.dumps(group, indent=2) + "\n")
    return path


def unregister_scrape_target(settings: Settings, name: str) -> bool:
    """Stop scraping the target registered as ``name``; returns whether it was registered."""
    path = _target_file(settings, name)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def _target_file(settings: Settings, name: str) -> Path:
    if not _TARGET_NAME.match(name):
        raise ValueError(f"scrape target name {name!r} must be letters, digits, '.', '_' or '-'")
    return PrometheusService(settings).targets_dir / f"{name}.json"


def _write_atomically(path: Path, text: str) -> None:
    # Prometheus watches these files; a rename means it never reads half of one.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)
