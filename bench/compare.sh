#!/usr/bin/env bash
# Compares the benchmarks of an older commit with the work tree's in one
# run: builds the bench test binary of COMMIT (from a temporary git
# worktree) and of the work tree, then runs them alternately, ROUNDS rounds
# of every benchmark matching BENCH once (-count=1) for BENCHTIME, so that
# a slow moment of the machine hits both sides alike. Then prints, from
# cmd/medians -before, the medians before and after, the spreads and the
# per-round ratios. Only benchmarks that exist, with the same name, in both
# commits can be compared.
#
#   bench/compare.sh d44cba3
#   ROUNDS=3 BENCHTIME=200ms BENCH='^BenchmarkMemoryStore$' bench/compare.sh d44cba3
#
# Environment: ROUNDS (8), BENCHTIME (1s), BENCH (the changing-scenario
# benchmarks of the history: this package's CookieStore, Registry, Memory,
# Filesystem and Redis stores, gorilla and fasthttp/session), OUT (a
# folder: keeps before.txt and after.txt, the raw go test output of each
# side; default a temporary folder).
set -euo pipefail
cd "$(dirname "$0")"

if [ $# -ne 1 ]; then
	echo "usage: compare.sh COMMIT" >&2
	exit 2
fi
ROUNDS="${ROUNDS:-8}"
BENCHTIME="${BENCHTIME:-1s}"
BENCH="${BENCH:-^Benchmark(CookieStore|CookieStoreRegistry|MemoryStore|FilesystemStore|RedisStore|Gorilla.*|FasthttpSession.*)\$}"

old="$(git -C .. rev-parse --short "$1^{commit}")"
tmp="$(mktemp -d)"
cleanup() {
	git -C .. worktree remove --force "$tmp/src" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
out="${OUT:-$tmp/out}"
mkdir -p "$out"
: >"$out/before.txt"
: >"$out/after.txt"

git -C .. worktree add --detach "$tmp/src" "$old" >/dev/null 2>&1
(cd "$tmp/src/bench" && go test -c -o "$tmp/before.test" .)
go test -c -o "$tmp/after.test" .
go build -o "$tmp/medians" ./cmd/medians
mkdir "$tmp/run"

head="$(git -C .. rev-parse --short HEAD)"
dirty="$(git -C .. status --porcelain -- ':(glob)*.go' ':(glob)redisstore/*.go' ':(glob)pgstore/*.go' ':(exclude,glob)**/*_test.go' ':(exclude,glob)*_test.go' | awk '{printf " %s", $2}')"
for f in before after; do
	{
		echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "# $(go version)"
		if [ "$f" = before ]; then echo "# commit $old"; else echo "# commit $head${dirty:+ (work tree differs:$dirty)}"; fi
		echo "# cpus: $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "# rounds: $ROUNDS alternating with the $([ "$f" = before ] && echo after || echo before) binary, benchtime: $BENCHTIME, bench: $BENCH"
	} >>"$out/$f.txt"
done

for i in $(seq 1 "$ROUNDS"); do
	for f in before after; do
		echo "# round $i/$ROUNDS: $f" | tee -a "$out/$f.txt" >&2
		(cd "$tmp/run" && "$tmp/$f.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1) |
			tee -a "$out/$f.txt" >&2
	done
done
for f in before after; do
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/$f.txt"
done
echo "# before: $old; after: $head${dirty:+ (work tree differs:$dirty)}; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$tmp/medians" -before "$out/before.txt" "$out/after.txt"
