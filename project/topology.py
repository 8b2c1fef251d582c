"""The scaled topology on one machine: N web processes, M worker processes, the standalone sandbox and
the S3-compatible server, on this machine's PostgreSQL and Redis. ``make run-scaled`` runs it:

    python -m project.topology --database-url postgres://... --redis-url redis://... [--port 8000]

Every process is started as it would be on its own machine (README, "Scale-out"): web processes are
uvicorn with ``EMBEDDED_WORKER=0``, workers are ``manage.py worker``, the sandbox is
``manage.py runware_sandbox`` with its own state file; they share only the database, Redis, the media
storage and the configuration. Ctrl-C (or SIGTERM) stops them all. The process tests
(tests/test_topology.py) start, kill and restart the same pieces through the ``Topology`` class.
"""

import argparse
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Variables of the calling shell that would change what the processes are; they get only ours.
OURS = ("DJANGO_", "DATABASE_URL", "REDIS_", "ANIMATE_", "RUNWARE_", "DEBUG", "SECRET_KEY", "LOG_", "AWS_")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def ports_in_use(ports: list[int]) -> list[int]:
    """Those of ``ports`` something on this machine already listens on (or holds) at 127.0.0.1."""
    taken = []
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                taken.append(port)
    return taken


def free_port(count: int = 1) -> int:
    """The first of ``count`` consecutive free ports, below the kernel's ephemeral range: a port from that
    range (what binding port 0 gives) may be taken by any outgoing connection the moment it is released,
    so neither a neighbour port nor a process restarted on the same port would be safe."""
    rng = random.SystemRandom()
    high = min(_ephemeral_low(), 65536) - count
    for _ in range(200):
        first = rng.randrange(10000, high)
        if not ports_in_use(list(range(first, first + count))):
            return first
    raise RuntimeError(f"no {count} consecutive free ports between 10000 and {high + count}")


@dataclass
class Service:
    """One process of the topology: how to start it, where it listens, and the running process."""

    name: str
    command: list[str]
    env: dict[str, str]
    url: str = ""  # where it listens (empty for workers)
    health: str = ""  # URL answering 200 once it is up (empty: up once started)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Topology:
    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        var_dir: Path,
        redis_prefix: str = "",
        webs: int = 2,
        workers: int = 2,
        s3: bool = True,
        port: int = 0,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        worker_grace: float = 30.0,
    ) -> None:
        """``port`` 0 picks a free block of ports; the web processes get port, port+1..., then the sandbox and
        the S3 server. ``log_dir`` None streams every process's output to ours, prefixed by its name."""
        self.var_dir = Path(var_dir)
        self.log_dir = log_dir
        self.worker_grace = worker_grace
        first = port or free_port(webs + 2)  # one block: ports picked one by one could coincide
        self.web_ports = list(range(first, first + webs))
        self.sandbox_port = first + webs
        self.s3_port = first + webs + 1
        self.s3 = s3
        self.bucket = "animate-media"
        self.sandbox_key = "sandbox-" + secrets.token_hex(8)
        self.webhook_base = f"http://127.0.0.1:{self.web_ports[0]}"
        # What every app process (web or worker) shares: one database, one Redis, one secret key (signed
        # media URLs and webhook secrets made by one process are checked by another), one media storage.
        self.app_env: dict[str, str] = {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DEBUG": "1",  # a topology on one machine: loopback hosts, plain HTTP
            "SECRET_KEY": "topology-" + secrets.token_hex(24),
            "VAR_DIR": str(self.var_dir / "app"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix or f"animate-{os.getpid()}",
            "EMBEDDED_WORKER": "0",
            "RUNWARE_SANDBOX": "0",
            "RUNWARE_API_KEY": self.sandbox_key,
            "RUNWARE_API_URL": f"http://127.0.0.1:{self.sandbox_port}/v1",
            "RUNWARE_MEDIA_HOSTS": "127.0.0.1",
            # Webhooks go to the first web process (the load balancer's address on real machines).
            "PUBLIC_BASE_URL": self.webhook_base,
            "PUBLIC_BASE_URL_REACHABLE": "1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": ",".join(f"http://127.0.0.1:{p}" for p in self.web_ports),
            "LOG_LEVEL": "INFO",
        }
        if self.s3:
            self.app_env |= {
                "AWS_STORAGE_BUCKET_NAME": self.bucket,
                "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
                "AWS_ACCESS_KEY_ID": "topology",
                "AWS_SECRET_ACCESS_KEY": "topology-secret",
                "AWS_S3_REGION_NAME": "us-east-1",
            }
        self.app_env |= env or {}
        self.services: dict[str, Service] = {}
        for index, web_port in enumerate(self.web_ports):
            self._add_web(f"web-{chr(ord('a') + index)}", web_port)
        for index in range(workers):
            self._add_worker(f"worker-{index + 1}")
        self._add_sandbox()
        if self.s3:
            self._add_s3()

    # --- the processes ----------------------------------------------------------------------------

    def _add_web(self, name: str, port: int) -> None:
        command = [sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--lifespan", "on", "--ws", "websockets-sansio", "--no-access-log"]
        url = f"http://127.0.0.1:{port}"
        self.services[name] = Service(name, command, dict(self.app_env), url=url, health=f"{url}/healthz")

    def _add_worker(self, name: str) -> None:
        command = [
            sys.executable,
            "manage.py",
            "worker",
            "--interval",
            "0.2",
            "--grace",
            str(self.worker_grace),
        ]
        command += ["--worker-id", f"{name}-{secrets.token_hex(4)}"]
        self.services[name] = Service(name, command, dict(self.app_env))

    def _add_sandbox(self) -> None:
        folder = self.var_dir / "sandbox"
        command = [sys.executable, "manage.py", "runware_sandbox", "--port", str(self.sandbox_port)]
        command += ["--api-key", self.sandbox_key, "--state", str(folder / "state.sqlite3")]
        command += ["--log-level", "warning"]
        # The sandbox is Runware's stand-in: nothing of the app's configuration, a folder of its own.
        env = {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DEBUG": "1",
            "VAR_DIR": str(folder),
            "RUNWARE_SANDBOX_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "INFO",
        }
        env |= {k: v for k, v in self.app_env.items() if k.startswith("RUNWARE_SANDBOX_")}
        url = f"http://127.0.0.1:{self.sandbox_port}"
        self.services["sandbox"] = Service("sandbox", command, env, url=f"{url}/v1", health=f"{url}/healthz")

    def _add_s3(self) -> None:
        command = [
            sys.executable,
            "-m",
            "project.s3server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.s3_port),
        ]
        command += ["--bucket", self.bucket]
        env = {"VAR_DIR": str(self.var_dir / "s3")}
        url = f"http://127.0.0.1:{self.s3_port}"
        self.services["s3"] = Service("s3", command, env, url=url)

    # --- running them -----------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 300) -> str:
        """``manage.py`` with the app's configuration (migrate, demo_setup...); its output."""
        result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self._environ(self.app_env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout + result.stderr

    @staticmethod
    def _environ(env: dict[str, str]) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
        return base | {"PYTHONUNBUFFERED": "1"} | env

    def start(self, name: str, *, wait: bool = True) -> Service:
        service = self.services[name]
        if service.alive():
            return service
        for folder in ("app", "sandbox", "s3"):
            (self.var_dir / folder).mkdir(parents=True, exist_ok=True)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            service.log_path = self.log_dir / f"{name}.log"
            service._log = open(service.log_path, "ab")  # noqa: SIM115 - closed in stop()
            output: Any = service._log
        else:
            output = subprocess.PIPE
        service.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            service.command,
            cwd=ROOT,
            env=self._environ(service.env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only: we stop the processes in order
        )
        if self.log_dir is None:
            threading.Thread(target=self._relay, args=(service,), daemon=True).start()
        if wait:
            self.wait_up(name)
        return service

    @staticmethod
    def _relay(service: Service) -> None:
        assert service.process is not None and service.process.stdout is not None
        for line in service.process.stdout:
            sys.stdout.write(f"[{service.name}] {line.decode(errors='replace')}")
            sys.stdout.flush()

    def wait_up(self, name: str, timeout: float = 60) -> None:
        service = self.services[name]
        deadline = time.monotonic() + timeout
        while True:
            if not service.alive():
                raise RuntimeError(
                    f"{name} exited with {service.process and service.process.returncode}:\n{self.log(name)}"
                )
            try:
                if service.health:
                    if httpx.get(service.health, timeout=2).status_code == 200:
                        return
                elif service.url:
                    with socket.create_connection(("127.0.0.1", int(service.url.rsplit(":", 1)[1])), 1):
                        return
                else:
                    return
            except (httpx.TransportError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come up within {timeout:.0f} s:\n{self.log(name)}")
            time.sleep(0.1)

    def log(self, name: str) -> str:
        path = self.services[name].log_path
        return path.read_text(errors="replace") if path and path.exists() else ""

    def signal(self, name: str, signum: int) -> None:
        service = self.services[name]
        if service.alive():
            os.kill(service.pid, signum)

    def kill(self, name: str) -> None:
        """SIGKILL: the process dies where it is, as a crashed machine would."""
        self.signal(name, signal.SIGKILL)
        self._reap(name, 10)

    def stop(self, name: str, timeout: float = 40) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; the exit code."""
        self.signal(name, signal.SIGTERM)
        return self._reap(name, timeout)

    def _reap(self, name: str, timeout: float) -> int | None:
        service = self.services[name]
        if service.process is None:
            return None
        try:
            code = service.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(service.pid, signal.SIGKILL)
            code = service.process.wait(10)
        if service._log is not None:
            service._log.close()
            service._log = None
        return code

    def start_all(self) -> None:
        order = [name for name in ("s3", "sandbox") if name in self.services]
        order += [name for name in self.services if name not in order]
        for name in order:
            self.start(name, wait=False)
        for name in order:
            self.wait_up(name)

    def stop_all(self) -> None:
        # Web processes first (no new work), then the workers (they finish or hand back), then the rest.
        for prefix in ("web-", "worker-", ""):
            names = [n for n, s in self.services.items() if n.startswith(prefix) and s.alive()]
            for name in names:
                self.signal(name, signal.SIGTERM)
            for name in names:
                self._reap(name, self.worker_grace + 10)

    def summary(self) -> list[str]:
        lines = []
        for name, service in self.services.items():
            where = service.url or "no port (takes tasks from the database)"
            lines.append(f"  {name:<9} {where}" + (f"  pid {service.pid}" if service.process else ""))
        return lines


def database_create(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist yet (a fresh machine)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres") or not name:
        return
    import psycopg
    from psycopg import sql

    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created the database {name}", flush=True)


@contextmanager
def running(**kwargs: Any) -> Iterator[Topology]:
    """A migrated, started topology, stopped on the way out."""
    topology = Topology(**kwargs)
    topology.manage("migrate", "--noinput")
    try:
        topology.start_all()
        yield topology
    finally:
        topology.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--redis-prefix", default="animate")
    parser.add_argument("--port", type=int, default=8000, help="first port (web processes, sandbox, S3)")
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "scaled"))
    args = parser.parse_args()
    topology = Topology(
        database_url=args.database_url,
        redis_url=args.redis_url,
        redis_prefix=args.redis_prefix,
        var_dir=Path(args.var_dir),
        webs=args.webs,
        workers=args.workers,
        port=args.port,
    )
    wanted = [*topology.web_ports, topology.sandbox_port] + (
        [topology.s3_port] if "s3" in topology.services else []
    )
    taken = ports_in_use(wanted)
    if taken:
        # Said before anything starts: a half-started topology would fail later, less clearly.
        sys.exit(
            f"Port {', '.join(map(str, taken))} is already in use; the scaled topology needs ports "
            f"{wanted[0]}-{wanted[-1]}. Choose another first port: make run-scaled PORT=9000"
        )
    database_create(args.database_url)
    stopping = threading.Event()
    # Ctrl-C and SIGTERM alike (SIGINT explicitly: a shell starting us in the background ignores it).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        if "s3" in topology.services:
            # demo_setup stores its sample media in the bucket: the S3 server comes first.
            topology.start("s3")
        print("Preparing the database (migrate, demo_setup)...", flush=True)
        topology.manage("migrate", "--noinput")
        print(topology.manage("demo_setup"), flush=True)
        topology.start_all()
        print("\nScaled topology running (Ctrl-C stops everything):", flush=True)
        print("\n".join(topology.summary()), flush=True)
        print(
            f"  database  {args.database_url}\n  redis     {args.redis_url} (prefix {args.redis_prefix})\n"
            f"Open http://127.0.0.1:{topology.web_ports[0]}/ or any other web process: they serve the same "
            "users, sessions and live events.",
            flush=True,
        )
        while not stopping.wait(1):
            for name, service in topology.services.items():
                if service.process is not None and not service.alive():
                    print(f"{name} exited with code {service.process.returncode}", flush=True)
                    service.process = None
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping every process...", flush=True)
        topology.stop_all()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
