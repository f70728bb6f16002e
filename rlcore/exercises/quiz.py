"""Graded questions: multiple choice, multiple select and numeric answers (Chapter 1, §1.2).

A chapter's question cell is ``ch01.quiz("1.1")``. In Jupyter and on Colab it shows the question
with its choices (ipywidgets), a *Check* button and, once answered, whether the answer is right and
why. In the static book the same question is a small HTML form with its own script. To hand an
answer in (an instructor grades the notebook), write it into the call: ``ch01.quiz("1.1",
answer="b")``; the cell then grades it at once.

The answer keys and explanations live here, in rlcore, not in the notebooks, so the student
edition of a chapter carries no key.
"""

from __future__ import annotations

import html
import json
import math
import uuid
from dataclasses import dataclass, field

from .framework import ERROR, FAIL, NOT_ATTEMPTED, PASS, CheckResult

SINGLE, MULTIPLE, NUMBER = "single", "multiple", "number"
LETTERS = "abcdefghij"


@dataclass(frozen=True)
class Question:
    """One graded question and its key (Chapter 1, §1.2).

    ``kind`` is ``"single"`` (answer: one letter), ``"multiple"`` (answer: a set of letters, all
    and only the right ones) or ``"number"`` (answer: a float within ``rtol`` relative or ``atol``).
    """

    id: str
    prompt: str
    kind: str
    answer: str | frozenset[str] | float
    explanation: str
    choices: tuple[str, ...] = ()
    rtol: float = 1e-3
    atol: float = 0.0
    hints: dict = field(default_factory=dict)  #: wrong choice -> why it is tempting and wrong

    def __post_init__(self):
        if self.kind not in (SINGLE, MULTIPLE, NUMBER):
            raise ValueError(f"kind must be 'single', 'multiple' or 'number', got {self.kind!r}")
        if self.kind != NUMBER:
            letters = set(LETTERS[: len(self.choices)])
            key = {self.answer} if self.kind == SINGLE else set(self.answer)
            if not key or not key <= letters:
                raise ValueError(f"question {self.id}: answer {self.answer!r} is not among the choices "
                                 f"{sorted(letters)}")

    def grade(self, answer) -> CheckResult:
        """Grade one answer; never raises (Chapter 1, §1.2)."""
        title = f"Question {self.id}"
        if answer is None:
            return CheckResult(title, NOT_ATTEMPTED, "not answered yet: choose in the form above, or write your "
                               f"answer into the call, e.g. quiz(\"{self.id}\", answer={self._example()})")
        parsed, problem = self._parse(answer)
        if problem:
            return CheckResult(title, ERROR, problem)
        if self._correct(parsed):
            return CheckResult(title, PASS, f"right. {self.explanation}")
        hint = self.hints.get(parsed if isinstance(parsed, str) else "".join(sorted(parsed)) if self.kind == MULTIPLE
                              else "", "")
        return CheckResult(title, FAIL, "not quite. " + (hint or "Think again, then read the explanation "
                                                                "after your next try."))

    def _example(self) -> str:
        return {SINGLE: '"a"', MULTIPLE: '{"a", "c"}', NUMBER: "0.5"}[self.kind]

    def _parse(self, answer):
        if self.kind == NUMBER:
            try:
                value = float(answer)
            except (TypeError, ValueError):
                return None, f"the answer must be a number, got {answer!r}"
            if not math.isfinite(value):
                return None, f"the answer must be a finite number, got {answer!r}"
            return value, None
        letters = LETTERS[: len(self.choices)]
        if self.kind == SINGLE:
            if not (isinstance(answer, str) and answer.strip().lower() in letters and len(answer.strip()) == 1):
                return None, f"the answer must be one letter among {', '.join(letters)}, got {answer!r}"
            return answer.strip().lower(), None
        items = [answer] if isinstance(answer, str) else answer
        try:
            chosen = {str(a).strip().lower() for a in items}
        except TypeError:
            return None, f"the answer must be a set of letters such as {{'a', 'c'}}, got {answer!r}"
        if not chosen or not chosen <= set(letters):
            return None, f"the answer must be letters among {', '.join(letters)}, got {answer!r}"
        return frozenset(chosen), None

    def _correct(self, parsed) -> bool:
        if self.kind == NUMBER:
            return abs(parsed - self.answer) <= self.atol + self.rtol * abs(self.answer)
        if self.kind == SINGLE:
            return parsed == self.answer
        return parsed == frozenset(self.answer)


class QuizView:
    """What a question cell shows: a widget in a live kernel, an HTML form in the static book (Chapter 1, §1.3)."""

    def __init__(self, question: Question, answer=None):
        self.question, self.answer = question, answer
        self.result = question.grade(answer) if answer is not None else None

    def __repr__(self) -> str:
        q = self.question
        lines = [f"Question {q.id}: {q.prompt}"]
        lines += [f"  ({LETTERS[i]}) {c}" for i, c in enumerate(q.choices)]
        if self.result is not None:
            lines.append(str(self.result))
        return "\n".join(lines)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self), "text/html": self._html()}
        widget = self._widget()
        if widget is not None:
            data = widget._repr_mimebundle_() if hasattr(widget, "_repr_mimebundle_") else None
            if isinstance(data, dict):
                bundle.update({k: v for k, v in data.items() if k.startswith("application/vnd.jupyter.widget")})
        return bundle

    def _html(self) -> str:
        """A self-contained form: choices, a Check button and a feedback line (no external scripts)."""
        q, uid = self.question, "q" + uuid.uuid4().hex[:8]
        key = {"kind": q.kind, "rtol": q.rtol, "atol": q.atol, "explanation": q.explanation, "hints": q.hints,
               "answer": sorted(q.answer) if q.kind == MULTIPLE else q.answer}
        if q.kind == NUMBER:
            inputs = f'<input type="text" name="{uid}" size="12" aria-label="your answer">'
        else:
            kind = "radio" if q.kind == SINGLE else "checkbox"
            inputs = "".join(f'<label style="display:block"><input type="{kind}" name="{uid}" value="{LETTERS[i]}"> '
                             f"({LETTERS[i]}) {html.escape(c)}</label>" for i, c in enumerate(q.choices))
        script = (
            f"(function(){{var k={json.dumps(key)};var f=document.getElementById('{uid}');"
            "f.querySelector('button').onclick=function(){var o=f.querySelector('.fb'),ok=false,got;"
            "if(k.kind==='number'){got=parseFloat(f.querySelector('input').value);"
            "ok=isFinite(got)&&Math.abs(got-k.answer)<=k.atol+k.rtol*Math.abs(k.answer);}"
            "else{got=Array.from(f.querySelectorAll('input:checked')).map(function(e){return e.value;}).sort();"
            "var want=[].concat(k.answer).sort();ok=got.join('')===want.join('');got=got.join('');}"
            "o.textContent=ok?'Right. '+k.explanation:'Not quite. '+(k.hints[got]||'Think again.');"
            "o.style.color=ok?'#1e7d32':'#b3261e';};})();")
        # mathjax_process: the static book's MathJax typesets only elements with this class (or its kin)
        return (f'<form id="{uid}" class="rlcore-quiz mathjax_process" onsubmit="return false" '
                f'style="border:1px solid #ccd;border-radius:6px;padding:0.6em 0.9em;margin:0.4em 0">'
                f"<b>Question {html.escape(q.id)}.</b> "
                f"{html.escape(q.prompt)}<div style=\"margin:0.4em 0\">{inputs}</div>"
                f'<button type="button">Check</button> <span class="fb"></span>'
                + (f"<div>{self.result._repr_html_()}</div>" if self.result is not None else "")
                + f"<script>{script}</script></form>")

    def _widget(self):
        try:
            import ipywidgets as widgets
            from IPython import get_ipython
        except ImportError:
            return None
        shell = get_ipython()
        if shell is None or not getattr(shell, "kernel", None):
            return None
        q = self.question
        labels = [f"({LETTERS[i]}) {c}" for i, c in enumerate(q.choices)]
        if q.kind == SINGLE:
            picker = widgets.RadioButtons(options=labels, value=None, layout={"width": "max-content"})
            read = lambda: None if picker.value is None else picker.value[1]  # noqa: E731
        elif q.kind == MULTIPLE:
            boxes = [widgets.Checkbox(description=label, indent=False) for label in labels]
            picker = widgets.VBox(boxes)
            read = lambda: {LETTERS[i] for i, b in enumerate(boxes) if b.value} or None  # noqa: E731
        else:
            picker = widgets.Text(placeholder="a number")
            read = lambda: picker.value or None  # noqa: E731
        button, feedback = widgets.Button(description="Check"), widgets.HTML()

        def on_click(_):
            feedback.value = q.grade(read())._repr_html_()

        button.on_click(on_click)
        parts = [widgets.HTMLMath(f"<b>Question {q.id}.</b> {html.escape(q.prompt)}"), picker, button, feedback]
        if self.result is not None:
            parts.append(widgets.HTML(self.result._repr_html_()))
        return widgets.VBox(parts)


def make_quiz(questions: dict[str, Question]):
    """A chapter's ``quiz(id, answer=None)`` function over its question bank (Chapter 1, §1.2)."""

    def quiz(question_id: str, answer=None) -> QuizView:
        if question_id not in questions:
            raise KeyError(f"question_id must be one of {sorted(questions)}, got {question_id!r}")
        return QuizView(questions[question_id], answer)

    quiz.questions = questions
    return quiz
