#!/bin/sh
# Compares the documents two builds write, byte for byte: the fuzz corpora (protobuf,
# both decoders, and OTLP/JSON) and bench requests of 1, 7, 100 and 1,000 spans with 4
# seeds under 192 translator configurations (bench/dump_docs.c), then the golden suite's
# documents (XB_GOLDEN_DUMP=1). Used to check that a speed change leaves the output alone
# (docs/performance.md, "Output unchanged").
#
# Usage: bench/compare_docs.sh BUILD_A BUILD_B   (build directories with the dump_docs and
#        test_golden targets built). Exit status 0 when every byte is equal, 1 otherwise.
# Env:   XB_COMPARE_EMBEDDED=1  BUILD_B's dump_docs translates in embedded form and undoes
#        it (dump_docs -E): equal output means each embedded document is the plain one
#        escaped, as PutTraceSegments takes it.
set -eu

a=$1
b=$2
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

args="-p $root/tests/fuzz/corpus/pb -j $root/tests/fuzz/corpus/json"
for s in 1 2 3 4; do
    args="$args -s $s -n 1 -n 7 -n 100 -n 1000"
done
status=0
for build in "$a" "$b"; do
    e=""
    [ "$build" = "$b" ] && [ "${XB_COMPARE_EMBEDDED:-0}" = 1 ] && e=-E
    # shellcheck disable=SC2086
    "$build/bench/dump_docs" $e $args | sha256sum >>"$tmp/dump"
    XB_GOLDEN_DUMP=1 "$build/tests/golden/test_golden" "$root/tests/golden/cases" 2>&1 |
        grep -E '^(document |\[ *RUN|\[ *FAILED)' >"$tmp/golden.$(echo "$build" | md5sum | cut -c1-8)"
done
lines=$(grep -c '^document ' "$tmp"/golden.* | head -1 | cut -d: -f2)
if [ "$(sort -u "$tmp/dump" | wc -l)" -ne 1 ]; then
    echo "dump_docs: output differs"
    status=1
else
    echo "dump_docs: identical ($(head -1 "$tmp/dump" | cut -c1-16))"
fi
if ! cmp -s "$tmp"/golden.*; then
    echo "golden documents: differ"
    status=1
else
    echo "golden documents: identical ($lines documents)"
fi
exit $status
