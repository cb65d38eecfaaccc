"""What the PostgreSQL, RabbitMQ, nginx and Prometheus services generate, checked without running them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from folio.core.settings import Settings, load_settings
from folio.ops.process import ProcessError
from folio.ops.services import SERVICE_TYPES
from folio.ops.services import postgres as pg
from folio.ops.services import rabbitmq as rabbit
from folio.ops.services.nginx import NginxService
from folio.ops.services.prometheus import PrometheusService, register_scrape_target, unregister_scrape_target

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(clean_env: Path) -> Settings:
    """Settings with unusual ports, data under the test's folder, no .env file."""
    base = load_settings(env_file=clean_env / "absent.env")
    services = base.services.model_copy(
        update={
            "data_dir": clean_env / "services",
            "nginx": base.services.nginx.model_copy(update={"port": 18080}),
            "prometheus": base.services.prometheus.model_copy(
                update={"port": 19090, "scrape_interval_s": 30}
            ),
        }
    )
    return base.model_copy(
        update={"services": services, "gateway": base.gateway.model_copy(update={"port": 18000})}
    )


def test_all_four_services_are_registered() -> None:
    """ServiceManager sees postgres, rabbitmq, nginx and prometheus."""
    names = {cls.name for cls in SERVICE_TYPES}
    assert {"postgres", "rabbitmq", "nginx", "prometheus"} <= names


def test_nginx_listens_only_on_its_host_and_proxies_to_the_gateway(settings: Settings) -> None:
    """The rendered nginx.conf has one listen line (127.0.0.1:port) and the gateway as upstream."""
    conf = NginxService(settings).render()
    assert re.findall(r"^\s*listen\s+(\S+);", conf, re.MULTILINE) == ["127.0.0.1:18080"]
    assert "server 127.0.0.1:18000;" in conf
    assert "proxy_set_header X-Request-ID $folio_request_id;" in conf
    assert "{{" not in conf
    assert "{%" not in conf


def test_nginx_includes_conf_d_inside_the_server_and_http_d_outside(settings: Settings) -> None:
    """conf.d files can add locations (server level), http.d files upstreams (http level)."""
    service = NginxService(settings)
    conf = service.render()
    server_block = conf[conf.index("    server {") :]
    assert f"include {service.conf_d}/*.conf;" in server_block
    assert f"include {service.http_d}/*.conf;" in conf[: conf.index("    server {")]


def test_nginx_refuses_a_data_dir_it_cannot_quote(settings: Settings, tmp_path: Path) -> None:
    """A data folder with a space would break nginx syntax, so rendering refuses it."""
    odd = settings.model_copy(
        update={"services": settings.services.model_copy(update={"data_dir": tmp_path / "my services"})}
    )
    with pytest.raises(ProcessError, match=r"services\.data_dir"):
        NginxService(odd).render()


def test_prometheus_config_has_the_three_jobs(settings: Settings) -> None:
    """prometheus.yml scrapes itself, the gateway (job folio-gateway) and the file-discovered folio job."""
    service = PrometheusService(settings)
    config = yaml.safe_load(service.render())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["127.0.0.1:19090"]}]
    assert jobs["folio-gateway"]["static_configs"] == [{"targets": ["127.0.0.1:18000"]}]
    assert jobs["folio-gateway"]["metrics_path"] == "/metrics"
    assert jobs["folio"]["file_sd_configs"] == [
        {"files": [f"{service.targets_dir}/*.json"], "refresh_interval": "30s"}
    ]
    assert config["global"] == {
        "scrape_interval": "30s",
        "scrape_timeout": "10s",
        "evaluation_interval": "30s",
    }


def test_scrape_target_registration_round_trip(settings: Settings) -> None:
    """Registering writes a file_sd JSON group with a service label; unregistering removes it once."""
    path = register_scrape_target(settings, "worker-1", "127.0.0.1", 9101, labels={"role": "worker"})
    assert json.loads(path.read_text()) == [
        {"targets": ["127.0.0.1:9101"], "labels": {"service": "worker-1", "role": "worker"}}
    ]
    assert path.parent == PrometheusService(settings).targets_dir
    assert unregister_scrape_target(settings, "worker-1") is True
    assert unregister_scrape_target(settings, "worker-1") is False
    assert not path.exists()


def test_scrape_target_names_cannot_escape_the_targets_folder(settings: Settings) -> None:
    """A target name with a path separator is refused instead of writing outside targets/."""
    with pytest.raises(ValueError, match="scrape target name"):
        register_scrape_target(settings, "../evil", "127.0.0.1", 1)


def test_rabbitmq_password_hash_is_salted_sha256() -> None:
    """The definitions hash is base64(salt + sha256(salt + password)), as RabbitMQ expects."""
    salt = b"\x01\x02\x03\x04"
    encoded = rabbit.password_hash("s3cret", salt)
    assert base64.b64decode(encoded) == salt + hashlib.sha256(salt + b"s3cret").digest()
    assert rabbit._hash_matches(encoded, "s3cret")
    assert not rabbit._hash_matches(encoded, "other")
    assert rabbit.password_hash("s3cret") != rabbit.password_hash("s3cret")


def test_rabbitmq_distribution_is_pinned_to_loopback(settings: Settings) -> None:
    """epmd, the node and rabbitmqctl are all told to bind 127.0.0.1, on Folio's own ports."""
    env = rabbit.RabbitMQService(settings).environment()
    cfg = settings.services.rabbitmq
    assert env["ERL_EPMD_ADDRESS"] == "127.0.0.1"
    assert env["ERL_EPMD_PORT"] == str(cfg.epmd_port)
    assert env["RABBITMQ_NODE_IP_ADDRESS"] == "127.0.0.1"
    for key in ("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "RABBITMQ_CTL_ERL_ARGS"):
        assert "inet_dist_use_interface {127,0,0,1}" in env[key]
    assert all(
        value.startswith(str(settings.services.data_dir.absolute()))
        for key, value in env.items()
        if key.endswith(("_BASE", "_FILE", "HOME"))
    )


def test_rabbitmq_refuses_a_host_it_cannot_pin_distribution_to() -> None:
    """Hostnames and IPv6 cannot be expressed as inet_dist_use_interface, so they are refused."""
    assert rabbit._erlang_ip("127.0.0.1") == "{127,0,0,1}"
    for host in ("localhost", "::1"):
        with pytest.raises(ProcessError, match="IP"):
            rabbit._erlang_ip(host)


def test_postgres_quoting() -> None:
    """Identifiers and literals are quoted by doubling; config strings refuse quotes outright."""
    assert pg.quote_ident('we"ird') == '"we""ird"'
    assert pg.quote_literal("o'brien") == "'o''brien'"
    assert pg._conf_string("/srv/folio") == "'/srv/folio'"
    with pytest.raises(ProcessError):
        pg._conf_string("/srv/o'brien")
    assert pg._hba_address("127.0.0.1") == "127.0.0.1/32"
    assert pg._hba_address("::1") == "::1/128"


def test_postgres_endpoints_never_show_the_password(settings: Settings) -> None:
    """Status output names both servers but masks the application password."""
    # model_copy(data_dir=...) keeps the roles file of the settings it copied: point it here.
    settings.services.postgres.roles_file = settings.services.data_dir / "roles.toml"
    pg.ensure_generated_passwords(settings.services.postgres)
    endpoints = pg.PostgresService(settings).endpoints()
    secret = settings.services.postgres.password("app").get_secret_value()
    assert set(endpoints) == {"primary", "replica"}
    assert all(secret not in url and ":***@" in url for url in endpoints.values())
