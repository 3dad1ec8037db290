#!/bin/bash
# The benchmark suite: `make bench` (full) and `make bench-quick` (quick).
#
#   bench/run.sh BUILD_DIR full|quick [SECTION...]
#   sections: protocol table keys accuracy exempt sendmail concurrent top redis
#             (default: all)
#
# protocol  milter-ratelimit beside bench/baseline (libmilter, connect
#           only, always accept) driven by bench/loadgen over unix sockets,
#           1, 2 and 4 concurrent clients, 1,000,000 distinct addresses and
#           one hot address; runs interleaved (A B, B A, ...), ratios of
#           each pair measured back to back, medians over the rounds
# table     bench/tablebench: window_check speed, latency, memory, flood
# keys      bench/keysbench: cost per connection of 1, 2 and 3 keys per
#           client (prefix sections), as ratios to 1 key in the same rounds
# accuracy  bench/accuracy: table against an exact sliding log
# exempt    bench/exemptbench: a 1,000,000-entry map: load, memory, lookups
# sendmail  bench/sendmail.sh: sendmail's ratecontrol against the milter
# concurrent  max_concurrent off (ACCEPT at connect) against on (CONTINUE,
#           count, close callback releases), same loadgen runs interleaved
# top       bench/topbench: decision latency on a full 1M table alone and
#           with ratelimit-ctl top's scan running back to back
# redis     bench/redis.sh: local-only against Redis over a unix socket and
#           over TCP loopback, 1/2/4 clients; Redis memory per key; the
#           fallback's takeover after SIGKILL of redis-server
#
# Prints everything, then a GOALS block (met / missed, figure by figure).
# Timing is never asserted here: bench/smoke.sh asserts counts for CI.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u +m

B=${1:?usage: bench/run.sh BUILD_DIR full|quick [SECTION...]}
MODE=${2:-quick}
shift 2 2>/dev/null || shift $#
SECTIONS=${*:-protocol table keys accuracy exempt sendmail concurrent top redis}
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$B" && pwd)
BB=$B/bench

case $MODE in
full)
	ROUNDS=5; SECS=5; CONCS="1 2 4"
	TABLE_ARGS="-k 1000000,10000000 -m 10000000 -r 3 -s 20000000"
	KEYS_ARGS="-n 1000000 -m 5000000 -r 5"
	ACC_ARGS="-e 1000000 -a 2000"
	EXEMPT_N=1000000; RLMAP_NS="10000 20000 40000 80000"
	SM_RUNS=5; SM_LOADS="10000 20000"
	;;
quick)
	ROUNDS=2; SECS=1; CONCS="1 2 4"
	TABLE_ARGS="-k 1000000 -m 1000000 -r 3 -s 5000000"
	KEYS_ARGS="-n 1000000 -m 1000000 -r 3"
	ACC_ARGS="-e 150000 -a 300"
	EXEMPT_N=1000000; RLMAP_NS="10000 20000"
	SM_RUNS=1; SM_LOADS="2000"
	;;
*)
	echo "usage: bench/run.sh BUILD_DIR full|quick [SECTION...]" >&2
	exit 2
	;;
esac

W=$(mktemp -d /run/mrl-bench.XXXXXX)
chmod 0755 "$W"
RES=$W/results
: > "$RES"
PIDS=
cleanup() {
	local p
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do
		for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=
	[ -n "${MRL_KEEP_LOGS:-}" ] && echo "# kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# rec SECTION LINE...: keep RESULT lines, tagged, for the summaries.
rec() {
	local tag=$1 line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case $line in
		RESULT\ *) echo "$tag ${line#RESULT }" >> "$RES" ;;
		COMPARE\ *) echo "$tag ${line#COMPARE }" >> "$RES" ;;
		esac
	done
}

wait_sock() {
	local i
	for i in $(seq 1 200); do [ -S "$1" ] && return 0; sleep 0.05; done
	return 1
}

header() {
	echo "== milter-ratelimit benchmarks ($MODE), $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	    "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); other busy processes:" \
	    "$(ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 > 5 { printf "%s(%s%%) ", $2, $1 }' | head -c 300)"
	echo "fuzzers running (pgrep '^fuzz[-_]'): $(pgrep '^fuzz[-_]' | wc -l)"
	echo "command: bench/run.sh $B $MODE $SECTIONS"
}

# --- protocol ------------------------------------------------------------------

sec_protocol() {
	local d=$W/protocol pat conc r name spec out
	mkdir -m 0755 "$d"
	echo
	echo "== protocol: milter-ratelimit against the libmilter baseline (bench/loadgen, unix sockets)"
	cat > "$d/mrl.conf" <<-EOF
	socket = "unix:$d/mrl.sock"
	limit = 10
	window = 60
	max_clients = 1000000
	user = "root"
	EOF
	"$B/milter-ratelimit" -d -f "$d/mrl.conf" 2> "$d/mrl.log" &
	PIDS="$PIDS $!"
	"$BB/baseline" "unix:$d/base.sock" 2> "$d/base.log" &
	PIDS="$PIDS $!"
	if ! wait_sock "$d/mrl.sock" || ! wait_sock "$d/base.sock"; then
		echo "FAIL: the milters did not start: $(cat "$d/mrl.log" "$d/base.log")"
		return 1
	fi
	echo "milter-ratelimit: limit 10 per 60 s, max_clients 1000000 (refusals: 421 via SMFIR_REPLYCODE);" \
	    "baseline: connect callback only, SMFIS_ACCEPT"
	echo "each run: $SECS s; $ROUNDS rounds per cell, order alternating (A B, B A, ...)"
	# uniform:1000000 = 1M distinct addresses (accept path: each is seen
	# a handful of times a minute at most); one = a single hot address
	# (after its 10 the refuse path).
	for pat in uniform:1000000 one; do
		for conc in $CONCS; do
			for r in $(seq 1 "$ROUNDS"); do
				local order="mrl base"
				[ $((r % 2)) = 0 ] && order="base mrl"
				for name in $order; do
					spec=unix:$d/$name.sock
					out=$("$BB/loadgen" -s "$spec" -c "$conc" -n 10000000 -t "$SECS" \
					    -a "$pat" -S "$r" -q)
					echo "  $pat c=$conc round $r $name: ${out#RESULT }" | cut -c1-220
					echo "proto name=$name pat=$pat conc=$conc round=$r ${out#RESULT }" >> "$RES"
				done
			done
		done
	done
	if [ "$MODE" = full ]; then
		# IPv6 (keys per /64), 2 clients, one pair
		for name in mrl base; do
			out=$("$BB/loadgen" -s "unix:$d/$name.sock" -c 2 -n 10000000 -t "$SECS" \
			    -a uniform:1000000 -6 -q)
			echo "  IPv6 uniform:1000000 c=2 $name: ${out#RESULT }" | cut -c1-220
			echo "proto6 name=$name ${out#RESULT }" >> "$RES"
		done
	fi
	awk '
	$1 == "proto" {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		k = v["pat"] " " v["conc"] " " v["round"]
		rate[k, v["name"]] = v["rate"]; p99[k, v["name"]] = v["p99_us"]; p50[k, v["name"]] = v["p50_us"]
		p999[k, v["name"]] = v["p999_us"]
		rep[k, v["name"]] = "accept=" v["accept"] " replycode=" v["replycode"] " errors=" v["errors"]
		if (!((v["pat"] " " v["conc"]) in seen)) { seen[v["pat"] " " v["conc"]] = 1; cells[++nc] = v["pat"] " " v["conc"] }
		if (v["round"] > nr) nr = v["round"]
	}
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		print ""
		print "protocol summary (milter-ratelimit / baseline, ratios of runs done back to back; medians over rounds)"
		printf "  %-16s %4s %10s %10s %8s %9s %9s %8s %9s %8s\n", "addresses", "conc", "mrl/s", "base/s", "rate", "mrl p99", "base p99", "p99", "p99.9", "p50"
		for (c = 1; c <= nc; c++) {
			split(cells[c], p, " ")
			n = 0
			for (r = 1; r <= nr; r++) {
				k = cells[c] " " r
				if (!((k, "mrl") in rate) || !((k, "base") in rate)) continue
				n++
				rr[n] = rate[k, "mrl"] / rate[k, "base"]
				pr[n] = p99[k, "mrl"] / p99[k, "base"]
				pt[n] = p999[k, "mrl"] / p999[k, "base"]
				pf[n] = p50[k, "mrl"] / p50[k, "base"]
				m1[n] = rate[k, "mrl"]; b1[n] = rate[k, "base"]; m2[n] = p99[k, "mrl"]; b2[n] = p99[k, "base"]
			}
			if (n == 0) continue
			R = median(rr, n); P = median(pr, n); T = median(pt, n); F = median(pf, n)
			printf "  %-16s %4d %10.0f %10.0f %8.3f %8.0fus %8.0fus %8.3f %9.3f %8.3f\n", p[1], p[2], median(m1, n), median(b1, n), R, median(m2, n), median(b2, n), P, T, F
			printf "SUMMARY proto pat=%s conc=%d rate_ratio=%.4f p99_ratio=%.4f p999_ratio=%.4f p50_ratio=%.4f\n", p[1], p[2], R, P, T, F
			printf "  %-16s      replies last round: mrl %s; base %s\n", "", rep[cells[c] " " nr, "mrl"], rep[cells[c] " " nr, "base"]
		}
	}' "$RES" | tee -a "$W/summary"
	# Stop them now; libmilter takes up to 5 s to leave, reaped at exit.
	# shellcheck disable=SC2086
	kill -TERM $PIDS 2>/dev/null
}

# --- concurrent ----------------------------------------------------------------

# Two daemons alike but for max_concurrent (0: off, today's ACCEPT at
# connect; 10: every session counted, answered CONTINUE, released in the
# close callback).  loadgen plays sendmail: OPTNEG, CONNECT, QUIT, close;
# 1,000,000 distinct addresses (no refusal either way).
sec_concurrent() {
	local d=$W/concurrent conc r name out
	mkdir -m 0755 "$d"
	echo
	echo "== concurrent: max_concurrent off against on (bench/loadgen, unix sockets)"
	for name in off on; do
		cat > "$d/$name.conf" <<-EOF
		socket = "unix:$d/$name.sock"
		limit = 10
		window = 60
		max_clients = 1000000
		max_concurrent = $([ $name = on ] && echo 10 || echo 0)
		user = "root"
		EOF
		"$B/milter-ratelimit" -d -f "$d/$name.conf" 2> "$d/$name.log" &
		PIDS="$PIDS $!"
	done
	if ! wait_sock "$d/off.sock" || ! wait_sock "$d/on.sock"; then
		echo "FAIL: the milters did not start: $(cat "$d/off.log" "$d/on.log")"
		return 1
	fi
	echo "each run: $SECS s; $ROUNDS rounds per cell, order alternating"
	for conc in $CONCS; do
		for r in $(seq 1 "$ROUNDS"); do
			local order="off on"
			[ $((r % 2)) = 0 ] && order="on off"
			for name in $order; do
				out=$("$BB/loadgen" -s "unix:$d/$name.sock" -c "$conc" -n 10000000 \
				    -t "$SECS" -a uniform:1000000 -S "$r" -q)
				echo "  c=$conc round $r $name: ${out#RESULT }" | cut -c1-200
				echo "conc name=$name conc=$conc round=$r ${out#RESULT }" >> "$RES"
			done
		done
	done
	awk '
	$1 == "conc" {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		k = v["conc"] " " v["round"]; rate[k, v["name"]] = v["rate"]; p99[k, v["name"]] = v["p99_us"]
		if (!(v["conc"] in seen)) { seen[v["conc"]] = 1; cs[++nc] = v["conc"] }
		if (v["round"] > nr) nr = v["round"]
	}
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		print ""
		print "concurrent summary (on / off, ratios of runs done back to back; medians over rounds)"
		printf "  %4s %10s %10s %8s %9s %9s\n", "conc", "off/s", "on/s", "rate", "off p99", "on p99"
		for (c = 1; c <= nc; c++) {
			n = 0
			for (r = 1; r <= nr; r++) {
				k = cs[c] " " r
				if (!((k, "on") in rate) || !((k, "off") in rate)) continue
				n++; rr[n] = rate[k, "on"] / rate[k, "off"]; a[n] = rate[k, "off"]; b[n] = rate[k, "on"]
				pa[n] = p99[k, "off"]; pb[n] = p99[k, "on"]
			}
			if (n == 0) continue
			printf "  %4d %10.0f %10.0f %8.3f %8.0fus %8.0fus\n", cs[c], median(a, n), median(b, n), median(rr, n), median(pa, n), median(pb, n)
			printf "SUMMARY concurrent conc=%d rate_ratio=%.4f\n", cs[c], median(rr, n)
		}
	}' "$RES" | tee -a "$W/summary"
	# shellcheck disable=SC2086
	kill -TERM $PIDS 2>/dev/null
}

cleanup_pids() {
	local p
	for p in $PIDS; do
		for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=
}

# --- the in-process benchmarks ---------------------------------------------

sec_table() {
	echo
	echo "== table: bench/tablebench $TABLE_ARGS"
	# shellcheck disable=SC2086
	"$BB/tablebench" $TABLE_ARGS 2>&1 | rec table
}

sec_top() {
	echo
	echo "== top: bench/topbench -k 1000000 -s $((SECS * 3)) -n 100"
	"$BB/topbench" -k 1000000 -s $((SECS * 3)) -n 100 2>&1 | rec top
}

sec_keys() {
	echo
	echo "== keys: bench/keysbench $KEYS_ARGS"
	# shellcheck disable=SC2086
	"$BB/keysbench" $KEYS_ARGS 2>&1 | rec keys
}

sec_accuracy() {
	echo
	echo "== accuracy: bench/accuracy $ACC_ARGS"
	# shellcheck disable=SC2086
	"$BB/accuracy" $ACC_ARGS 2>&1 | rec accuracy
}

sec_exempt() {
	local n d=$W/exempt mm
	mkdir -m 0755 "$d"
	echo
	echo "== exempt: a $EXEMPT_N-entry map"
	# makemap from the unpacked sendmail-bin (tests/smroot.sh), never an
	# installed one.
	# shellcheck disable=SC2034
	if ! (PKG_CACHE=$HERE/../tests/.cache; . "$HERE/../tests/pkgroot.sh" && . "$HERE/../tests/smroot.sh" &&
	    smroot_unpack "$W/smroot" "$W/smroot.log"); then
		echo "  cannot unpack sendmail-bin: $(tail -n 3 "$W/smroot.log" | tr '\n' ' ')"
		return
	fi
	mm=$W/smroot/usr/sbin/makemap
	echo "  (built with 'makemap hash': 'ratelimit-map MAP < TEXT' takes quadratic time, see the"
	echo "   scaling lines below; the two write the same format and the daemon reads either)"
	"$BB/exemptbench" -m "$mm hash" -d "$d" -n "$EXEMPT_N" 2>&1 | grep -v '^WARNING: World writable' | rec exempt
	echo "  ratelimit-map build time by map size (it checks each new key against every earlier one):"
	for n in $RLMAP_NS; do
		"$BB/exemptbench" -m "$B/ratelimit-map" -d "$d" -n "$n" -l 1000 2>&1 |
		    sed -n 's/^RESULT exempt entries=\([0-9]*\).* build_s=\([0-9.]*\).*/    ratelimit-map \1 entries: \2 s/p'
	done
}

sec_sendmail() {
	echo
	echo "== sendmail: ratecontrol (ClientRate 5, 60 s) against milter-ratelimit (limit 5, 60 s)"
	bash "$HERE/sendmail.sh" "$B" "$SM_RUNS" "$SM_LOADS" 32 2>&1 |
	    grep -v '^\[.*\] RESULT ' | rec sendmail
}

sec_redis() {
	echo
	echo "== redis: local-only, Redis over a unix socket, Redis over TCP loopback"
	bash "$HERE/redis.sh" "$B" "$MODE" "$W/redis" 2>&1
}

# --- goals -----------------------------------------------------------------

goals() {
	echo
	echo "== GOALS ($MODE run; figures from this run)"
	awk '
	function ok(c) { return c ? "met" : "MISSED" }
	/^SUMMARY proto / || $1 == "proto" { }
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	$1 == "table" && $2 == "speed" && v["threads"] == 1 && v["keys"] == 1000000 { mps1 = v["table_mps"] }
	$1 == "table" && $2 == "latency" && v["threads"] == 2 && v["keys"] == 1000000 { lat2 = v["p99_us"] }
	$1 == "table" && $2 == "memory" && v["keys"] == 1000000 { rss = v["rss_bytes_per_client"]; mem = v["mem_bytes_per_client"] }
	$1 == "table" && $2 == "flood" { growth = v["growth_kb"]; hot = v["hot_allowed"]; stream = v["stream"] }
	$1 == "table" && $2 == "flood_probe" && v["interval_ms"] > 50 { probes = probes " every " v["interval_ms"] / 1000 " s: " v["max_in_window"] " (exact " v["exact_max"] ");" }
	$1 == "accuracy" && $2 == "poisson_total" { key = v["limit"] " " v["count_refused"]; fr[key] = v["fraction"]; lims[v["limit"]] = 1 }
	$1 == "accuracy" && $2 == "adversarial" { if (v["worst_over"] > v["bound"] || v["worst_early"] > 0) advbad++; advn++ }
	$1 == "exempt" && $2 == "exempt" { load = v["load_s"]; lp99 = v["p99_us"]; loaded = v["loaded"]; ents = v["entries"] }
	$1 == "sendmail" && $2 == "mta=milter" { mh = mh " " v["heavy_ok"]; mi = mi " " v["innocent_refused"]; if (v["heavy_ok"] != 5 || v["innocent_refused"] != 0) mbad++; mn++ }
	$1 == "sendmail" && $2 == "mta=ratecontrol" { rh = rh " " v["heavy_ok"] "@" v["load"]; ri = ri " " v["innocent_refused"] }
	END {
		if (mps1 != "") printf "  table: %.2f M checks/s on 1 thread, 1M live keys (goal >= 5): %s\n", mps1, ok(mps1 >= 5)
		if (lat2 != "") printf "  table: p99 %.3f us on 2 threads, 1M live keys (goal < 2): %s\n", lat2, ok(lat2 < 2)
		if (rss != "") printf "  memory: %.2f bytes per tracked client from VmRSS, %.2f from window_memory() (goal <= 64): %s\n", rss, mem, ok(rss <= 64)
		if (probes != "") printf "  flood: most admitted in any window by clients spacing their connections:%s\n", probes
		if (growth != "") printf "  flood: VmRSS grew %d kB while %d distinct addresses passed through (goal: flat); client at its limit admitted %d (exactly 10 if never evicted): %s\n", growth, stream, hot, ok(growth <= 64 && hot == 10)
		for (l in lims) {
			printf "  accuracy: limit %s: %.4f%% of decisions differ (count_refused true), %.4f%% (false) (goal <= 0.1%%): %s\n", l, 100 * fr[l " 1"], 100 * fr[l " 0"], ok(fr[l " 1"] <= 0.001 && fr[l " 0"] <= 0.001)
		}
		if (advn) printf "  adversarial: %d of %d limit/mode cells outside the documented bound: %s\n", advbad, advn, ok(advbad == 0)
		if (load != "") printf "  exempt: %d-entry map loads in %.3f s (goal < 1): %s; lookup p99 %.3f us (goal < 1): %s; %d loaded\n", ents, load, ok(load < 1), lp99, ok(lp99 < 1), loaded
		if (mn) printf "  sendmail: milter let through of the heavy 15:%s; innocent refused:%s: %s\n", mh, mi, ok(mbad == 0)
		if (rh != "") printf "  sendmail ratecontrol (for comparison): heavy admitted:%s; innocent refused:%s\n", rh, ri
	}' "$RES"
	[ -s "$W/summary" ] && awk '
	$1 == "SUMMARY" && $2 == "proto" {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["pat"] == "one")
			printf "  protocol one hot address c=%s (refuse path, for information): throughput %.3f of baseline, p99 %.3fx baseline\n", v["conc"], v["rate_ratio"], v["p99_ratio"]
		else
			printf "  protocol %s distinct c=%s: throughput %.3f of baseline (goal >= 0.90): %s; p99 %.3fx baseline (goal <= 1.2): %s\n", v["pat"], v["conc"], v["rate_ratio"], ((v["rate_ratio"] >= 0.9) ? "met" : "MISSED"), v["p99_ratio"], ((v["p99_ratio"] <= 1.2) ? "met" : "MISSED")
	}' "$W/summary"
}

T0=$SECONDS
header
for s in $SECTIONS; do
	t=$SECONDS
	case $s in
	protocol|table|keys|accuracy|exempt|sendmail|concurrent|top|redis) "sec_$s" ;;
	*) echo "unknown section $s" ;;
	esac
	echo "  ($s: $((SECONDS - t)) s)"
done
goals
echo
echo "bench/run.sh $MODE: $((SECONDS - T0)) s in all; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
