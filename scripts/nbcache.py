"""The book's execution cache, shared by the test run and the book build.

The test run executes every chapter once (nbval) and stores each fully executed notebook in
Jupyter Book's execution cache (``_build/.jupyter_cache``, the jupyter-cache format). The book build
(``execute_notebooks: cache`` in ``_config.yml``) then finds every chapter there and executes none.
jupyter-cache keys a notebook by its code, so it would not notice a change to ``rlcore``; this module
stamps the cache with a fingerprint of ``rlcore``'s source and of the pinned requirements, and empties
it whenever the fingerprint changes. Run as a script, it does just that (``scripts/book.sh`` does).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
STAMP = ROOT / "_build" / "jupyter_cache.fingerprint"


def fingerprint() -> str:
    """SHA-256 of every file that can change what a chapter computes, other than the chapter itself."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "rlcore").rglob("*.py")) + [ROOT / "requirements.txt", ROOT / "pyproject.toml"]
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def sync() -> bool:
    """Empty the cache if it was filled with another rlcore; return whether it was emptied."""
    current = fingerprint()
    stale = not STAMP.is_file() or STAMP.read_text().strip() != current
    if stale:
        shutil.rmtree(CACHE, ignore_errors=True)
        STAMP.parent.mkdir(parents=True, exist_ok=True)
        STAMP.write_text(current + "\n")
    return stale


def store(notebook, path: Path, seconds: float) -> None:
    """Put an executed notebook (an nbformat node with outputs) into the cache, keyed like Jupyter Book does."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(CACHE))
    cache.cache_notebook_bundle(CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


if __name__ == "__main__":
    print("execution cache emptied (rlcore or the requirements changed)" if sync() else "execution cache is current")
