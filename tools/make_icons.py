#!/usr/bin/env python3
"""Draw the app icons for the Slack and Teams manifests: a chat bubble with a check mark.

    .venv/bin/python tools/make_icons.py

Writes docs/teams/color.png (192x192, full colour), docs/teams/outline.png (32x32, white on
transparent, as Teams requires) and docs/slack/icon.png (512x512, Slack's minimum).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

DOCS = Path(__file__).resolve().parents[1] / "docs"
NAVY = (31, 58, 95, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
SUPERSAMPLE = 8


def _check(draw: ImageDraw.ImageDraw, w: int, fill: tuple, width: float) -> None:
    points = [(0.33, 0.43), (0.46, 0.55), (0.68, 0.31)]
    draw.line([(int(w * x), int(w * y)) for x, y in points], fill=fill, width=int(w * width), joint="curve")


def filled(size: int) -> Image.Image:
    """White bubble on navy, navy check mark."""
    w = size * SUPERSAMPLE
    img = Image.new("RGBA", (w, w), NAVY)
    draw = ImageDraw.Draw(img)
    bottom = int(w * 0.68)
    draw.rounded_rectangle([int(w * 0.12), int(w * 0.16), int(w * 0.88), bottom], radius=int(w * 0.12), fill=WHITE)
    draw.polygon([(int(w * 0.28), bottom - 1), (int(w * 0.24), int(w * 0.86)), (int(w * 0.46), bottom - 1)], fill=WHITE)
    _check(draw, w, NAVY, 0.07)
    return img.resize((size, size), Image.LANCZOS)


def outline(size: int) -> Image.Image:
    """The same shape as white strokes on a transparent background."""
    w = size * SUPERSAMPLE
    img = Image.new("RGBA", (w, w), CLEAR)
    draw = ImageDraw.Draw(img)
    bottom, stroke = int(w * 0.68), int(w * 0.07)
    draw.rounded_rectangle([int(w * 0.12), int(w * 0.16), int(w * 0.88), bottom], radius=int(w * 0.12),
                           outline=WHITE, width=stroke)
    # The tail: open the bottom edge between its roots, then draw its two sides.
    draw.rectangle([int(w * 0.30), bottom - stroke, int(w * 0.44), bottom + 1], fill=CLEAR)
    tip = (int(w * 0.24), int(w * 0.88))
    draw.line([(int(w * 0.30) + stroke // 2, bottom - stroke // 2), tip], fill=WHITE, width=stroke)
    draw.line([tip, (int(w * 0.44), bottom - stroke // 2)], fill=WHITE, width=stroke)
    _check(draw, w, WHITE, 0.08)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    filled(192).save(DOCS / "teams" / "color.png", optimize=True)
    outline(32).save(DOCS / "teams" / "outline.png", optimize=True)
    filled(512).convert("RGB").save(DOCS / "slack" / "icon.png", optimize=True)


if __name__ == "__main__":
    main()
