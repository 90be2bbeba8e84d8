# tests/cli/report_html_test.sh - the HTML report as a browser draws it:
# headless Chromium takes a screenshot of the page and the bars of each
# chart are found by their fill colour (report_out.c S_FILL_*), measured,
# and compared with the numbers of the fixed data set (report_fixture.sh).
# Skips (77) without chromium or python3; CI installs both (scripts/deps.sh).
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"
# shellcheck source=tests/cli/report_fixture.sh
. "$(dirname "$CS_TEST_LIB")/report_fixture.sh"

have_python || { echo "SKIP: python3 is not installed" >&2; exit 77; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed" >&2; exit 77; }

cd "$TMP" || exit 1
report_make c

# shot HTML PNG: renders file HTML into the screenshot PNG (1200 CSS pixels
# wide, one device pixel each, tall enough for the whole page).
shot() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --hide-scrollbars --force-device-scale-factor=1 \
        --user-data-dir="$TMP/chromium" --window-size=1200,3000 \
        --screenshot="$2" "file://$TMP/$1" >"$TMP/chromium.log" 2>&1 ||
        fail "chromium failed: $(tail -5 "$TMP/chromium.log")"
    [ -s "$2" ] || fail "chromium wrote no screenshot: $(tail -5 "$TMP/chromium.log")"
}

# bars PNG: prints one line per chart colour, "NAME W1 W2 ...": the widths
# in pixels of its bars, top to bottom.  A bar is a run of at least
# MIN_ROWS rows each holding at least MIN_PIXELS pixels of exactly that
# colour (so anti-aliased text of a similar shade is not a bar).  The PNG
# is decoded here with zlib alone (RFC 2083: 8-bit RGB or RGBA, no
# interlace, filters 0-4).
bars() {
    python3 - "$1" <<'EOF'
import struct, sys, zlib

COLOURS = {'office': '1d6fa5', 'sex': 'b0306a', 'done': '2e8b57',
           'track': 'd5dde8'}
MIN_ROWS, MIN_PIXELS = 10, 20

data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, []
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat.append(body)
assert depth == 8 and ctype in (2, 6) and interlace == 0, 'unusual PNG'
bpp = 3 if ctype == 2 else 4
stride = w * bpp
raw = zlib.decompress(b''.join(idat))
prev, rows = bytearray(stride), []
for y in range(h):
    start = y * (stride + 1)
    f, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray(map(lambda a, b: (a + b) & 255, line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 255
    elif f != 0:
        sys.exit('bad PNG filter %d' % f)
    rows.append(bytes(line))
    prev = line

for name, hexrgb in COLOURS.items():
    rgb = bytes.fromhex(hexrgb)
    widths, run, width = [], 0, 0
    for row in rows + [b'']:
        n = sum(1 for x in range(0, len(row), bpp) if row[x:x + 3] == rgb)
        if n >= MIN_PIXELS:
            run, width = run + 1, max(width, n)
            continue
        if run >= MIN_ROWS:
            widths.append(width)
        run, width = 0, 0
    print(name, *widths)
EOF
}

# expect_bars LINE NAME V1 V2 ...: the bars of chart NAME in the output of
# bars must be as many as the values and as long in proportion to them
# (within 2 pixels), the longest one being that of the largest value.
expect_bars() {
    local line name
    line=$(echo "$1" | grep "^$2\\b") || fail "no line for $2"
    name=$2
    shift 2
    python3 - "$line" "$@" <<'EOF' || fail "chart $name: bars $line, expected proportions $*"
import sys
widths = [int(x) for x in sys.argv[1].split()[1:]]
values = [int(x) for x in sys.argv[2:]]
assert len(widths) == len(values), (widths, values)
top = max(widths)
for w, v in zip(widths, values):
    assert abs(w - v * top / max(values)) <= 2, (w, v)
EOF
}

# The whole replica: people trained ISF 2, KOC 3 (CEN 0: no bar); female 2,
# male 2, unknown 1; plans done 1 of 3, 1 of 1, 0 of 1 (no bar), 1 of 3.
expect_ok cs -C c report --period "$REPORT_PERIOD" --format html -o all.html
shot all.html all.png
found=$(bars all.png) || fail "cannot read the screenshot"
expect_bars "$found" office 2 3
expect_bars "$found" sex 2 2 1
expect_bars "$found" done 1 3 1
# The track shows what is left to do: 2 of 3, none (hidden by the done
# bar), 1 of 1, 2 of 3.
expect_bars "$found" track 2 3 2

# One office: its bar alone, and its people by sex.
expect_ok cs -C c report --period "$REPORT_PERIOD" --office ISF --format html \
    -o isf.html
shot isf.html isf.png
found=$(bars isf.png) || fail "cannot read the screenshot"
expect_bars "$found" office 2
expect_bars "$found" sex 1 1
expect_bars "$found" done 1 3
expect_bars "$found" track 2 3

# Print layout: the charts survive print media (colours kept).
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$TMP/chromium" --no-pdf-header-footer \
    --print-to-pdf="$TMP/all.pdf" "file://$TMP/all.html" \
    >"$TMP/chromium.log" 2>&1 || fail "print to PDF: $(tail -5 "$TMP/chromium.log")"
head -c 5 all.pdf | grep -q '^%PDF-' || fail "print to PDF: not a PDF"
exit 0
