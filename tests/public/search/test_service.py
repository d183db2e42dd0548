"""registry.public.search.service: filters from plain values, shared by the API and the page."""

from __future__ import annotations

import pytest

from registry.public.search import Filters
from registry.public.search.service import BadFilter, make_filters


def test_blank_values_mean_no_filter() -> None:
    filters = make_filters(["", "120101"], [""], "", None, None, "", None)
    assert filters == Filters(districts=["120101"])


def test_an_unknown_grade_band_names_its_field() -> None:
    with pytest.raises(BadFilter) as refused:
        make_filters(None, None, "college", None, None, None, None)
    assert refused.value.field == "grade_band"


def test_a_reversed_fee_range_names_the_lower_bound() -> None:
    with pytest.raises(BadFilter) as refused:
        make_filters(None, None, None, 300, 100, None, None)
    assert refused.value.field == "fee_min"
    assert make_filters(None, None, "middle", 100, 100, "good", True) == Filters(
        grade_band="middle", fee_min=100, fee_max=100, grade="good", rectifying=True
    )
