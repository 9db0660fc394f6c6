"""Verifications: what the API said of a journal's records, kept beside them.

A verification never changes a record. It replaces, in one transaction, the ``disagreements``
table (one row per record the API contradicts: the journal's state, and what the API said) and
the meta key ``verified`` (its figures), so a journal holds its latest verification whole or not
at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bulkremove.journal.connection import Connection

Disagreement = tuple[str, int | str, str, str]
"""``(campaign, key as people read it, journal state, what the API said)``."""


class Verifications(Connection):
    """The part of a journal that keeps its latest verification."""

    def record_verification(
        self, figures: Mapping[str, object], disagreements: Iterable[Disagreement], at: float
    ) -> None:
        """Replace the latest verification with ``figures`` and ``disagreements``."""
        self._check_writable()
        rows = [(*row, at) for row in disagreements]
        with self._failing("writing the verification"):
            self._con.execute("BEGIN")
            try:
                self._con.execute("DELETE FROM disagreements")
                self._con.executemany(
                    "INSERT OR REPLACE INTO disagreements (campaign, key, state, api, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                self.set_metas({"verified": dict(figures)})
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise

    def disagreements(self, limit: int | None = None) -> list[Disagreement]:
        """The latest verification's disagreements, by campaign then key (``limit``: the first)."""
        with self._failing("reading the verification"):
            rows = self._con.execute(
                "SELECT campaign, key, state, api FROM disagreements ORDER BY campaign, key"
                " LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [(str(c), k, str(s), str(a)) for c, k, s, a in rows]
