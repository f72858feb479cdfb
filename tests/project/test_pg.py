"""charter_social.pg: integer arrays as one literal parameter."""

from __future__ import annotations

import pytest
from django.db import connection

from charter_social.pg import int_array


def test_int_array_writes_a_postgresql_array_literal() -> None:
    assert int_array([3, 1, 2]) == "{3,1,2}"
    assert int_array([]) == "{}"
    assert int_array(iter([-5, 10**12])) == "{-5,1000000000000}"


def test_int_array_lets_nothing_but_integers_into_the_literal() -> None:
    with pytest.raises(ValueError):
        int_array(["1}'; DROP TABLE feed_post; --"])  # type: ignore[list-item]


@pytest.mark.django_db
def test_int_array_round_trips_through_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    ids = [7, 2, 2**40, 0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::bigint[], 2 = ANY(%s::bigint[])", [int_array(ids)] * 2
        )
        assert cursor.fetchone() == (ids, True)
        cursor.execute("SELECT cardinality(%s::bigint[])", [int_array([])])
        assert cursor.fetchone() == (0,)
