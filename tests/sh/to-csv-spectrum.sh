#!/usr/bin/env bash
# csv-spectrum round trip: for each public case in ../shared/data/csv-spectrum (except the one
# its NOTES.md calls invalid), the expected JSON becomes NDJSON, to-csv writes it back with the
# CSV's header order and line ends, and the result is compared with the case's .csv:
#   - byte for byte when the .csv is quoted the way to-csv quotes (only fields that need it:
#     the delimiter, a quote, CR or LF, a leading or trailing space, a row's only empty cell),
#     after adding the final line end a few cases lack;
#   - otherwise (the .csv quotes fields that need no quoting, e.g. `1,"",""`) the two files are
#     parsed back with Python's csv module and their values compared; the test line says so.
# Prints TAP; "# SKIP" when the data set is absent.
set -u
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/bin}
ROOT=${ROOT:-$PWD}
export TO_CSV=$BIN/to-csv SPECTRUM=$ROOT/../shared/data/csv-spectrum
if [ ! -d "$SPECTRUM/csvs" ]; then
	echo "ok 1 - csv-spectrum round trip # SKIP $SPECTRUM not found"
	exit 0
fi
exec python3 - <<'EOF'
import csv, io, json, os, subprocess

TO_CSV, SPECTRUM = os.environ["TO_CSV"], os.environ["SPECTRUM"]
INVALID = "location_coordinates"  # NOTES.md: "Treat it as invalid."
n = 0

def tap(ok, what, detail=""):
    global n
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, what))
    if not ok and detail:
        for line in detail.splitlines()[:20]:
            print("#   " + line)

def parse(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))

def needs_quote(field, row):
    return (any(c in field for c in ',"\r\n') or field[:1] == " " or field[-1:] == " "
            or (field == "" and len(row) == 1))

def as_to_csv_would(rows, eol):
    out = []
    for row in rows:
        cells = ['"' + f.replace('"', '""') + '"' if needs_quote(f, row) else f for f in row]
        out.append(",".join(cells) + eol)
    return "".join(out).encode("utf-8")

def escape(name):
    return name.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:")

notes = open(os.path.join(SPECTRUM, "NOTES.md"), encoding="utf-8").read()
names = sorted(f[:-4] for f in os.listdir(os.path.join(SPECTRUM, "csvs")) if f.endswith(".csv"))
for name in names:
    if name == INVALID and "`%s` is not valid" % name in notes:
        print("ok %d - %s # SKIP NOTES.md says the case is invalid" % (n + 1, name))
        n += 1
        continue
    src = open(os.path.join(SPECTRUM, "csvs", name + ".csv"), "rb").read()
    objs = json.load(open(os.path.join(SPECTRUM, "json", name + ".json"), encoding="utf-8"))
    rows = parse(src)
    header = rows[0]
    # The case's own pair must agree, or the comparison below would mean nothing.
    if [dict(zip(header, r)) for r in rows[1:]] != objs:
        tap(False, "%s: the .csv and .json of the case disagree" % name)
        continue
    eol = "\r\n" if b"\r\n" in src.split(b"\n", 1)[0] + b"\n" else "\n"
    ndjson = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs).encode("utf-8")
    args = [TO_CSV, "--no-sanitize", "-c", ",".join(escape(h) for h in header)]
    if eol == "\n":
        args.append("--lf")
    p = subprocess.run(args, input=ndjson, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or p.stderr:
        tap(False, "%s: to-csv exited %d" % (name, p.returncode), p.stderr.decode(errors="replace"))
        continue
    want = src if src.endswith(eol.encode()) else src + eol.encode()
    if as_to_csv_would(rows, eol) == want:
        tap(p.stdout == want, "%s: bytes identical (%s)" % (name, "CRLF" if eol == "\r\n" else "LF"),
            "got  %r\nwant %r" % (p.stdout, want))
    else:
        tap(parse(p.stdout) == rows,
            "%s: values identical (the .csv quotes fields that need no quoting, so bytes differ)" % name,
            "got  %r\nwant %r" % (parse(p.stdout), rows))
print("1..%d" % n)
EOF
