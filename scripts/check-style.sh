#!/usr/bin/env bash
# scripts/check-style.sh - the format and banned-function gate (STYLE.md 30, 43).
#
#   scripts/check-style.sh            check every *.c/*.h under common client
#                                     server proto tests (tracked, or untracked
#                                     and not ignored)
#   scripts/check-style.sh FILE...    check only the given files
#
# (a) clang-format --dry-run -Werror with the repo's .clang-format: any diff
#     fails.  Fix with: clang-format -i FILE
# (b) banned functions (curl CODE_STYLE.md): strcpy strcat sprintf vsprintf
#     gets strtok atoi atol sscanf.  snprintf and vsnprintf are allowed.
# Exits 1 on any problem.  Knob: CLANG_FORMAT (default clang-format).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

dirs=(common client server proto tests)
files=()
if [ "$#" -gt 0 ]; then
    files=("$@")
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    while IFS= read -r -d '' f; do
        # ls-files -c also lists tracked files deleted from the work tree.
        [ -f "$f" ] && files+=("$f")
    done < <(git ls-files -z -co --exclude-standard -- "${dirs[@]}" |
        grep -zE '\.[ch]$' | sort -zu)
else
    existing=()
    for d in "${dirs[@]}"; do
        [ -d "$d" ] && existing+=("$d")
    done
    if [ "${#existing[@]}" -gt 0 ]; then
        while IFS= read -r -d '' f; do
            files+=("$f")
        done < <(find "${existing[@]}" -type f \( -name '*.c' -o -name '*.h' \) \
            -print0 | sort -z)
    fi
fi

if [ "${#files[@]}" -eq 0 ]; then
    echo "check-style: no C sources found, nothing to check"
    exit 0
fi

status=0

# (a) formatting
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
    echo "check-style: $clang_format not found (run scripts/deps.sh)" >&2
    exit 1
fi
if ! fmt_out=$("$clang_format" --dry-run -Werror "${files[@]}" 2>&1); then
    # Show the first findings only; the file list below is complete.
    printf '%s\n' "$fmt_out" | head -n 60
    nlines=$(printf '%s\n' "$fmt_out" | wc -l)
    if [ "$nlines" -gt 60 ]; then
        echo "... $((nlines - 60)) more lines (clang-format --dry-run FILE" \
            "shows them all)"
    fi
    bad=$(printf '%s\n' "$fmt_out" |
        sed -nE 's/^([^:]+):[0-9]+:[0-9]+: error: code should be clang-formatted.*/\1/p' |
        sort -u)
    echo "check-style: FAIL: these files are not clang-formatted" \
        "(fix with: clang-format -i FILE):"
    if [ -n "$bad" ]; then
        printf '  %s\n' $bad
    fi
    status=1
fi

# (b) banned functions.  \b before the name keeps snprintf/vsnprintf (and
# cs_atoi-like names) from matching.
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf)[[:space:]]*\('
if hits=$(grep -nHE "$banned" -- "${files[@]}"); then
    printf '%s\n' "$hits"
    echo "check-style: FAIL: banned functions used (STYLE.md 30); use" \
        "snprintf, the cs_reader/cs_writer functions or strtol/strtoull instead"
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "check-style: ${#files[@]} files ok (format, banned functions)"
fi
exit "$status"
