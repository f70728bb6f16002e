"""Sphinx extension: serve MathJax from the ``mathjax`` Python package, so the book needs no CDN.

The package (PyPI ``django-static-mathjax``, pinned in requirements.txt) is installed at build
time; nothing third-party is committed. ``mathjax_path`` in ``_config.yml`` points at the copy
made here, relative to ``_static``.
"""

import shutil
from pathlib import Path


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    target = Path(app.outdir) / "_static" / "mathjax" / "es5"
    if not (source / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"MathJax not found at {source}; is django-static-mathjax installed?")
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("sre", "*.map"))


def setup(app):
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
