#!/usr/bin/env bash
# Builds the task YAML fuzzer with clang (its own build dir, build-fuzz) and
# runs it on the seed corpus for SECONDS (default 60). Exits non-zero when
# the fuzzer finds a crash, a leak, a timeout or undefined behavior; the
# reproducer is left in build-fuzz/fuzz-artifacts/.
#
#   tests/fuzz/run_fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SKY_FUZZ_BUILD_DIR:-$root/build-fuzz}"
cxx="${SKY_FUZZ_CXX:-clang++-14}"

if ! command -v "$cxx" >/dev/null; then
  echo "run_fuzz.sh: $cxx not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

# Every library is instrumented for coverage and sanitizers; only the
# harness links libFuzzer's main.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$cxx" -DSKY_FUZZ=ON -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$build" --target task_yaml_fuzz

# libFuzzer adds what it finds to the first corpus directory: work on a copy
# so that the seed corpus in the repository stays small and reviewed.
work="$build/fuzz-corpus/task_yaml"
artifacts="$build/fuzz-artifacts/"
mkdir -p "$work" "$artifacts"
cp -n "$root/tests/fuzz/corpus/task_yaml/"* "$work/" 2>/dev/null || true

"$build/tests/fuzz/task_yaml_fuzz" "$work" \
  -dict="$root/tests/fuzz/task_yaml.dict" \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts" -print_final_stats=1
