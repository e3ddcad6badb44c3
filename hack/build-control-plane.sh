#!/usr/bin/env bash
# Builds the pinned etcd and kube-apiserver from Go modules (no release download
# site is reachable) into a per-user cache outside the clone, as setup-envtest
# does, and links them into bin/k8s/<k8s-version>/ for envtest and run-local.
#
# The kube-apiserver compile takes 12-15 minutes on 2 cores the first time, so
# the cache key is the pinned versions plus a hash of the wrapper modules: a
# fresh clone reuses the binaries, a version bump rebuilds them.
#
# Usage: hack/build-control-plane.sh [BIN_DIR]   (prints the asset directory)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cp_dir="$root/hack/controlplane"

# modver MODULE GOMOD: the version a go.mod requires (single-line or block form).
modver() { sed -nE "s#^[[:space:]]*(require[[:space:]]+)?$1[[:space:]]+(v[^[:space:]]+).*#\2#p" "$2" | head -1; }
k8s_version=$(modver k8s.io/kubernetes "$cp_dir/kube-apiserver/go.mod")
etcd_version=$(modver go.etcd.io/etcd/server/v3 "$cp_dir/etcd/go.mod")
[[ -n "$k8s_version" && -n "$etcd_version" ]] || { echo "build-control-plane: cannot read pinned versions from hack/controlplane/*/go.mod" >&2; exit 1; }
wrapper_hash=$(cat "$cp_dir"/*/go.mod "$cp_dir"/*/go.sum "$cp_dir"/*/main.go | sha256sum | cut -c1-12)

cache_root=${SDRS_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sdrs-operator/control-plane}
cache_dir="$cache_root/${k8s_version}-etcd-${etcd_version}-${wrapper_hash}"
bin_dir=${1:-$root/bin/k8s/${k8s_version}}

log() { printf 'build-control-plane: %s\n' "$*" >&2; }

build() { # name module-dir ldflags
	local name=$1 dir=$2 ldflags=$3
	if [[ -x "$cache_dir/$name" ]]; then
		log "$name: cached at $cache_dir/$name"
		return
	fi
	log "$name: building from $(basename "$dir") (first time only; kube-apiserver takes 12-15 min on 2 cores)"
	mkdir -p "$cache_dir"
	local start=$SECONDS
	# Build to a temporary name and rename, so an interrupted build never
	# leaves a half-written binary that later runs would trust.
	(cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w $ldflags" -o "$cache_dir/.$name.tmp" .)
	mv "$cache_dir/.$name.tmp" "$cache_dir/$name"
	log "$name: built in $((SECONDS - start))s"
}

minor=$(echo "$k8s_version" | cut -d. -f2)
ver_pkg=k8s.io/component-base/version
build etcd "$cp_dir/etcd" ""
build kube-apiserver "$cp_dir/kube-apiserver" \
	"-X $ver_pkg.gitVersion=$k8s_version -X $ver_pkg.gitMajor=1 -X $ver_pkg.gitMinor=$minor -X $ver_pkg.gitTreeState=clean"

mkdir -p "$bin_dir"
for b in etcd kube-apiserver; do
	ln -sf "$cache_dir/$b" "$bin_dir/$b"
done
echo "$bin_dir"
