"""nginx from Debian: the front door, proxying to the gateway, reloadable with extra locations.

The configuration is rendered from ``deploy/nginx/nginx.conf.j2`` into
``data_dir/nginx.conf`` before every start and every ``reload()``. Layout under
``data_dir`` (``<services.data_dir>/nginx/``)::

    nginx.conf        the rendered configuration
    conf.d/*.conf     included inside the server block: extra ``location`` blocks
    http.d/*.conf     included at http level: ``upstream`` and ``map`` blocks
    generation.conf   the token ``/nginx-generation`` answers (see ``reload``)
    nginx.pid  tmp/   nginx's own PID file and temp folders
    logs/             error.log, access.log (JSON lines with request_id), nginx.log

nginx listens on ``services.nginx`` host:port only. ``/nginx-health`` answers 200
``ok`` locally (the readiness probe); every other path goes to the gateway with
Host, X-Forwarded-*, and X-Request-ID (the client's, or nginx's ``$request_id``).
When Folio runs as root, nginx's workers run as ``www-data``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from folio.httpkit.body_limits import api_body_limits
from folio.ops.health import http_probe
from folio.ops.process import ProcessError, ProcessSpec
from folio.ops.service import AptPackage, Requirement, Service
from folio.ops.templates import render_deploy_template

_WORKER_USER = "www-data"
_SAFE_PATH = re.compile(r"^[\w./+@-]+$")


class NginxService(Service):
    """Debian's ``nginx`` in the foreground, configured from a template under ``deploy/``."""

    name = "nginx"
    summary = "nginx (front door to the gateway)"

    @property
    def config_file(self) -> Path:
        """The rendered nginx.conf."""
        return self.data_dir / "nginx.conf"

    @property
    def conf_d(self) -> Path:
        """Folder of ``*.conf`` files included inside the server block (``location`` blocks)."""
        return self.data_dir / "conf.d"

    @property
    def http_d(self) -> Path:
        """Folder of ``*.conf`` files included at http level (``upstream``, ``map`` blocks)."""
        return self.data_dir / "http.d"

    def requirements(self) -> list[Requirement]:
        """Debian's nginx."""
        return [AptPackage("nginx", "nginx")]

    def processes(self) -> list[ProcessSpec]:
        """One nginx master (with its worker) in the foreground."""
        cfg = self.settings.services.nginx
        return [
            self.spec(
                self.name,
                ["nginx", *self._location_args(), "-g", "daemon off;"],
                http_probe(f"{cfg.url}/nginx-health"),
                ports={"services.nginx.port": cfg.port},
                cwd=self.data_dir,
                prepare=self.write_config,
            )
        ]

    def endpoints(self) -> dict[str, str]:
        """The URL through nginx."""
        return {"http": self.settings.services.nginx.url}

    def render(self) -> str:
        """The nginx.conf these settings produce (pure; writes nothing)."""
        path = str(self.data_dir)
        if not _SAFE_PATH.match(path):
            raise ProcessError(
                f"nginx cannot use {path!r}: choose a services.data_dir without spaces or quotes"
            )
        cfg, gateway = self.settings.services.nginx, self.settings.gateway
        return render_deploy_template(
            "nginx",
            "nginx.conf.j2",
            trim_blocks=True,
            data_dir=path,
            host=cfg.host,
            port=cfg.port,
            gateway_host=gateway.host,
            gateway_port=gateway.port,
            # The gateway answers 413 itself below this; nginx only stops what no route takes.
            max_body_bytes=api_body_limits(self.settings.api).largest,
            worker_user=_WORKER_USER if os.geteuid() == 0 else None,
        )

    def write_config(self) -> None:
        """Create the folders and write nginx.conf and generation.conf (idempotent)."""
        for folder in (self.conf_d, self.http_d, self.data_dir / "tmp", self.data_dir / "logs"):
            folder.mkdir(parents=True, exist_ok=True)
        self._write(self.config_file, self.render())
        if not (self.data_dir / "generation.conf").exists():
            self._write_generation("initial")

    def reload(self, timeout_s: float = 10.0) -> None:
        """Apply the current template and ``conf.d``/``http.d`` files to the running nginx.

        Re-renders nginx.conf, checks it with ``nginx -t`` (``ProcessError`` with
        nginx's output when invalid, leaving the running configuration alone), sends
        the reload, and returns once new connections are served by the new
        configuration (``/nginx-generation`` answers the new token).
        """
        self.write_config()
        token = secrets.token_hex(8)
        previous = (self.data_dir / "generation.conf").read_text()
        self._write_generation(token)
        check = self._nginx("-t")
        if check.returncode != 0:
            self._write(self.data_dir / "generation.conf", previous)
            raise ProcessError(f"nginx configuration is invalid, not reloaded:\n{check.stdout.strip()}")
        old_workers = self._workers()
        signal = self._nginx("-s", "reload")
        if signal.returncode != 0:
            raise ProcessError(f"nginx -s reload failed:\n{signal.stdout.strip()}")
        url = f"{self.settings.services.nginx.url}/nginx-generation"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # Old workers keep accepting until they handle the master's QUIT, so the
            # new token alone does not mean every new connection gets the new config.
            if self._serves(url, token) and not any(_accepting(pid) for pid in old_workers):
                return
            time.sleep(0.05)
        raise ProcessError(
            f"nginx did not pick up the reload within {timeout_s:.0f}s; see {self.data_dir}/logs"
        )

    @staticmethod
    def _serves(url: str, token: str) -> bool:
        try:
            return httpx.get(url, timeout=1.0).text.strip() == token
        except httpx.HTTPError:
            return False

    def _workers(self) -> list[int]:
        """PIDs of the master's current worker processes (empty when it is not running)."""
        try:
            master = int((self.data_dir / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            return []
        workers = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                workers.append(int(stat.parent.name))
        return workers

    def _location_args(self) -> list[str]:
        # -p ends with "/" because nginx joins it to relative paths without adding one.
        return ["-c", str(self.config_file), "-p", f"{self.data_dir}/"]

    def _nginx(self, *args: str) -> subprocess.CompletedProcess[str]:
        executable = shutil.which("nginx") or "nginx"
        return subprocess.run(
            [executable, *self._location_args(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            timeout=30,
            cwd=self.data_dir,
        )

    def _write_generation(self, token: str) -> None:
        self._write(self.data_dir / "generation.conf", f'return 200 "{token}\\n";\n')

    @staticmethod
    def _write(path: Path, text: str) -> None:
        """Replace ``path`` atomically, so a reload never reads half a file."""
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        tmp.replace(path)


def _accepting(pid: int) -> bool:
    """Whether nginx worker ``pid`` may still accept connections (alive and not shutting down).

    A worker retitles itself "worker process is shutting down" in the same step that
    closes its listening sockets.
    """
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return bool(title) and b"shutting down" not in title
