from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkremove.batching import (
    Packer,
    check_budget,
    count_batches,
    pack,
    query_of,
    records_path,
    target_length,
)
from bulkremove.client import Client
from bulkremove.errors import ConfigError
from bulkremove.ids import MAX_ID_DIGITS
from bulkremove.kinds import kind_named
from bulkremove.settings import Settings

customer_ids = st.integers(min_value=1, max_value=10**MAX_ID_DIGITS - 1)
base_urls = st.sampled_from(
    ["http://127.0.0.1:8080/api", "https://acme.thulium.com/api", "https://x.example/a/b%20c/api"]
)


def client_for(base_url: str, brackets: str = "raw") -> Client:
    return Client(Settings(base_url=base_url, username="u", password="p", query_brackets=brackets))


@settings(max_examples=150)
@given(
    ids=st.lists(customer_ids, max_size=400),
    budget=st.integers(min_value=100, max_value=3000),
    max_ids=st.integers(min_value=1, max_value=60),
    base_url=base_urls,
    brackets=st.sampled_from(["raw", "encoded"]),
)
def test_batches_keep_order_fit_limits_and_are_full(
    ids: list[int], budget: int, max_ids: int, base_url: str, brackets: str
) -> None:
    client = client_for(base_url, brackets)
    path, pair = client.path("00001"), client.kind.pair
    batches = list(pack(ids, path, budget, max_ids, pair))

    assert [i for batch in batches for i in batch] == ids
    for index, batch in enumerate(batches):
        assert batch, "no batch is empty"
        assert len(batch) <= max_ids
        sent = client.url("00001", batch)
        assert len(sent.raw_path_qs) <= budget
        assert len(sent.raw_path_qs) == target_length(path, batch, pair)
        if index + 1 < len(batches):
            # Full: the next id would break one of the limits.
            grown = [*batch, batches[index + 1][0]]
            assert len(grown) > max_ids or target_length(path, grown, pair) > budget


@settings(max_examples=150)
@given(
    ids=st.lists(
        st.one_of(st.integers(1, 999), st.integers(10**6, 10**8), customer_ids), max_size=500
    ),
    budget=st.integers(min_value=100, max_value=3000),
    max_ids=st.integers(min_value=1, max_value=60),
)
def test_counting_batches_by_width_agrees_with_packing(
    ids: list[int], budget: int, max_ids: int
) -> None:
    path = records_path("/api", "00001")
    ascending = sorted(set(ids))
    widths = Counter(len(str(i)) for i in ascending)
    assert count_batches(widths, path, budget, max_ids) == len(
        list(pack(ascending, path, budget, max_ids))
    )


@given(ids=st.lists(customer_ids, min_size=1, max_size=50))
def test_query_is_what_aiohttp_would_send(ids: list[int]) -> None:
    import yarl

    pretty = yarl.URL("http://h/api/x").with_query([("customer_id[]", str(i)) for i in ids])
    encoded = kind_named("customer_id", brackets="encoded")
    assert pretty.raw_query_string == query_of(",".join(map(str, ids)), encoded.query_key)
    # raw brackets: the same parameters, four bytes fewer per id
    raw_key = kind_named("customer_id", brackets="raw").query_key
    raw = yarl.URL("http://h/api/x?" + query_of(",".join(map(str, ids)), raw_key), encoded=True)
    assert raw.query == pretty.query
    assert len(raw.raw_query_string) == len(pretty.raw_query_string) - 4 * len(ids)


def test_budget_too_small_for_one_id_is_a_config_error() -> None:
    path = records_path("/api", "00001")
    # the widest key: an 18-digit phone number, one byte longer on the wire than an id
    needed = len(path) + len("?phone_number%5B%5D=") + MAX_ID_DIGITS
    check_budget(path, needed)
    with pytest.raises(ConfigError, match=r"max_url_length=.* too small"):
        check_budget(path, needed - 1)
    with pytest.raises(ConfigError):
        Packer(path, needed - 1, 10)


def test_zero_id_cap_is_refused() -> None:
    with pytest.raises(ConfigError, match="max_ids_per_request"):
        Packer("/api/x", 8000, 0)


def test_default_budget_packs_hundreds_of_ids() -> None:
    path = records_path("/api", "00001")
    batches = list(pack(range(1_000_000, 1_002_000), path, 8000, 500))
    # 7-digit ids cost 26 bytes each (22 with raw brackets): about 305 ids fit 8000 bytes.
    assert len(batches[0]) == (8000 - len(path)) // 26
    assert all(target_length(path, b) <= 8000 for b in batches)


def test_lower_budget_applies_to_later_batches() -> None:
    path = records_path("/api", "00001")
    packer = Packer(path, 2000, 1000)
    while packer.add(123456):
        pass
    first = packer.take()
    packer.lower_budget(1000)
    while packer.add(123456):
        pass
    second = packer.take()
    assert target_length(path, first) <= 2000 < target_length(path, [*first, 1])
    assert target_length(path, second) <= 1000
    assert len(second) < len(first)
