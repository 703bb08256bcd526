#!/usr/bin/python3
"""age_open.py BACKUP PASSPHRASE OUTPUT — decrypts a backup with the
standard age command. age reads passphrases only from a terminal, so it is
run on a pseudo-terminal here; a person types the passphrase at `age -d`."""
import os
import pty
import select
import sys
import time

backup, passphrase, output = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("age", ["age", "-d", "-o", output, backup])
buffered, answered, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    if not select.select([fd], [], [], 0.2)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buffered += data
    if not answered and b"passphrase" in buffered.lower():
        os.write(fd, passphrase.encode() + b"\n")
        answered = True
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
