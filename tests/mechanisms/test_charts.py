"""Bar charts drawn on the server (mechanisms.charts): every period gets a bar, scaled to the
largest, and counts outside the periods shown are not drawn or added up."""

from __future__ import annotations

from mechanisms.charts import bar_series


def test_bars_are_scaled_to_the_largest_and_every_period_has_one() -> None:
    series = bar_series(
        counts={"b": 4, "c": 2, "z": 99}, periods=["a", "b", "c", "d"], label=str.upper
    )
    assert series.periods == [("A", 0), ("B", 4), ("C", 2), ("D", 0)]
    assert (series.most, series.total) == (4, 6)
    assert [bar.height for bar in series.bars] == [0, 100, 50, 0]
    assert [bar.y for bar in series.bars] == [100, 0, 50, 100]
    # Four slots of 25, each bar 90% of its slot, centred in it.
    assert [(bar.x, bar.width) for bar in series.bars] == [
        (1.25, 22.5),
        (26.25, 22.5),
        (51.25, 22.5),
        (76.25, 22.5),
    ]


def test_no_counts_draw_flat_bars_not_an_error() -> None:
    series = bar_series(counts={}, periods=[1, 2, 3], label=str)
    assert (series.most, series.total) == (0, 0)
    assert all(bar.height == 0 for bar in series.bars)
    assert bar_series(counts={}, periods=[], label=str).bars == []
