"""Let the book's numbered table of contents number the sections, once.

Chapters number their own sections in the notebook ("## 2.3 Policy iteration"), so that a reader on
Colab or in Jupyter sees the numbers that the text and rlcore's docstrings use (§2.3). The book's
table of contents is numbered too (that gives figures, equations and theorems their chapter prefix,
Figure 2.3), and Sphinx would print the number twice. This removes the notebook's own number from
each section title when the document is read; Sphinx then adds the same number back.
"""

import re

from docutils import nodes

_OWN_NUMBER = re.compile(r"^\d+\.\d+(?:\.\d+)* ")


def _strip_own_numbers(app, doctree):
    for title in doctree.findall(nodes.title):
        if not isinstance(title.parent, nodes.section) or not title.children:
            continue
        first = title.children[0]
        if isinstance(first, nodes.Text) and _OWN_NUMBER.match(str(first)):
            title.replace(first, nodes.Text(_OWN_NUMBER.sub("", str(first), count=1)))


def setup(app):
    app.connect("doctree-read", _strip_own_numbers, priority=100)  # before the toc and label collectors
    return {"parallel_read_safe": True, "parallel_write_safe": True}
