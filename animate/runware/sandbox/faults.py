"""Fault injection: what the sandbox should get wrong on purpose, and how that is asked for.

Faults come from two places, merged with the task's own marker winning:

* the ``RUNWARE_SANDBOX_FAULTS`` setting, else the environment variable of the same name (read at
  request time, so a test or a shell can flip them without a restart), applying to every task;
* a marker anywhere in a task's ``positivePrompt``: ``[sandbox:duplicate=3,delay=2]``.

Both use one grammar: a comma-separated list of ``name`` or ``name=value`` (see ``FAULTS`` below and
docs/sandbox.md). An unknown name or a bad value is an error, because a typo that silently injects no
fault would make a test pass for the wrong reason.
"""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

MARKER = re.compile(r"\[sandbox:([^\]]*)\]")
ORDERS = ("reverse", "shuffle")
DEFAULT_DUPLICATES = 2
DEFAULT_SLOW_BYTES_PER_SECOND = 64 * 1024
DEFAULT_ERROR_CODE = "timeoutProvider"


class FaultError(ValueError):
    """A fault list that does not parse; ``source`` names where it came from."""

    def __init__(self, message: str, *, source: str) -> None:
        self.source = source
        super().__init__(message)


@dataclass(frozen=True)
class Faults:
    duplicate: int = 1  # copies of every webhook call
    delay: float = 0.0  # seconds before a task starts rendering
    drop: bool = False  # no webhook calls at all: results only through getResponse
    order: str | None = None  # "reverse" or "shuffle": results produced (and delivered) out of order
    late: bool = False  # a stale "processing" webhook after each success
    submit_5xx: int = 0  # first N submits of a taskUUID: 503 *before* the task is accepted
    submit_5xx_after_accept: int = 0  # first N submits: task accepted, then answered 500
    submit_timeout: float = 0.0  # first submit: task accepted, answer held back this many seconds
    error: str | None = None  # every task fails with this Runware error code
    error_after_success: bool = False  # results succeed, then the task reports an error as well
    fail_result: int = 0  # with numberResults > 1, result number N (1-based) fails; the others succeed
    forget: bool = False  # the task is accepted, then forgotten: getResponse answers taskFailedOrNotFound
    nsfw: bool = False  # NSFWContent true (when the task asked for a safety check)
    slow_download: int = 0  # the result's videoURL is served at this many bytes per second
    partial_download: bool = False  # the videoURL's connection closes after half the bytes
    garbage_upload: bool = False  # the uploadEndpoint PUT carries bytes that are not a video


def _positive_int(value: str | None, default: int) -> int:
    number = default if value is None else int(value)
    if number < 1:
        raise ValueError("must be 1 or more")
    return number


def _seconds(value: str | None) -> float:
    if value is None:
        raise ValueError("needs a number of seconds")
    number = float(value)
    if not 0 <= number <= 3600:
        raise ValueError("must be between 0 and 3600 seconds")
    return number


def _flag(value: str | None) -> bool:
    if value is None or value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be a flag (no value, 1/0, true/false)")


def _order(value: str | None) -> str:
    if value not in ORDERS:
        raise ValueError(f"must be one of {', '.join(ORDERS)}")
    return value


def _error_code(value: str | None) -> str | None:
    # `error`, `error=1` and `error=true` use the default code; any other word is taken as the code.
    if value is None or value.lower() in {"1", "true", "yes", "on"}:
        return DEFAULT_ERROR_CODE
    if value.lower() in {"0", "false", "no", "off"}:
        return None
    if not value.isidentifier():
        raise ValueError("must be a flag or a Runware error code such as inferenceError")
    return value


FAULTS: dict[str, Callable[[str | None], Any]] = {
    "duplicate": lambda value: _positive_int(value, DEFAULT_DUPLICATES),
    "delay": _seconds,
    "drop": _flag,
    "order": _order,
    "late": _flag,
    "submit_5xx": lambda value: _positive_int(value, 1),
    "submit_5xx_after_accept": lambda value: _positive_int(value, 1),
    "submit_timeout": _seconds,
    "error": _error_code,
    "error_after_success": _flag,
    "fail_result": lambda value: _positive_int(value, 1),
    "forget": _flag,
    "nsfw": _flag,
    "slow_download": lambda value: _positive_int(value, DEFAULT_SLOW_BYTES_PER_SECOND),
    "partial_download": _flag,
    "garbage_upload": _flag,
}


def parse(text: str, *, source: str) -> dict[str, Any]:
    """``"duplicate=3,late"`` as Faults field values; raises FaultError naming ``source`` if unknown."""
    values: dict[str, Any] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, _, raw = entry.partition("=")
        name = name.strip()
        if name not in FAULTS:
            raise FaultError(f"unknown sandbox fault {name!r} (known: {', '.join(FAULTS)})", source=source)
        try:
            values[name] = FAULTS[name](raw.strip() if "=" in entry else None)
        except ValueError as error:
            raise FaultError(f"sandbox fault {name!r}: {error}", source=source) from error
    return values


def configured() -> dict[str, Any]:
    """Faults from the setting, else the environment variable; read on every call, never cached."""
    text = getattr(settings, "RUNWARE_SANDBOX_FAULTS", None)
    if text is None:
        text = os.environ.get("RUNWARE_SANDBOX_FAULTS", "")
    if isinstance(text, list | tuple):
        text = ",".join(text)
    return parse(str(text), source="RUNWARE_SANDBOX_FAULTS")


def for_task(task: dict[str, Any]) -> Faults:
    """The faults that apply to one task: the configured ones, overridden by its prompt's markers."""
    values = configured()
    prompt = task.get("positivePrompt")
    if isinstance(prompt, str):
        for marker in MARKER.finditer(prompt):
            values |= parse(marker.group(1), source="positivePrompt")
    return Faults(**values)
