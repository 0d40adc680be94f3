"""Fixtures of the core tests."""

from __future__ import annotations

import pytest
from refdata import REFERENCE_DIR, load  # type: ignore[import-not-found]


@pytest.fixture(scope="session")
def gradient_cases() -> list[dict]:
    if not (REFERENCE_DIR / "gradient_check.json").exists():
        pytest.fail(f"reference data missing in {REFERENCE_DIR} (shared/ must sit beside the repository)")
    return load("gradient_check")["cases"]
