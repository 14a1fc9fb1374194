#!/bin/bash
# Bad input: clear one-line errors, documented exit codes, no leftovers.
. "$(dirname "$0")/test-subr.sh"

one_line() { [ "$(wc -l < stderr)" -le 2 ] || fail "error is not brief: $(cat stderr)"; }

# Usage errors: exit 2.
expect_exit 1 "$DFREPORT"	# ./prof.dfa, absent here
grep -q 'prof.dfa' stderr || fail "dfreport without an archive does not name ./prof.dfa: $(cat stderr)"
expect_exit 2 "$DFREPORT" --bogus x.dfa
expect_exit 2 "$DFREPORT" --event nosuch x.dfa
grep -q "unknown event 'nosuch'" stderr || fail "bad event not named: $(cat stderr)"
expect_exit 2 "$DFREPORT" --time abc x.dfa
expect_exit 2 "$DFREPORT" --folded --flame x.dfa
expect_exit 2 "$DFREPORT" a.dfa b.dfa
expect_exit 2 "$DFRECORD"
grep -q 'give one of -a, -p PID' stderr || fail "missing scope not explained"
expect_exit 2 "$DFRECORD" -a -p 1
expect_exit 2 "$DFRECORD" -p abc
expect_exit 2 "$DFRECORD" -p 0
expect_exit 2 "$DFRECORD" -a -F 0
expect_exit 2 "$DFRECORD" -a -d -1
expect_exit 2 "$DFRECORD" -a -e off-by-one
expect_exit 2 "$DFRECORD" -a --
expect_exit 2 "$DFRECORD" stray

# Help documents examples and exit codes.
for t in "$DFRECORD" "$DFREPORT"; do
	expect_exit 0 "$t" --help
	grep -q EXAMPLES stdout && grep -q 'EXIT STATUS' stdout || fail "$t --help lacks EXAMPLES/EXIT STATUS"
done

# Files: missing, not an archive, a directory, truncated to nothing.
expect_exit 1 "$DFREPORT" missing.dfa
grep -q 'missing.dfa: No such file' stderr || fail "missing file not named: $(cat stderr)"
one_line
echo 'just some text' > text.dfa
expect_exit 1 "$DFREPORT" text.dfa
grep -q 'text.dfa: not a dfprof archive' stderr || fail "text file: $(cat stderr)"
one_line
mkdir dir.dfa
expect_exit 1 "$DFREPORT" dir.dfa
grep -q 'dir.dfa: is a directory' stderr || fail "directory: $(cat stderr)"
: > empty.dfa
expect_exit 1 "$DFREPORT" empty.dfa
one_line
tar cf other.dfa text.dfa 2>/dev/null
expect_exit 1 "$DFREPORT" other.dfa
grep -q "not a dfprof archive: first member is 'text.dfa'" stderr || fail "foreign tar: $(cat stderr)"

# A progress line on a terminal only (DFPROF_PROGRESS_AFTER=0: at once, not after 2 s).
fixture="$top_srcdir/tests/fixtures/python.dfa"
if command -v script >/dev/null; then
	DFPROF_PROGRESS_AFTER=0 script -qec "$DFREPORT --folded -o /dev/null $fixture" progress.log > /dev/null
	grep -q 'reading samples: [0-9]* of [0-9]*' progress.log || fail "no progress line on a terminal: $(cat -v progress.log)"
fi
DFPROF_PROGRESS_AFTER=0 "$DFREPORT" --folded -o /dev/null "$fixture" 2> progress.err
grep -q 'reading samples' progress.err && fail "a progress line went into a file"

# Recording: privilege, missing process, unrunnable command; none leaves an archive.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$tempdir"
	expect_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$DFRECORD" -a -d 1 -o "$tempdir/nopriv.dfa"
else
	expect_exit 1 "$DFRECORD" -a -d 1 -o nopriv.dfa
fi
grep -q 'root or CAP_BPF+CAP_PERFMON' stderr || fail "privilege error unclear: $(cat stderr)"
one_line
[ -e nopriv.dfa ] && fail "an archive was left without privilege"

if [ "$(id -u)" = 0 ]; then
	expect_exit 1 "$DFRECORD" -p 999999999 -o nopid.dfa
	grep -q 'no such process: 999999999' stderr || fail "missing pid: $(cat stderr)"
	[ -e nopid.dfa ] && fail "archive left for a missing pid"
	expect_exit 1 "$DFRECORD" -o nocmd.dfa -- ./no-such-command
	grep -q "cannot run './no-such-command'" stderr || fail "bad command: $(cat stderr)"
	[ -e nocmd.dfa ] && fail "archive left for a command that did not run"
	expect_exit 1 "$DFRECORD" -a -d 1 -o /nonexistent/dir/x.dfa
	grep -q '/nonexistent/dir/x.dfa' stderr || fail "unwritable output not named: $(cat stderr)"
fi
exit 0
