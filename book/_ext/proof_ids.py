"""Make ``{prf:proof}`` boxes work with collapsing (``:class: dropdown``).

sphinx-proof 0.4.0 gives every proof the HTML id ``proof`` and no title: it writes "Proof." into
the first paragraph. sphinx-togglebutton finds a box's button by id and puts it into the box's
title, so with several proofs on a page it opens and closes the wrong boxes, and on a box with
no title its script stops. This gives the proofs of each page the ids ``proof-1``, ``proof-2``,
..., and moves "Proof" from the first paragraph into a title.
"""

from docutils import nodes


def _fix_proofs(app, doctree, docname):
    count = 0
    for node in doctree.findall(nodes.admonition):
        if node.get("ids") != ["proof"]:  # theorems, lemmas, ... have their labels as ids
            continue
        count += 1
        node["ids"] = [f"proof-{count}"]
        if node.children and isinstance(node.children[0], nodes.title):
            continue
        first = node.children[0] if node.children else None
        if isinstance(first, nodes.paragraph) and first.children and isinstance(first.children[0], nodes.Text):
            text = str(first.children[0])
            if text.startswith("Proof. "):
                first.replace(first.children[0], nodes.Text(text[len("Proof. "):]))
        node.insert(0, nodes.title("", "Proof"))


def setup(app):
    app.connect("doctree-resolved", _fix_proofs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
