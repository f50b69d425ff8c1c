#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""check-json.py SCHEMA [--require TYPE,...] FILE...

Validates every line of each FILE (tcptrail --json output) against SCHEMA
(include/tcptrail.schema.json) with python3-jsonschema, and prints one line:
"json: N records valid (flow=N summary=N ...)".  Exits 1 at the first line
that is not JSON or not valid, printing the file, line number, the record and
why; or if a type named by --require never appeared (so that a test cannot
pass on output that lacks what it means to check).
"""
import json
import sys

import jsonschema


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    schema = json.load(open(args.pop(0)))
    required = []
    if args and args[0] == "--require":
        required = args[1].split(",")
        args = args[2:]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    seen = {}
    for path in args:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    sys.exit("%s:%d: not JSON (%s): %s" % (path, n, e, line.rstrip()[:300]))
                errors = sorted(validator.iter_errors(rec), key=lambda e: list(e.path))
                if errors:
                    # oneOf hides the reason: validate against the record's own type
                    t = rec.get("type") if isinstance(rec, dict) else None
                    sub = schema.get("$defs", {}).get(t)
                    why = errors[0].message
                    if sub is not None:
                        sub = dict(sub, **{"$defs": schema["$defs"]})
                        inner = sorted(cls(sub).iter_errors(rec), key=lambda e: list(e.path))
                        if inner:
                            why = "; ".join("%s: %s" % ("/".join(map(str, e.path)) or "(record)",
                                                         e.message[:200]) for e in inner[:3])
                    sys.exit("%s:%d: %s record does not match the schema: %s\n  %s" %
                             (path, n, t, why, line.rstrip()[:400]))
                seen[rec["type"]] = seen.get(rec["type"], 0) + 1
    missing = [t for t in required if t not in seen]
    total = sum(seen.values())
    summary = " ".join("%s=%d" % kv for kv in sorted(seen.items()))
    if missing:
        sys.exit("json: no %s record among %d (%s)" % (",".join(missing), total, summary))
    print("json: %d records valid (%s)" % (total, summary))


if __name__ == "__main__":
    main()
