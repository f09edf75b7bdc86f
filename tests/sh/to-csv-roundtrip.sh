#!/usr/bin/env bash
# to-csv round trip: NDJSON of nasty strings -> to-csv -> Python's csv module must give back
# exactly the input strings (with --no-sanitize), or the input with the documented apostrophe
# apostrophe before a formula (= + - @ TAB CR LF) at a cell's start or after a , ; or line break
# in it (the default). Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/bin}
export TO_CSV=$BIN/to-csv
exec python3 - <<'EOF'
import csv, io, json, os, re, subprocess, sys

TO_CSV = os.environ["TO_CSV"]
csv.field_size_limit(1 << 30)
n = 0

def tap(ok, what, detail=""):
    global n
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, what))
    if not ok and detail:
        for line in detail.splitlines()[:20]:
            print("#   " + line)

nasty = [
    "", " ", "plain", 'say "hi"', '"', '""', '"quoted"', "a,b", ",", ",,", "a;b", ";",
    "line1\nline2", "\n", "cr\rhere", "\r", "crlf\r\nhere", "\r\n", "\n\r", "trailing\n",
    " leading space", "trailing space ", "\ttab", "tab\tinside", "emoji 😀🎉", "👍🏽 family 👨‍👩‍👧",
    "e\u0301 combining", "\u0301", "Z̤̈ͅa̐l̗g̹o", "São Paulo", "日本語", "العربية", "\u2028\u2029",
    "\ufeffbom inside", "=SUM(A1:A2)", "+1", "-1", "-", "@cmd", "=", "+", "@", "\t=1", "\r=1",
    "'already", "a=b", "'", "\\", "\\\"", "back\\slash", "NULL", "null", "0", "-0", "1e3",
    "x" * 70000, ('long "quoted", with\r\nbreaks ' * 30000), "😀" * 20000,
    "Silva;=cmd|' /C calc'!A0", "Souza,=1+1", 'x;"=1', 'x,""@1', ";-)", "a,\t=1", "a, =1", "\n=1", ",=",
]

def run(args, data):
    p = subprocess.run([TO_CSV] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr

def parse(out, delim=",", bom=False):
    text = out.decode("utf-8-sig" if bom else "utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))

# the apostrophe in front of a cell beginning with a formula, and after a ',' or ';' (and any
# '"') followed by one, and after a line break (a CRLF's LF): a spreadsheet reading the file with
# the other separator starts a cell there, or a row
def sanitized(s):
    s = re.sub(r'([,;\n]|\r(?!\n))(?="*[=+\-@\t\r\n])', r"\1'", s)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else s

# One row per string, the string in three columns and an id, so every position is tried.
rows = [{"id": str(i), "a": s, "b": s, "c": s} for i, s in enumerate(nasty)]
ndjson = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()

def expect(f):
    return [["id", "a", "b", "c"]] + [[r["id"], f(r["a"]), f(r["b"]), f(r["c"])] for r in rows]

cases = [
    ("--no-sanitize, CRLF", ["--no-sanitize"], ",", False, lambda s: s),
    ("--no-sanitize --lf", ["--no-sanitize", "--lf"], ",", False, lambda s: s),
    ("--no-sanitize --delimiter ';' --bom", ["--no-sanitize", "--delimiter", ";", "--bom"], ";", True, lambda s: s),
    ("--no-sanitize --delimiter tab", ["--no-sanitize", "--delimiter", "tab"], "\t", False, lambda s: s),
    ("default (sanitize), CRLF", [], ",", False, sanitized),
    ("sanitize --lf --delimiter ';'", ["--lf", "-d", ";"], ";", False, sanitized),
]
for what, args, delim, bom, f in cases:
    st, out, err = run(args, ndjson)
    tap(st == 0 and not err, "%s: exit 0, no diagnostics" % what, err.decode(errors="replace"))
    got = parse(out, delim, bom)
    want = expect(f)
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    tap(got == want, "%s: %d rows read back equal" % (what, len(want)),
        "rows %d vs %d; first differing row %s: got %r want %r" % (
            len(got), len(want), bad[:1], got[bad[0]][:4] if bad else None, want[bad[0]][:4] if bad else None))

# Read with the other list separator (Excel takes the locale's: ',' or ';'), no cell of the
# sanitized file begins with a formula (behind blanks): text cells, and JSON cells whose strings
# hold one.
mixed = "".join(json.dumps({"id": str(i), "a": s, "j": [s, {s: s}]}, ensure_ascii=False) + "\n"
                for i, s in enumerate(nasty)).encode()
for delim, other in ((",", ";"), (";", ","), ("tab", ","), ("tab", ";")):
    st, out, err = run(["-d", delim], mixed)
    cells = [c for row in parse(out, other) for c in row]
    bad = [c for c in cells if c.lstrip("\t\r\n")[:1] in ("=", "+", "-", "@")]
    tap(st == 0 and cells and not bad, "-d %s read with '%s': no cell begins with a formula" % (delim, other),
        "%d such cells, e.g. %r" % (len(bad), bad[:3]))
    back = [json.loads(row[2]) for row in parse(out, "\t" if delim == "tab" else delim)[1:]]
    tap(back == [[s, {s: s}] for s in nasty], "-d %s: JSON cells read back as the same JSON" % delim)

# CRLF is the default row end, LF with --lf; line breaks inside cells stay as they were.
st, out, _ = run(["--no-sanitize"], b'{"a":"x\\ny"}\n{"a":"z"}\n')
tap(out == b'a\r\n"x\ny"\r\nz\r\n', "CRLF row ends, a cell's LF kept", repr(out))
st, out, _ = run(["--no-sanitize", "--lf", "--bom"], b'{"a":"x\\r\\ny"}\n')
tap(out == b'\xef\xbb\xbfa\n"x\r\ny"\n', "--lf --bom: BOM once, cell CRLF kept", repr(out))

# A single column: an empty string must not become a blank line, which readers skip.
single = "".join(json.dumps({"v": s}, ensure_ascii=False) + "\n" for s in nasty).encode()
st, out, err = run(["--no-sanitize", "-c", "v"], single)
got = parse(out)
tap(got == [["v"]] + [[s] for s in nasty], "single column -c v: every string read back, empty ones too")
# ... nor \. a line alone, where PostgreSQL's COPY and psql's \copy end the data and drop the
# rows after it (audit-CSV 1); in a row of two cells it is no line of its own
st, out, err = run(["-c", "v"], b'{"v":"a"}\n{"v":"\\\\."}\n{"v":"b"}\n')
tap(st == 0 and out == b'v\r\na\r\n"\\."\r\nb\r\n', "single column: \\. quoted, a line of its own no more", repr(out))
st, out, err = run([], b'{"v":"\\\\.","w":1}\n')
tap(st == 0 and out == b'v,w\r\n\\.,1\r\n', "two columns: \\. as it is", repr(out))

# Nasty keys as default columns: the header row reads back as the keys, sanitized.
keys = [k for k in nasty[:40] if k]
obj = "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + json.dumps(i) for i, k in enumerate(keys)) + "}\n"
st, out, err = run([], obj.encode())
got = parse(out)
tap(st == 0 and got == [[sanitized(k) for k in keys], [str(i) for i in range(len(keys))]],
    "nasty keys: header row is the keys in order (sanitized), values under them")

# Numbers are JSON text: written as in the input, never neutralised, even when negative.
nums = ["0", "-5", "1.50", "-0.0", "1e3", "-1E-7", "123456789012345678", "18446744073709551614", "3.141592653589793238462643383279"]
st, out, err = run(["--lf", "-c", "n"], "".join('{"n":%s}\n' % t for t in nums).encode())
tap(st == 0 and parse(out) == [["n"]] + [[t] for t in nums], "numbers keep their JSON text; negatives not prefixed",
    out.decode())
print("1..%d" % n)
EOF
