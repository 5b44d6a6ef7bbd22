#!/usr/bin/env bash
# fuzz.sh: runs every fuzz target of the project for a while each.
#
# Go 1.26's fuzzing coordinator can report a bare "context deadline
# exceeded" failure at the very end of a duration -fuzztime, with no
# failing input: a race in its shutdown (golang/go#75804, fixed in Go 1.27),
# seen here in CI on FuzzParseReference. A real finding always writes its
# input under testdata/fuzz/<Target>/ and prints "Failing input written to".
# So when a run fails with nothing but that message and no input was written,
# this script runs the target once more, for as many executions as the
# first run made (-fuzztime <N>x: a count has no deadline, hence no race);
# a second failure of any kind fails. Any other failure fails at once.
# See docs/RATIONALE.md "Why does the fuzz step retry a target?".
#
# Usage: bash scripts/fuzz.sh [FUZZTIME]   (default 10s; any -fuzztime value)
#        bash scripts/fuzz.sh --self-test (checks how failures are told apart)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fuzztime=${1:-10s}

# Every fuzz target of the main module, found in the source so that a new
# one is never left out: "<Target> ./<package dir>" per line.
mapfile -t targets < <(git grep -n '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' -- '*_test.go' ':!bench' |
    sed -E 's|^(.*)/[^/]*_test\.go:[0-9]+:func (Fuzz[A-Za-z0-9_]*)\(.*$|\2 ./\1|' | sort -k2,2 -k1,1)
if [ "${#targets[@]}" -lt 1 ]; then
    echo "fuzz.sh: found no fuzz target" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# corpus_state prints the files of a target's corpus directory, so that a
# run that wrote a failing input can be told from one that did not.
corpus_state() {
    local dir="$2/testdata/fuzz/$1"
    if [ -d "$dir" ]; then ls -1 "$dir"; fi
}

# shutdown_race tells whether the run in $log failed only with the
# coordinator's deadline message, and wrote no input.
shutdown_race() {
    local before=$1 after=$2
    [ "$before" = "$after" ] || return 1
    grep -q 'Failing input written to' "$log" && return 1
    # The failure block must be exactly "--- FAIL: <Target> (...)" followed
    # by "    context deadline exceeded", and nothing else may have failed.
    [ "$(grep -c -- '--- FAIL' "$log")" = 1 ] || return 1
    grep -A1 -- '--- FAIL: Fuzz' "$log" | tail -n1 | grep -qx '[[:space:]]*context deadline exceeded'
}

run() {
    local target=$1 pkg=$2 attempt budget=$fuzztime
    for attempt in 1 2; do
        local before after
        before=$(corpus_state "$target" "$pkg")
        echo "--- $target ($pkg), -fuzztime $budget, attempt $attempt"
        if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg" 2>&1 | tee "$log"; then
            return 0
        fi
        after=$(corpus_state "$target" "$pkg")
        if [ "$attempt" = 1 ] && shutdown_race "$before" "$after"; then
            budget="$(executions)x"
            echo "fuzz.sh: $target failed only with Go's end-of-fuzztime deadline race (golang/go#75804) and wrote no input; running it again for $budget executions, which has no deadline"
            continue
        fi
        echo "fuzz.sh: $target ($pkg) failed" >&2
        return 1
    done
}

# executions prints how many inputs the run in $log tried (its last
# progress line), at least 1000.
executions() {
    local n
    n=$(sed -nE 's/^fuzz: elapsed: .*, execs: ([0-9]+) .*/\1/p' "$log" | tail -n1)
    echo $((${n:-0} > 1000 ? ${n:-0} : 1000))
}

# self_test feeds shutdown_race the three kinds of output it must tell apart.
self_test() {
    printf '%s\n' 'fuzz: elapsed: 5s, execs: 33429 (10123/sec)' '--- FAIL: FuzzParseReference (5.12s)' '    context deadline exceeded' FAIL >"$log"
    shutdown_race a a || { echo "self-test: the deadline race was not recognised" >&2; return 1; }
    [ "$(executions)" = 33429 ] || { echo "self-test: executions read $(executions), want 33429" >&2; return 1; }
    shutdown_race a 'a
b' && { echo "self-test: a run that wrote an input was taken for the race" >&2; return 1; }
    printf '%s\n' FAIL >"$log"
    [ "$(executions)" = 1000 ] || { echo "self-test: executions without a progress line read $(executions), want 1000" >&2; return 1; }
    printf '%s\n' '--- FAIL: FuzzCheckURL (0.20s)' '    --- FAIL: FuzzCheckURL (0.00s)' '        x_test.go:9: allowed' '    Failing input written to testdata/fuzz/FuzzCheckURL/07c7' FAIL >"$log"
    shutdown_race a a && { echo "self-test: a finding was taken for the race" >&2; return 1; }
    printf '%s\n' '--- FAIL: FuzzOpen (3.00s)' '    context deadline exceeded' '--- FAIL: FuzzOpen (0.00s)' '    open: panic' FAIL >"$log"
    shutdown_race a a && { echo "self-test: a second failure was taken for the race" >&2; return 1; }
    echo "fuzz.sh: self-test ok"
}

if [ "$fuzztime" = --self-test ]; then
    self_test
    exit
fi

for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    run $t
done
echo "fuzz.sh: all ${#targets[@]} targets ran for $fuzztime each"
