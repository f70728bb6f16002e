"""The execution cache the tests fill and the book build reads is emptied whenever rlcore changes."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("nbcache", ROOT / "scripts/nbcache.py")
nbcache = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(nbcache)


def test_a_stale_cache_is_emptied_and_a_current_one_kept(tmp_path, monkeypatch):
    cache, stamp = tmp_path / ".jupyter_cache", tmp_path / "fingerprint"
    monkeypatch.setattr(nbcache, "CACHE", cache)
    monkeypatch.setattr(nbcache, "STAMP", stamp)
    cache.mkdir()
    (cache / "record").write_text("an executed chapter")
    assert nbcache.sync() is True and not cache.exists()  # no stamp yet: emptied
    cache.mkdir()
    (cache / "record").write_text("an executed chapter")
    assert nbcache.sync() is False and (cache / "record").exists()  # same rlcore: kept
    stamp.write_text("the fingerprint of another rlcore\n")
    assert nbcache.sync() is True and not cache.exists()  # rlcore changed: emptied


def test_the_fingerprint_covers_rlcore_and_the_requirements(tmp_path, monkeypatch):
    before = nbcache.fingerprint()
    fake_root = tmp_path / "repo"
    (fake_root / "rlcore").mkdir(parents=True)
    for name in ("requirements.txt", "pyproject.toml"):
        (fake_root / name).write_text((ROOT / name).read_text())
    (fake_root / "rlcore" / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(nbcache, "ROOT", fake_root)
    one = nbcache.fingerprint()
    (fake_root / "rlcore" / "a.py").write_text("x = 2\n")
    assert nbcache.fingerprint() != one
    (fake_root / "requirements.txt").write_text("numpy\n")
    assert len({before, one, nbcache.fingerprint()}) == 3


def test_an_explorers_captured_drawing_is_not_cached_twice():
    spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "book/conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    drawing = {"output_type": "display_data", "data": {"image/png": "..."}}
    widget = {"output_type": "execute_result", "data": {"application/vnd.jupyter.widget-view+json": {},
                                                         "text/html": "<figure>snapshot</figure>"}}
    assert conftest._without_widget_captures([drawing, widget]) == [widget]  # nbval's stray copy dropped
    plot = {"output_type": "display_data", "data": {"image/png": "a figure"}}
    assert conftest._without_widget_captures([plot]) == [plot]  # a cell without an explorer keeps its figures
