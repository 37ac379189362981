#!/bin/sh
# Every shipped configuration must pass --validate-config: examples/*.yaml, the
# embedded default, and the config.yaml inside deploy/kubernetes/configmap.yaml,
# gateway.yaml and gateway-tier/*.yaml.
# usage: check_examples.sh XRAYBRIDGE_BINARY SOURCE_DIR
set -eu
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {
    if AWS_REGION=us-west-2 "$bin" --validate-config "$@" >"$tmp/out" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $*"
        cat "$tmp/out"
    fi
}
for f in "$src"/examples/*.yaml; do
    check --config "$f"
done
check
sed -n '/config.yaml: |/,$p' "$src/deploy/kubernetes/configmap.yaml" | tail -n +2 |
    sed 's/^    //' >"$tmp/configmap.yaml"
check --config "$tmp/configmap.yaml"
# The gateway tier's embedded configs (deploy/kubernetes/gateway.yaml, gateway-tier/).
for f in "$src"/deploy/kubernetes/gateway.yaml "$src"/deploy/kubernetes/gateway-tier/*.yaml; do
    grep -q 'config.yaml: |' "$f" || continue
    sed -n '/config.yaml: |/,/^---/p' "$f" | tail -n +2 | grep -v '^---' |
        sed 's/^    //' >"$tmp/embedded.yaml"
    check --config "$tmp/embedded.yaml"
done
# The shipped DaemonSet config's worst-case memory (app/budget.h) must fit the
# container memory limit the same manifests set (docs/security.md, memory budget).
limit_mi=$(sed -n 's/.*limits:.*memory: *\([0-9]*\)Mi.*/\1/p' "$src/deploy/kubernetes/daemonset.yaml")
budget_mi=$(AWS_REGION=us-west-2 "$bin" --validate-config --config "$tmp/configmap.yaml" |
    sed -n 's/.*memory budget total \([0-9]*\)\..*/\1/p')
if [ -n "$limit_mi" ] && [ -n "$budget_mi" ] && [ "$budget_mi" -lt "$limit_mi" ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    echo "FAIL: DaemonSet config memory budget ${budget_mi:-?} MiB is not below the manifest limit ${limit_mi:-?}Mi"
fi
# A broken file must be refused (the check itself can fail).
printf 'receivers: {otlp: {protocols: {grpc: {endpoint: "x"}}}}\n' >"$tmp/bad.yaml"
if "$bin" --validate-config --config "$tmp/bad.yaml" >/dev/null 2>&1; then
    fail=$((fail + 1))
    echo "FAIL: an invalid config was accepted"
else
    pass=$((pass + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
