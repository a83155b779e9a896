"""Showing a result once, in a terminal or in a Jupyter notebook.

Jupyter shows a cell's last value through its `_repr_*_` methods, and shows anything printed as text. A
function that both shows a table and returns it would show it twice there; the objects minidl returns
remember whether they were shown already (`ShownOnce`), and then their echo in `Out[…]` is nothing.
"""

import sys


def in_notebook():
    """True inside a Jupyter kernel (an IPython shell with a kernel: notebooks, JupyterLab, VS Code)."""
    ipython = sys.modules.get("IPython")  # never imported here: only a running kernel has imported it
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_rich(obj):
    """Display `obj` in the notebook now, with its own `_repr_*_` formats (no `_ipython_display_` loop)."""
    from IPython.display import display

    formats = {"text/plain": str(obj)}
    for mime, method in (("text/html", "_repr_html_"), ("image/png", "_repr_png_"), ("image/svg+xml", "_repr_svg_")):
        data = getattr(obj, method, lambda: None)()
        if data is not None:
            formats[mime] = data
    display(formats, raw=True)


class ShownOnce:
    """Mixin: `show()` prints the text (terminal) or displays the rich form (notebook) once; IPython's echo of
    a returned object that was shown already is then nothing, and otherwise the rich form."""

    _shown = False

    def show(self):
        if in_notebook():
            show_rich(self)
        else:
            print(str(self))
        self._shown = True
        return self

    def _ipython_display_(self):
        if not self._shown:
            show_rich(self)
            self._shown = True


class PrintedText(ShownOnce, str):
    """A str that was shown when it was made (`PrintedText(table).show()`): a function may print a table and
    return it without a notebook showing it a second time as `Out[…]`."""

    def show(self):
        print(str(self))  # plain text: printed, in a terminal and in a notebook alike
        self._shown = True
        return self
