#!/usr/bin/env bash
# Builds the fuzz targets in fuzz/ with libFuzzer on the stable toolchain and
# runs each for a bounded time from its committed seed corpus; fails on a crash.
#
#   scripts/fuzz.sh                  every target, FUZZ_SECONDS (default 8) each
#   scripts/fuzz.sh jwt srp          only these
#   FUZZ_SECONDS=300 scripts/fuzz.sh a longer local run
#   scripts/fuzz.sh --build          build only
#
# No cargo-fuzz and no nightly: the targets are plain binaries linking
# libfuzzer-sys, built by cargo with the SanitizerCoverage flags that
# `cargo fuzz build --sanitizer none` passes (none of them needs -Z). No
# AddressSanitizer (that is nightly-only): the code is safe Rust, and a
# panic, an overflow (overflow checks are on) or a timeout is the finding.
# Builds into target/fuzz (its own cache: the flags differ from the main
# build's). New inputs found go to target/fuzz/corpus/<target>, never into
# the committed seeds; a crash is written to target/fuzz/artifacts/<target>/.
# See docs/fuzzing.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

seconds="${FUZZ_SECONDS:-8}"
build_only=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --build) build_only=1 ;;
    *) targets+=("$arg") ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz/fuzz_targets && ls ./*.rs | sed 's|^\./||; s|\.rs$||')
fi

# libfuzzer-sys compiles libFuzzer (C++).
if ! command -v c++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq g++ >/dev/null
  else
    echo "fuzz: a C++ compiler (g++) is needed to build libFuzzer" >&2
    exit 1
  fi
fi

host="$(rustc -vV | sed -n 's/^host: //p')"
out="$repo/target/fuzz"
# Instrument for libFuzzer as cargo-fuzz does. An explicit --target keeps
# these flags off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
echo "== fuzz: building ${targets[*]}"
build_start=$(date +%s)
cargo build --manifest-path fuzz/Cargo.toml --release --locked --target "$host" \
  --target-dir "$out" $(printf -- '--bin %s ' "${targets[@]}")
echo "fuzz: built in $(( $(date +%s) - build_start )) s"
[ "$build_only" = 1 ] && exit 0

# The targets' service keeps its SQLite file under TMPDIR: keep it here.
export TMPDIR="$out/tmp"
status=0
passed=0
failed=0
for t in "${targets[@]}"; do
  rm -rf "$TMPDIR" && mkdir -p "$TMPDIR" "$out/corpus/$t" "$out/artifacts/$t"
  seeds="fuzz/corpus/$t"
  echo "== fuzz: $t for ${seconds} s"
  # -timeout: one input taking over 10 s is a finding too.
  if "$out/$host/release/$t" "$out/corpus/$t" "$seeds" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=16384 \
      -artifact_prefix="$out/artifacts/$t/" -print_final_stats=1 \
      >"$out/$t.log" 2>&1; then
    passed=$((passed + 1))
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)|^#[0-9]+.*DONE' "$out/$t.log" | tr '\n' ' '
    echo
  else
    failed=$((failed + 1))
    status=1
    echo "fuzz: $t FAILED; its log:"
    tail -n 60 "$out/$t.log"
    ls -1 "$out/artifacts/$t/"
  fi
done
rm -rf "$TMPDIR"
echo "fuzz: $passed passed, $failed failed"
exit "$status"
