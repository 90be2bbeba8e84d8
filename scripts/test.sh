#!/usr/bin/env bash
# scripts/test.sh - build cigsync and run the whole test suite: the README's
# test command, and what .ci/run runs (STYLE.md 45).
#
# Installs missing Debian packages first (scripts/deps.sh), then runs these
# stages in order, stopping at the first that fails:
#   style    scripts/check-style.sh (clang-format, banned functions)
#   release  gcc RelWithDebInfo build in build/release + ctest
#   asan     gcc -DCS_SANITIZER=address,undefined build in build/asan + ctest
#   fuzz     clang -DCS_FUZZ=ON build in build/fuzz; each tests/<n>_fuzz
#            binary runs FUZZ_SECONDS on a scratch copy of its seed corpus
#   static   cppcheck and clang-tidy (uses build/release/compile_commands.json)
#
# Knobs (environment):
#   CS_TEST_STAGES  stages to run, in the order above   (default: all five)
#   FUZZ_SECONDS    seconds per fuzz target (default: 30; 0: build only)
#   CS_JOBS         parallel build/test jobs             (default: nproc)
#   CS_CTEST_TIMEOUT  per-test timeout in s, for tests without their own (600)
#
# The last line printed is always `total: P passed, F failed`, summed over the
# ctest runs; the exit status is non-zero if any stage failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ALL_STAGES="style release asan fuzz static"
STAGES=${CS_TEST_STAGES:-$ALL_STAGES}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=${CS_JOBS:-$(nproc 2>/dev/null || echo 2)}
CTEST_TIMEOUT=${CS_CTEST_TIMEOUT:-600}

passed=0      # ctest tests passed, summed over runs
failed=0      # ctest tests failed, summed over runs
current=""    # stage now running, for the exit trap
stage_t0=0    # when it started
summary=()    # "stage ok 12s" per finished stage
bg_pids=()    # fuzzers running in the background

s_finish()
{
    local rc=$?
    trap - EXIT
    local pid
    for pid in "${bg_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [ -n "$current" ]; then
        local dt=$((SECONDS - stage_t0))
        echo "== $current: FAILED (${dt}s, exit $rc) =="
        summary+=("$current FAILED ${dt}s")
        [ "$rc" -eq 0 ] && rc=1
    fi
    [ "$failed" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
    if [ "${#summary[@]}" -gt 0 ]; then
        local IFS=,
        echo "stages: ${summary[*]}" | sed 's/,/, /g'
    fi
    echo "total: $passed passed, $failed failed"
    exit "$rc"
}
trap s_finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for s in $STAGES; do
    case " $ALL_STAGES " in
    *" $s "*) ;;
    *)
        echo "test.sh: unknown stage '$s' in CS_TEST_STAGES" \
            "(known: $ALL_STAGES)" >&2
        exit 2
        ;;
    esac
done
case "$FUZZ_SECONDS" in
'' | *[!0-9]*)
    echo "test.sh: FUZZ_SECONDS must be a whole number of seconds" >&2
    exit 2
    ;;
esac

bash scripts/deps.sh

# s_configure DIR CC [cmake args...]: configure a build tree with compiler CC
# (resolved to a full path so re-running never looks like a compiler change).
s_configure()
{
    local dir=$1 cc
    cc=$(command -v "$2") || {
        echo "test.sh: compiler $2 not found" >&2
        return 1
    }
    shift 2
    CC=$cc cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@"
}

# s_ctest DIR: run the tests of a build tree and add its counts to the totals.
s_ctest()
{
    local dir=$1 log=$1/ctest.log rc line fail total
    set +e
    ctest --test-dir "$dir" --output-on-failure --no-tests=error \
        -j "$JOBS" --timeout "$CTEST_TIMEOUT" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    line=$(grep -oE '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' \
        "$log" | tail -n 1 || true)
    if [ -n "$line" ]; then
        fail=$(echo "$line" | sed -E 's/.*, ([0-9]+) tests? failed.*/\1/')
        total=${line##* }
        passed=$((passed + total - fail))
        failed=$((failed + fail))
    elif [ "$rc" -ne 0 ]; then
        failed=$((failed + 1)) # ctest itself broke: count it as a failure
    fi
    return "$rc"
}

stage_style()
{
    bash scripts/check-style.sh
}

stage_release()
{
    s_configure build/release gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCS_SANITIZER=none -DCS_FUZZ=OFF
    cmake --build build/release -j "$JOBS"
    s_ctest build/release
}

stage_asan()
{
    s_configure build/asan gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCS_SANITIZER=address,undefined -DCS_FUZZ=OFF
    cmake --build build/asan -j "$JOBS"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        s_ctest build/asan
}

# s_fuzz_one BIN: fuzz one target for FUZZ_SECONDS on a scratch corpus under
# build/fuzz/run/<name>/; its log goes to build/fuzz/run/<name>/fuzz.log.
s_fuzz_one()
{
    local bin=$1 name run seed
    name=$(basename "$bin")
    name=${name%_fuzz}
    run=build/fuzz/run/$name
    seed=tests/fuzz/corpus/$name
    rm -rf "$run"
    mkdir -p "$run/corpus" "$run/artifacts"
    if [ -d "$seed" ]; then
        cp -R "$seed/." "$run/corpus/"
    fi
    # timeout(1) only guards against a fuzzer that ignores max_total_time;
    # exec makes it the background job, so killing the job (exit trap)
    # reaches the fuzzer too.
    exec timeout -k 10 $((FUZZ_SECONDS + 120)) "$bin" \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$ROOT/$run/artifacts/" \
        "$run/corpus" >"$run/fuzz.log" 2>&1
}

# s_fuzz_report BIN RC: print the outcome of one fuzz run.
s_fuzz_report()
{
    local bin=$1 rc=$2 name run seed f
    name=$(basename "$bin")
    name=${name%_fuzz}
    run=build/fuzz/run/$name
    seed=tests/fuzz/corpus/$name
    if [ "$rc" -eq 0 ]; then
        echo "fuzz $name: ok ($(grep -E '^#[0-9]+[[:space:]]+DONE' \
            "$run/fuzz.log" | tail -n 1 || true))"
        return 0
    fi
    echo "fuzz $name: FAILED (exit $rc); last lines of $run/fuzz.log:"
    tail -n 80 "$run/fuzz.log" | sed 's/^/  | /'
    for f in "$run"/artifacts/*; do
        [ -f "$f" ] || continue
        echo "fuzz $name: crash file: $f"
        echo "fuzz $name: reproduce: $bin $f"
        echo "fuzz $name: once fixed, add it to $seed/ so ctest replays it"
    done
    return 1
}

stage_fuzz()
{
    local srcs=() targets=() bins=() src name
    for src in tests/fuzz/*_fuzz.c; do
        [ -f "$src" ] && srcs+=("$src")
    done
    if [ "${#srcs[@]}" -eq 0 ]; then
        echo "fuzz: no tests/fuzz/*_fuzz.c targets, nothing to fuzz"
        return 0
    fi
    for src in "${srcs[@]}"; do
        name=$(basename "$src" .c)
        targets+=("$name")
    done
    s_configure build/fuzz clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCS_SANITIZER=none -DCS_FUZZ=ON
    cmake --build build/fuzz -j "$JOBS" --target "${targets[@]}"
    for name in "${targets[@]}"; do
        if [ -x "build/fuzz/tests/$name" ]; then
            bins+=("build/fuzz/tests/$name")
        else
            echo "fuzz: build/fuzz/tests/$name was not built" >&2
            return 1
        fi
    done
    if [ "$FUZZ_SECONDS" -eq 0 ]; then
        echo "fuzz: FUZZ_SECONDS=0: ${#bins[@]} targets built, not run"
        return 0
    fi
    echo "fuzz: ${#bins[@]} targets, ${FUZZ_SECONDS}s each, $JOBS at a time"
    # Run JOBS fuzzers at a time; report each batch once it is done.
    local i j bad=0 rc batch
    for ((i = 0; i < ${#bins[@]}; i += JOBS)); do
        batch=("${bins[@]:i:JOBS}")
        bg_pids=()
        for bin in "${batch[@]}"; do
            s_fuzz_one "$bin" &
            bg_pids+=("$!")
        done
        for ((j = 0; j < ${#batch[@]}; j++)); do
            rc=0
            wait "${bg_pids[j]}" || rc=$?
            s_fuzz_report "${batch[j]}" "$rc" || bad=1
        done
        bg_pids=()
    done
    return "$bad"
}

stage_static()
{
    local dirs=() d
    for d in common client server proto audit; do
        if [ -d "$d" ] && [ -n "$(find "$d" -type f \( -name '*.c' -o \
            -name '*.h' \) -print -quit)" ]; then
            dirs+=("$d")
        fi
    done
    if [ "${#dirs[@]}" -eq 0 ]; then
        echo "static: no sources, nothing to check"
        return 0
    fi

    echo "-- cppcheck ${dirs[*]}"
    cppcheck --enable=warning,portability --error-exitcode=1 --inline-suppr \
        -q --std=c11 -j "$JOBS" -I common "${dirs[@]}"

    # (Re)configure so the compile database lists files added since.
    s_configure build/release gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCS_SANITIZER=none -DCS_FUZZ=OFF >/dev/null
    # Project .c files from the compile database (generated ones in build/
    # and the fuzz targets excluded), so every file has its real flags.
    local files=()
    while IFS= read -r f; do
        case "$f" in
        "$ROOT"/tests/fuzz/*) continue ;;
        "$ROOT"/common/* | "$ROOT"/client/* | "$ROOT"/server/* | "$ROOT"/audit/* | \
            "$ROOT"/proto/* | "$ROOT"/tests/*) ;;
        *) continue ;;
        esac
        [ -f "$f" ] && files+=("$f")
    done < <(sed -nE 's/^[[:space:]]*"file":[[:space:]]*"(.*)",?[[:space:]]*$/\1/p' \
        build/release/compile_commands.json | sort -u)
    if [ "${#files[@]}" -eq 0 ]; then
        echo "-- clang-tidy: no project files in the compile database"
        return 0
    fi
    echo "-- clang-tidy ${#files[@]} files"
    local root_re
    root_re=$(printf '%s' "$ROOT" | sed 's/[][\.*^$+?(){}|/]/\\&/g')
    export CS_TIDY_HEADERS="^$root_re/(common|client|server|proto|tests)/"
    # Each file's findings are printed in one piece; xargs fails if any did.
    printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$JOBS" bash -c '
        out=$(clang-tidy -p build/release --quiet --warnings-as-errors="*" \
            --header-filter="$CS_TIDY_HEADERS" \
            --extra-arg=-Wno-unknown-warning-option "$1" 2>&1) && exit 0
        printf "%s\n" "$out" | grep -vE "^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$"
        exit 1' clang-tidy-one || {
        echo "static: clang-tidy found problems (see above)"
        return 1
    }
}

for s in $STAGES; do
    current=$s
    stage_t0=$SECONDS
    echo "== $s =="
    "stage_$s"
    echo "== $s: ok ($((SECONDS - stage_t0))s) =="
    summary+=("$s ok $((SECONDS - stage_t0))s")
    current=""
done
