#!/bin/bash
# --rotate: one process recorded by two dfrecords at once, one writing 2 s
# archives, one a single archive.  The rotated archives must hold the same
# samples (within what either lost), each readable alone, their times
# following one another without gap or overlap; --keep deletes the oldest.
. "$(dirname "$0")/test-subr.sh"
need_bpf
build_workload cpusplit -O2 -fno-omit-frame-pointer

# The work waits for both recorders to run, then takes 8 s of CPU.
sh -c 'while [ ! -e go ]; do sleep 0.02; done; exec ./cpusplit 8' &
work=$!
cleanup_hooks="kill $work 2>/dev/null;"
"$DFRECORD" -F 499 -p "$work" --rotate 2 -o rot/ 2>rot.err &
rec=$!
"$DFRECORD" -F 499 -p "$work" -o one.dfa 2>one.err &
one=$!
cleanup_hooks="kill $work $rec $one 2>/dev/null;"
for _ in $(seq 1 300); do
	[ -e one.dfa ] && [ -n "$(ls -A rot 2>/dev/null)" ] && break
	sleep 0.05
done
[ -e one.dfa ] && [ -n "$(ls -A rot 2>/dev/null)" ] || fail "the recorders did not start: $(cat rot.err one.err)"
touch go
wait "$work"
wait "$rec" || fail "rotating dfrecord failed: $(cat rot.err)"
wait "$one" || fail "dfrecord failed: $(cat one.err)"

ls rot > names
n=$(wc -l < names)
[ "$n" -ge 4 ] && [ "$n" -le 7 ] || fail "$n archives for about 9 s in 2 s archives: $(cat names)"
grep -qvE '^[A-Za-z0-9._-]+-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.dfa$' names && fail "unexpected names: $(cat names)"
for f in rot/*; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not private"
done

# The times follow one another: each archive starts where the last ended.
prev_end=""
total=0
lost=0
for f in $(LC_ALL=C sort names); do
	expect_exit 0 "$DFREPORT" --info "rot/$f"
	grep -q '^status *complete' stdout || fail "$f is not complete"
	s=$(awk '$1 == "start_wall_ns" { print $2 }' stdout)
	d=$(awk '$1 == "duration_ns" { print $2 }' stdout)
	l=$(awk '$1 == "lost" { print $2 }' stdout)
	lost=$((lost + l))
	if [ -n "$prev_end" ] && [ "$s" != "$prev_end" ]; then
		fail "$f starts at $s, the one before ended at $prev_end"
	fi
	prev_end=$((s + d))
	# Each one alone names what it sampled.
	"$DFREPORT" --folded "rot/$f" > f.folded 2>/dev/null || fail "$f: no report"
	k=$(awk '{ s += $NF } END { print s + 0 }' f.folded)
	total=$((total + k))
	# hot_a leads each archive (60% of the work); an archive of 2 s can read
	# well off that share when the loop's period beats with the sampling
	# period, so the share is checked over all of them.
	if [ "$k" -ge 100 ]; then
		a=$(leaf_share f.folded '^hot_a$')
		within "$a" 40 100 || fail "$f: hot_a has $a% of $k samples: $(head -3 f.folded)"
	fi
	cat f.folded >> all.folded
done
a=$(leaf_share all.folded '^hot_a$')
within "$a" 45 75 || fail "hot_a has $a% of the rotated archives' samples"
expect_exit 0 "$DFREPORT" --folded one.dfa
single=$(awk '{ s += $NF } END { print s + 0 }' stdout)
l1=$("$DFREPORT" --info one.dfa | awk '$1 == "lost" { print $2 }')
note "rotated: $total samples in $n archives ($lost lost); one archive: $single ($l1 lost)"
[ "$single" -ge 3000 ] || fail "only $single samples in the single archive"
# Both sampled the same 8 s at 499 Hz; start-up and the end differ by a few samples.
diff=$(( total > single ? total - single : single - total ))
[ "$diff" -le $(( single / 50 + lost + l1 + 10 )) ] || fail "rotated $total vs single $single samples"

# Python functions named in each archive, not only the first that met them.
if [ -x /usr/bin/python3 ]; then
	expect_exit 0 "$DFRECORD" -F 199 --rotate 1 -o py/ -- /usr/bin/python3 "$WORKLOADS/pyhot.py" 3
	for f in py/*; do
		"$DFREPORT" --folded "$f" > p.folded 2>/dev/null || fail "$f: no report"
		k=$(awk '{ s += $NF } END { print s + 0 }' p.folded)
		[ "$k" -ge 50 ] || continue
		h=$(percent_matching p.folded ';hot(;|$)')
		within "$h" 80 100 || fail "$f: the Python function hot has $h% of $k samples: $(sort -k2 -n p.folded | tail -2)"
	done
fi

# --keep 2: only the two newest stay.
expect_exit 0 "$DFRECORD" -a -F 99 --rotate 1 --keep 2 -d 4.5 -o kept/
ls kept > kept.names
[ "$(wc -l < kept.names)" = 2 ] || fail "--keep 2 left $(cat kept.names)"
grep -q '5 archives' stderr || fail "summary: $(tail -1 stderr)"
# bytes: a size below one archive keeps the newest one alone
expect_exit 0 "$DFRECORD" -a -F 99 --rotate 1 --keep 1K -d 2.5 -o sized/
[ "$(ls sized | wc -l)" = 1 ] || fail "--keep 1K left $(ls sized)"
# What --keep deletes is this host's archives only.
touch kept/notes.txt kept/other-20261201T000000.000Z.dfa
expect_exit 0 "$DFRECORD" -a -F 99 --rotate 1 --keep 1 -d 1.5 -o kept/
[ -e kept/notes.txt ] && [ -e kept/other-20261201T000000.000Z.dfa ] || fail "--keep deleted files it did not write"

# Usage.
expect_exit 2 "$DFRECORD" -a --rotate 2
grep -q 'give the directory' stderr || fail "--rotate without -o: $(cat stderr)"
expect_exit 2 "$DFRECORD" -a --keep 3 -o x.dfa
expect_exit 2 "$DFRECORD" -a --rotate 0.5 -o r/
expect_exit 2 "$DFRECORD" -a --rotate 2 --keep 5X -o r/
mkdir real && ln -s real linked
expect_exit 1 "$DFRECORD" -a --rotate 2 -d 1 -o linked/
grep -q 'a symbolic link' stderr || fail "a link to a directory: $(cat stderr)"
mkdir shared && chmod 777 shared
expect_exit 1 "$DFRECORD" -a --rotate 2 -d 1 -o shared
grep -q "must be dfrecord's own" stderr || fail "a world-writable directory: $(cat stderr)"
touch afile
expect_exit 1 "$DFRECORD" -a --rotate 2 -d 1 -o afile
grep -q 'not a directory' stderr || fail "-o a file with --rotate: $(cat stderr)"
exit 0
