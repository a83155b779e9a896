"""Where data files live, and how they get there: verified by SHA-256 before every use.

Folder: `root` if given, else `$MINIDL_DATA`, else the per-user cache `$XDG_CACHE_HOME/minidl`
(`~/.cache/minidl`). A missing file is downloaded from the first address that answers, into a
temporary file that is renamed into place only once its SHA-256 digest matches. A file whose digest
does not match is never used: the error names it and says what to do.
"""

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from minidl.data.errors import ChecksumError, DatasetNotFoundError
from minidl.serialization import new_file_mode

_CHUNK = 1 << 20
TIMEOUT_S = 30


@dataclass(frozen=True)
class DataFile:
    """A published file: its name, size in bytes and SHA-256 digest (hex)."""

    name: str
    size: int
    sha256: str


def data_home(root=None):
    """The data folder: `root`, else `$MINIDL_DATA`, else `$XDG_CACHE_HOME/minidl` or `~/.cache/minidl`."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("MINIDL_DATA"):
        return Path(os.environ["MINIDL_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "minidl"


def sha256_of(path):
    """The SHA-256 digest (hex) of the file at `path`, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, file, source=None):
    """Raise ChecksumError unless the file at `path` has `file`'s size and SHA-256 digest."""
    size = os.path.getsize(path)
    actual = sha256_of(path)
    if actual == file.sha256 and size == file.size:
        return
    problem = (f"{size} bytes instead of {file.size}: truncated or incomplete" if size < file.size else
               f"{size} bytes instead of {file.size}" if size != file.size else "the right size but different content")
    where = f" (downloaded from {source})" if source else ""
    raise ChecksumError(f"the file {path}{where} fails its SHA-256 check: expected {file.sha256}, got {actual} "
                        f"({problem}). It is corrupted or not the published file; it was not used. Delete it and "
                        f"load again with download=True to fetch it anew, or put the correct file there.")


def fetch(folder, file, urls, download=True, progress=True):
    """The path of `file` in `folder`, verified; downloaded from the first of `urls` that works if missing.

    Raises DatasetNotFoundError (missing and not downloadable) or ChecksumError (wrong content).
    """
    folder = Path(folder)
    path = folder / file.name
    if path.exists():
        verify(path, file)
        return path
    if not download or not urls:
        why = "download=False" if urls else "this file has no download address"
        raise DatasetNotFoundError(f"{file.name} is missing from {folder} ({why}). {_where_to_put(folder, urls)}")
    failures = []
    for base in urls:
        url = base + file.name
        try:
            _download(url, path, file, progress)
            return path
        except (ChecksumError, OSError) as exc:  # OSError: URLError, HTTPError, timeouts, a read-only folder
            failures.append(f"{url}: {exc}")
    tried = "\n  ".join(failures)
    raise DatasetNotFoundError(f"{file.name} is missing from {folder} and could not be downloaded:\n  {tried}\n"
                               f"{_where_to_put(folder, urls)}")


def fetch_all(folder, files, urls, download=True, progress=True, source=None):
    """The verified paths of all `files` in `folder` (see `fetch`); a missing-files error lists them all.

    `source` replaces the download addresses in error messages (for files that have none).
    """
    missing = [file.name for file in files if not (Path(folder) / file.name).exists()]
    if missing and (not download or not urls):
        why = "download=False" if urls else "these files are not downloaded automatically"
        raise DatasetNotFoundError(f"missing from {folder} ({why}): {', '.join(missing)}. "
                                   f"{_where_to_put(folder, urls, source)}")
    try:
        return [fetch(folder, file, urls, download, progress) for file in files]
    except DatasetNotFoundError as exc:
        raise DatasetNotFoundError(f"{exc}\nMissing there: {', '.join(missing)}.") from None


def _download(url, path, file, progress):
    """Download `url` to a temporary file beside `path`, verify it, then rename it to `path` (atomic)."""
    from tqdm.auto import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=file.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or file.size)
            with tqdm(total=total, unit="B", unit_scale=True, desc=file.name, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
        verify(tmp, file, source=url)
        os.chmod(tmp, new_file_mode())  # mkstemp made it private; the user's umask decides, as for any file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _where_to_put(folder, urls, source=None):
    sources = source or " or ".join(urls) or "their publisher"
    return (f"Without a network, download the files from {sources} and put them in {folder}/ "
            f"(or point $MINIDL_DATA, or root=, at a data folder that holds them).")
