#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages cigsync needs to build,
# test, fuzz and lint, if any is missing.
#
#   scripts/deps.sh          install what is missing (apt-get; sudo if not root)
#   scripts/deps.sh --check  only report what is missing; exit 1 if anything is
#
# Idempotent and silent when everything is already installed.  Called by
# scripts/test.sh and scripts/demo.sh, so a fresh machine needs no manual step.
set -euo pipefail

# One package a word.  The unusual ones:
#   clang, llvm          clang builds the libFuzzer targets (CS_FUZZ=ON);
#                        llvm brings llvm-symbolizer for readable sanitizer
#                        stack traces.
#   libclang-rt-14-dev   the compiler-rt runtimes of clang-14 (libFuzzer,
#                        ASan, UBSan).  Only a Recommends of clang-14, so
#                        --no-install-recommends would leave it out and
#                        -fsanitize=fuzzer would fail to link.
#   libzstd-dev          zstd compression of batches.
#   sqlite3              the sqlite3 shell, used by tests to inspect stores.
#   clang-format, clang-tidy, cppcheck   style and static checks (STYLE.md 43-44).
#   git                  scripts/check-style.sh lists files with git ls-files.
#   ca-certificates      so git and apt work over https where configured.
#   procps               ps/pkill/pgrep for the end-to-end tests.
#   python3              CLI tests: JSON checks, the pseudo-terminal driver,
#                        the PNG reader of report_html_test.sh.
#   chromium             report_html_test.sh renders the HTML report headless
#                        and measures the charts in its screenshot.
#   iproute2, nftables   the link lab (tests/cli/lablib.sh): network
#                        namespaces, veth, tc tbf, and packet loss.
CS_PACKAGES="build-essential cmake pkg-config clang llvm libclang-rt-14-dev
libsodium-dev libzmq3-dev libmsgpack-dev libsqlite3-dev libzstd-dev sqlite3
clang-format clang-tidy cppcheck git ca-certificates procps python3
chromium iproute2 nftables"

check_only=0
case "${1:-}" in
"") ;;
--check) check_only=1 ;;
-h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "deps.sh: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: dpkg-query not found: this script expects Debian 12" \
        "(bookworm); install these packages by hand: $CS_PACKAGES" >&2
    exit 1
fi

missing=()
for pkg in $CS_PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    [ "$check_only" -eq 1 ] && echo "deps.sh: all packages installed"
    exit 0
fi

if [ "$check_only" -eq 1 ]; then
    echo "deps.sh: missing packages: ${missing[*]}"
    exit 1
fi

# Root runs apt-get directly; anyone else goes through sudo (non-interactive
# when there is no terminal to type a password into, e.g. in CI).
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "deps.sh: missing packages: ${missing[*]}" >&2
        echo "deps.sh: not root and sudo is not installed; as root run:" >&2
        echo "  apt-get update && apt-get install -y" \
            "--no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    if [ -t 0 ]; then
        as_root=(sudo)
    else
        as_root=(sudo -n)
    fi
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -o DPkg::Lock::Timeout=300)
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" update; then
    echo "deps.sh: 'apt-get update' failed (no root rights, no sudo" \
        "password, or no network to the Debian archive)" >&2
    exit 1
fi
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" install -y --no-install-recommends \
    "${missing[@]}"; then
    echo "deps.sh: 'apt-get install' failed for: ${missing[*]}" >&2
    exit 1
fi
echo "deps.sh: done"
