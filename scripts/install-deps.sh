#!/bin/sh
# Installs the Debian (bookworm) packages xraybridge needs to build, test and run.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -eu
PKGS="build-essential cmake pkg-config git
libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libevent-dev libyaml-dev
libcurl4-openssl-dev libcjson-dev libjansson-dev libssl-dev zlib1g-dev libcmocka-dev libexpat1-dev
python3 python3-botocore python3-yaml nodejs npm chromium nghttp2-client wrk valgrind clang clang-format libclang-rt-14-dev openssl"
BUILD_PKGS="build-essential cmake pkg-config
libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libevent-dev libyaml-dev
libcurl4-openssl-dev libcjson-dev libjansson-dev libssl-dev zlib1g-dev libexpat1-dev"
case "${1:-}" in
    --build-only) PKGS=$BUILD_PKGS ;;
    # make release: the build, plus what bench/pgo_train.sh drives it with
    --release) PKGS="$BUILD_PKGS python3 nghttp2-client" ;;
esac
missing=""
for p in $PKGS; do
    case "$p" in
        nodejs|npm) command -v "$p" >/dev/null 2>&1 && continue ;;  # may come from elsewhere
    esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ]; then
    echo "xraybridge: installing missing packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "xraybridge: missing Debian packages:$missing" >&2
    echo "run as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
