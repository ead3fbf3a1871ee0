"""The course secret from which every hidden check draws its cases, and the key of one check.

The secret lives in `course/.judge-secret` (gitignored, readable by its owner only), created the
first time a release is built; `RNN_COURSE_SECRET` overrides it (a cluster's workers get it in
each `GradingTask`). It never reaches a kernel: the sandbox does not mount the course folder and
the kernel's environment is built without it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ENV = "RNN_COURSE_SECRET"
FILE = ".judge-secret"


def course_secret(course_dir: str | os.PathLike, create: bool = True) -> str:
    """The course's secret: `$RNN_COURSE_SECRET`, else `course_dir/.judge-secret` (made, mode
    600, when missing and `create`); "" when there is none."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    path = Path(course_dir) / FILE
    if path.exists():
        return path.read_text().strip()
    if not create:
        return ""
    value = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as f:
        f.write(value + "\n")
    return value


def check_key(secret: str, assignment: str, grade_id: str, student: str) -> bytes:
    """HMAC-SHA256 of "assignment/grade_id/student" under the secret: one check's key."""
    message = f"{assignment}/{grade_id}/{student}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()
