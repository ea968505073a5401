"""One launch at a time per sweep: two terminals starting the same sweep command must not both
resume one parent and fit the same jobs twice. The second is refused with one line.

The embedded SQLite store: an exclusive `flock` on a file beside the store, held by the
launching process; the kernel drops it when that process ends, however it ends (even
`kill -9`), so a dead launch never blocks the next. A tracking server (launches on several
machines): an experiment tag `ebm_study.launch.<sweep_key>` holding the launcher's process
token and a heartbeat time; a claim whose process is gone (liveness.is_alive) is taken over.
Two launches writing their claims within the same second are told apart by reading the claim
back after a pause: the one whose claim was overwritten steps back.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import mlflow
from mlflow.tracking import MlflowClient

from ebm_study import liveness
from ebm_study.errors import UserError
from ebm_study.tracking.store import SQLITE

CLAIM_PREFIX = "ebm_study.launch."
SETTLE_SECONDS = 1.0  # how long a server claim is left before it is read back
_held: list[Claim] = []  # this process's lock files


def _let_go_in_child() -> None:
    """A forked child (the joblib launcher's workers, the study's picture drawers) closes its
    copy of the launch's lock file: the flock lasts while any copy is open, so a child left
    over from a launch killed hard would refuse every later one. Closing a copy is no unlock:
    the launching process keeps the lock."""
    for claim in _held:
        if claim.handle is not None:
            claim.handle.close()
            claim.handle = None
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_child)


@dataclass
class Claim:
    """A held launch of one sweep; `beat()` renews a server claim, `release()` gives it up."""

    experiment_id: str
    key: str
    handle: IO[str] | None = None  # the SQLite store's lock file
    value: str = field(default="")  # the server claim's token

    def beat(self) -> None:
        if self.value:
            MlflowClient().set_experiment_tag(
                self.experiment_id, CLAIM_PREFIX + self.key, f"{self.value}|{time.time():.0f}"
            )

    def release(self) -> None:
        """Give the launch up; again is a no-op."""
        if self.handle is not None:
            self.handle.close()  # closing drops the flock
            self.handle = None
        if self.value:
            client = MlflowClient()
            tag = CLAIM_PREFIX + self.key
            held = client.get_experiment(self.experiment_id).tags.get(tag, "")
            if held.rsplit("|", 1)[0] == self.value:
                client.delete_experiment_tag(self.experiment_id, tag)
            self.value = ""


def refusal(holder: str) -> UserError:
    return UserError(
        f"this sweep is already running ({liveness.describe(holder)}); wait for it to end, or "
        "stop it: running the same command afterwards resumes it"
    )


def claim(experiment_id: str, key: str) -> Claim:
    """Claim the sweep `key` for this process, or raise a UserError naming the holder."""
    uri = mlflow.get_tracking_uri()
    if uri.startswith(SQLITE):
        return _lock_file(experiment_id, key, Path(uri.removeprefix(SQLITE)).parent)
    return _server_claim(experiment_id, key)


def _lock_file(experiment_id: str, key: str, folder: Path) -> Claim:
    path = folder / "locks" / f"sweep-{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held open for the launch: the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise refusal(holder) from None
    handle.seek(0)
    handle.truncate()
    handle.write(liveness.token())
    handle.flush()
    held = Claim(experiment_id, key, handle=handle)
    _held.append(held)
    return held


def _server_claim(experiment_id: str, key: str) -> Claim:
    client = MlflowClient()
    tag = CLAIM_PREFIX + key

    def holder() -> tuple[str, float | None]:
        held = client.get_experiment(experiment_id).tags.get(tag, "")
        process, _, beat = held.rpartition("|")
        try:
            return process, float(beat)
        except ValueError:
            return held, None

    process, beat = holder()
    if process and liveness.is_alive(process, beat):
        raise refusal(process)
    mine = Claim(experiment_id, key, value=liveness.token())
    mine.beat()
    time.sleep(SETTLE_SECONDS)
    process, _ = holder()
    if process != mine.value:
        raise refusal(process)
    return mine
