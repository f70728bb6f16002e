"""Number the lettered appendices' figures, equations and theorems B.1, B.2, ..., C.1, ...

The appendices sit in an unnumbered part of the table of contents, so Sphinx numbers their figures, equations and
theorems consecutively across all of them (Appendix C's first theorem would be "Theorem 3"). After Sphinx has
assigned its numbers, this renumbers each lettered appendix on its own, with its letter in front.
"""

import re

_APPENDIX = re.compile(r"(?:^|/)app_([a-z])_[^/]*$")


def _renumber(app, env):
    for docname, figtypes in env.toc_fignumbers.items():
        match = _APPENDIX.search(docname)
        if not match:
            continue
        letter = match.group(1).upper()
        for numbers in figtypes.values():
            order = sorted(numbers, key=lambda key: numbers[key])
            for i, key in enumerate(order, start=1):
                numbers[key] = (letter, i)
    return []


def setup(app):
    app.connect("env-get-updated", _renumber, priority=900)  # after Sphinx's own assignment (priority 500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
