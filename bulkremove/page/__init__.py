"""The HTML run report: one self-contained page drawn from a journal.

:mod:`.content` gathers what the page shows from the journal (the report, the plan, the series,
call waits, the exit); :mod:`.document` writes the page, with the vendored uPlot chart library
(``vendor/``, MIT) and the page's own script and style inlined, so that it fetches nothing.
"""

from bulkremove.page.document import render_page, write_page

__all__ = ["render_page", "write_page"]
