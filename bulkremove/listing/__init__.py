"""Listing a campaign's records: the GETs, their pages, and the selection built on them.

A campaign is listed by the kind of key the run removes by (:class:`bulkremove.kinds.Kind`: its
path, and how a listed record gives its key). ``filters`` checks a selection's filters
(``--where``), ``records`` reads a listed record, ``pages`` builds a page's request-target and
reads its answer, ``fetch`` sends the GETs under the run's limiter and retries
(:class:`~bulkremove.listing.fetch.Lister`). The HTTP itself is
:meth:`bulkremove.client.Client.get`, the one place aiohttp is used.

    async with Client(settings) as client:
        lister = Lister(client, settings)
        where = parse_filters("system_status=NO_CALL")
        async for page in lister.pages(CUSTOMER_ID, "00001", where):  # bulkremove.kinds
            ...  # page.count, page.records: ListedRecord(record_id, key, system_status, fields)
        record = await lister.record("00001", 441)  # None when the API answers 404
"""

from bulkremove.listing.fetch import Getter, Lister
from bulkremove.listing.pages import PAGE_SIZE, ListingPage
from bulkremove.listing.records import ListedRecord
from bulkremove.settings.where import SYSTEM_STATUSES, FilterError, Filters, parse_filters

__all__ = [
    "PAGE_SIZE",
    "SYSTEM_STATUSES",
    "FilterError",
    "Filters",
    "Getter",
    "ListedRecord",
    "Lister",
    "ListingPage",
    "parse_filters",
]
