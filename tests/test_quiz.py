"""Graded questions: every kind grades right, wrong and malformed answers, and renders without a kernel."""

import pytest

from rlcore.exercises import ERROR, FAIL, NOT_ATTEMPTED, PASS
from rlcore.exercises.quiz import MULTIPLE, NUMBER, SINGLE, Question, QuizView, make_quiz

SINGLE_Q = Question("9.1", "Pick b.", SINGLE, "b", "because.", choices=("x", "y", "z"), hints={"a": "not a."})
MULTI_Q = Question("9.2", "Pick a and c.", MULTIPLE, frozenset("ac"), "because.", choices=("x", "y", "z"))
NUMBER_Q = Question("9.3", "How much?", NUMBER, 0.099, "because.", rtol=1e-2)


@pytest.mark.parametrize("question, right, wrongs, malformed", [
    (SINGLE_Q, "b", ["a", "c", " C "], ["d", 3, "ab", ""]),
    (MULTI_Q, {"a", "c"}, [{"a"}, {"a", "b", "c"}, "a"], [{"a", "q"}, set(), 5]),
    (NUMBER_Q, 0.0995, [0.0999 * 1.2, 99, -0.099], ["abc", float("nan"), None and 1]),
])
def test_grading(question, right, wrongs, malformed):
    assert question.grade(right).status == PASS and "because." in question.grade(right).message
    for wrong in wrongs:
        assert question.grade(wrong).status == FAIL, wrong
    for bad in malformed:
        status = question.grade(bad).status
        assert status in (ERROR, NOT_ATTEMPTED), (bad, status)
    assert question.grade(None).status == NOT_ATTEMPTED


def test_hints_and_letters_are_case_blind():
    assert "not a." in SINGLE_Q.grade("A").message
    assert SINGLE_Q.grade(" B").status == PASS


def test_a_key_outside_the_choices_is_refused():
    with pytest.raises(ValueError, match="not among the choices"):
        Question("9.4", "?", SINGLE, "e", "", choices=("x", "y"))
    with pytest.raises(ValueError, match="kind must be"):
        Question("9.5", "?", "essay", "x", "")


def test_the_view_renders_without_a_kernel_and_loads_no_external_script():
    view = QuizView(MULTI_Q)
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in bundle  # no kernel here: no widget
    html = bundle["text/html"]
    assert "<script>" in html and "src=" not in html and "checkbox" in html
    graded = QuizView(NUMBER_Q, answer=0.099)._repr_mimebundle_()
    assert "right." in graded["text/plain"]


def test_make_quiz_names_the_valid_ids():
    quiz = make_quiz({"9.1": SINGLE_Q})
    assert quiz("9.1", answer="b").result.status == PASS
    with pytest.raises(KeyError, match="9.1"):
        quiz("9.9")


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="needs node to run the form's script")
@pytest.mark.parametrize("question, picks, right", [
    (SINGLE_Q, ["b"], True), (SINGLE_Q, ["a"], False), (MULTI_Q, ["a", "c"], True), (MULTI_Q, ["a"], False),
    (NUMBER_Q, "0.0995", True), (NUMBER_Q, "0.2", False), (NUMBER_Q, "abc", False),
])
def test_the_static_forms_script_grades_like_python(question, picks, right, tmp_path):
    """Run the form's own script against a minimal stand-in for the page, as the static book would."""
    import re
    import subprocess

    html = QuizView(question)._html()
    script = re.search(r"<script>(.*)</script>", html, re.S).group(1)
    uid = re.search(r'<form id="(\w+)"', html).group(1)
    checked = picks if isinstance(picks, list) else []
    value = picks if isinstance(picks, str) else ""
    page = f"""
    const feedback = {{textContent: "", style: {{}}}};
    const button = {{}};
    const form = {{querySelector: (q) => q === 'button' ? button : q === '.fb' ? feedback : {{value: {value!r}}},
                   querySelectorAll: (q) => {checked!r}.map(v => ({{value: v}}))}};
    const document = {{getElementById: (id) => id === {uid!r} ? form : null}};
    {script}
    button.onclick();
    console.log(feedback.textContent);
    """
    out = subprocess.run(["node", "-e", page], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Right.") == right, out.stdout
