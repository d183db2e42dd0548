"""Content-addressed file storage for uploaded documents, outside the database.

A file lives at ``<var_dir>/documents/<sha[:2]>/<sha>``: identical content is stored once, and
a stored file is never rewritten (its name is its content). Whether a file may go once its
Document row is deleted is decided in registry.applications.retention; this module only moves
bytes. Work files live in ``documents/tmp``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from registry.settings import get_settings

CHUNK = 64 * 1024
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")

# The only types accepted, recognised by their first bytes (never by name or declared type).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class UploadRefused(ValueError):
    """An upload that cannot be stored; `status_code` is 413 for size, otherwise 422."""

    def __init__(self, message: str, code: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code


@dataclass(frozen=True)
class StoredFile:
    """What was stored: its hash (its address), size and type decided by its bytes."""

    sha256: str
    size: int
    mime_type: str


def root() -> Path:
    """The folder documents are stored under (read from settings at call time)."""
    return get_settings().var_dir / "documents"


def work_dir() -> Path:
    """Where uploads are written before they get their name, and files wait to be removed."""
    return root() / "tmp"


def path_of(sha256: str) -> Path:
    """Where the content with this hash lives; refuses anything that is not a hash."""
    if not _SHA_RE.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root() / sha256[:2] / sha256


def sniff(head: bytes) -> str | None:
    """The MIME type of accepted content by its leading bytes, or None."""
    for magic, mime in SIGNATURES:
        if head.startswith(magic):
            return mime
    return None


def human_size(size: int) -> str:
    """10 MB, 512 KB: a byte count as people read it."""
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} 字节"


def too_large(limit: int) -> UploadRefused:
    """The refusal for a file over the limit, naming the limit."""
    return UploadRefused(
        f"文件超过大小上限：每个文件不能超过 {human_size(limit)}", "too_large", 413
    )


def clean_filename(name: str | None) -> str:
    """The uploaded name as given, or UploadRefused if it is empty or plays path tricks."""
    text = unicodedata.normalize("NFC", name or "").strip()
    if not text:
        raise UploadRefused("文件名不能为空", "filename_required")
    # Refused rather than renamed: a name like ../../etc/passwd is a mistake or an attack.
    if any(ch in text for ch in "/\\") or ".." in text or text == ".":
        raise UploadRefused(
            "文件名不能包含路径（如 /、\\ 或 ..），请重命名后再上传", "filename_path"
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise UploadRefused("文件名含有控制字符，请重命名后再上传", "filename_control")
    if len(text) > 200:
        raise UploadRefused("文件名过长（不超过200个字符），请重命名后再上传", "filename_length")
    return text


def store(
    source: IO[bytes], limit: int, over_limit: Callable[[], UploadRefused] | None = None
) -> StoredFile:
    """Copy `source` into the store in chunks: refuse empty, oversize or unknown content.

    `over_limit` is the refusal when more than `limit` bytes come (default: the file limit).
    """
    tmp_dir = work_dir()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    mime: str | None = None
    handle, tmp_name = tempfile.mkstemp(dir=tmp_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            head = b""
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    # Stop reading at once: the rest of an oversize file is never copied.
                    raise over_limit() if over_limit else too_large(limit)
                if mime is None:
                    head += chunk
                    if len(head) >= 8:
                        mime = _accepted(head)
                digest.update(chunk)
                out.write(chunk)
            if size == 0:
                raise UploadRefused("文件为空，请选择有内容的文件", "empty")
            if mime is None:
                mime = _accepted(head)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = path_of(sha)
        if final.exists():
            tmp.unlink()
            # A fresh mtime tells the pruner (which spares young files) that a row for this
            # content may be on its way, even when the bytes were first stored long ago.
            os.utime(final)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            # Atomic on one file system: readers never see a half-written file.
            os.replace(tmp, final)
        return StoredFile(sha256=sha, size=size, mime_type=mime)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def ensure_stored(source: IO[bytes], stored: StoredFile) -> None:
    """Write the bytes again if their file vanished before their row committed (a removal of
    the same content raced the upload: see registry.applications.retention)."""
    if path_of(stored.sha256).exists():
        return
    source.seek(0)
    store(source, stored.size)


def set_aside(sha256: str) -> Path | None:
    """Move a stored file out of its place (atomically), or None if it is not there.

    Removal goes in two steps, set aside then unlink, so that a reference that appears in
    between can still be honoured by putting the file back.
    """
    aside = work_dir() / f"aside-{sha256}-{os.urandom(4).hex()}"
    try:
        os.replace(path_of(sha256), aside)
    except FileNotFoundError:
        return None
    return aside


def put_back(aside: Path, sha256: str) -> None:
    """Undo set_aside (identical bytes may already be back: replacing them changes nothing)."""
    final = path_of(sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(aside, final)


def file_clock() -> float:
    """Now, as the store's file system tells time (the clock its files' ages are read on)."""
    marker = work_dir() / ".clock"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return marker.stat().st_mtime


@dataclass(frozen=True)
class OnDisk:
    """A file found in the store: its hash (for stored files), path, size and age."""

    sha256: str | None
    path: Path
    size: int
    modified: float


def stored_files() -> Iterator[OnDisk]:
    """Every stored file (named by its hash), in no particular order."""
    base = root()
    if not base.is_dir():
        return
    for folder in base.iterdir():
        if folder.name == "tmp" or not folder.is_dir():
            continue
        for path in folder.iterdir():
            if _SHA_RE.fullmatch(path.name) and path.name[:2] == folder.name:
                stat = path.stat()
                yield OnDisk(path.name, path, stat.st_size, stat.st_mtime)


def work_files() -> Iterator[OnDisk]:
    """Files in the work folder: uploads cut short, files set aside (sha256 when it shows)."""
    base = work_dir()
    if not base.is_dir():
        return
    for path in base.iterdir():
        if path.is_file() and not path.name.startswith("."):
            stat = path.stat()
            parts = path.name.split("-")
            sha = parts[1] if parts[0] == "aside" and len(parts) == 3 else None
            yield OnDisk(sha, path, stat.st_size, stat.st_mtime)


def _accepted(head: bytes) -> str:
    mime = sniff(head)
    if mime is None:
        raise UploadRefused(
            "仅支持 PDF、JPEG、PNG 格式的文件（按文件内容识别，与文件名无关）", "file_type"
        )
    return mime
