"""harness.py — what the SQLite test scripts share: a count of checks that
ends in the 'N passed, N failed' line, a connection with the module
loaded, and the error a statement raises."""
import sqlite3


class Checks:
    """check(cond, what) counts a check and prints FAIL with `what` when cond is false."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL", what)

    def summary(self, label):
        """Prints the closing line; returns the exit status."""
        print(f"{label}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def connect(module, path=":memory:", readonly=False, load=True, timeout=5.0):
    """An autocommit connection to `path` (read-only on request), with vigil
    loaded unless load is false; `timeout` is the busy timeout in seconds
    (Python's default, 5)."""
    uri = "file:" + path + ("?mode=ro" if readonly else "") if path != ":memory:" else path
    db = sqlite3.connect(uri, uri=path != ":memory:", isolation_level=None, timeout=timeout)
    if load:
        db.enable_load_extension(True)
        db.load_extension(module)
    return db


def error_of(db, sql, args=()):
    """The sqlite3.Error running `sql` raises (all rows fetched), or None."""
    try:
        db.execute(sql, args).fetchall()
        return None
    except sqlite3.Error as e:
        return e
