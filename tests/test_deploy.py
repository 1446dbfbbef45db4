"""The nginx configuration in docs/deploy.md is valid: ``nginx -t`` accepts it as written.

Skipped on a machine without nginx, failed in CI (``CI=true``) through
:func:`conftest.require_service`: ``.ci/run`` installs Debian's nginx.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from conftest import require_service

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def nginx_config(text: str) -> str:
    """Return the one ```` ```nginx ```` block of ``text``."""
    blocks = re.findall(r"^```nginx\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) == 1, f"docs/deploy.md should hold one nginx block, found {len(blocks)}"
    return str(blocks[0])


def test_deploy_nginx_config_is_valid(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if nginx is None:
        require_service("nginx", "no nginx binary (apt-get install nginx)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(DEPLOY.read_text(encoding="utf-8")), encoding="utf-8")
    # -p: every relative path of the config (pid, logs, temp folders) lands in tmp_path;
    # -e: the error log nginx opens before it has read the config, likewise.
    cmd = [nginx, "-t", "-q", "-c", str(conf), "-p", f"{tmp_path}/", "-e", str(tmp_path / "startup.log")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def test_deploy_config_is_sticky_and_upgrades_websockets() -> None:
    conf = nginx_config(DEPLOY.read_text(encoding="utf-8"))
    assert re.search(r"hash \$sibai_sticky consistent;", conf)
    assert "$cookie_sibai_csrf" in conf  # geo.sessions.CSRF_COOKIE
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Host $http_host;" in conf
    assert len(re.findall(r"^\s*server 127\.0\.0\.1:\d+", conf, flags=re.M)) >= 2
