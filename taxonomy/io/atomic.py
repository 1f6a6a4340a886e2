"""Writing files so that nothing is ever lost: a file through a temp file renamed into place
(``atomic_path``), a folder through a temp folder swapped into place (``atomic_dir``).

A temp is locked (``filelock``) while its run lives, so the next run removes only those of
killed runs; ``exclusive`` serializes a read-modify-write of one file across processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

from ..errors import OutputError, TaxonomyError

_TEMP = ".tmp"  # suffix of this tool's temp files and folders: .<name>.<random>.tmp
_OLD = ".old"  # a folder being swapped out: .<name>.<random>.old


def clean_stale(path: Path) -> None:
    """Remove temp files and folders of ``path`` that runs which died left behind (their lock
    is free); a folder swap cut short is completed or undone."""
    for temp in [*sorted(path.parent.glob(f".{path.name}.*{_TEMP}")),
                 *sorted(path.parent.glob(f".{path.name}.*{_OLD}"))]:
        try:
            fd = os.open(temp, os.O_RDONLY)
        except OSError:
            continue
        try:
            if not filelock.lock_descriptor(fd, blocking=False):
                continue  # a live run's
            if temp.name.endswith(_OLD) and not path.exists():
                os.replace(temp, path)  # the swap died between its two renames: undo it
                continue
            _remove(temp)
        finally:
            os.close(fd)


def _remove(temp: Path) -> None:
    if temp.is_dir():
        shutil.rmtree(temp, ignore_errors=True)
    else:
        temp.unlink(missing_ok=True)


@contextlib.contextmanager
def _writable(path: Path) -> Iterator[None]:
    """An OS error in the block as an OutputError naming ``path``."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror}); choose a writable location",
                          path) from None


def _resolved(path: Path) -> Path:
    """Where a symbolic link leads (a write goes through it and the link stays), else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


@contextlib.contextmanager
def _locked_temp(path: Path, shown: Path, folder: bool) -> Iterator[Path]:
    """A temp file or folder beside ``path``, locked while the block runs; if the block fails,
    it is removed with the folders made for it, and the error told about ``shown``: an OS
    error as one line, an error naming the temp (or a file in it) naming ``shown``."""
    made = []  # the missing parent folders, deepest first
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        made.append(parent)
        parent = parent.parent
    with _writable(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if folder:
            with _writable(shown):
                tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=_TEMP, dir=path.parent))
            fd = os.open(tmp, os.O_RDONLY)
        else:
            with _writable(shown):
                fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP, dir=path.parent)
            tmp = Path(name)
        try:
            filelock.lock_descriptor(fd, blocking=True)
            yield tmp
        except BaseException as exc:
            _remove(tmp)
            if isinstance(exc, OSError) and (
                    exc.filename is None or Path(os.fsdecode(exc.filename)).is_relative_to(tmp)):
                raise OutputError(f"write failed ({exc.strerror or exc}); free space or choose "
                                  "another location", shown) from None
            if isinstance(exc, TaxonomyError) and exc.path is not None and \
                    Path(exc.path).is_relative_to(tmp):  # the temp itself: '.' under shown
                raise type(exc)(exc.message, shown / Path(exc.path).relative_to(tmp),
                                exc.line) from None
            raise
        finally:
            os.close(fd)
    except BaseException:
        for parent in made:  # removed again while empty
            try:
                parent.rmdir()
            except OSError:
                break
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``path``, renamed onto it only if the block succeeds (a symbolic
    link is written through); an OS error is an OutputError naming ``path``."""
    shown = Path(path)
    path = _resolved(shown)
    if path.is_dir():
        raise OutputError("is a directory; give a file name", shown)
    clean_stale(path)
    with _locked_temp(path, shown, folder=False) as tmp:
        yield tmp
        _fsync(tmp)
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        _fsync(path.parent)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, owned: Callable[[str], bool]) -> Iterator[Path]:
    """Yield a temp folder beside ``path`` that replaces it as a whole if the block succeeds (a
    symbolic link is written through). ``owned(name)`` tells the files this tool wrote: a
    folder holding others is refused. An OS error is an OutputError naming ``path``."""
    shown = Path(path)
    path = _resolved(shown)
    if path.exists() and not path.is_dir():
        raise OutputError("is a file; give a folder name", shown)
    clean_stale(path)
    if path.is_dir():
        foreign = sorted(p.name for p in path.iterdir() if not owned(p.name))
        if foreign:
            raise OutputError(f"holds files this command did not write ({', '.join(foreign[:3])}"
                              f"{', ...' if len(foreign) > 3 else ''}); give an empty or new "
                              "folder with -o", shown)
    with _locked_temp(path, shown, folder=True) as tmp:
        yield tmp
        for file in tmp.rglob("*"):  # the files of its subfolders too
            _fsync(file)
        os.chmod(tmp, 0o755)
        _swap(tmp, path)


def _swap(new: Path, path: Path) -> None:
    """Put folder ``new`` at ``path``, atomically where the system can exchange two names."""
    if not path.exists():
        os.replace(new, path)
    elif _exchange(new, path):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old folder
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=_OLD, dir=path.parent))
        os.rmdir(old)
        fd = os.open(path, os.O_RDONLY)  # locked, so no other run takes ``old`` for stale
        try:
            filelock.lock_descriptor(fd, blocking=True)
            os.replace(path, old)  # a crash from here to the next line is undone by clean_stale
            os.replace(new, path)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            os.close(fd)
    _fsync(path.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two names in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EXDEV):
        return False  # a file system without exchange: fall back to two renames
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))


def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk, so a rename never exposes empty data;
    where that fails (some file systems cannot sync folders) the rename is still atomic."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, waiting: Callable[[], None] | None = None
              ) -> Iterator[None]:
    """Hold ``path`` (which may not exist yet) against other runs for a read-modify-write;
    ``waiting`` is called once if another run holds it. No lock file outlives its run."""
    path = Path(path)
    if path.is_dir():
        raise OutputError("is a directory; give a file name", path)
    lock_path = path.parent / f".{path.name}.lock"
    lock = filelock.FileLock(lock_path)
    with _writable(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(blocking=False)
        except filelock.Timeout:  # another run holds it
            if waiting is not None:
                waiting()
            lock.acquire()
    try:
        yield
    finally:
        lock_path.unlink(missing_ok=True)  # first: a waiter finds it gone, filelock remakes it
        lock.release()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
