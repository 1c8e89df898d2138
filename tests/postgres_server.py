"""A throwaway PostgreSQL cluster for the tests: ``initdb`` + ``pg_ctl`` into a temp dir on a free port.

Used when ``TEST_DATABASE_URL`` is not set (set it to use a server you run yourself; the tests then
create and drop their own databases on it, so the user needs CREATEDB).  The binaries come from
Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``); ``.ci/run`` installs it when it is
missing.  ``initdb`` refuses to run as root, so as root every command runs as the ``postgres``
user through ``runuser``, in a temp dir that user owns.  Nothing here skips: if the server cannot
start, :class:`PostgresUnavailable` says why and every PostgreSQL test errors with that message.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["ExistingServer", "PostgresServer", "PostgresUnavailable", "find_binaries", "psql"]

_PREFIX = "intel-test-pg-"
_INSTALL_HINT = "install PostgreSQL (Debian: apt-get install -y postgresql) or set TEST_DATABASE_URL"


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server could not be started; the message says why and what to do."""


def find_binaries() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb`` and ``pg_ctl``."""
    found = sorted(
        (Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0,
    )
    if not found or not (found[-1] / "pg_ctl").exists():
        raise PostgresUnavailable(f"no initdb under /usr/lib/postgresql/*/bin: {_INSTALL_HINT}")
    return found[-1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One cluster for the test session.  :meth:`start`, then :meth:`dsn` per database, :meth:`stop`."""

    def __init__(self) -> None:
        self.port = 0
        self._bin: Path | None = None
        self._root: Path | None = None
        self._as_postgres = os.geteuid() == 0

    @property
    def admin_dsn(self) -> str:
        return self.dsn("postgres")

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """The statement creating a test database; FILE_COPY (PostgreSQL 15+) takes a quarter of the time here."""
        version = self._bin.parent.name if self._bin is not None else ""
        fast = version.isdigit() and int(version) >= 15
        return f"CREATE DATABASE {name}" + (" STRATEGY FILE_COPY" if fast else "")

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        full = ["runuser", "-u", "postgres", "--", *command] if self._as_postgres else list(command)
        return subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        self._bin = find_binaries()
        self._stop_orphans()
        self._root = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self._root / "owner.pid").write_text(str(os.getpid()))
        if self._as_postgres:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable(f"running as root but there is no 'postgres' user: {_INSTALL_HINT}") from exc
            os.chown(self._root, account.pw_uid, account.pw_gid)
        data = self._root / "data"
        initdb = self._run(str(self._bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                           "--encoding=UTF8", "--no-instructions")
        if initdb.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {initdb.stderr.strip()[-800:]}")
        self.port = _free_port()
        options = f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1 -F -c max_connections=300"
        started = self._run(str(self._bin / "pg_ctl"), "-D", str(data), "-o", options,
                            "-l", str(self._root / "server.log"), "-w", "-t", "60", "start")
        if started.returncode != 0:
            log = (self._root / "server.log").read_text(errors="replace")[-800:] if (self._root / "server.log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()[-400:]} {log}")

    def _stop_orphans(self) -> None:
        """Stop and delete clusters left by a test run that was killed before its session ended."""
        assert self._bin is not None
        for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
            try:
                owner = int((folder / "owner.pid").read_text())
            except (OSError, ValueError):
                continue
            if owner == os.getpid() or Path(f"/proc/{owner}").exists():
                continue
            if (folder / "data" / "postmaster.pid").exists():
                self._run(str(self._bin / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "stop")
            shutil.rmtree(folder, ignore_errors=True)

    def stop(self) -> None:
        if self._bin is not None and self._root is not None and (self._root / "data" / "postmaster.pid").exists():
            self._run(str(self._bin / "pg_ctl"), "-D", str(self._root / "data"), "-m", "immediate", "-w", "stop")
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


class ExistingServer:
    """A server named by ``TEST_DATABASE_URL``: the tests create and drop their databases on it."""

    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def admin_dsn(self) -> str:
        return self._url

    def dsn(self, database: str) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self._url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def create_database(self, name: str) -> str:
        return f"CREATE DATABASE {name}"


def psql(admin_dsn: str, statement: str) -> None:
    """Run one statement as the administrator (``CREATE``/``DROP DATABASE`` cannot run in a transaction)."""
    binary = shutil.which("psql") or str(find_binaries() / "psql")
    done = subprocess.run([binary, admin_dsn, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(f"{statement!r} failed: {done.stderr.strip()[-400:]}")
