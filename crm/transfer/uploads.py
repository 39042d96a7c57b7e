"""Uploaded files kept between preview and confirm: instance/uploads/<random>.<ext> and a JSON sidecar.

The stored name is random, never the user's; the sidecar records who uploaded the file and the preview
result, which is for display only: confirming reads and validates the stored file again.
"""
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath

from flask import current_app

MAX_AGE_SECONDS = 24 * 3600
CLAIM_LEASE_SECONDS = 30 * 60  # far beyond the longest import
TOKEN = re.compile(r"[0-9a-f]{32}")


@dataclass
class Upload:
    token: str
    user_id: int
    filename: str  # as the user named it; shown, never used as a path
    suffix: str
    result: dict = field(default_factory=dict)
    done: bool = False

    @property
    def path(self) -> Path:
        return folder() / f"{self.token}{self.suffix}"

    @property
    def claimed_path(self) -> Path:
        return folder() / f"{self.token}.importing{self.suffix}"

    def claim(self) -> bytes | None:
        """The file's contents for one confirm, moved aside first: a rename is atomic (across web workers too),
        so a second confirm posted meanwhile finds nothing to import. None when another confirm holds it — unless
        that one's worker died: a claim older than CLAIM_LEASE is taken over."""
        try:
            self.path.rename(self.claimed_path)
        except FileNotFoundError:
            try:
                if time.time() - self.claimed_path.stat().st_mtime < CLAIM_LEASE_SECONDS:
                    return None
            except FileNotFoundError:
                return None
        self.claimed_path.touch()  # the claim's age, and purge_stale's, count from now
        return self.claimed_path.read_bytes()

    def release(self) -> None:
        """Not imported after all: the file may be confirmed again."""
        self.claimed_path.rename(self.path)

    def save(self) -> None:
        (folder() / f"{self.token}.json").write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")

    def finish(self, result: dict) -> None:
        """Imported: keep the outcome for the result page, drop the file."""
        self.result, self.done = result, True
        self.claimed_path.unlink(missing_ok=True)
        self.save()


def folder() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(data: bytes, filename: str, user_id: int) -> Upload:
    purge_stale()
    name = PurePath(filename).name
    upload = Upload(secrets.token_hex(16), user_id, name, PurePath(name).suffix.lower())
    upload.path.write_bytes(data)
    upload.save()
    return upload


def load(token: str, user_id: int) -> Upload | None:
    """The upload, if the token is well-formed, still there and `user_id`'s."""
    if not TOKEN.fullmatch(token):
        return None
    sidecar = folder() / f"{token}.json"
    if not sidecar.exists():
        return None
    upload = Upload(**json.loads(sidecar.read_text(encoding="utf-8")))
    return upload if upload.user_id == user_id else None


def discard(upload: Upload) -> None:
    upload.path.unlink(missing_ok=True)
    upload.claimed_path.unlink(missing_ok=True)
    (folder() / f"{upload.token}.json").unlink(missing_ok=True)


def purge_stale() -> None:
    """Uploads nobody confirmed within a day are deleted."""
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in folder().iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
