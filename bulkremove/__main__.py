"""``python -m bulkremove`` runs the command line."""

from bulkremove.cli import console

console()
