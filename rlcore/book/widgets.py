"""Interactive explorers that also read well in the static book.

An explorer displays ipywidgets sliders in a live notebook (Jupyter, Colab). The published
HTML book has no kernel, so the same output also carries a static snapshot of the default
view; the book's build prefers it over the widget (``nb_mime_priority_overrides`` in
``_config.yml``), which needs no JavaScript from any CDN.
"""

from __future__ import annotations

import base64
import io


def _snapshot(draw, kwargs) -> str:
    import matplotlib.pyplot as plt

    fig = draw(**kwargs)
    fig = fig if fig is not None else plt.gcf()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


class Explorer:
    """Sliders bound to a drawing function; see :func:`explorer` (Chapter 1, §1.6)."""

    def __init__(self, draw, controls: dict):
        import ipywidgets as widgets

        self.draw, self.controls = draw, controls
        self.output = widgets.interactive_output(self._draw_and_show, controls)
        self.box = widgets.VBox([widgets.HBox(list(controls.values())), self.output])

    def _draw_and_show(self, **kwargs):
        import matplotlib.pyplot as plt
        from IPython.display import display

        fig = self.draw(**kwargs)
        display(fig if fig is not None else plt.gcf())
        plt.close("all")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.box._repr_mimebundle_(include=include, exclude=exclude) or {}
        defaults = {name: control.value for name, control in self.controls.items()}
        settings = ", ".join(f"{k} = {v}" for k, v in defaults.items())
        bundle["text/html"] = (
            f'<figure><img src="data:image/png;base64,{_snapshot(self.draw, defaults)}"/>'
            f"<figcaption><em>Explorer at its default settings ({settings}). Run this chapter "
            "(launch button at the top of the page) to move the sliders.</em></figcaption></figure>"
        )
        return bundle


def explorer(draw, **controls) -> Explorer:
    """Bind ipywidgets ``controls`` to ``draw(**values)``, which returns a matplotlib figure (Chapter 1, §1.6)."""
    if not controls:
        raise ValueError("explorer needs at least one control, e.g. gamma=FloatSlider(...)")
    return Explorer(draw, controls)
