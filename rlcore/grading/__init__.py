"""Layer 10, grading: assignments, grading a class's notebooks in isolated processes, and the reports
(a grade table, feedback, a summary, Gradescope's results.json). ``python -m rlcore.grading`` is the
command line; the book's page "For instructors" explains it."""
