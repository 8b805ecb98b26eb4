"""gravity.progress: the switch and the pass-through."""

from __future__ import annotations

from gravity.progress import progress, progress_enabled


def test_progress_passes_items_through_with_and_without_bar(monkeypatch, capsys):
    assert list(progress(range(5), show=False)) == [0, 1, 2, 3, 4]
    assert list(progress(range(5), show=True, desc="x")) == [0, 1, 2, 3, 4]
    monkeypatch.setenv("GRAVITY_PROGRESS", "0")
    assert progress_enabled() is False
    monkeypatch.setenv("GRAVITY_PROGRESS", "1")
    assert progress_enabled() is True
    assert progress_enabled(False) is False
