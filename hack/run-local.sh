#!/usr/bin/env bash
# Runs the operator locally: `make run-local` builds bin/* and the control
# plane, then calls this. Flags go to hack/run-local (see --help there),
# for example: make run-local RUN_LOCAL_ARGS="--sdrs-port=0 --ecs-port=0".
#
# run-local is built to a binary and exec'd rather than `go run`, because
# `go run` does not pass SIGTERM on to the program: a `kill` of this script
# must reach run-local so that it stops everything it started.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=${LOCALBIN:-$root/bin}
# Build beside the old binary and rename over it: a run-local that is still
# running keeps its file, and nobody ever executes a half-written one. The
# flags are the Dockerfile's, so the dependencies compiled for bin/manager
# are reused from the build cache.
CGO_ENABLED=0 go build -trimpath -o "$bin/.run-local.$$" ./hack/run-local
mv -f "$bin/.run-local.$$" "$bin/run-local"
exec "$bin/run-local" --bin-dir "$bin" "$@"
