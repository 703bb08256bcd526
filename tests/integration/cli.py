#!/usr/bin/python3
"""cli.py — the vigil command on SQLite and PostgreSQL (docs/migrations.md).

usage: cli.py VIGIL SQLITE_MODULE [--pg]

Runs the example migrations (examples/cryptotrading/migrations) through the
command as a user would: migrate, status, validate, a changed file (drift:
validate and migrate exit 3, repair accepts it), a failing migration (exit
1, recorded as failed, nothing of it left), rollback, a dry run, usage
errors (exit 2) and --json. On PostgreSQL it runs as a login role that has
vigil_migrator but not pg_read_server_files (vigil_migration_add_dir is
refused to it, the command works), and as a role without vigil_migrator
(refused, exit 1). Uses the cluster in PGHOST/PGPORT.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "cryptotrading", "migrations")
failed = 0


def check(ok, what, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed += 1
        if detail:
            print("     " + detail.replace("\n", "\n     "))


def psql(sql, db="postgres", user=None):
    args = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", db] + (["-U", user] if user else []) + ["-c", sql]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def scenario(engine, run, table_count, sql, index_exists, outside):
    """The user's path through the command; `run(*args)` runs it on one database."""
    work = tempfile.mkdtemp(prefix="vigil-cli-")
    mig = os.path.join(work, "migrations")
    shutil.copytree(EXAMPLES, mig)
    try:
        def vigil(*args):
            return run("--dir", mig, *args)

        r = vigil("migrate")
        check(r.returncode == 0 and r.stdout.count("\napplied ") + r.stdout.startswith("applied ") == 5,
              f"{engine}: migrate applies the 5 example migrations, one line each", r.stdout + r.stderr)
        r = vigil("migrate")
        check(r.returncode == 0 and "nothing to migrate" in r.stdout, f"{engine}: migrate again: nothing to do",
              r.stdout + r.stderr)
        check(table_count() >= 5, f"{engine}: the migrations' tables exist")
        r = vigil("validate")
        check(r.returncode == 0 and r.stdout.strip().endswith("5 files, 5 applied, history of 5 entries"),
              f"{engine}: validate: valid", r.stdout + r.stderr)
        r = vigil("--json", "status")
        rows = json.loads(r.stdout) if r.returncode == 0 else []
        check([x["state"] for x in rows] == ["applied"] * 5, f"{engine}: status --json: 5 applied", r.stdout + r.stderr)

        # A file that lost its final newline is the same script (checksum v2).
        v1 = os.path.join(mig, "V1__users.sql")
        text = open(v1).read()
        open(v1, "w").write(text.rstrip("\n"))
        r = vigil("validate")
        check(r.returncode == 0, f"{engine}: a file without its final newline is no drift", r.stdout + r.stderr)
        open(v1, "w").write(text)

        # Drift: validate (read-only) and migrate exit 3; repair accepts.
        v3 = os.path.join(mig, "V3__ai.sql")
        open(v3, "a").write("-- reviewed\n")
        r = vigil("validate")
        check(r.returncode == 3 and "changed: migration 3" in r.stdout and "+" in r.stdout and "-- reviewed" in r.stdout,
              f"{engine}: validate shows the changed lines, exit 3", r.stdout + r.stderr)
        r = vigil("--json", "status")
        check("drifted" not in r.stdout, f"{engine}: validate registered nothing (status shows no drift)", r.stdout)
        r = vigil("migrate")
        check(r.returncode == 3 and "has changed since it was applied" in r.stderr, f"{engine}: migrate on drift: exit 3",
              r.stdout + r.stderr)
        r = vigil("status")
        check(r.returncode == 3 and "drifted" in r.stdout, f"{engine}: status shows drifted, exit 3", r.stdout + r.stderr)
        r = vigil("repair", "3")
        check(r.returncode == 0 and r.stdout.startswith("repaired 3"), f"{engine}: repair 3", r.stdout + r.stderr)
        r = vigil("validate")
        check(r.returncode == 0, f"{engine}: valid after the repair", r.stdout + r.stderr)
        r = vigil("repair", "3")
        check(r.returncode == 1 and "not drifted" in r.stderr, f"{engine}: repair of an undrifted migration: exit 1",
              r.stdout + r.stderr)

        # A failing migration: exit 1, nothing of it left, recorded as failed.
        open(os.path.join(mig, "V6__bad.sql"), "w").write("CREATE TABLE cli_half (a int);\nSELECT * FROM cli_nosuch;\n")
        before = table_count()
        r = vigil("migrate")
        check(r.returncode == 1 and "migration 6 bad failed and was rolled back" in r.stderr,
              f"{engine}: a failing migration exits 1", r.stdout + r.stderr)
        check(table_count() == before, f"{engine}: nothing of the failed migration is left")
        r = vigil("--json", "migrate")
        out = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        check(r.returncode == 1 and out.get("status") == "failed" and out["failed"]["version"] == "6",
              f"{engine}: migrate --json reports the failure, exit 1", r.stdout + r.stderr)
        r = vigil("status")
        check(r.returncode == 1 and "failed" in r.stdout, f"{engine}: status shows failed, exit 1", r.stdout)
        open(os.path.join(mig, "V6__bad.sql"), "w").write("CREATE TABLE cli_fixed (a int);\n")
        r = vigil("--dry-run", "migrate")
        check(r.returncode == 0 and "would apply 6 bad" in r.stdout, f"{engine}: dry run of the fixed migration",
              r.stdout + r.stderr)
        r = vigil("migrate")
        check(r.returncode == 0 and "applied 6 bad" in r.stdout, f"{engine}: the fixed migration applies",
              r.stdout + r.stderr)

        # Rollback: newest first, down to the target.
        r = vigil("rollback", "2")
        check(r.returncode == 1 and "undone" not in r.stdout and "has no undo script" in r.stderr,
              f"{engine}: rollback refuses when a migration has no undo script, undoes nothing", r.stdout + r.stderr)
        os.remove(os.path.join(mig, "V6__bad.sql"))
        r = vigil("validate")
        check(r.returncode == 3 and "missing: migration 6" in r.stdout,
              f"{engine}: an applied migration without its file: exit 3", r.stdout + r.stderr)
        # Back, with an undo script written after it was applied: registered.
        open(os.path.join(mig, "V6__bad.sql"), "w").write("CREATE TABLE cli_fixed (a int);\n")
        open(os.path.join(mig, "U6__bad.sql"), "w").write("DROP TABLE cli_fixed;\n")
        r = vigil("migrate")
        check(r.returncode == 0 and "nothing to migrate" in r.stdout, f"{engine}: an undo script added later registers",
              r.stdout + r.stderr)
        with_6 = table_count()
        r = vigil("rollback", "2")
        undone = [l.split()[1] for l in r.stdout.splitlines() if l.startswith("undone ")]
        check(r.returncode == 0 and undone == ["6", "5", "4", "3"], f"{engine}: rollback 2 undoes 6, 5, 4, 3 in order",
              r.stdout + r.stderr)
        check(table_count() < with_6, f"{engine}: the undone migrations' tables are gone")
        r = vigil("--json", "status")
        states = [x["state"] for x in json.loads(r.stdout)] if r.returncode == 0 else []
        check(states == ["applied"] * 2 + ["pending"] * 4, f"{engine}: status after the rollback", r.stdout + r.stderr)
        r = vigil("migrate", "4")
        check(r.returncode == 0 and r.stdout.count("applied ") == 2, f"{engine}: migrate 4 applies 3 and 4 only",
              r.stdout + r.stderr)
        r = vigil("migrate")
        check(r.returncode == 0 and r.stdout.count("applied ") == 2, f"{engine}: migrate applies the rest",
              r.stdout + r.stderr)
        r = vigil("validate")
        check(r.returncode == 0, f"{engine}: valid at the end", r.stdout + r.stderr)

        # A no-transaction migration: vigil_migrate stops before it, the
        # command runs it statement by statement and records it.
        online = os.path.join(mig, "V8__online_index.sql")
        open(online, "w").write("-- vigil: no-transaction\n" + outside["up"])
        open(os.path.join(mig, "U8__online_index.sql"), "w").write("-- vigil: no-transaction\n" + outside["down"])
        r = vigil("--dry-run", "migrate")
        check(r.returncode == 0 and "dry run stops before 8 online index" in r.stdout,
              f"{engine}: a dry run stops before a no-transaction migration", r.stdout + r.stderr)
        r = vigil("migrate")
        check(r.returncode == 0 and "applied 8 online index" in r.stdout and "outside a transaction" in r.stdout,
              f"{engine}: the command applies a no-transaction migration", r.stdout + r.stderr)
        check(index_exists("cli_online"), f"{engine}: its index exists")
        r = vigil("validate")
        check(r.returncode == 0, f"{engine}: valid after it", r.stdout + r.stderr)
        r = vigil("rollback", "6")
        check(r.returncode == 0 and "undone 8 online index" in r.stdout and not index_exists("cli_online"),
              f"{engine}: rollback runs its no-transaction undo script", r.stdout + r.stderr)
        # Interrupted: started (the command killed mid-way), never finished.
        sql("SELECT vigil_migration_start('8')")
        r = vigil("status")
        check(r.returncode == 1 and "interrupted" in r.stdout, f"{engine}: an interrupted migration: status says so, exit 1",
              r.stdout + r.stderr)
        r = vigil("validate")
        check("pending: migration 8" in r.stdout, f"{engine}: an interrupted migration is not applied", r.stdout)
        r = vigil("migrate")
        check(r.returncode == 0 and "was interrupted before" in r.stderr and "applied 8" in r.stdout,
              f"{engine}: migrate runs an interrupted migration again", r.stdout + r.stderr)
        # A failing statement: the ones before it stay done; exit 1.
        open(os.path.join(mig, "V9__half.sql"), "w").write(
            "-- vigil: no-transaction\n" + outside["half"] + "\nSELECT * FROM cli_nosuch;\n")
        r = vigil("migrate")
        check(r.returncode == 1 and "statement 2 of 2" in r.stderr and "stay done" in r.stderr,
              f"{engine}: a failing no-transaction migration: exit 1, says what stays done", r.stdout + r.stderr)
        check(index_exists("cli_half"), f"{engine}: outside a transaction its first statement stays done")
        open(os.path.join(mig, "V9__half.sql"), "w").write("-- vigil: no-transaction\n" + outside["half_fixed"])
        r = vigil("migrate")
        check(r.returncode == 0 and "applied 9 half" in r.stdout, f"{engine}: fixed, it applies", r.stdout + r.stderr)
        r = vigil("validate")
        check(r.returncode == 0, f"{engine}: valid after the no-transaction migrations", r.stdout + r.stderr)

        r = vigil("info")
        check(r.returncode == 0 and "history:" in r.stdout and "chain verifies" in r.stdout, f"{engine}: info",
              r.stdout + r.stderr)
        r = vigil("bogus")
        check(r.returncode == 2 and "unknown command" in r.stderr, f"{engine}: unknown command: exit 2")
        r = vigil("rollback")
        check(r.returncode == 2, f"{engine}: rollback without a target: exit 2")
        r = run("--dir", os.path.join(work, "nowhere"), "validate")
        check(r.returncode == 2 and "does not exist" in r.stderr, f"{engine}: a missing folder: exit 2", r.stderr)
        return mig
    finally:
        pass


def main():
    vigil, module = sys.argv[1], sys.argv[2]
    pg = "--pg" in sys.argv[3:]
    env = dict(os.environ, VIGIL_SQLITE_MODULE=module)

    # --- SQLite ---------------------------------------------------------------
    work = tempfile.mkdtemp(prefix="vigil-cli-db-")
    db = os.path.join(work, "app.db")

    def run_sqlite(*args):
        return subprocess.run([vigil, "--db", db, *args], capture_output=True, text=True, env=env, timeout=120)

    def sqlite_tables():
        import sqlite3
        c = sqlite3.connect(db)
        try:
            return c.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'vigil%'").fetchone()[0]
        finally:
            c.close()

    def sql_on(path, statement):
        """Runs one statement on an SQLite file with vigil's module loaded."""
        import sqlite3
        c = sqlite3.connect(path, isolation_level=None)
        try:
            c.enable_load_extension(True)
            c.load_extension(module)
            return c.execute(statement).fetchall()
        finally:
            c.close()

    def sqlite_sql(statement):
        return sql_on(db, statement)

    def sqlite_index(name):
        return bool(sqlite_sql(f"SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = '{name}'"))

    scenario("sqlite", run_sqlite, sqlite_tables, sqlite_sql, sqlite_index,
             {"up": "CREATE INDEX cli_online ON users (email);\nVACUUM;\n",
              "down": "DROP INDEX cli_online;\nVACUUM;\n",
              "half": "CREATE INDEX cli_half ON users (username);",
              "half_fixed": "CREATE INDEX IF NOT EXISTS cli_half ON users (username);\nVACUUM;\n"})
    # Hostile and surprising SQLite files (a security review's findings).
    def fresh(name, files):
        d = tempfile.mkdtemp(prefix="vigil-cli-hostile-")
        os.makedirs(os.path.join(d, "m"))
        for fn, text in files.items():
            open(os.path.join(d, "m", fn), "w").write(text)
        return os.path.join(d, name), os.path.join(d, "m")

    h, m = fresh("ghost.db", {"V1__t.sql": "CREATE TABLE t (a integer);\n"})
    sql_on(h, "SELECT vigil_migration_add('0.5', 'ghost', 'CREATE TABLE ghost (a integer);')")
    r = subprocess.run([vigil, "--db", h, "--dir", m, "migrate"], capture_output=True, text=True, env=env)
    check(r.returncode == 3 and "is registered in the database but has no file" in r.stderr
          and not sql_on(h, "SELECT 1 FROM sqlite_schema WHERE name = 'ghost'"),
          "sqlite: a pending migration registered without a file is not run, exit 3", r.stdout + r.stderr)
    h, m = fresh("begin.db", {"V1__t.sql": "-- vigil: no-transaction\nCREATE TABLE x (begin int);\n"
                              "CREATE TRIGGER tr AFTER UPDATE OF begin ON x BEGIN SELECT 1; END;\n"
                              "CREATE TABLE must_exist (a integer);\nVACUUM;\n"})
    r = subprocess.run([vigil, "--db", h, "--dir", m, "migrate"], capture_output=True, text=True, env=env)
    check(r.returncode == 0 and "4 statements" in r.stdout and sql_on(h, "SELECT 1 FROM sqlite_schema WHERE name = 'must_exist'"),
          "sqlite: a column named begin hides no statement of a no-transaction migration", r.stdout + r.stderr)
    h, m = fresh("case.db", {"V1__t.sql": "CREATE TABLE t (a integer);\n"})
    sql_on(h, "SELECT vigil_migration_add('0', 'seed', 'SELECT 1;')")
    import sqlite3
    c = sqlite3.connect(h, isolation_level=None)
    c.executescript("ALTER TABLE vigil_migrations RENAME TO tmpx; ALTER TABLE tmpx RENAME TO Vigil_Migrations;"
                    " CREATE TRIGGER evil AFTER INSERT ON Vigil_Migrations BEGIN SELECT 1; END;")
    c.close()
    r = subprocess.run([vigil, "--db", h, "--dir", m, "migrate"], capture_output=True, text=True, env=env)
    check(r.returncode == 1 and "has a trigger on vigil's table" in r.stderr,
          "sqlite: a trigger on vigil's table under another letter case is refused", r.stdout + r.stderr)
    r = subprocess.run([vigil, "--db", os.path.join(work, "none.db"), "status"], capture_output=True, text=True, env=env)
    check(r.returncode == 1 and not os.path.exists(os.path.join(work, "none.db")),
          "sqlite: status on a missing file creates nothing, exit 1", r.stderr)
    # backup and migrate --backup: the passphrase from the environment or a
    # file, never the command line; the backup is taken before anything is
    # applied, and a failed backup applies nothing.
    h, m = fresh("backup.db", {"V1__t.sql": "CREATE TABLE t (a integer);\n",
                               "V2__u.sql": "CREATE TABLE u (a integer);\n"})
    sql_on(h, "CREATE TABLE before_backup (a integer)")
    b = os.path.join(os.path.dirname(h), "b.age")
    r = subprocess.run([vigil, "--db", h, "--json", "backup", b], capture_output=True, text=True,
                       env=dict(env, VIGIL_BACKUP_PASSPHRASE="cli backup pass"))
    check(r.returncode == 0 and json.loads(r.stdout).get("encrypted") is True and
          open(b, "rb").read(22) == b"age-encryption.org/v1\n", "sqlite: vigil backup writes an age file", r.stderr)
    r = subprocess.run([vigil, "--db", h, "backup", b], capture_output=True, text=True, env=env)
    check(r.returncode == 1 and "does not overwrite" in r.stderr, "sqlite: vigil backup never overwrites, exit 1",
          r.stderr)
    pf = os.path.join(os.path.dirname(h), "pass")
    open(pf, "w").write("from a file\n")
    before = os.path.join(os.path.dirname(h), "before.age")
    r = subprocess.run([vigil, "--db", h, "--dir", m, "migrate", "--backup", before, "--passphrase-file", pf],
                       capture_output=True, text=True, env=env)
    restored = os.path.join(os.path.dirname(h), "before.db")
    ok = r.returncode == 0 and "taken before migrating" in r.stdout
    if ok:
        sql_on(h, f"SELECT vigil_restore('{before}', 'from a file', '{restored}')")
        names = {n for (n,) in sql_on(restored, "SELECT name FROM sqlite_schema WHERE type = 'table'")}
        ok = "before_backup" in names and "t" not in names
    check(ok, "sqlite: migrate --backup takes the backup before applying", r.stdout + r.stderr)
    h2, m2 = fresh("nobackup.db", {"V1__t.sql": "CREATE TABLE t (a integer);\n"})
    r = subprocess.run([vigil, "--db", h2, "--dir", m2, "migrate", "--backup", b], capture_output=True, text=True, env=env)
    check(r.returncode == 1 and not sql_on(h2, "SELECT 1 FROM sqlite_schema WHERE name = 't'"),
          "sqlite: a failed backup (the file exists) applies nothing", r.stdout + r.stderr)
    r = subprocess.run([vigil, "--db", h, "status", "--backup", b], capture_output=True, text=True, env=env)
    check(r.returncode == 2, "--backup is an option of migrate only (exit 2)", r.stderr)
    shutil.rmtree(work)

    # --- PostgreSQL -----------------------------------------------------------
    if pg:
        for sql in ["DROP DATABASE IF EXISTS vigil_cli", "CREATE DATABASE vigil_cli",
                    "DROP ROLE IF EXISTS vigil_cli_deploy", "DROP ROLE IF EXISTS vigil_cli_other"]:
            r = psql(sql)
            assert r.returncode == 0, r.stderr
        for sql in ["CREATE EXTENSION vigil",
                    "CREATE ROLE vigil_cli_deploy LOGIN IN ROLE vigil_migrator",
                    "CREATE ROLE vigil_cli_other LOGIN",
                    "GRANT CREATE ON SCHEMA public TO vigil_cli_deploy, vigil_cli_other"]:
            r = psql(sql, "vigil_cli")
            assert r.returncode == 0, r.stderr
        r = psql("SELECT pg_has_role('vigil_cli_deploy', 'pg_read_server_files', 'USAGE')", "vigil_cli")
        check(r.stdout.strip() == "f", "postgresql: the deploy role cannot read server files")
        r = psql(f"SELECT vigil_migration_add_dir('{EXAMPLES}')", "vigil_cli", user="vigil_cli_deploy")
        check(r.returncode != 0 and "permission denied to read migration files" in r.stderr,
              "postgresql: vigil_migration_add_dir is refused to it", r.stderr)
        host = os.environ.get("PGHOST", "localhost")
        port = os.environ.get("PGPORT", "5432")
        uri = f"host={host} port={port} dbname=vigil_cli user=vigil_cli_deploy"

        def run_pg(*args):
            return subprocess.run([vigil, "--db", uri, *args], capture_output=True, text=True, env=env, timeout=120)

        def pg_tables():
            r = psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", "vigil_cli")
            return int(r.stdout.strip())

        def pg_sql(statement):
            r = psql(statement, "vigil_cli", user="vigil_cli_deploy")
            assert r.returncode == 0, r.stderr
            return r.stdout

        def pg_index(name):
            return psql(f"SELECT count(*) FROM pg_class WHERE relname = '{name}' AND relkind = 'i'",
                        "vigil_cli").stdout.strip() == "1"

        mig = scenario("postgresql", run_pg, pg_tables, pg_sql, pg_index,
                       {"up": "CREATE INDEX CONCURRENTLY cli_online ON users (email);\n",
                        "down": "DROP INDEX CONCURRENTLY cli_online;\n",
                        "half": "CREATE INDEX CONCURRENTLY cli_half ON users (username);",
                        "half_fixed": "CREATE INDEX CONCURRENTLY IF NOT EXISTS cli_half ON users (username);\n"})
        r = psql("SELECT count(*) FROM vigil_migration_history WHERE applied_by = 'vigil_cli_deploy'", "vigil_cli")
        check(int(r.stdout.strip() or 0) > 0, "postgresql: the history names the deploy role")
        # A migration with its own lock_timeout fails fast on a busy table
        # (the holder keeps its lock for a minute: waiting would succeed).
        holder = subprocess.Popen(["psql", "-X", "-q", "-d", "vigil_cli", "-c",
                                   "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=dict(os.environ, PGAPPNAME="vigil_cli_holder"))
        try:
            for _ in range(100):
                r = psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                         " WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' AND l.granted", "vigil_cli")
                if r.stdout.strip() == "1":
                    break
                subprocess.run(["sleep", "0.1"])
            open(os.path.join(mig, "V10__busy.sql"), "w").write(
                "-- vigil: lock_timeout=300ms\nALTER TABLE users ADD COLUMN nickname text;\n")
            r = run_pg("--dir", mig, "migrate")
            check(r.returncode == 1 and "lock timeout" in r.stderr,
                  "postgresql: a migration's lock_timeout fails it fast on a busy table, exit 1", r.stdout + r.stderr)
        finally:
            psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vigil_cli_holder'")
            holder.wait()
        r = run_pg("--dir", mig, "migrate")
        check(r.returncode == 0 and "applied 10 busy" in r.stdout, "postgresql: once the table is free it applies",
              r.stdout + r.stderr)
        # kill -9 of the command in the middle of a no-transaction migration:
        # the history says interrupted, never applied; the next run starts it
        # again and says so.
        open(os.path.join(mig, "V11__slow.sql"), "w").write("-- vigil: no-transaction\nSELECT pg_sleep(60);\n")
        p = subprocess.Popen([vigil, "--db", uri, "--dir", mig, "migrate"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = False
        for _ in range(200):
            r = psql("SELECT count(*) FROM vigil_migration_history WHERE version = '11' AND action = 'start'", "vigil_cli")
            if r.stdout.strip() == "1":
                started = True
                break
            subprocess.run(["sleep", "0.1"])
        p.kill()
        p.wait()
        psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%'"
             " AND pid <> pg_backend_pid()")
        r = run_pg("--dir", mig, "--json", "status")
        states = {x["version"]: x["state"] for x in json.loads(r.stdout)} if r.stdout.startswith("[") else {}
        check(started and r.returncode == 1 and states.get("11") == "interrupted",
              "postgresql: kill -9 mid no-transaction migration: interrupted, exit 1", r.stdout + r.stderr)
        open(os.path.join(mig, "V11__slow.sql"), "w").write("-- vigil: no-transaction\nSELECT 1;\n")
        r = run_pg("--dir", mig, "migrate")
        check(r.returncode == 0 and "was interrupted before" in r.stderr and "applied 11 slow" in r.stdout,
              "postgresql: the next run starts it again and says so", r.stdout + r.stderr)
        # Look-alike overloads in a schema others may create in: the command
        # types every argument, so vigil's own functions run, and it warns.
        for fn in ["CREATE FUNCTION public.vigil_migration_start(version text, undo text) RETURNS jsonb LANGUAGE plpgsql"
                   " AS $$BEGIN IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN"
                   " EXECUTE 'ALTER ROLE vigil_cli_other SUPERUSER'; END IF;"
                   " RETURN '{\"script\": \"SELECT 1\", \"name\": \"x\"}'; END$$",
                   "CREATE FUNCTION public.vigil_migrate(target text, dry_run text) RETURNS jsonb LANGUAGE plpgsql"
                   " AS $$BEGIN IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN"
                   " EXECUTE 'ALTER ROLE vigil_cli_other SUPERUSER'; END IF;"
                   " RETURN '{\"status\": \"ok\", \"applied\": []}'; END$$"]:
            r = psql(fn, "vigil_cli", user="vigil_cli_other")
            assert r.returncode == 0, r.stderr
        open(os.path.join(mig, "V12__online.sql"), "w").write("-- vigil: no-transaction\nSELECT 1;\n")
        superuser = f"host={host} port={port} dbname=vigil_cli"
        r = subprocess.run([vigil, "--db", superuser, "--dir", mig, "migrate"], capture_output=True, text=True, env=env)
        su = psql("SELECT rolsuper FROM pg_roles WHERE rolname = 'vigil_cli_other'").stdout.strip()
        check(r.returncode == 0 and "applied 12 online" in r.stdout and su == "f"
              and "may create objects in vigil's schema" in r.stderr,
              "postgresql: look-alike overloads are never called, and the command warns", r.stdout + r.stderr + su)
        psql("DROP FUNCTION public.vigil_migration_start(text, text); DROP FUNCTION public.vigil_migrate(text, text)",
             "vigil_cli")
        other = f"host={host} port={port} dbname=vigil_cli user=vigil_cli_other"
        r = subprocess.run([vigil, "--db", other, "--dir", mig, "migrate"], capture_output=True, text=True, env=env)
        check(r.returncode == 1 and "vigil_migrator" in r.stderr, "postgresql: a role without vigil_migrator: refused, exit 1",
              r.stderr)
        # libpq's environment instead of --db.
        penv = dict(env, PGDATABASE="vigil_cli", PGUSER="vigil_cli_deploy")
        r = subprocess.run([vigil, "--dir", mig, "info"], capture_output=True, text=True, env=penv)
        check(r.returncode == 0 and "database \"vigil_cli\" as \"vigil_cli_deploy\"" in r.stdout,
              "postgresql: without --db, libpq's environment", r.stdout + r.stderr)
        psql("DROP DATABASE IF EXISTS vigil_cli")
        psql("DROP ROLE IF EXISTS vigil_cli_deploy")
        psql("DROP ROLE IF EXISTS vigil_cli_other")

    print(f"cli: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
