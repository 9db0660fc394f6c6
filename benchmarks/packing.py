"""Requests for 1,000,000 ids under either form of the query brackets, against the packing bound.

    python -m benchmarks.packing [--ids 1000000] [--max-url-length 8000] [--max-ids 500]

Counted with the plan's own code (``count_batches``) for ids of 6, 7 and 9 digits, brackets raw
(``customer_id[]=``) and encoded (``customer_id%5B%5D=``). The bound is the fewest requests the
bytes allow: every byte of every request-target used, ``ceil(ids x bytes per id / room)``, and no
fewer than the id cap allows. No server is involved: this is arithmetic on the wire format.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from bulkremove.batching import count_batches
from bulkremove.kinds import kind_named

WIDTHS = (6, 7, 9)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ids", type=int, default=1_000_000)
    parser.add_argument("--max-url-length", type=int, default=8000)
    parser.add_argument("--max-ids", type=int, default=500)
    args = parser.parse_args(argv)
    print(
        f"{args.ids} ids, max_url_length {args.max_url_length}, max_ids_per_request "
        f"{args.max_ids}, path /api/batch/crm_outbounds/00001/records"
    )
    print(f"{'digits':>6} {'brackets':>8} {'ids/request':>11} {'requests':>9} {'bound':>7}")
    for width in WIDTHS:
        for form in ("raw", "encoded"):
            kind = kind_named("customer_id", brackets=form)
            path = kind.path("/api", "00001")
            requests = count_batches(
                {width: args.ids}, path, args.max_url_length, args.max_ids, kind.pair
            )
            room = args.max_url_length - len(path)
            bound = max(
                math.ceil(args.ids * (kind.pair + width) / room),
                math.ceil(args.ids / args.max_ids),
            )
            print(f"{width:>6} {form:>8} {args.ids / requests:>11.1f} {requests:>9} {bound:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
