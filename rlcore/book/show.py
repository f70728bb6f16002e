"""Show rlcore's own source in a notebook, so chapters never copy code (the book is the library)."""

from __future__ import annotations

import inspect
import textwrap


class Source:
    """Highlighted source code; renders as HTML in a notebook and as text elsewhere (Chapter 1, §1.2)."""

    def __init__(self, code: str, title: str):
        self.code, self.title = code, title

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        body = highlight(self.code, PythonLexer(), HtmlFormatter(noclasses=True, style="friendly"))
        return (f'<div class="rlcore-source"><div style="font-size:0.8em;color:#666">{self.title}</div>'
                f"{body}</div>")

    def __repr__(self) -> str:
        return f"# {self.title}\n{self.code}"


def show(obj) -> Source:
    """Return the source of a function, class or module from rlcore, ready to display (Chapter 1, §1.2).

    >>> show(rlcore.exact.evaluate_policy)   # doctest: +SKIP
    """
    try:
        code = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"show() needs a function, class or module defined in Python source, got {obj!r}") from exc
    module = getattr(inspect.getmodule(obj), "__name__", "?")
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    title = f"{module}.{name}" if name and name != module else module
    return Source(textwrap.dedent(code), title)
