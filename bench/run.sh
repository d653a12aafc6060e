#!/usr/bin/env bash
# Runs the side-by-side benchmarks interleaved: ROUNDS rounds, each running
# every benchmark once (-count=1) for BENCHTIME, so that a slow moment of
# the machine spreads over all libraries instead of hitting one. Then prints
# the medians (ns/op, B/op, allocs/op) and the ratios with their targets,
# computed by cmd/medians (standard library only, no benchstat needed).
#
#   bench/run.sh                      # 6 rounds of 1s per benchmark
#   ROUNDS=10 BENCHTIME=2s bench/run.sh
#   BENCH='CookieStore' ROUNDS=3 BENCHTIME=100ms bench/run.sh
#   OUT=results/today.txt bench/run.sh    # keep the raw go test output
#
# Environment: ROUNDS (6), BENCHTIME (1s), BENCH (regexp, "."), OUT (raw
# output file; default a temporary file), CPUPROFILE (a folder: one CPU
# profile per benchmark, from one extra run after the rounds).
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS="${ROUNDS:-6}"
BENCHTIME="${BENCHTIME:-1s}"
BENCH="${BENCH:-.}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="${OUT:-$tmp/bench.txt}"
mkdir -p "$(dirname "$out")"
: >"$out"

# commit names the commit measured, and the non-test Go files of the
# packages the benchmarks build from this repository (the replace directives
# point at the work tree) that differ from that commit.
commit() {
	local head dirs dirty=""
	head="$(git -C .. rev-parse --short HEAD 2>/dev/null)" || { echo unknown; return; }
	dirs="$(go list -deps -test -f '{{if .Module}}{{if or (eq .Module.Path "github.com/fasthttp-sessions/sessions") (eq .Module.Path "github.com/fasthttp-sessions/sessions/redisstore")}}{{.Dir}}{{end}}{{end}}' . ./cmd/... | sort -u)"
	for d in $dirs; do
		dirty="$dirty$(git -C "$d" status --porcelain -- ':(glob)*.go' ':(exclude,glob)*_test.go' | awk '{printf " %s", $2}')"
	done
	if [ -n "$dirty" ]; then
		echo "$head (work tree differs:$dirty)"
	else
		echo "$head"
	fi
}

{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# $(go version)"
	echo "# commit $(commit)"
	echo "# cpus: $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	echo "# rounds: $ROUNDS, benchtime: $BENCHTIME, bench: $BENCH"
} | tee -a "$out"

# Compile once; every round runs the same binary.
go test -c -o "$tmp/bench.test" .
go build -o "$tmp/medians" ./cmd/medians

for i in $(seq 1 "$ROUNDS"); do
	echo "# round $i/$ROUNDS" | tee -a "$out" >&2
	(cd "$tmp" && ./bench.test -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.count 1) |
		tee -a "$out" >&2
done

if [ -n "${CPUPROFILE:-}" ]; then
	mkdir -p "$CPUPROFILE"
	CPUPROFILE="$(cd "$CPUPROFILE" && pwd)"
	for b in $("$tmp/bench.test" -test.list "Benchmark.*" | grep -E "$BENCH"); do
		(cd "$tmp" && ./bench.test -test.run '^$' -test.bench "^$b\$" -test.benchtime "$BENCHTIME" \
			-test.cpuprofile "$CPUPROFILE/$b.prof" >/dev/null)
		echo "# profile: $CPUPROFILE/$b.prof (go tool pprof -top $tmp/bench.test $CPUPROFILE/$b.prof)" >&2
	done
	cp "$tmp/bench.test" "$CPUPROFILE/bench.test"
fi

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" | tee -a "$out"
echo
"$tmp/medians" "$out"
