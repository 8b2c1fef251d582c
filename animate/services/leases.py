"""Who holds a lease on a row, and whether that holder can still be alive.

A worker that starts sending a generation takes a lease on it (``Generation.submit_started_at``), so a
second run of the same task waits instead of racing. If the worker's process dies, the lease would block
the generation until it runs out; the lease therefore names its holder (``host:pid:boot``), and a holder
known to be gone loses it at once: a process of this host that no longer runs, or an earlier boot with
our own pid (a restarted container is pid 1 again). A holder on another host cannot be checked from here,
so its lease is waited out.
"""

import os
import secrets
import socket

_boot: tuple[int, str] | None = None


def lease_owner() -> str:
    """This process, as a lease holder; new after a fork, since the child is another process."""
    global _boot
    pid = os.getpid()
    if _boot is None or _boot[0] != pid:
        _boot = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(6)}")
    return _boot[1]


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and possibly the holder
    return True


def lease_holder_alive(owner: str) -> bool:
    """False only when the holder of a lease is known to be gone; an unknown holder counts as alive."""
    host, _, rest = owner.partition(":")
    pid_text, _, boot = rest.partition(":")
    if not (host and pid_text.isdigit() and boot) or host != socket.gethostname():
        return True
    if owner == lease_owner():
        return True
    pid = int(pid_text)
    return pid != os.getpid() and _pid_running(pid)
