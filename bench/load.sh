#!/usr/bin/env bash
# The end-to-end load test, on loopback only and bounded in time: for each
# mode of cmd/loadserver (bare fasthttp; fasthttp + this package's
# CookieStore; net/http + gorilla/sessions' CookieStore; fasthttp + this
# package's Redis store and fasthttp/session's Redis provider, each
# changing and read-only) it starts the server pinned to one core, gets a
# valid session cookie from /login, checks one request of the scenario
# (visits 42 -> 43, or 42 read-only), then runs wrk pinned to the other
# core with that cookie on every request. Prints req/s per mode (median of
# ROUNDS rounds, modes interleaved) and the ratios.
#
# The Redis modes use a redis-server that the script starts (without
# persistence: --save "" --appendonly no) on a free loopback port, in a
# temporary folder, pinned by default to the server's core (the server
# side, store included, gets one core; REDIS_CPU=1 puts it on wrk's core,
# REDIS_CPU=none leaves it unpinned), and kills at exit; it is started only
# when MODES has a Redis mode, and needs redis-server and redis-cli.
#
#   bench/load.sh
#   DURATION=5s ROUNDS=1 bench/load.sh
#   MODES="redis-read fhredis-read" bench/load.sh
#
# Environment: DURATION (10s per wrk run), CONNS (50), ROUNDS (3), WARMUP
# (2s, not counted), MODES ("bare cookie gorilla redis redis-read fhredis
# fhredis-read"), PROFILE (a folder: each server writes a CPU profile of its
# last round there, MODE.prof, with the binary as loadserver; read with go
# tool pprof -top PROFILE/loadserver PROFILE/cookie.prof).
set -euo pipefail
cd "$(dirname "$0")"

DURATION="${DURATION:-10s}"
CONNS="${CONNS:-50}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2s}"
MODES="${MODES:-bare cookie gorilla redis redis-read fhredis fhredis-read}"

if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "# installing wrk" >&2
		apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
	else
		echo "load.sh: wrk is not installed (apt-get install wrk)" >&2
		exit 1
	fi
fi

tmp="$(mktemp -d)"
server_pid=""
redis_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

go build -o "$tmp/loadserver" ./cmd/loadserver
if [ -n "${PROFILE:-}" ]; then
	mkdir -p "$PROFILE"
	PROFILE="$(cd "$PROFILE" && pwd)"
	cp "$tmp/loadserver" "$PROFILE/loadserver"
fi

# Pin the server to core 0 and wrk to core 1 when there are two cores.
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	pin_server=(taskset -c 0)
	pin_client=(taskset -c 1)
else
	echo "# fewer than 2 cores or no taskset: server and wrk are not pinned" >&2
	pin_server=()
	pin_client=()
fi

dirty="$(git -C .. status --porcelain -- ':(glob)*.go' ':(glob)redisstore/*.go' ':(exclude,glob)**/*_test.go' ':(exclude,glob)*_test.go' 2>/dev/null | awk '{printf " %s", $2}')"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ); $(go version); commit $(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)${dirty:+ (work tree differs:$dirty)}"
echo "# cpus: $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk -t1 -c$CONNS -d$DURATION, $ROUNDS round(s), server on one core"

# The Redis server of the Redis modes, on the server's core.
redis_addr=""
case " $MODES " in
*" redis "* | *" redis-read "* | *" fhredis "* | *" fhredis-read "*)
	for tool in redis-server redis-cli; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "load.sh: the Redis modes need $tool (apt-get install redis-server)" >&2
			exit 1
		fi
	done
	port="$("$tmp/loadserver" -freeport)"
	mkdir "$tmp/redis"
	pin_redis=("${pin_server[@]}")
	where="on the server's core"
	if [ "${REDIS_CPU:-}" = none ] || [ ${#pin_server[@]} -eq 0 ]; then
		pin_redis=()
		where="unpinned"
	elif [ -n "${REDIS_CPU:-}" ]; then
		pin_redis=(taskset -c "$REDIS_CPU")
		where="on core $REDIS_CPU"
	fi
	"${pin_redis[@]}" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$tmp/redis" --logfile "$tmp/redis/log" &
	redis_pid=$!
	for _ in $(seq 1 100); do
		[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
		sleep 0.1
	done
	if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" != PONG ]; then
		echo "load.sh: redis-server on port $port did not start: $(cat "$tmp/redis/log" 2>/dev/null)" >&2
		exit 1
	fi
	redis_addr="127.0.0.1:$port"
	echo "# redis-server $(redis-server --version | awk '{print $3}') on $redis_addr (--save \"\" --appendonly no), $where"
	;;
esac

run_mode() { # mode round
	local mode="$1" round="$2" addr="" cookie body want prof=()
	if [ -n "${PROFILE:-}" ]; then
		prof=(-cpuprofile "$PROFILE/$mode.prof")
	fi
	"${pin_server[@]}" "$tmp/loadserver" -mode "$mode" -addr 127.0.0.1:0 -redis "$redis_addr" "${prof[@]}" >"$tmp/$mode.addr" 2>"$tmp/$mode.err" &
	server_pid=$!
	for _ in $(seq 1 100); do
		addr="$(sed -n 's/^addr=//p' "$tmp/$mode.addr")"
		[ -n "$addr" ] && break
		sleep 0.1
	done
	if [ -z "$addr" ]; then
		echo "load.sh: $mode server did not start: $(cat "$tmp/$mode.err")" >&2
		exit 1
	fi
	cookie="$("$tmp/loadserver" -fetch "http://$addr/login")"
	body="$("$tmp/loadserver" -fetch "http://$addr/" -cookie "$cookie")"
	case "$mode" in
	bare) want="ok" ;;
	*-read) want="visits=42" ;;
	*) want="visits=43" ;;
	esac
	if [ "$body" != "$want" ]; then
		echo "load.sh: $mode: the scenario answered '$body', want '$want'" >&2
		exit 1
	fi
	"${pin_client[@]}" wrk -t1 -c"$CONNS" -d"$WARMUP" -H "Cookie: session=$cookie" "http://$addr/" >/dev/null
	"${pin_client[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" -H "Cookie: session=$cookie" "http://$addr/" >"$tmp/$mode.$round.wrk"
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
	if grep -qE 'Non-2xx|Socket errors' "$tmp/$mode.$round.wrk"; then
		echo "load.sh: $mode: wrk saw errors:" >&2
		cat "$tmp/$mode.$round.wrk" >&2
		exit 1
	fi
	local rps
	rps="$(awk '/^Requests\/sec:/ {print $2}' "$tmp/$mode.$round.wrk")"
	echo "$mode $rps" >>"$tmp/rps"
	echo "# round $round: $mode $rps req/s ($(awk '/Latency/ {print "latency avg " $2 ", max " $4}' "$tmp/$mode.$round.wrk"))" >&2
}

for round in $(seq 1 "$ROUNDS"); do
	for mode in $MODES; do
		run_mode "$mode" "$round"
	done
done

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk -v rounds="$ROUNDS" '
	{ v[$1] = v[$1] " " $2; n[$1]++ }
	function median(list,   a, k, i, j, t) {
		k = split(list, a, " ")
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	END {
		print "| server | req/s (median) | runs |"
		print "|---|---:|---:|"
		k = split("bare cookie gorilla redis redis-read fhredis fhredis-read", order, " ")
		for (i = 1; i <= k; i++) { m = order[i]; if (m in n) { med[m] = median(v[m]); printf "| %s | %.0f | %s |\n", m, med[m], v[m] } }
		print ""
		print "| ratio | value | target | |"
		print "|---|---:|---|---|"
		if (med["cookie"] && med["gorilla"]) { r = med["cookie"] / med["gorilla"]; printf "| cookie / gorilla | %.2fx | >= 3.5x | %s |\n", r, (r >= 3.5 ? "met" : "**missed**") }
		if (med["cookie"] && med["bare"]) { r = med["cookie"] / med["bare"]; printf "| cookie / bare | %.0f%% | >= 60%% | %s |\n", r * 100, (r >= 0.6 ? "met" : "**missed**") }
		if (med["redis-read"] && med["fhredis-read"]) printf "| redis-read / fhredis-read | %.2fx | | |\n", med["redis-read"] / med["fhredis-read"]
		if (med["redis"] && med["fhredis"]) printf "| redis / fhredis | %.2fx | | |\n", med["redis"] / med["fhredis"]
		if (med["redis-read"] && med["redis"]) printf "| redis-read / redis | %.2fx | | |\n", med["redis-read"] / med["redis"]
	}' "$tmp/rps"
