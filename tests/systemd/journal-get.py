#!/usr/bin/env python3
"""Looks up a field of a journal record in `journalctl -o json` output.

    journal-get.py FILE FIELD [KEY=VALUE | KEY~PREFIX]...

Prints FIELD of the first record in FILE (one JSON object per line) that
has every KEY equal to VALUE (KEY=VALUE) or starting with PREFIX
(KEY~PREFIX); exits 1 when no record matches or it lacks FIELD.  Fields
that journald stores as byte arrays (non-UTF-8) never match.
"""

import json
import sys


def matches(rec, conds):
    for key, op, want in conds:
        have = rec.get(key)
        if not isinstance(have, str):
            return False
        if op == "=" and have != want:
            return False
        if op == "~" and not have.startswith(want):
            return False
    return True


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, field = sys.argv[1], sys.argv[2]
    conds = []
    for arg in sys.argv[3:]:
        i = min((arg.find(c) for c in "=~" if c in arg), default=-1)
        if i <= 0:
            sys.stderr.write("journal-get: bad condition %r\n" % arg)
            return 2
        conds.append((arg[:i], arg[i], arg[i + 1:]))
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if matches(rec, conds) and isinstance(rec.get(field), str):
                print(rec[field])
                return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
