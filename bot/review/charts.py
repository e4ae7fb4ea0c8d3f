"""Server-side SVG charts (no JavaScript, no CDN). Every label is escaped; bars are links."""
from __future__ import annotations

from typing import Optional, Sequence

from markupsafe import Markup, escape

BAND_COLOURS = {"detractor": "#c2410c", "passive": "#ca8a04", "promoter": "#15803d", "none": "#64748b"}


def _e(value) -> str:
    return str(escape(value))


def _signed(value: float) -> str:
    r = int(round(value))
    return f"+{r}" if r > 0 else str(r)


def distribution(counts: Sequence[int], links: Sequence[str], bands: Sequence[str]) -> Markup:
    """Bar chart of the 0–10 score distribution; each bar links to the inbox for that score."""
    width, height, top, bottom, left = 560, 220, 22, 28, 8
    n = len(counts)
    slot = (width - 2 * left) / n
    bar_w = slot * 0.72
    peak = max(counts) if counts and max(counts) > 0 else 1
    total = sum(counts) or 1
    plot_h = height - top - bottom
    out = [
        f'<svg class="chart chart-dist" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="dist-title" preserveAspectRatio="xMidYMid meet">',
        '<title id="dist-title">Score distribution, 0 to 10</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" class="axis"/>',
    ]
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x = left + i * slot + (slot - bar_w) / 2
        y = height - bottom - h
        colour = BAND_COLOURS.get(bands[i], "#64748b")
        pct = 100.0 * count / total
        label = f"Score {i}: {count} stories ({pct:.1f}%)".replace(".", ",")
        out.append(f'<a href="{_e(links[i])}" class="bar-link"><title>{_e(label)}</title>')
        out.append(f'<rect x="{x:.1f}" y="{top}" width="{bar_w:.1f}" height="{plot_h}" class="hit"/>')
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{max(h, 0.5):.1f}" rx="3" fill="{colour}"/>'
        )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 6:.1f}" class="val" text-anchor="middle">{count}</text>'
        )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 9}" class="tick" text-anchor="middle">{i}</text></a>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def nps_trend(points: Sequence[dict]) -> Markup:
    """NPS per period as bars around a zero line; points: {label, nps, responses, href}."""
    width, height, top, bottom, left, right = 560, 220, 18, 30, 34, 8
    out = [
        f'<svg class="chart chart-trend" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="trend-title" preserveAspectRatio="xMidYMid meet">',
        '<title id="trend-title">NPS per period</title>',
    ]
    plot_h = height - top - bottom
    zero_y = top + plot_h / 2

    def y_of(v: float) -> float:
        return zero_y - (v / 100.0) * (plot_h / 2)

    for v in (100, 50, 0, -50, -100):
        y = y_of(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid{" zero" if v == 0 else ""}"/>')
        out.append(f'<text x="{left - 5}" y="{y + 4:.1f}" class="tick" text-anchor="end">{v:+d}</text>'.replace("+0", "0"))
    n = len(points)
    if not n or all(p.get("nps") is None for p in points):
        out.append(f'<text x="{width / 2}" y="{zero_y - 8}" class="empty" text-anchor="middle">No scores in this period</text>')
        out.append("</svg>")
        return Markup("".join(out))
    slot = (width - left - right) / n
    bar_w = min(slot * 0.7, 40)
    label_every = max(1, (n + 11) // 12)
    for i, p in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        nps: Optional[float] = p.get("nps")
        title = (f"{p['label']}: NPS {_signed(nps)} from {p['responses']} scores" if nps is not None
                 else f"{p['label']}: no scores")
        out.append(f'<a href="{_e(p["href"])}" class="bar-link"><title>{_e(title)}</title>')
        out.append(f'<rect x="{x:.1f}" y="{top}" width="{bar_w:.1f}" height="{plot_h}" class="hit"/>')
        if nps is not None:
            y = y_of(max(nps, 0))
            h = abs(y_of(nps) - zero_y)
            cls = "pos" if nps >= 0 else "neg"
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{max(h, 1):.1f}" rx="2" class="{cls}"/>')
            if n <= 16:
                ty = y_of(nps) - 5 if nps >= 0 else y_of(nps) + 13
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{ty:.1f}" class="val" text-anchor="middle">{_signed(nps)}</text>')
        if i % label_every == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" class="tick" text-anchor="middle">{_e(p["short"])}</text>')
        out.append("</a>")
    out.append("</svg>")
    return Markup("".join(out))


def hbar(value: int, peak: int, band: str) -> Markup:
    """A small horizontal bar (aspect counts); inline SVG attributes, so no inline CSS needed."""
    frac = (value / peak) if peak else 0
    colour = BAND_COLOURS.get(band, "#64748b")
    return Markup(
        f'<svg class="hbar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect x="0" y="0" width="100" height="6" rx="3" class="track"/>'
        f'<rect x="0" y="0" width="{max(frac * 100, 1.5):.1f}" height="6" rx="3" fill="{colour}"/></svg>'
    )


def score_split(detractors: int, passives: int, promoters: int) -> Markup:
    """One stacked bar showing the share of detractors / passives / promoters."""
    total = detractors + passives + promoters
    if not total:
        return Markup("")
    out = ['<svg class="split" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">']
    x = 0.0
    for count, band in ((detractors, "detractor"), (passives, "passive"), (promoters, "promoter")):
        w = 100.0 * count / total
        if w > 0:
            out.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="8" fill="{BAND_COLOURS[band]}"/>')
        x += w
    out.append("</svg>")
    return Markup("".join(out))
