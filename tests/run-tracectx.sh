#!/bin/bash
# Samples joined to traces.  A program whose threads go through spans
# publishes OpenTelemetry's thread context (OTEP 4947): the variable in the
# executable, in a library through TLSDESC, in one through general-dynamic
# TLS, in one dlopen'd into dynamic TLS; its attribute keys named by its
# process context (OTEP 4719).  --trace and --span pick each span's function, on-CPU and off-CPU;
# pprof carries the ids as labels; --spans sums them.  The same program
# publishing nothing but writing its spans as OTLP JSON lines gives the same
# selections with --spans-from.  Bad spans files and ids are refused.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool go golang-go
export HOME="$tempdir" GOCACHE="$tempdir/gocache"
W=$WORKLOADS
CF="-O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -pthread -I$W"
cc $CF -o exe "$W/otelctx.c" "$W/otelpub.c" -Wl,--export-dynamic-symbol=otel_thread_ctx_v1 || fail "cannot build otelctx"
cc -O2 -fPIC -shared -mtls-dialect=gnu2 -o libotelpub.so "$W/otelpub.c" || fail "cannot build libotelpub.so"
cc -O2 -fPIC -shared -mtls-dialect=gnu -o libotelgd.so "$W/otelpub.c" || fail "cannot build libotelgd.so"
cc $CF -o tlsdesc "$W/otelctx.c" -L. -lotelpub -Wl,-rpath,"$PWD" || fail "cannot build tlsdesc"
cc $CF -o gd "$W/otelctx.c" -L. -lotelgd -Wl,-rpath,"$PWD" || fail "cannot build gd"
cc $CF -DOTEL_DLOPEN -o dlopen "$W/otelctx.c" -ldl || fail "cannot build the dlopen variant"
readelf -rW libotelpub.so | grep -q 'R_X86_64_TLSDESC.*otel_thread_ctx_v1' || fail "libotelpub.so: no TLSDESC relocation"
readelf -rW libotelgd.so | grep -q 'R_X86_64_DTPMOD64.*otel_thread_ctx_v1' || fail "libotelgd.so: no DTPMOD64 relocation"

# The ids otelctx.c gives span K (1: work_a, 2: work_b, 3: wait_c) of worker W.
rep() { local i; for i in $(seq "$2"); do printf %02x "$1"; done; }
trace_of() { echo "$(rep $((0x11 * $1)) 15)$(printf %02x "$2")"; }
span_of() { echo "$(rep $((0xa0 + 0x11 * ($1 - 1))) 7)$(printf %02x "$2")"; }

# selected ARCHIVE EVENT FUNCTION [dfreport options]: percent of the selected value under FUNCTION
selected() {
	local dfa=$1 ev=$2 fn=$3
	shift 3
	"$DFREPORT" --folded --event "$ev" "$@" "$dfa" > sel.folded 2>sel.err || fail "dfreport $*: $(cat sel.err)"
	[ -s sel.folded ] || fail "$dfa: $*: no $ev samples selected"
	percent_matching sel.folded ";$fn(;|$)"
}

# check ARCHIVE [dfreport options]: each span's own function, on-CPU and off-CPU
check() {
	local dfa=$1 p
	shift
	p=$(selected "$dfa" on-cpu work_a --trace "$(trace_of 1 0)" "$@")
	within "$p" 90 100 || fail "$dfa $*: --trace of work_a's span: $p% under work_a"
	p=$(selected "$dfa" on-cpu work_a --span "$(span_of 1 1)" "$@")
	within "$p" 90 100 || fail "$dfa $*: --span of work_a's span (thread 1): $p% under work_a"
	p=$(selected "$dfa" on-cpu work_b --span "$(span_of 2 0)" "$@")
	within "$p" 90 100 || fail "$dfa $*: --span of work_b's span: $p% under work_b"
	p=$(selected "$dfa" on-cpu work_b --trace "$(trace_of 2 1)" --span "$(span_of 2 1)" "$@")
	within "$p" 90 100 || fail "$dfa $*: --trace and --span of work_b's: $p% under work_b"
	p=$(selected "$dfa" off-cpu wait_c --span "$(span_of 3 0)" "$@")
	within "$p" 90 100 || fail "$dfa $*: off-cpu, --span of wait_c's span: $p% of the wait under wait_c"
	# the work outside any span is in none
	"$DFREPORT" --folded --trace "$(trace_of 1 1)" "$@" "$dfa" 2>/dev/null | grep -q ';outside' &&
		fail "$dfa $*: work outside any span selected by a trace"
	"$DFREPORT" --spans "$@" "$dfa" > spans.txt 2>/dev/null || fail "$dfa: --spans failed"
	[ "$(grep -c '^ *[0-9.]* *[0-9.]* *[0-9]*  [0-9a-f]\{32\} [0-9a-f]\{16\}' spans.txt)" = 6 ] ||
		fail "$dfa $*: --spans does not list the 6 spans: $(cat spans.txt)"
	# two thirds of the CPU time is in spans (work_a, work_b; outside is not)
	p=$(sed -n 's/^# 6 spans; in them: \([0-9.]*\)% of .* on CPU.*/\1/p' spans.txt)
	within "${p:-0}" 55 78 || fail "$dfa $*: $p% of the CPU time in spans, expected about 67: $(head -1 spans.txt)"
}

# dlopen: loaded after start, with no static TLS to spare, glibc gives the
# library dynamic TLS: TLSDESC's dynamic arm, through each thread's DTV.
export OTELPUB="$PWD/libotelpub.so"
GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0 ./dlopen tls 1 &
dl=$!
sleep 0.3
python3 - $dl "$(readelf -rW libotelpub.so | awk '/TLSDESC/ { print $1 }')" <<'PY' || fail "dlopen: the library's TLSDESC is not dynamic"
import sys
pid, off = int(sys.argv[1]), int(sys.argv[2], 16)
base = next(int(l.split("-")[0], 16) - int(l.split()[2], 16) for l in open(f"/proc/{pid}/maps")
            if l.rstrip().endswith("/libotelpub.so"))
mem = open(f"/proc/{pid}/mem", "rb")
mem.seek(base + off + 8)
arg = int.from_bytes(mem.read(8), "little", signed=True)
sys.exit(0 if arg > 0 else 1)	# a pointer to { module, offset }, not a thread-pointer offset
PY
wait $dl
# (slow: the process context is read when the first sample in a span is,
# and a sanitized dfrecord under load got there after the process had gone;
# its keys were then named by their index, and pprof's labels below lacked
# http.route)
d=$(slow 1.2)
for v in exe tlsdesc gd dlopen; do
	if [ $v = dlopen ]; then
		GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0 expect_exit 0 "$DFRECORD" -F 499 -e on-cpu,off-cpu \
			-o $v.dfa -- ./$v tls "$d"
	else
		expect_exit 0 "$DFRECORD" -v -F 499 -e on-cpu,off-cpu -o $v.dfa -- ./$v tls "$d"
	fi
	cp stderr $v.err
	grep -q 'in a trace span' stderr || fail "$v: dfrecord's summary counts no samples in a span: $(tail -1 stderr)"
	check $v.dfa
	note "$v: each span's function selected by --trace and --span; $(head -1 spans.txt)"
done
# Memory samples carry the context too: work_b's allocations, in its span.
OTELCTX_ALLOC=1 expect_exit 0 "$DFRECORD" -e mem-alloc -o mem.dfa -- ./exe tls 0.6
p=$(selected mem.dfa mem-alloc work_b --span "$(span_of 2 1)")
within "$p" 90 100 || fail "mem-alloc: --span of work_b's span: $p% of the bytes under work_b"
"$DFREPORT" --folded --event mem-alloc --span "$(span_of 1 0)" mem.dfa 2>/dev/null | grep -q work_b &&
	fail "mem-alloc: work_b's allocations in work_a's span"
note "mem-alloc: $p% of the bytes in work_b's span under work_b"
grep -q 'http.route=GET /b' spans.txt || fail "--spans shows no attribute named by the process context: $(head -3 spans.txt)"

# pprof: the ids as labels, as go tool pprof lists them
"$DFREPORT" --pprof -o exe.pb.gz exe.dfa 2>/dev/null || fail "--pprof failed"
go tool pprof -tags exe.pb.gz > tags.txt 2>/dev/null || fail "go tool pprof -tags failed"
for k in 1 2; do
	grep -q "$(trace_of $k 0)" tags.txt || fail "pprof -tags lacks trace $(trace_of $k 0): $(head -20 tags.txt)"
done
grep -q 'span_id:' tags.txt && grep -q 'http.route:' tags.txt || fail "pprof labels lack span_id or http.route: $(grep -v '^ *[0-9.]*% *[0-9a-f]*$' tags.txt | head -20 | tr '\n' ' '); dfrecord: $(grep -i 'context\|lost\|drop' exe.err | head -5)"

# Who each process is: pid and start (pids are reused), in --info, in pprof's
# labels, and as frames with --tid-frames.
"$DFREPORT" --info exe.dfa > info.txt 2>/dev/null || fail "--info failed"
id=$(awk '$4 == "exe" { print $3; exit }' info.txt)
[[ "$id" =~ ^[0-9]+-[0-9]{13}$ ]] || fail "--info: no process id PID-START: $(grep -A3 '== processes' info.txt)"
grep -q "process_id: Total" tags.txt && grep -q "$id" tags.txt || fail "pprof labels lack process_id $id"
"$DFREPORT" --folded --tid-frames exe.dfa > ids.folded 2>/dev/null || fail "--tid-frames failed"
grep -q "^exe;\[pid ${id%-*}\];\[tid [0-9]*\];" ids.folded || fail "--tid-frames: $(head -2 ids.folded)"
# A process already running when -p begins: its start from /proc, to a clock tick.
./exe tls 30 &	# killed below: long enough for a sanitized dfrecord's start under load
running=$!
sleep 0.3
expect_exit 0 "$DFRECORD" -F 99 -p $running -d 0.5 -o running.dfa
want=$(python3 - $running <<'PY'
import os, sys, time
ticks = int(open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()[19])
boot = time.clock_gettime(time.CLOCK_REALTIME) - time.clock_gettime(time.CLOCK_BOOTTIME)
print(int((boot + ticks / os.sysconf("SC_CLK_TCK")) * 1000))
PY
)
kill $running 2>/dev/null
wait $running 2>/dev/null
"$DFREPORT" --info running.dfa > info2.txt 2>/dev/null || fail "--info of the -p recording failed"
got=$(awk -v pid=$running '$1 == pid { sub(/^[0-9]+-/, "", $3); print $3; exit }' info2.txt)
[ -n "$got" ] && within $((got - want)) -50 50 || fail "-p: the process started at $want ms, the archive says ${got:-nothing}"
note "who each process is: $id; one already running: start within $((got - want)) ms"

# A program that publishes nothing, its spans from its OTLP JSON lines.
expect_exit 0 "$DFRECORD" -F 499 -e on-cpu,off-cpu -o otlp.dfa -- ./exe otlp 1.2 spans.jsonl
grep -q 'in a trace span' stderr && fail "otlp: samples with a context where none was published"
"$DFREPORT" --folded --span "$(span_of 1 0)" otlp.dfa > none.folded 2>/dev/null
[ -s none.folded ] && fail "otlp: --span selects samples without --spans-from"
check otlp.dfa --spans-from spans.jsonl
note "OTLP spans: each span's function selected by --trace and --span"

# Bad input: one line naming the file and line; ids of the wrong length.
{ head -1 spans.jsonl; echo '{"resourceSpans": [ {'; } > broken.jsonl
expect_exit 1 "$DFREPORT" --spans --spans-from broken.jsonl otlp.dfa
grep -q 'broken.jsonl:2: not JSON' stderr || fail "a broken line is not named: $(cat stderr)"
[ "$(wc -l < stderr)" = 1 ] || fail "a broken spans file: more than one line: $(cat stderr)"
sed '1s/"traceId":"\([0-9a-f]*\)"/"traceId":"\1ff"/' spans.jsonl > badid.jsonl
expect_exit 1 "$DFREPORT" --spans --spans-from badid.jsonl otlp.dfa
grep -q "badid.jsonl:1: a span's traceId is not 32 hexadecimal digits" stderr || fail "a bad traceId: $(cat stderr)"
expect_exit 2 "$DFREPORT" --trace 1234 otlp.dfa
grep -q -- "--trace: '1234' is not a trace id" stderr || fail "a short --trace: $(cat stderr)"
expect_exit 2 "$DFREPORT" --span "$(trace_of 1 0)" otlp.dfa
grep -q -- "--span: .* is not a span id" stderr || fail "a long --span: $(cat stderr)"
expect_exit 1 "$DFREPORT" --spans-from missing.jsonl otlp.dfa
grep -q 'missing.jsonl: No such file' stderr || fail "a missing spans file: $(cat stderr)"
exit 0
