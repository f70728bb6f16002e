"""The style guide (book/style_guide.md), as far as a program can check it, for every chapter."""

import json
import re
from pathlib import Path

import pytest

from rlcore.exercises import ch01, ch02, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12, ch13, ch14

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("ch[0-9][0-9]_*.ipynb"))
APPENDICES = sorted(BOOK.glob("app_[a-z]_*.ipynb"))  # lettered appendices written as notebooks
MODULES = {"ch01": ch01, "ch02": ch02, "ch05": ch05, "ch06": ch06, "ch07": ch07, "ch08": ch08, "ch09": ch09,
           "ch10": ch10, "ch11": ch11, "ch12": ch12, "ch13": ch13, "ch14": ch14}
CHECKER = re.compile(r"^(ex\d+_\d+) = (ch\d\d)\.(check_\w+)\((\w+)\)\s*$", re.M)
SHOW = re.compile(r"^show\(([\w.]+)\)\s*$", re.M)
ENV_USE = re.compile(r"(?:from_toytext\(|run_episodes\(|env_id=|gym\.make\()\"([\w-]+)\""
                     r"|builders\.(gridworld|short_corridor)\(")


def cells(path):
    return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {})) for c in
            json.loads(path.read_text(encoding="utf-8"))["cells"]]


def markdown(path) -> str:
    return "\n".join(src for kind, src, _ in cells(path) if kind == "markdown")


def number(path) -> int:
    return int(path.name[2:4])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_opening(path):
    first = cells(path)[0][1]
    assert re.match(r"# [A-Z]", first), "a chapter starts with '# Title' (the numbered table of contents numbers it)"
    box = re.search(r":::\{admonition\} In this chapter you will learn to\n:class: tip\n(.*?):::", first, re.S)
    assert box, "the opening has the objectives box"
    objectives = re.findall(r"^\d\. ", box.group(1), re.M)
    assert 3 <= len(objectives) <= 5, f"3-5 objectives, found {len(objectives)}"
    assert "**Assumes:**" in first
    if ":::{prf:algorithm}" in markdown(path):
        assert ":::{admonition} Quick facts" in first, "an algorithm chapter opens with a quick-facts box"
        for fact in ("**Kind:**", "**Action spaces:**", "**Needs:**", "**Cost per iteration:**"):
            assert fact in first


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_sections_are_numbered_and_labelled(path):
    text = markdown(path)
    headings = re.findall(r"^## (\d+)\.(\d+) ", text, re.M)
    assert headings and all(int(c) == number(path) for c, _ in headings)
    assert [int(k) for _, k in headings] == list(range(1, len(headings) + 1)), "sections are numbered 1, 2, ..."
    unlabelled = re.findall(r"^(?!\(ch\d\d-[a-z0-9-]+\)=\n)(.*)\n## \d+\.\d+ ", text, re.M)
    assert not unlabelled, "every numbered section is preceded by a label (chNN-slug)="
    for heading in ("## Summary", "## References"):
        assert heading in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_equations_are_labelled_and_referred_to(path):
    text = markdown(path)
    labels = re.findall(r"\$\$\s*\((eq-[a-z0-9-]+)\)", text)
    assert len(labels) >= 3, "key equations are numbered and labelled"
    assert len(labels) == len(set(labels))
    everything = "\n".join(markdown(p) for p in CHAPTERS)
    for label in labels:
        assert f"{{eq}}`{label}`" in everything, f"{label} is never referred to"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_are_numbered_captioned_and_referred_to_before_they_appear(path):
    cs = cells(path)
    figures = [(i, meta["mystnb"]["figure"]) for i, (kind, _, meta) in enumerate(cs)
               if kind == "code" and "figure" in meta.get("mystnb", {})]
    assert figures, "a chapter has numbered figures"
    for i, figure in figures:
        assert figure["name"].startswith(f"fig-ch{number(path):02d}-") and len(figure["caption"]) > 40
        before = "\n".join(src for kind, src, _ in cs[:i] if kind == "markdown")
        assert f"{{numref}}`{figure['name']}`" in before, f"{figure['name']} is not referred to before it appears"
        assert "plt.show()" in cs[i][1]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_theorem_has_a_proof_or_a_citation(path):
    text = markdown(path)
    for m in re.finditer(r":::\{prf:(theorem|lemma|proposition|corollary)\}(.*?)\n:::\n", text, re.S):
        box, after = m.group(2), text[m.end():m.end() + 400]
        assert "*Assumptions:*" in box, f"{m.group(1)} {box[:40]!r} states no assumptions"
        has_proof = after.lstrip().startswith(":::{prf:proof}")
        assert has_proof or "{cite" in box, f"{m.group(1)} {box[:40]!r} has neither a proof nor a citation"


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([\w-]+),", (BOOK / "references.bib").read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_references_cite_the_bibliography(path):
    text = markdown(path)
    references = text.split("## References", 1)[1]
    assert re.search(r"\{cite:[tp]\}", references)
    keys = {k.strip() for group in re.findall(r"\{cite:[tp]\}`([^`]+)`", text) for k in group.split(",")}
    assert keys and keys <= bib_keys(), f"unknown keys: {keys - bib_keys()}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_and_no_implementation_on_screen_before_its_checker(path):
    cs = cells(path)
    namespace: dict = {}
    imports = next(src for kind, src, _ in cs[2:] if kind == "code")
    exec(imports, namespace)  # the chapter's import cell: resolves show(...) arguments
    checkers = [(i, m) for i, (kind, src, _) in enumerate(cs) if kind == "code" and (m := CHECKER.search(src))]
    assert len(checkers) >= 2, "at least two coding exercises with checkers"
    assert any(re.search(r"\bch\d\d\.quiz\(", src) for kind, src, _ in cs if kind == "code"), "a graded question"
    for i, m in checkers:
        module, checker = MODULES[m.group(2)], getattr(MODULES[m.group(2)], m.group(3))

        def stub(**kwargs):
            raise NotImplementedError

        answers = set(checker(stub).fallback_name.split(" and "))
        for kind, src, _ in cs[:i]:
            for shown in SHOW.findall(src) if kind == "code" else []:
                obj = eval(shown, namespace)
                qualified = f"{obj.__module__}.{obj.__qualname__}"
                assert qualified not in answers, f"show({shown}) gives away {m.group(3)} before its checker"
        assert module is not None


def test_environments_are_met_before_they_are_used():
    met, used = {}, {}
    for path in CHAPTERS:
        for position, (kind, src, _) in enumerate(cells(path)):
            where = (number(path), position)
            if kind == "markdown":
                for name, box in re.findall(r"Meet the environment: ([^\n]+)\n(.*?)\n:::", src, re.S):
                    assert "| |" in box or "```text" in box, f"the box of {name} shows no map"
                    for part in ("**Actions:**", "**Rewards:**", "**End"):
                        assert part in box, f"the box of {name} does not say {part}"
                    key = next((k for k in ("gridworld", "short corridor") if k in name), name.strip())
                    met.setdefault(key.replace(" ", "_"), where)
            else:
                for env_id, grid in ENV_USE.findall(src):
                    used.setdefault(env_id or grid, where)
    assert used, "the chapters use environments"
    for env, where in used.items():
        assert env in met and met[env] < where, f"{env} is used at {where} before its 'Meet the environment' box"


def errata_labels() -> set[str]:
    return set(re.findall(r"^\((errata-e\d-\d+)\)=", (BOOK / "errata.md").read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("path", CHAPTERS + APPENDICES, ids=lambda p: p.stem)
def test_errata_boxes_name_the_source_and_link_both_ways(path):
    text = markdown(path)
    appendix = (BOOK / "errata.md").read_text(encoding="utf-8")
    labels = set(re.findall(r"^\(((?:ch\d\d|app-[a-z])-[a-z0-9-]+)\)=", text, re.M))
    boxes = 0
    for m in re.finditer(r":::\{admonition\} Erratum (E(\d)\.(\d+)): source note (\d{3}) \(([^)]*)\)[^\n]*\n"
                         r":class: warning\n(.*?):::", text, re.S):
        boxes += 1
        eid, source, idx, note, where, body = m.groups()
        assert note == f"00{source}", f"{eid} names source note {note}"
        label = f"errata-e{source}-{idx}"
        assert f"<{label}>`" in body, f"the box of {eid} does not link to the appendix"
        assert label in errata_labels(), f"the appendix has no entry {label}"
        entry = appendix.split(f"({label})=", 1)[1].split("\n(errata-", 1)[0]
        assert any(f"{{ref}}`{lab}`" in entry for lab in labels), f"the appendix entry {label} does not link back"
    assert boxes == text.count(":::{admonition} Erratum"), "an erratum box does not follow the title pattern"
    prose = re.sub(r":::\{admonition\} Erratum.*?\n:::", "", text, flags=re.S)
    assert not re.search(r"\bE\d\.\d+\b", prose), "an erratum id outside its box"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_internal_id_without_a_legend(path):
    text = markdown(path)
    assert not re.search(r"\b(?:A|F|Q|T|P)-\d\d\b|\bEX\.\d", text), "syllabus ids mean nothing to a reader"
    checks = re.search(r"\(ch\d\d-checks\)=\n## (\d+\.\d+) Checking the derivations\n(.*?)\n## ", text, re.S)
    assert checks, "a derivation-check section labelled chNN-checks"
    outside = text.replace(checks.group(2), "")
    for paragraph in outside.split("\n\n"):
        if re.search(r"\bDC-\d+", paragraph):
            assert f"§{checks.group(1)}" in paragraph, f"DC id with no pointer to §{checks.group(1)}: {paragraph[:60]}"


def test_every_erratum_in_the_appendix_has_its_box():
    boxes = set()
    for path in CHAPTERS + APPENDICES:
        boxes |= {f"errata-e{s}-{i}" for s, i in re.findall(r"Erratum E(\d)\.(\d+): source note", markdown(path))}
    assert boxes == errata_labels()


def test_the_style_guide_names_what_the_book_uses():
    guide = (BOOK / "style_guide.md").read_text(encoding="utf-8")
    for piece in ("sphinx-proof", "sphinx-exercise", "sphinx-togglebutton", "sphinxcontrib-bibtex", "jupyterquiz"):
        assert piece in guide
