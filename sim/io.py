"""The user's files on disk: bounded reads of input files, checks of output paths.

Every file a command line reads (scenarios, portfolio CSVs, debt files, the
staffing ``--hours`` file) goes through :func:`read_bounded`, and every file
or database it writes is checked first by :func:`check_output_path` or
:func:`check_store_path`. Whatever the path names — a missing file, a
directory, a device such as ``/dev/zero``, a FIFO, a symlink loop, a file
under a regular file — the answer is one :class:`InputError`, never a
hang, a ``MemoryError`` or a traceback.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import InputError

# os.read returns at most this much at a time; reading in chunks keeps a
# too-large file from being read whole.
_CHUNK = 1 << 20
# The longest file name Linux, macOS and Windows file systems all take.
_NAME_MAX = 255


def _umask() -> int:
    # Read once at import: os.umask can only be read by setting it.
    current = os.umask(0)
    os.umask(current)
    return current


# An output file gets the permissions a plain open() would give it (mkstemp makes 0600):
# a report or CSV meant to be shared stays readable by others, as the user's umask says.
_FILE_MODE = 0o666 & ~_umask()


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _file_noun(kind: str) -> str:
    """``scenario`` -> ``scenario file``; ``debt file`` and ``portfolio CSV`` stay as they are."""
    return kind if kind.endswith(("file", "CSV")) else f"{kind} file"


def _size_text(limit: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if limit >= size:
            return f"{limit / size:g} {unit}"
    return f"{limit} bytes"


def _stat_error(err: OSError, source: str, field: str, what: str) -> InputError:
    """One line for a failed stat or open; ``what`` is the thing the path should name."""
    if err.errno == errno.ENOENT:
        return InputError(source, field, "file not found")
    if err.errno == errno.ELOOP:
        return InputError(source, field, f"is a symlink loop (too many levels of symbolic links); "
                                            f"give {_article(what)} {what}")
    if err.errno == errno.ENOTDIR:
        return InputError(source, field, f"a part of the path is a file, not a directory; "
                                            f"give {_article(what)} {what}")
    if err.errno == errno.ENAMETOOLONG:
        return InputError(source, field, f"the path or a name in it is too long for the file system "
                                            f"(a name is at most {_NAME_MAX} bytes)")
    return InputError(source, field, f"cannot be read ({err.strerror or err})")


def _mode(path: str | os.PathLike, source: str, field: str, what: str) -> int:
    """``st_mode`` of what ``path`` names, links followed."""
    try:
        return os.stat(path).st_mode
    except ValueError:  # an embedded NUL byte
        raise InputError(source, field, "is not a valid file name") from None
    except OSError as err:
        raise _stat_error(err, source, field, what) from None


def _refuse_non_regular(mode: int, source: str, field: str, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise InputError(source, field, f"is a directory, not {_article(what)} {what}")
    if not stat.S_ISREG(mode):
        # A device never ends (/dev/zero) and a FIFO waits for a writer: both
        # would hang or fill memory, so only regular files are read.
        raise InputError(source, field, f"is not a regular file (a device, FIFO or socket); "
                                           f"{_article(what)} {what} is a regular file")


def read_bounded(path: str | os.PathLike, *, limit: int, kind: str, source: str | None = None,
                 field: str = "") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else is a InputError.

    ``kind`` names the file in messages ("scenario", "debt file", "portfolio
    CSV"). The size is measured by reading at most ``limit + 1`` bytes, never
    taken from ``st_size`` (a device or a growing file reports 0 or lies), and
    the file is opened non-blocking and checked again on its descriptor, so a
    FIFO swapped in after the first check cannot block either.
    """
    source = str(path) if source is None else source
    what = _file_noun(kind)
    _refuse_non_regular(_mode(path, source, field, what), source, field, what)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise _stat_error(err, source, field, what) from None
    try:
        _refuse_non_regular(os.fstat(fd).st_mode, source, field, what)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise InputError(source, field, f"cannot be read ({err.strerror or err})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputError(source, field, f"file is larger than {_size_text(limit)}; "
                                           f"{_article(what)} {what} is at most {_size_text(limit)}")
    return b"".join(chunks)



def read_csv_text(path: str | os.PathLike, *, limit: int, kind: str) -> str:
    """A CSV file's text: bounded like :func:`read_bounded`, refused if binary or not UTF-8.

    ``utf-8-sig``: a byte-order mark (Excel writes one) is accepted and dropped.
    """
    source = str(path)
    raw = read_bounded(path, limit=limit, kind=kind)
    if b"\x00" in raw[:65536]:
        raise InputError(source, "", "not a text CSV file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(source, "", "not a UTF-8 text CSV file") from None

def _check_parent(path: str, option: str, what: str) -> None:
    """The directory a new file would go to exists, is a directory and can be written."""
    parent = os.path.dirname(os.path.abspath(path))
    shown = os.path.dirname(path) or "."  # as the user wrote it
    try:
        mode = os.stat(parent).st_mode
    except OSError as err:
        if err.errno == errno.ENOENT:
            raise InputError(path, option, f"directory {shown!r} does not exist") from None
        if err.errno == errno.ENOTDIR:
            raise InputError(path, option, f"{shown!r} is under a file, not a directory; "
                                              f"give {_article(what)} {what} in a directory") from None
        raise _stat_error(err, path, option, what) from None
    if not stat.S_ISDIR(mode):
        raise InputError(path, option, f"{shown!r} is a file, not a directory; "
                                          f"give {_article(what)} {what} in a directory")
    # access() also answers EROFS on a read-only file system, which a mode check would miss.
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(path, option, f"directory {shown!r} is not writable")


def _check_target(path: str, option: str, what: str) -> bool:
    """Whether ``path`` exists; if it does, it is a regular file we may replace."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(path, option, f"is a symlink to a missing file; give {_article(what)} {what}") from None
        return False
    except ValueError:
        raise InputError(path, option, "is not a valid file name") from None
    except OSError as err:
        if err.errno == errno.ENOTDIR:
            return False  # reported by _check_parent, which names the file in the way
        raise _stat_error(err, path, option, what) from None
    if stat.S_ISDIR(mode):
        raise InputError(path, option, f"is a directory; give {_article(what)} {what} name")
    if not stat.S_ISREG(mode):
        # Outputs are written to a temporary file and renamed over the target,
        # which would replace a device node or a FIFO rather than write to it.
        raise InputError(path, option, f"is not a regular file (a device, FIFO or socket); "
                                          f"give {_article(what)} {what} name")
    return True


def check_output_path(path: str | os.PathLike | None, option: str, *, what: str = "file") -> None:
    """Fail before any work if an output file cannot be written at ``path``.

    Refused: a directory, a device or FIFO, a symlink loop or a dangling link,
    a path under a regular file or in a missing or read-only directory, a name
    the file system will not take. ``None`` (the option was not given) passes.
    """
    if path is None:
        return
    path = os.fspath(path)
    if not path or "\x00" in path:
        raise InputError(repr(path), option, "is not a valid file name")
    _check_target(path, option, what)
    _check_parent(path, option, what)
    if len(os.fsencode(os.path.basename(path))) > _NAME_MAX:
        raise InputError(path, option, f"file name is too long (at most {_NAME_MAX} bytes)")


def check_store_path(path: str | os.PathLike, option: str = "--store") -> None:
    """Fail before any work if the results store cannot be opened or created at ``path``.

    The same checks as :func:`check_output_path` (an existing store is a
    regular file, a new one goes in a writable directory); an existing file
    must also be readable and writable, since runs are added to it.
    """
    check_output_path(path, option, what="database file")
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        raise InputError(os.fspath(path), option, "cannot be read and written (permissions)")


def is_regular_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a regular file (following links); False for loops and bad names."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def write_atomic(path: str | os.PathLike, content: bytes | str | Callable[[str], object], *,
                 option: str = "") -> None:
    """Write ``path`` whole or not at all: into a temporary file beside it, then a rename.

    ``content`` is the bytes or text to write, or a function that writes the
    temporary file given its path (a figure's ``savefig``, a frame's
    ``to_csv``). Any failure (a full disk, a directory made read-only since
    the check) removes the temporary file, leaves ``path`` as it was and is
    one InputError naming the file and ``option``.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise InputError(os.fspath(path), option, f"cannot be written ({err.strerror or err})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(content, str):
                handle.write(content.encode("utf-8"))
            elif isinstance(content, bytes | bytearray):
                handle.write(content)
        if callable(content):
            content(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, target)
    except OSError as err:
        raise InputError(os.fspath(path), option, f"cannot be written ({err.strerror or err})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


__all__ = ["check_output_path", "check_store_path", "is_regular_file", "read_bounded", "write_atomic"]
