"""internal_objects — vigil's SQLite objects that are no SQL function.

The function table (common/surface/functions.cc) is the SQL surface both
engines expose; tests/surface_test.py and tests/parity/parity.py check
every vigil_ module against it. A module listed here is vigil's own
machinery instead, with no PostgreSQL counterpart to compare:

- vigil_audit_capture and vigil_audit_capture8: the write-only virtual
  tables the audit triggers insert their raw values into (16 or 8 value
  columns; docs/audit.md, "Staged entries").
"""
INTERNAL_SQLITE_MODULES = frozenset({"vigil_audit_capture", "vigil_audit_capture8"})
