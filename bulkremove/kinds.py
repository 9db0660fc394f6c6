"""The kind of key a run removes by, chosen once from the settings and passed on.

``target = "customer_id"`` removes records of CRM campaigns by customer id;
``target = "phone_number"`` removes records of campaigns fed from CSV by phone number. A
:class:`Kind` carries everything that differs between them: how input is read, the endpoint
and query parameter, how keys are written on the wire and shown to people, and how answers are
read, where a campaign is listed and how a listed record gives its key, and how a key is
checked afterwards. Keys stay ints inside either way (a phone number's key: see
:mod:`bulkremove.ids`), so the engine, batching, listing and journal do not know which kind they
carry; modules ask the kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bulkremove.answers import Outcomes, read_not_found, read_outcomes
from bulkremove.batching import (
    CRM_ENDPOINT,
    ENCODED_BRACKETS,
    QUERY_KEY,
    RAW_BRACKETS,
    campaign_path,
    id_text,
    query_of,
)
from bulkremove.errors import InputError
from bulkremove.ids import MAX_ID_DIGITS, parse_customer_id, parse_phone_number, phone_number_of
from bulkremove.ingest.keys import CUSTOMER_ID as CUSTOMER_ID_READING
from bulkremove.ingest.keys import KeyKind
from bulkremove.ingest.numbers import PHONE_NUMBER as PHONE_NUMBER_READING
from bulkremove.number_answers import read_number_outcomes, read_numbers_not_found

MAX_CUSTOMER_ID = 10**MAX_ID_DIGITS - 1
_MAX_PHONE_KEY = 2 * 10**MAX_ID_DIGITS - 1
"""The key of the longest phone number, 18 nines."""
SEARCH_ADDITIONAL = "search_in_additional_numbers=true"


@dataclass(frozen=True, slots=True)
class Kind:
    """Everything that differs between removing by customer id and by phone number."""

    name: str
    """The ``target`` setting naming this kind, also the column that shows a key."""
    noun: str
    """What the keys remove, plural, in plans and questions: records, or phone numbers."""
    keys_word: str
    """What the keys are called, plural, in counts and refusals."""
    reading: KeyKind
    """How input lines and CSV cells are read into keys."""
    endpoint: str
    """The batch endpoint under the API root; ``{}`` is the campaign."""
    query_key: str
    """The query parameter of one key, encoded as sent (brackets encoded unless
    ``query_brackets`` says raw)."""
    wire_text: Callable[[Sequence[int]], str]
    """Keys written as sent, ``a,b,c``; raises InputError for anything not a key of this kind."""
    show: Callable[[int], str]
    """A key as people, exports and the journal's view see it."""
    read_answer: Callable[[bytes, Sequence[int]], Outcomes]
    """One outcome per key from a 200/207 body."""
    read_not_found: Callable[[bytes, Sequence[int]], Outcomes | None]
    """The outcomes of a 404 that says NOT_EXIST for every key, else None."""
    listing_path: str
    """Where the campaign's records are listed: ``{listing_path}/{campaign}/records``."""
    listed_key: Callable[[Any], int | None]
    """The key of the value a listed record holds in the field ``name``; None when not a key."""
    listed_value: Callable[[int], int | str]
    """A key as the listing writes it: what the journal keeps of a listed or disputed record."""
    single_get: bool
    """Whether the API answers one record by its key (``GET …/records/{key}``); a kind without
    one is verified by listing its campaign."""
    label: str
    """The word before a key in a verification's disagreements (``customer 17``)."""
    several_records: bool = False
    """One key may match several records: their ids are kept apart in the journal."""
    suffix: str = ""
    """Fixed query text before the keys (``?search_in_additional_numbers=true``)."""
    unsent_digits: int = 0
    """Leading digits of a key's int that are not sent (a phone number's sentinel ``1``)."""

    @property
    def pair(self) -> int:
        """Bytes one key costs on the wire beyond the digits of its int: what batching counts."""
        return len(self.query_key) + 1 - self.unsent_digits

    def path(self, base_path: str, campaign: str) -> str:
        """The request-target before the keys: what the byte budget counts first."""
        return campaign_path(base_path, campaign, self.endpoint) + self.suffix

    def target(self, path: str, keys: Sequence[int]) -> str:
        """The whole request-target for ``keys`` after :meth:`path`, encoded."""
        query = query_of(self.wire_text(keys), self.query_key)
        return f"{path}{'&' if self.suffix else '?'}{query}"

    def labelled(self, key: int) -> str:
        """A key as a verification's disagreements show it to people."""
        return f"{self.label} {self.show(key)}"


def _listed_customer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_CUSTOMER_ID else None
    return parse_customer_id(value) if isinstance(value, str) else None


def _listed_phone(value: Any) -> int | None:
    return parse_phone_number(value) if isinstance(value, str) else None


def _same(key: int) -> int:
    return key


def _customer_text(ids: Sequence[int]) -> str:
    text = id_text(ids)
    if text is None or (text and (min(ids) < 1 or max(ids) > MAX_CUSTOMER_ID)):
        bad = next(i for i in ids if type(i) is not int or not 0 < i <= MAX_CUSTOMER_ID)
        raise InputError(
            f"refusing to send customer id {str(bad)[:40]!r}: "
            f"not an integer from 1 to {MAX_CUSTOMER_ID}"
        )
    return text


def _phone_text(keys: Sequence[int]) -> str:
    """The numbers' digits: every key's sentinel ``1`` dropped, in C over the whole text."""
    text = id_text(keys)
    if text is None:
        _refuse_key(keys)
        return ""  # pragma: no cover - _refuse_key raises for whatever id_text refused
    if not text:
        return text
    if (
        text[0] != "1"
        or text.count(",") != text.count(",1")
        or min(keys) < 10
        or max(keys) > _MAX_PHONE_KEY
    ):
        _refuse_key(keys)
    return text[1:].replace(",1", ",")


def _refuse_key(keys: Sequence[int]) -> None:
    for key in keys:
        if type(key) is not int or not 10 <= key <= _MAX_PHONE_KEY or str(key)[0] != "1":
            raise InputError(f"refusing to send phone number key {str(key)[:40]!r}: not a key")


CUSTOMER_ID = Kind(
    name="customer_id",
    noun="records",
    keys_word="ids",
    reading=CUSTOMER_ID_READING,
    endpoint=CRM_ENDPOINT,
    query_key=QUERY_KEY,
    wire_text=_customer_text,
    show=str,
    read_answer=read_outcomes,
    read_not_found=read_not_found,
    listing_path="crm_outbounds",
    listed_key=_listed_customer,
    listed_value=_same,
    single_get=True,
    label="customer",
)
PHONE_NUMBER = Kind(
    name="phone_number",
    noun="phone numbers",
    keys_word="phone numbers",
    reading=PHONE_NUMBER_READING,
    endpoint="batch/outbounds/{}/records",
    query_key="phone_number%5B%5D=",
    wire_text=_phone_text,
    show=phone_number_of,
    read_answer=read_number_outcomes,
    read_not_found=read_numbers_not_found,
    listing_path="outbounds",
    listed_key=_listed_phone,
    listed_value=phone_number_of,
    single_get=False,
    label="number",
    several_records=True,
    unsent_digits=1,
)
KINDS = {kind.name: kind for kind in (CUSTOMER_ID, PHONE_NUMBER)}


def kind_named(
    name: str | None, search_in_additional_numbers: bool = False, brackets: str = "encoded"
) -> Kind:
    """The kind a ``target`` names (customer ids when unset, as in older settings).

    ``brackets`` is the ``query_brackets`` setting: ``raw`` sends ``[]`` for ``%5B%5D``.
    """
    kind = KINDS[name or CUSTOMER_ID.name]
    if kind is PHONE_NUMBER and search_in_additional_numbers:
        kind = dataclasses.replace(kind, suffix="?" + SEARCH_ADDITIONAL)
    if brackets == "raw":
        key = kind.query_key.replace(ENCODED_BRACKETS, RAW_BRACKETS)
        kind = dataclasses.replace(kind, query_key=key)
    return kind


def kind_of(settings: object) -> Kind:
    """The kind of a run's settings (a :class:`~bulkremove.settings.Settings`, or the mapping a
    journal stores)."""
    if isinstance(settings, Mapping):
        target, search = settings.get("target"), settings.get("search_in_additional_numbers")
        brackets = settings.get("query_brackets")
    else:
        target = getattr(settings, "target", None)
        search = getattr(settings, "search_in_additional_numbers", False)
        brackets = getattr(settings, "query_brackets", None)
    return kind_named(target, bool(search), brackets or "encoded")
