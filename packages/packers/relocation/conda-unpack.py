"""conda-unpack (cluster-pack): finishes unpacking a conda environment archive where it now lives.

Files that embed the environment's path were packed holding their conda prefix placeholders (listed in
share/cluster-pack/prefix-records.json); this writes the environment's real path into them, as conda does when it
installs a package: text files get every occurrence replaced, binary files keep their length (each string is
rewritten in its own slot, padded with NUL bytes), which is why a binary placeholder limits how long the path may
be. Run it with the environment's own Python, once where the environment stays; running it again is a no-op, and
again after moving the environment rewrites the files for the new place. A run that stopped midway (killed, out of
space) is finished by the next one: each rewritten file is journaled before it replaces the old one. Several
processes may run it at once (containers of one YARN application share the unpacked archive): they take turns on a
lock.

Standard library only, Python 3.6+: it runs on the cluster, where nothing else may be installed.
"""

import fcntl
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
# The real path: the directory YARN links into each container's working directory lives as long as the application.
PREFIX = os.path.dirname(HERE)
STATE = os.path.join(PREFIX, "share", "cluster-pack")
RECORDS = os.path.join(STATE, "prefix-records.json")
# The prefix the files hold now; absent until the first run, when they hold their placeholders.
UNPACKED = os.path.join(STATE, "unpacked-prefix")
# Present while a run rewrites files: a JSON line {"from", "to"}, then "<sha256> <path>" for each file it rewrote.
# A file holds "to" when its bytes have the journaled digest, else still "from"; that cannot be told from the text
# itself when "from" is a prefix of "to" (/x/env -> /x/env2).
JOURNAL = os.path.join(STATE, "unpack-journal")


class NoRoom(Exception):
    """A binary string has no NUL bytes left to grow into."""


def replace_in_binary(data, old, new):
    out = bytearray(data)
    position = 0
    while True:
        found = data.find(old, position)
        if found == -1:
            break
        terminator = data.find(b"\0", found)
        if terminator == -1:
            break
        original = data[found:terminator]
        rewritten = original.replace(old, new)
        growth = len(rewritten) - len(original)
        slot_end = terminator + 1 + max(growth, 0)
        if growth > 0 and data[terminator + 1 : slot_end] != b"\0" * growth:
            raise NoRoom()
        out[found:slot_end] = rewritten + b"\0" * (slot_end - found - len(rewritten))
        position = slot_end
    return bytes(out)


def digest(data):
    return hashlib.sha256(data).hexdigest()


def rewritten(data, old, new, mode):
    """The file's bytes holding `new` instead of `old`, or None when it does not hold `old`."""
    if old not in data:
        return None
    return data.replace(old, new) if mode == "text" else replace_in_binary(data, old, new)


def write_atomically(path, data):
    # A new file renamed over the old one: the file may be read-only (YARN localizes with 0500) or a running
    # executable (bin/python runs this script), and readers see either version, never half of one.
    temporary = "%s.conda-unpack-%d" % (path, os.getpid())
    try:
        with open(temporary, "wb") as target:
            target.write(data)
        if os.path.exists(path):
            os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        os.rename(temporary, path)
    except BaseException:
        # Not left in the environment, where it would be packed or shadow nothing forever.
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def read_journal():
    """The unfinished run a crash left: (its from prefix or None for the placeholders, its to, {path: sha256})."""
    if not os.path.exists(JOURNAL):
        return None
    with open(JOURNAL) as source:
        lines = source.read().split("\n")
    header = json.loads(lines[0])
    written = {}
    # The last piece has no newline: complete lines only (a killed run may have written half of one).
    for line in lines[1:-1]:
        sha256, _, path = line.partition(" ")
        written[path] = sha256
    return header["from"], header["to"], written


def relocate(records, start, destination, written):
    """Rewrites every recorded file from `start` to `destination`, except those `written` says already hold it."""
    new = destination.encode("utf-8")
    if written is None:
        write_atomically(JOURNAL, (json.dumps({"from": start, "to": destination}) + "\n").encode("utf-8"))
        written = {}
    with open(JOURNAL, "a") as journal:
        for path, placeholder, mode in records:
            location = os.path.join(PREFIX, path)
            with open(location, "rb") as source:
                data = source.read()
            if written.get(path) == digest(data):
                continue
            changed = rewritten(data, (start or placeholder).encode("utf-8"), new, mode)
            if changed is None:
                continue
            # Journaled before the rename: a crash in between leaves the old bytes, which do not match.
            journal.write("%s %s\n" % (digest(changed), path))
            journal.flush()
            write_atomically(location, changed)
    write_atomically(UNPACKED, destination.encode("utf-8"))
    os.unlink(JOURNAL)


def outside(path):
    """Whether a recorded path leads out of the environment (a damaged or tampered records file): rewriting it would
    change a file elsewhere."""
    location = os.path.realpath(os.path.join(PREFIX, path))
    return not location.startswith(PREFIX + os.sep)


def unpack():
    with open(RECORDS) as source:
        records = json.load(source)["records"]
    # Every path is checked before any file changes.
    for path, _, _ in records:
        if outside(path):
            sys.stderr.write(
                "conda-unpack: %r in %s leads outside %s: the archive is damaged, repack the environment\n"
                % (path, RECORDS, PREFIX)
            )
            return 1
    unfinished = read_journal()
    if unfinished is not None:
        # Finish the interrupted run first (its room was checked when it started): every file then holds one prefix.
        start, destination, written = unfinished
        relocate(records, start, destination, written)
    current = None
    if os.path.exists(UNPACKED):
        with open(UNPACKED) as source:
            current = source.read()
    if current == PREFIX:
        return 0
    new = PREFIX.encode("utf-8")
    binary = [(path, placeholder) for path, placeholder, mode in records if mode == "binary"]
    room = min([len(placeholder.encode("utf-8")) for _, placeholder in binary] or [len(new)])
    if len(new) > room:
        example = min(binary, key=lambda record: len(record[1].encode("utf-8")))[0]
        sys.stderr.write(
            "conda-unpack: %s is %d bytes long, but binary files such as %s have room for a path of %d bytes: "
            "unpack the environment at a shorter path, or pack it with --dest-prefix\n"
            % (PREFIX, len(new), example, room)
        )
        return 1
    # Every binary string is checked before any file changes: a refusal leaves the environment as it was.
    for path, placeholder in binary:
        with open(os.path.join(PREFIX, path), "rb") as source:
            data = source.read()
        try:
            rewritten(data, (current or placeholder).encode("utf-8"), new, "binary")
        except NoRoom:
            sys.stderr.write("conda-unpack: %s: no room to write %s into this binary file\n" % (path, PREFIX))
            return 1
    relocate(records, current, PREFIX, None)
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    with open(os.path.join(STATE, "unpack.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return unpack()


if __name__ == "__main__":
    sys.exit(main())
