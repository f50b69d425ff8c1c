#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The log shipper examples (contrib/vector/tcptrail.yaml,
# contrib/fluent-bit/tcptrail.yaml), no root needed.  Neither Vector nor
# Fluent Bit is a Debian package, so they cannot run here; instead every
# record field the pipelines read (VRL paths such as .lost, Fluent Bit
# record accessors such as $type, the parser's time_key, label templates)
# must be a field of some record in include/tcptrail.schema.json, and every
# record type they compare "type" with must be one of its types.  A renamed
# JSON field fails here.  The check is run on a copy with a field that does
# not exist too, and must fail there: it cannot pass by reading nothing.
# Prints "ok examples" or "FAIL examples: why"; exits 0 or 1.

SCHEMA=include/tcptrail.schema.json
DIR=$(mktemp -d) || { echo "FAIL examples: mktemp -d failed"; exit 1; }
trap 'rm -rf "$DIR"' EXIT

fail() {
	echo "FAIL examples: $*"
	exit 1
}

command -v python3 >/dev/null 2>&1 || fail "python3 not found (make deps INSTALL=1)"
python3 -c 'import yaml' 2>/dev/null || fail "python3 yaml not found (Debian package python3-yaml; make deps INSTALL=1)"

cat >"$DIR/check.py" <<'PY'
import json, re, sys, yaml

schema = json.load(open(sys.argv[1]))
fields, types = set(), set()
for name, d in schema["$defs"].items():
    props = d.get("properties", {})
    fields |= set(props)
    t = props.get("type", {})
    if "const" in t:
        types.add(t["const"])
if not fields or not types:
    sys.exit("no record fields or types in " + sys.argv[1])

def strings(x):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from strings(v)
    elif isinstance(x, str):
        yield x

def vector(doc):
    """VRL paths (.name) and {{ name }} templates; .type == "x" comparisons."""
    own = {"message", "file", "host", "source_type", "timestamp", "source_file"}
    named, compared = set(), set()
    for t in (doc.get("transforms") or {}).values():
        for key in ("source", "condition"):
            src = t.get(key)
            if not isinstance(src, str):
                continue
            src = re.sub(r'#[^\n]*', "", src)
            src = re.sub(r'"(\\.|[^"\\])*"', lambda m: m.group(0) if re.fullmatch(r'"[a-z_]+"', m.group(0)) else '""', src)
            named |= set(re.findall(r'(?<![\w)\]])\.([A-Za-z_]\w*)', src))
            compared |= set(re.findall(r'\.type\s*==\s*"([^"]*)"', src))
    for s in (doc.get("sinks") or {}).values():
        for v in strings(s):
            named |= set(re.findall(r'\{\{\s*\.?([A-Za-z_]\w*)\s*\}\}', v))
    return named - own, compared

def fluentbit(doc):
    """$name record accessors, parsers' time_key; $type ^(a|b)$ rules;
    in Lua code, record["name"] and t == "x" (t: the record's type)."""
    own = {"host", "problem"}
    named, compared = set(), set()
    for p in doc.get("parsers") or []:
        if p.get("time_key"):
            named.add(p["time_key"])
    for v in strings(doc.get("pipeline") or {}):
        if "function" in v:
            code = re.sub(r'--[^\n]*', "", v)
            named |= set(re.findall(r'\brecord\["(\w+)"\]', code))
            compared |= set(re.findall(r'\bt\s*==\s*"(\w+)"', code))
            continue
        named |= set(re.findall(r'\$([A-Za-z_]\w*)', v))
        m = re.match(r'\s*\$type\s+\^\(?([\w|]+)\)?\$', v)
        if m:
            compared |= set(m.group(1).split("|"))
    named -= {"HOSTNAME"}
    return named - own, compared

bad = []
total = 0
allnamed = set()
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    named, compared = (fluentbit if "pipeline" in doc else vector)(doc)
    if not named or not compared:
        bad.append(f"{path}: found no field names or no record types to check")
        continue
    total += len(named)
    allnamed |= named
    for n in sorted(named - fields):
        bad.append(f"{path}: field '{n}' is in no record of {sys.argv[1]}")
    for t in sorted(compared - types):
        bad.append(f"{path}: record type '{t}' is not one of {sorted(types)}")
if bad:
    print("; ".join(bad))
    sys.exit(1)
print(f"{len(allnamed)} field names checked: " + " ".join(sorted(allnamed)))
PY

EX="contrib/vector/tcptrail.yaml contrib/fluent-bit/tcptrail.yaml"
for f in $EX; do
	[ -s "$f" ] || fail "$f is missing"
done
# shellcheck disable=SC2086 # a list of files
out=$(python3 "$DIR/check.py" "$SCHEMA" $EX 2>&1) || fail "$out"

# the same check must catch a field tcptrail does not write, in each file
mkdir -p "$DIR/contrib"
sed 's/\.lost_interval)/.lost_events)/' contrib/vector/tcptrail.yaml >"$DIR/vector.yaml"
sed 's/record\["lost_interval"\]/record["lost_events"]/' contrib/fluent-bit/tcptrail.yaml \
	>"$DIR/fluent-bit.yaml"
for f in vector fluent-bit; do
	cmp -s "$DIR/$f.yaml" "contrib/$f/tcptrail.yaml" &&
		fail "the self-test found no 'lost_interval' to rename in contrib/$f"
	python3 "$DIR/check.py" "$SCHEMA" "$DIR/$f.yaml" >"$DIR/neg.out" 2>&1 &&
		fail "a pipeline reading .lost_events passed the check ($f)"
	grep -q "lost_events" "$DIR/neg.out" || fail "the check of a bad $f pipeline said: $(cat "$DIR/neg.out")"
done
# Fluent Bit's routing is a Lua function: run it on records as tcptrail
# writes them (Lua 5.4 is Fluent Bit's language; lua5.4 is Debian's).
command -v lua5.4 >/dev/null 2>&1 || fail "lua5.4 not found (make deps INSTALL=1)"
cat >"$DIR/lua.py" <<'PY'
import sys, yaml

def lua(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "{" + ", ".join(lua(x) for x in v) + "}"
    return "{" + ", ".join(f"[{lua(k)}] = {lua(x)}" for k, x in v.items()) + "}"

doc = yaml.safe_load(open(sys.argv[1]))
code = [f for f in doc["pipeline"]["filters"] if f.get("name") == "lua"][0]["code"]
# (record, the problem it is, or None): what an on-call person wants routed, and not
cases = [
    ({"type": "close_wait", "count": 3}, "close_wait"),
    ({"type": "close_wait_not_shown", "groups": 20, "count": 20}, "close_wait_not_shown"),
    ({"type": "overflow", "queue": "accept"}, "overflow"),
    ({"type": "summary", "lost": 1070, "lost_interval": 1070}, "lost_events"),
    ({"type": "summary", "lost": 1070, "lost_interval": 0}, None),
    ({"type": "summary", "lost": 0, "lost_interval": 0}, None),
    ({"type": "time_wait", "pressure": [{"port": 80, "warn": False},
                                        {"port": 8000, "warn": True}]}, "port_pressure"),
    ({"type": "time_wait", "pressure": [{"port": 80, "warn": False}]}, None),
    ({"type": "time_wait", "pressure": []}, None),
    ({"type": "flow", "end": "close"}, None),
]
print(code)
for i, (rec, want) in enumerate(cases):
    print(f"""do
  local code, _, r = tcptrail_problem("tcptrail", 1, {lua(rec)})
  local got = code ~= 0 and r["problem"] or nil
  if got ~= {lua(want) if want else "nil"} then
    print("case {i} ({rec['type']}): problem " .. tostring(got) .. ", want {want}")
    os.exit(1)
  end
  if code ~= 0 and code ~= 2 then print("case {i}: return code " .. code) os.exit(1) end
end""")
print(f'print("{len(cases)} records routed as they should be")')
PY
python3 "$DIR/lua.py" contrib/fluent-bit/tcptrail.yaml >"$DIR/route.lua" || fail "could not make the Lua test"
lua_out=$(lua5.4 "$DIR/route.lua" 2>&1) || fail "contrib/fluent-bit's Lua routing: $lua_out"
# and it must catch a routing that tests the total since start
sed 's/record\["lost_interval"\]/record["lost"]/' contrib/fluent-bit/tcptrail.yaml >"$DIR/fb-lost.yaml"
python3 "$DIR/lua.py" "$DIR/fb-lost.yaml" >"$DIR/route-lost.lua" || fail "could not make the Lua test"
lua5.4 "$DIR/route-lost.lua" >/dev/null 2>&1 && fail "a Lua routing that tests 'lost' passed"
echo "ok examples ($out; $lua_out)"
