#!/bin/bash
# A 0.4 s Python script has Python frames from its first samples: the
# interpreter dfrecord knows (the command's own, or one it met before) is
# walked from exec on, in BPF, before dfrecord has seen the exec; on-CPU,
# off-CPU and memory.
. "$(dirname "$0")/test-subr.sh"
need_bpf
PY=/usr/bin/python3
[ -x "$PY" ] || skip "Debian's python3 not found"
cp "$WORKLOADS/pystart.py" . || fail "no workload"

# named FOLDED: percent of the value whose stacks carry the script's frames
named() { percent_matching "$1" ';<module>(;|$)'; }
# unnamed FOLDED: the heaviest stacks without them, for a failure's message
unnamed() { grep -v ';<module>' "$1" | awk '{ print $NF, $0 }' | sort -n | tail -3 | cut -c1-400; }
# running FOLDED: of the value where Python code ran (named, or a bare eval
# loop), the percent named
running() {
	awk '{ v = $NF } /;<module>(;| [0-9])/ { p += v; next } /_PyEval_EvalFrameDefault/ { e += v }
		END { if (p + e == 0) print 0; else printf "%.1f\n", 100 * p / (p + e) }' "$1"
}

# -- COMMAND, on-CPU: at least 95% of all samples, interpreter start-up included
expect_exit 0 "$DFRECORD" -F 999 -o cpu.dfa -- "$PY" pystart.py cpu
"$DFREPORT" --folded cpu.dfa > cpu.folded 2>/dev/null || fail "no report"
n=$(awk '{ s += $NF } END { print s + 0 }' cpu.folded)
c=$(named cpu.folded)
note "on-cpu: $c% of $n samples with Python frames"
[ "$n" -ge 100 ] || fail "only $n samples"
within "$c" 95 100 || fail "on-cpu: $c% of the samples have Python frames: $(sort -k2 -n cpu.folded | tail -3)"

# A script run by its #!/usr/bin/env python3 line.
# (PATH as on Debian: this python3 is the one env finds)
PATH=/usr/bin:/bin expect_exit 0 "$DFRECORD" -F 999 -o env.dfa -- ./pystart.py cpu
"$DFREPORT" --folded env.dfa > env.folded 2>/dev/null || fail "no report"
c=$(named env.folded)
within "$c" 95 100 || fail "#!/usr/bin/env python3: $c% of the samples have Python frames: $(unnamed env.folded)"

# Off-CPU and memory: waits from its first milliseconds, allocations.
expect_exit 0 "$DFRECORD" -e off-cpu,mem-alloc -o wait.dfa -- "$PY" pystart.py wait
"$DFREPORT" --folded --event off-cpu wait.dfa > off.folded 2>/dev/null || fail "no off-cpu report"
"$DFREPORT" --folded --event mem-alloc wait.dfa > mem.folded 2>/dev/null || fail "no memory report"
w=$(percent_matching off.folded ';<module>;waiter;')
m=$(running mem.folded)
note "off-cpu: $w% of the wait time under waiter; memory: $m% of the bytes allocated by Python code named"
within "$w" 95 100 || fail "off-cpu: $w% of the time under waiter: $(sort -k2 -n off.folded | tail -2)"
within "$m" 95 100 || fail "memory: $m% of Python code's bytes named"

# -a: the second process of an interpreter dfrecord met is walked from its exec.
# (-vv: dfrecord says when it has keyed the interpreter; the test waits for
# that rather than for a fixed time, which a slow, sanitized build outruns)
"$DFRECORD" -a -vv -F 999 -o all.dfa 2>rec.err &
rec=$!
cleanup_hooks="kill $rec 2>/dev/null;"
ino=$(stat -L -c %i "$PY")
keyed=
for _ in $(seq 1 200); do
	"$PY" -c 'pass'
	grep -q "interpreter (inode $ino): walked from exec on" rec.err && { keyed=1; break; }
	sleep 0.1
done
[ -n "$keyed" ] || fail "dfrecord -a never keyed $PY (inode $ino): $(tail -3 rec.err)"
"$PY" pystart.py cpu &
second=$!
wait $second
# -a: the first process of an interpreter dfrecord has not met (a copy, a new
# inode): told of as its executable is keyed, before that file's unwind table
# is built.
cp -L "$PY" ./py3copy || fail "cannot copy $PY"
./py3copy pystart.py cpu &
first=$!
wait $first
sleep 0.2
kill -INT $rec
wait $rec || fail "dfrecord -a failed: $(cat rec.err)"
"$DFREPORT" --folded --pid $second all.dfa > all.folded 2>/dev/null || fail "no report"
c=$(named all.folded)
note "-a, an interpreter met before: $c% with Python frames"
within "$c" 95 100 || fail "-a: $c% of the second process's samples have Python frames: $(unnamed all.folded)"
"$DFREPORT" --folded --pid $first all.dfa > new.folded 2>/dev/null || fail "no report"
c=$(named new.folded)
note "-a, an interpreter not met before: $c% with Python frames"
# (its unnamed share is dfrecord's time to find the process and key its
# executable: a time bound, four times as long in the sanitizer build)
within "$c" "$(awk -v s="$(slow 5)" 'BEGIN { print 100 - s }')" 100 ||
	fail "-a: $c% of a new interpreter's first process's samples have Python frames: $(unnamed new.folded)"
exit 0
