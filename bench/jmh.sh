#!/usr/bin/env bash
# Builds bench/target/benchmarks.jar (offline Maven, falling back to online) and runs JMH with -prof gc.
# Arguments go to JMH unchanged, after -prof gc:
#   bench/jmh.sh                                          # every benchmark, JMH defaults
#   bench/jmh.sh 'RouteTable|RequestHeadParser' -f 1 -wi 3 -i 5 -w 1 -r 1
#   bench/jmh.sh -l                                       # list benchmarks
# Read gc.alloc.rate.norm (bytes allocated per operation): the hot path must show ~0 B/op.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh" # repo, mvn_package
cd "$repo"
mvn_package bench offline online
exec java -jar bench/target/benchmarks.jar -prof gc "$@"
