#!/usr/bin/env bash
# `make lambdas`: every function built as AWS runs it — release, arm64
# (aarch64 through zig, which the cargo-lambda package brings), one zip per
# function — and a table of sizes against the 10 MB goal.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
need_rust
need_python_tools

FUNCTIONS=()
for dir in functions/*/; do
    FUNCTIONS+=("$(basename "$dir")")
done
args=()
for f in "${FUNCTIONS[@]}"; do args+=(-p "$f"); done
say "building ${#FUNCTIONS[@]} functions for arm64 (release)"
cargo lambda build --release --arm64 --output-format zip --locked "${args[@]}"

OUT="${CARGO_TARGET_DIR:-$ROOT/target}/lambda"
printf '\n| function | binary | zip | goal |\n|---|---|---|---|\n'
status=0
for f in "${FUNCTIONS[@]}"; do
    zip="$OUT/$f/bootstrap.zip"
    [[ -f "$zip" ]] || die "no zip for $f at $zip"
    bin_bytes=$(unzip -Zt "$zip" | awk '{print $3}')
    zip_bytes=$(stat -c %s "$zip")
    mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
    printf '| %s | %s MB | %s MB | < 10 MB |\n' "$f" "$(mb "$bin_bytes")" "$(mb "$zip_bytes")"
    ((zip_bytes < 10 * 1048576)) || status=1
done
((status == 0)) || die "a zip is over 10 MB"
