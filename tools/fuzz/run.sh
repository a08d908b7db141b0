#!/usr/bin/env bash
# Fuzz medrepl's parsers with libFuzzer (CONTRIBUTING.md, "Fuzzing").
#
#   bash tools/fuzz/run.sh TARGET SECONDS      fuzz one target (medrepl-fuzz list names them)
#   bash tools/fuzz/run.sh all SECONDS         each target in turn, SECONDS each
#   bash tools/fuzz/run.sh build               only build
#
# The build is the whole package with address sanitizer and libFuzzer's coverage, in .build/fuzz
# (FUZZ_CONFIG=debug for a quicker build of a slower program; CI uses it). Each target keeps its corpus in
# .build/fuzz-corpus/TARGET (seeded from the repository's files each run) and writes a crashing input to
# .build/fuzz-findings/TARGET/; a finding then belongs in tools/fuzz/regressions/TARGET/ with the fix, where
# the test suite replays it. Every run appends a line to .build/fuzz-log.tsv (date, target, seconds,
# executions, coverage, features, corpus, result), so the hours a target has had can be added up.
# FUZZ_SEED=N fixes libFuzzer's seed (CI does, so a short run is nearly the same each time).
# FUZZ_NO_BUILD=1 fuzzes the program already built (long runs beside work that changes the sources).
# Exit status: 0 when no target crashed, 1 when one did (its report is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
config=${FUZZ_CONFIG:-release}
target=${1:?usage: tools/fuzz/run.sh TARGET|all|build [SECONDS]}
seconds=${2:-60}

swiftc_dir=$(dirname "$(readlink -f "$(command -v swiftc)")")
libfuzzer=$(ls "$swiftc_dir"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1)
[ -n "$libfuzzer" ] || { echo "run.sh: the Swift toolchain has no libclang_rt.fuzzer_no_main (looked beside $swiftc_dir)" >&2; exit 2; }

fuzz=.build/fuzz/$config/medrepl-fuzz
if [ -z "${FUZZ_NO_BUILD:-}" ] || [ ! -x "$fuzz" ]; then
echo "building medrepl-fuzz ($config, address sanitizer, libFuzzer) ..."
# -sanitize-coverage gives libFuzzer its feedback; libFuzzer comes without its main, which medrepl-fuzz has.
swift build -c "$config" --product medrepl-fuzz --scratch-path .build/fuzz --sanitize address \
    -Xswiftc -DMEDREPL_FUZZ -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
    -Xlinker "$libfuzzer" -Xlinker -lstdc++ 2>&1 | grep -v "Cannot export local symbol" | grep -E "error|warning: |Compiling|Build" | tail -3
fi
[ "$target" = build ] && exit 0

targets=("$target")
[ "$target" = all ] && mapfile -t targets < <("$fuzz" list | awk '{print $1}')
status=0
for t in "${targets[@]}"; do
    corpus=.build/fuzz-corpus/$t findings=.build/fuzz-findings/$t
    mkdir -p "$corpus" "$findings"
    "$fuzz" seeds "$t" "$corpus"
    [ -d "tools/fuzz/regressions/$t" ] && cp tools/fuzz/regressions/"$t"/* "$corpus"/ 2>/dev/null || true
    dict=$(mktemp); "$fuzz" dict "$t" > "$dict"
    log=$(mktemp)
    echo "fuzzing $t for $seconds s ..."
    set +e
    # (SWIFT_BACKTRACE off: Swift's own crash handler would read memory under the sanitizer and drown the report)
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$fuzz" "$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
        ${FUZZ_SEED:+-seed=$FUZZ_SEED} -dict="$dict" -artifact_prefix="$findings/" -print_final_stats=1 -close_fd_mask=1 "$corpus" > "$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$" || echo 0)
    last=$(grep -E "^#[0-9]+" "$log" | tail -1)
    cov=$(grep -o "cov: [0-9]*" <<<"$last" | grep -o "[0-9]*" || echo 0)
    ft=$(grep -o "ft: [0-9]*" <<<"$last" | grep -o "[0-9]*" || echo 0)
    files=$(ls "$corpus" | wc -l)
    result=ok; [ $rc -eq 0 ] || { result=crash; status=1; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "$execs" "$cov" "$ft" "$files" "$result" >> .build/fuzz-log.tsv
    printf '%-17s %6s s  %9s runs  cov %5s  ft %6s  corpus %5s  %s\n' "$t" "$seconds" "$execs" "$cov" "$ft" "$files" "$result"
    if [ $rc -ne 0 ]; then
        grep -v -E "^#[0-9]|^  0x|^INFO|^MS:" "$log" | grep -B2 -A30 -m1 -E "ERROR:|Fatal error|terminate called|deadly signal|out-of-memory|timeout" | head -50
        echo "the input is in $findings/; replay it with: .build/release/medrepl-fuzz $t $findings/<file>"
    fi
    rm -f "$dict" "$log"
done
exit $status
