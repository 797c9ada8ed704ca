"""Draw a feedback :class:`~autograder.feedback.Panel` as a PNG, with matplotlib's non-interactive Agg backend.

Only the object-oriented API is used (``Figure`` + ``FigureCanvasAgg``, never pyplot): no global state, no
window, safe to call from a background thread. Two kinds of axes exist:

- ``curves``: ``series`` of ``student`` lines (solid), ``expected`` lines (dashed, drawn on top, so a correct
  curve shows as dashes over a solid line), ``context`` lines (dash-dotted, for comparison: a straight-line fit,
  full batch next to minibatches), ``points`` (a light scatter) and ``level`` lines (dotted); options
  ``xlabel``, ``ylabel``, ``logy``, ``ylim`` and ``clip_factor`` (on a log axis, values beyond that many times
  the largest starting value leave the plot with a "diverges" mark instead of squashing the other curves).
- ``boundary``: a classifier's output ``prob`` on the grid ``xs`` x ``ys`` with its 0.5 contour, and the labelled
  points ``X``, ``labels``.
"""
from __future__ import annotations

import io
from typing import Any, Mapping

import numpy as np

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
EXPECTED_DARK = ("#003a5c", "#6b2f00", "#004f3a", "#66394f", "#735000", "#2b5a75")
AXES_WIDTH_IN, AXES_HEIGHT_IN, DPI = 4.9, 3.3, 100
CLASS_COLOURS = ("#2166ac", "#b2182b")
FLAT_OUTPUT = 0.02
MIN_LOG_DECADES = 1.2


def _matplotlib():
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    return Figure, FigureCanvasAgg


def warm_up() -> None:
    """Import matplotlib ahead of time (about half a second), e.g. in a thread while checks still run."""
    _matplotlib()


def render_png(axes_specs: tuple[Mapping[str, Any], ...]) -> bytes:
    """One PNG with the given axes side by side."""
    Figure, FigureCanvasAgg = _matplotlib()
    n = max(1, len(axes_specs))
    fig = Figure(figsize=(AXES_WIDTH_IN * n, AXES_HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    # Fixed margins (in inches, whatever the number of axes): constrained layout would double the drawing time.
    width = AXES_WIDTH_IN * n
    fig.subplots_adjust(left=0.72 / width, right=1 - 0.15 / width, bottom=0.5 / AXES_HEIGHT_IN,
                        top=1 - 0.34 / AXES_HEIGHT_IN, wspace=0.95 / AXES_WIDTH_IN)
    for spec, ax in zip(axes_specs, np.atleast_1d(fig.subplots(1, n))):
        ax.tick_params(labelsize=8)
        if spec.get("title"):
            ax.set_title(spec["title"], fontsize=9.5)
        if spec["kind"] == "curves":
            _curves(ax, spec)
        else:
            _boundary(ax, spec)
        ax.set_xlabel(spec.get("xlabel", ""), fontsize=9)
        ax.set_ylabel(spec.get("ylabel", ""), fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _colour(index: int | None, dark: bool = False) -> str:
    if index is None:
        return "#222222" if dark else PALETTE[0]
    return (EXPECTED_DARK if dark else PALETTE)[index % len(PALETTE)]


def _curves(ax, spec: Mapping[str, Any]) -> None:
    series = spec.get("series", [])
    logy = bool(spec.get("logy"))
    top = _clip_top(series, spec.get("clip_factor")) if logy else None
    if logy and top is None and _decades(series, None) < MIN_LOG_DECADES:
        logy = False  # a log axis over about a decade shows one tick label or none: stay linear
    for s in series:
        style, label = s["style"], s.get("label") or None
        if style == "level":
            ax.axhline(s["y"], color="#555555", linestyle=":", linewidth=1.3, label=label, zorder=1)
            continue
        x, y = np.asarray(s["x"], dtype=float), np.asarray(s["y"], dtype=float)
        if style == "points":
            ax.scatter(x, y, s=7, color="#9a9a9a", alpha=0.45, linewidths=0, label=label, zorder=0)
            continue
        y = np.where(np.isfinite(y), y, np.nan)
        if logy:
            y = np.where(y > 0, y, np.nan)
        gone = np.flatnonzero(~np.isfinite(y) | ((y > top) if top else False)) if style == "student" else []
        shown = y.copy()
        if top:
            shown[shown > top] = np.nan
        if style == "expected":
            ax.plot(x, shown, color=_colour(s.get("color"), dark=True), linestyle=(0, (4, 3)), linewidth=1.2,
                    label=label, zorder=3)
        elif style == "context":
            ax.plot(x, shown, color=_colour(s.get("color")), linestyle="-.", linewidth=1.3, alpha=0.8,
                    label=label, zorder=1)
        else:
            ax.plot(x, shown, color=_colour(s.get("color")), linewidth=2.0, alpha=0.9, label=label, zorder=2)
            if len(gone) and top:
                first = int(gone[0])
                ax.annotate("diverges", xy=(x[first], top), xytext=(6, -6), textcoords="offset points",
                            ha="left", va="top", fontsize=8, fontweight="bold", color=_colour(s.get("color")),
                            zorder=4)
    if logy:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(numticks=7))
        ax.yaxis.set_minor_locator(NullLocator())  # minor log ticks cost a third of the drawing time
        ax.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))  # plain text: no mathtext parsing
    ylim = list(spec.get("ylim") or [None, None])
    if top:
        ylim[1] = top * 1.5 if ylim[1] is None else ylim[1]
    if ylim != [None, None]:
        ax.set_ylim(*ylim)
    if any(s.get("label") for s in series):
        ax.legend(fontsize=7.5, framealpha=0.85, loc=spec.get("legend", "best"))
    ax.grid(True, which="major", alpha=0.25)


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _power_of_ten(value: float, _pos=None) -> str:
    """10\u00b3-style labels for log ticks."""
    if value <= 0 or not np.isfinite(value):
        return ""
    exponent = np.log10(value)
    if abs(exponent - round(exponent)) > 1e-9:
        return f"{value:g}"
    return "10" + str(int(round(exponent))).translate(_SUPERSCRIPT)


def _decades(series, top: float | None) -> float:
    """How many powers of ten the positive, finite values shown span."""
    values = [np.asarray(s["y"], dtype=float).reshape(-1) for s in series if s["style"] != "points"]
    values = np.concatenate(values) if values else np.array([])
    values = values[np.isfinite(values) & (values > 0) & ((values <= top) if top else True)]
    return float(np.log10(values.max() / values.min())) if values.size else 0.0


def _clip_top(series, factor) -> float | None:
    """On a log axis: factor x the largest finite starting value of the curves when some value goes beyond it
    (or is not finite), else None (the axis fits the data)."""
    if not factor:
        return None
    curves = [np.asarray(s["y"], dtype=float) for s in series if s["style"] in ("student", "expected")]
    starts = [y[0] for y in curves if y.size and np.isfinite(y[0])]
    if not starts:
        return None
    top = factor * max(starts)
    with np.errstate(invalid="ignore"):
        beyond = any(np.any(~np.isfinite(y) | (y > top)) for y in curves)
    return top if beyond else None


def _boundary(ax, spec: Mapping[str, Any]) -> None:
    xs, ys = np.asarray(spec["xs"], dtype=float), np.asarray(spec["ys"], dtype=float)
    prob = np.asarray(spec["prob"], dtype=float).reshape(len(ys), len(xs))
    prob = np.where(np.isfinite(prob), prob, np.nan)
    # Ten flat bands of the output: quick to draw and small as PNG, unlike a smooth image.
    ax.contourf(xs, ys, prob, levels=np.linspace(0.0, 1.0, 11), cmap="RdBu_r", vmin=-0.15, vmax=1.15, alpha=0.6)
    finite = prob[np.isfinite(prob)]
    # No 0.5 line when the output is flat (a neuron stuck at 0.5 on XOR): its position would be noise.
    if finite.size and finite.min() < 0.5 < finite.max() and finite.max() - finite.min() > FLAT_OUTPUT:
        ax.contour(xs, ys, prob, levels=[0.5], colors="#222222", linewidths=1.3)
    X, labels = np.asarray(spec["X"], dtype=float), np.asarray(spec["labels"], dtype=float).reshape(-1)
    for cls, colour in enumerate(CLASS_COLOURS):
        mask = labels == cls
        ax.scatter(X[mask, 0], X[mask, 1], s=spec.get("point_size", 18), color=colour, edgecolors="white",
                   linewidths=0.6, label=f"class {cls}", zorder=3)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.legend(fontsize=7.5, loc="upper right", framealpha=0.85)
