#!/bin/bash
# dfreport --html in headless Chromium: the page renders the hot functions
# as elements, logs no errors, a range in the URL fragment (#t=START:END)
# changes what the flame graph shows, #e=EVENT switches events, and --diff
# colours what changed.  The page is checked from checked-in archives, and
# (with root) from a recording of two phases one after the other.
. "$(dirname "$0")/replay-subr.sh"
need_tool chromium chromium
export HOME="$tempdir"

# page FILE [FRAGMENT]: the page's DOM after its script ran, in dom.html; fails on a script error
page() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tempdir/chrome" \
		--virtual-time-budget=5000 --enable-logging=stderr --v=0 --dump-dom "file://$tempdir/$1${2:-}" \
		> dom.html 2> chrome.err || fail "chromium could not load $1${2:-}: $(tail -3 chrome.err)"
	grep -q '<div class="f' dom.html || fail "$1${2:-}: no flame graph boxes: $(head -c 600 dom.html)"
	grep -E 'CONSOLE|Uncaught' chrome.err && fail "$1${2:-}: the script logged errors"
	grep -q '<pre id="errors"></pre>' dom.html || fail "$1${2:-}: $(grep -o '<pre id="errors">[^<]*' dom.html)"
}
boxes() { grep -o "data-name=\"$1\"" dom.html | wc -l; }
summary() { grep -o '<span id="summary">[^<]*' dom.html | sed 's/.*>//'; }

expect_exit 0 "$DFREPORT" --html python.dfa
[ -s python.html ] || fail "--html did not write python.html"
grep -Eq '<script[^>]* src=|<link |https?://' python.html && fail "the page loads something from elsewhere"
page python.html
[ "$(boxes hot)" -ge 1 ] && [ "$(boxes '&lt;module&gt;')" -ge 1 ] || fail "python.html: hot or <module> not drawn"
grep -q '<td>hot</td>' dom.html || fail "python.html: hot is not in the function table"
summary | grep -q '^on-cpu: 152 samples' || fail "python.html summary: $(summary)"

# Nothing matches: the page says so, without script errors.
expect_exit 0 "$DFREPORT" --html --pid 1 -o empty.html python.dfa
grep -q 'no samples match' stderr || fail "--html with nothing to show: no warning"
timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tempdir/chrome" --virtual-time-budget=3000 \
	--enable-logging=stderr --v=0 --dump-dom "file://$tempdir/empty.html" > dom.html 2> chrome.err
grep -E 'CONSOLE|Uncaught' chrome.err && fail "empty.html: the script logged errors"
grep -q 'No samples match' dom.html || fail "empty.html does not say no samples match"

# A range in the fragment: fewer samples, the same page.
expect_exit 0 "$DFREPORT" --html -o fp.html oncpu-fp.dfa
page fp.html
all=$(summary)
page fp.html '#t=0.1:0.3'
part=$(summary)
note "whole: $all; 0.1-0.3 s: $part"
n_all=$(echo "$all" | sed 's/^on-cpu: \([0-9]*\).*/\1/'); n_part=$(echo "$part" | sed 's/^on-cpu: \([0-9]*\).*/\1/')
[ "$n_part" -gt 0 ] && [ "$n_part" -lt "$n_all" ] || fail "#t=0.1:0.3 shows $n_part of $n_all samples"
echo "$part" | grep -q '0.10 s to 0.30 s' || fail "the range is not said: $part"

# --diff: the page is coloured by change.
expect_exit 0 "$DFREPORT" --html --diff oncpu-fp.dfa -o diff.html oncpu-copies.dfa
page diff.html
summary | grep -q 'against oncpu-fp.dfa' || fail "diff page: $(summary)"

if [ "$(id -u)" = 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	build_workload phases -O1
	# 2 s a phase: the windows below hold while the command starts up to
	# 0.8 s after the recording does (a sanitized dfrecord under load).
	expect_exit 0 "$DFRECORD" -F 499 -e on-cpu,off-cpu -o ph.dfa -- sh -c './phases 2; sleep 0.3'
	expect_exit 0 "$DFREPORT" --html ph.dfa
	page ph.html
	[ "$(boxes phase_one)" -ge 1 ] && [ "$(boxes phase_two)" -ge 1 ] || fail "ph.html: both phases should show"
	grep -q '<option value="1">off-cpu</option>' dom.html || fail "ph.html: no event switch to off-cpu"
	page ph.html '#t=0:1.2'
	[ "$(boxes phase_one)" -ge 1 ] && [ "$(boxes phase_two)" = 0 ] || fail "#t=0:1.2: phase_two drawn, or phase_one not"
	page ph.html '#t=2.8:3.8'
	[ "$(boxes phase_two)" -ge 1 ] && [ "$(boxes phase_one)" = 0 ] || fail "#t=2.8:3.8: phase_one drawn, or phase_two not"
	page ph.html '#e=off-cpu'
	summary | grep -q '^off-cpu: ' || fail "#e=off-cpu: $(summary)"
else
	note "not root: the recorded half (phases, event switch) not checked"
fi
exit 0
