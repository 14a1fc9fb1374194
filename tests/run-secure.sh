#!/bin/bash
# dfrecord as root among other users: it runs nothing a recorded process
# provides, follows no planted link, opens no planted FIFO, writes its
# archive privately, keeps only the capabilities it uses, and keeps
# command lines and environments out of stack copies.
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool setpriv util-linux
need_tool zstd zstd
build_workload cpusplit -O2 -fno-omit-frame-pointer
build_workload jitcode -O2
chmod 755 "$tempdir"
# not a function: "$AS_NOBODY cmd &" must leave cmd's own pid in $!
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
# decompressed ARCHIVE [PREFIX]: the members' bytes, for grep
decompressed() {
	rm -rf x && mkdir x && tar -xf "$1" -C x && find x/"${2:-}" -type f | while read -r f; do zstd -qdc "$f"; done
}

# 1. A program named java with a jcmd beside it: the jcmd never runs.
mkdir evil && cp cpusplit evil/java && chmod 755 evil evil/java
printf '#!/bin/sh\ntouch %s/jcmd-ran\n' "$tempdir" > evil/jcmd
chmod 755 evil/jcmd
$AS_NOBODY ./evil/java 4 &
fake=$!
cleanup_hooks="kill $fake 2>/dev/null;"
sleep 0.3
expect_exit 0 "$DFRECORD" -a -F 199 -d 1.5 -o evil.dfa
[ -e jcmd-ran ] && fail "dfrecord ran a jcmd planted beside a program named java"
wait $fake

# 2. /tmp/perf-PID.map planted as a link to a root-only file, as a FIFO, or
# owned by someone else: never read, never waited on; nor one of the right
# owner last written before the process began (an earlier process's, the
# pid reused).  (The victim runs anonymous code: dfrecord looks for perf
# maps only of such processes.)
echo "1000 100 root_only_secret" > secret.map
chmod 600 secret.map
for kind in link fifo foreign stale; do
	$AS_NOBODY ./jitcode 3 nomap &
	victim=$!
	cleanup_hooks="kill $victim 2>/dev/null; rm -f /tmp/perf-$victim.map;"
	case $kind in
	link) $AS_NOBODY ln -s "$tempdir/secret.map" /tmp/perf-$victim.map ;;
	fifo) $AS_NOBODY mkfifo /tmp/perf-$victim.map ;;
	foreign) cp secret.map /tmp/perf-$victim.map && chown 65533 /tmp/perf-$victim.map &&
		chmod 644 /tmp/perf-$victim.map ;;
	stale) cp secret.map /tmp/perf-$victim.map && chown "$($AS_NOBODY id -u)" /tmp/perf-$victim.map &&
		chmod 644 /tmp/perf-$victim.map && touch -d '-1 hour' /tmp/perf-$victim.map ;;
	esac
	timeout -k 5 30 "$DFRECORD" -p $victim -F 199 -d 1 -o map.dfa 2>rec.err
	rc=$?
	[ $rc = 124 ] && fail "$kind perf map: dfrecord hung"
	[ $rc = 0 ] || fail "$kind perf map: dfrecord exited $rc: $(cat rec.err)"
	decompressed map.dfa | grep -q root_only_secret && fail "$kind perf map: its target went into the archive"
	kill $victim 2>/dev/null
	wait $victim 2>/dev/null
	rm -f /tmp/perf-$victim.map
	[ $kind = foreign ] && ! grep -q 'belongs to uid 65533' rec.err &&
		fail "a perf map of another user refused without a word: $(cat rec.err)"
done
grep -q 'last written before the process began' rec.err ||
	fail "a perf map older than its process refused without a word: $(cat rec.err)"

# 3. -o: a link there is replaced, not written through; a dangling one creates nothing.
echo "not yours" > victim && ln -s victim out.dfa && ln -s nowhere dangling.dfa
expect_exit 0 "$DFRECORD" -a -d 0.5 -o out.dfa
[ "$(cat victim)" = "not yours" ] || fail "-o wrote through a link"
[ -L out.dfa ] && fail "-o left the link in place"
expect_exit 0 "$DFREPORT" --info out.dfa
expect_exit 0 "$DFRECORD" -a -d 0.5 -o dangling.dfa
[ -e nowhere ] && fail "-o created a dangling link's target"

# 4. The archive is its owner's alone.
[ "$(stat -c %a out.dfa)" = 600 ] || fail "archive mode is $(stat -c %a out.dfa), not 600"

# 5. A start that fails leaves an older archive of that name as it was.
echo "an older recording" > keep.dfa
expect_exit 1 "$DFRECORD" -o keep.dfa -- ./no-such-command
[ "$(cat keep.dfa)" = "an older recording" ] || fail "a failed start destroyed the existing archive"
ls -A | grep -q '^\.keep\.dfa\.' && fail "a failed start left its temporary file"

# 6. Capabilities once attached: only those named in session.c (caps_needed).
caps_of() {
	rm -f caps.dfa
	"$DFRECORD" -a -d 2 -o caps.dfa "$@" 2>/dev/null &
	local rec=$! i
	local full c
	full=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
	# The archive is published, then the capabilities go: until they do
	# (a start beside other tests can take seconds), or for 20 s.
	for i in $(seq 200); do
		sleep 0.1
		[ -e caps.dfa ] || continue
		c=$(awk '/^CapEff/ { print $2 }' /proc/$rec/status)
		[ "$c" != "$full" ] && break
	done
	sleep 0.1
	awk '/^CapEff/ { print $2 }' /proc/$rec/status
	wait $rec
}
# CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_CHECKPOINT_RESTORE; SETUID+SETGID for the JVM attach;
# BPF+PERFMON+SYS_ADMIN for uprobes on libraries loaded later (the kernel wants SYS_ADMIN for a uprobe)
c=$(caps_of)
[ "$c" = 00000100000800c4 ] || fail "capabilities after attach: $c, want 00000100000800c4"
c=$(caps_of --no-jvm-perfmap)
[ "$c" = 0000010000080004 ] || fail "with --no-jvm-perfmap: $c, want 0000010000080004"
c=$(caps_of --no-jvm-perfmap -e mem-alloc)
[ "$c" = 000001c000280004 ] || fail "with -e mem-alloc: $c, want 000001c000280004"

# 7. Secrets in the environment and on the command line stay out of stack copies;
# --no-cmdline keeps them out of the process table too.
export DFPROF_SECRET_ENV=envsecret0123456789
expect_exit 0 "$DFRECORD" -F 499 --call-graph dwarf --no-cmdline -o sec.dfa -- ./cpusplit 1 argsecret0123456789
unset DFPROF_SECRET_ENV
n=$(decompressed sec.dfa samples | grep -c 'envsecret0123456789\|argsecret0123456789')
[ "$n" = 0 ] || fail "secrets found in the stack copies ($n)"
decompressed sec.dfa procs | grep -q argsecret0123456789 && fail "--no-cmdline: the command line is in procs/"
decompressed sec.dfa | grep -q 'argsecret0123456789' && fail "--no-cmdline: the command line is in the archive"
expect_exit 0 "$DFREPORT" --folded sec.dfa
grep -q 'hot_a' stdout || fail "the clamped stack copies lost the profile: $(head -3 stdout)"
exit 0
