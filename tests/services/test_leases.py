import os
import socket
import subprocess
import sys

import pytest

from animate.services import leases


@pytest.fixture
def exited_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(30)
    return process.pid


@pytest.fixture
def running_pid():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait(30)


HOST = socket.gethostname()


def test_this_process_holds_its_own_leases_under_one_name():
    assert leases.lease_owner() == leases.lease_owner()
    assert leases.lease_owner().startswith(f"{HOST}:{os.getpid()}:")
    assert leases.lease_holder_alive(leases.lease_owner())


def test_a_holder_whose_process_is_gone_is_known_dead(exited_pid):
    assert not leases.lease_holder_alive(f"{HOST}:{exited_pid}:0a1b2c3d4e5f")


def test_a_holder_still_running_on_this_host_is_alive(running_pid):
    assert leases.lease_holder_alive(f"{HOST}:{running_pid}:0a1b2c3d4e5f")


def test_an_earlier_boot_with_our_own_pid_is_dead():
    # A restarted container runs as the same pid as its predecessor; the boot token tells them apart.
    assert not leases.lease_holder_alive(f"{HOST}:{os.getpid()}:000000000000")


@pytest.mark.parametrize("owner", ["", "garbage", f"another-host-{HOST}:1:0a1b2c3d4e5f", f"{HOST}:x:y"])
def test_a_holder_that_cannot_be_checked_from_here_counts_as_alive(owner):
    assert leases.lease_holder_alive(owner)
