"""The files of an LMS download, read safely from a zip or a folder, each with its original name.

A zip is never extracted to the paths it names: each member is written to a numbered file in a
fresh temporary folder, so ``..``, absolute paths, drive letters and links in member names cannot
reach anything outside it. The name the LMS gave a file is kept (``Entry.name``) for parsing and
for the mapping report. Sizes are capped while decompressing (a member's declared size can lie).
Names stored without the zip's UTF-8 flag are decoded as UTF-8 when they are valid UTF-8 (what
Canvas and Moodle write), else as the zip standard's CP437.
"""

import atexit
import os
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass

MAX_MEMBER_BYTES = 64 * 1024 * 1024  # a notebook with plots can be tens of MB; a class has many
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_MEMBERS = 20000
_CHUNK = 1 << 20


class DownloadError(ValueError):
    """The download as a whole cannot be read; the message says why."""


@dataclass
class Entry:
    """One file of the download."""

    name: str  # its path inside the zip or folder, '/'-separated, as the LMS wrote it
    path: str | None  # where its bytes are on disk (None: not extracted; see ``skipped``)
    size: int
    modified: tuple = ()  # (Y, M, D, h, m, s) from the zip, or from the file's mtime
    skipped: str = ""  # why it was not extracted (too large, a link, ...): reported as unmapped

    @property
    def basename(self) -> str:
        return self.name.rstrip("/").rsplit("/", 1)[-1]


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # no UTF-8 flag: zipfile decoded the bytes as CP437
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def read(path: str, max_member: int = MAX_MEMBER_BYTES, max_total: int = MAX_TOTAL_BYTES,
         max_members: int = MAX_MEMBERS) -> tuple[str, list[Entry]]:
    """(root folder, entries) of a zip (extracted to a new temp folder) or a folder (in place)."""
    if os.path.isdir(path):
        return path, _walk(path)
    if not os.path.exists(path):
        raise DownloadError(f"{path!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise DownloadError(f"{path!r} is neither a folder nor a zip file")
    target = tempfile.mkdtemp(prefix="rnn-grade-download-")
    # Graders read the files in this process; nothing needs them once it ends.
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    entries: list[Entry] = []
    total = 0
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > max_members:
                raise DownloadError(f"the zip has {len(infos)} members (limit {max_members}): "
                                    "not an LMS download of one class")
            for i, info in enumerate(infos):
                name = _member_name(info)
                if info.is_dir():
                    continue
                entry = Entry(name, None, info.file_size, tuple(info.date_time))
                if _is_link(info):
                    entry.skipped = "a symbolic link, not a file"
                elif info.file_size > max_member:
                    entry.skipped = (f"larger than the {max_member // 2**20} MB limit for one "
                                     f"file ({info.file_size} bytes)")
                elif info.flag_bits & 0x1:
                    entry.skipped = "encrypted"
                else:
                    out = os.path.join(target, f"{i:05d}")
                    try:
                        written = _copy_capped(z, info, out, max_member, max_total - total)
                    except zipfile.BadZipFile as e:  # this member only: the others still count
                        entry.skipped = f"damaged in the zip ({e})"
                        if os.path.exists(out):  # z.open may fail before it is created
                            os.remove(out)
                        written = -1
                    if written is None:
                        entry.skipped = "decompresses past the size limit (a zip bomb?)"
                        os.remove(out)
                    elif written >= 0:
                        entry.path, entry.size = out, written
                        total += written
                entries.append(entry)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise DownloadError(f"{path!r} is a damaged zip file: {e}") from None
    return target, entries


def safe_relpath(name: str) -> str | None:
    """``name`` as a relative path inside a folder, or None if it would leave it (``..``, a
    drive, an absolute path)."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." or ":" in p for p in parts):
        return None
    return os.path.join(*parts)


def read_tree(path: str) -> tuple[str, list[Entry]]:
    """(folder, left out): a folder holding the download's files under their own names (``path``
    itself, or the zip's members read by ``read``, its limits applied, and placed at their
    relative paths in a new temporary folder), and the members that were not extracted (too
    large, a link, encrypted, damaged; ``Entry.skipped`` says why). A member whose name leaves
    the folder (``..``, a drive) is dropped."""
    if os.path.isdir(path):
        return path, []
    root, entries = read(path)
    folder = os.path.join(root, "_tree")
    os.makedirs(folder)
    left_out = []
    for entry in entries:
        rel = safe_relpath(entry.name)
        if rel is None:
            continue
        if entry.skipped:
            left_out.append(entry)
            continue
        dest = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.move(entry.path, dest)
    return folder, left_out


def _copy_capped(z: zipfile.ZipFile, info: zipfile.ZipInfo, out: str, cap: int,
                 budget: int) -> int | None:
    limit = min(cap, budget)
    written = 0
    try:
        with z.open(info) as src, open(out, "wb") as dst:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    return None
                dst.write(chunk)
    except (zipfile.BadZipFile, RuntimeError, ValueError, EOFError, zlib.error) as e:
        raise zipfile.BadZipFile(str(e)) from None  # a bad CRC, truncated or corrupt data
    return written


def _walk(root: str) -> list[Entry]:
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if os.path.islink(full):
                entries.append(Entry(rel, None, 0, skipped="a symbolic link, not a file"))
                continue
            st = os.stat(full)
            entries.append(Entry(rel, full, st.st_size, tuple(time.localtime(st.st_mtime)[:6])))
    return entries
