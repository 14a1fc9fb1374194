#!/bin/bash
# Rust: legacy and v0 mangling demangled, hashes hidden (frame pointers forced).
. "$(dirname "$0")/test-subr.sh"
need_bpf
need_tool rustc rustc
for v in legacy v0; do
	flags=""
	[ $v = v0 ] && flags="-C symbol-mangling-version=v0"
	# older toolchains (Debian's 1.63) take v0 mangling as an unstable option
	rustc -O -C force-frame-pointers=yes $flags -o hot-$v "$WORKLOADS/hot.rs" 2>/dev/null ||
		RUSTC_BOOTSTRAP=1 rustc -O -C force-frame-pointers=yes -Z unstable-options $flags -o hot-$v \
			"$WORKLOADS/hot.rs" || fail "cannot build hot.rs ($v)"
	expect_exit 0 "$DFRECORD" -F 499 -o rust-$v.dfa -- ./hot-$v 1.5
	rm -f hot-$v
	expect_exit 0 "$DFREPORT" --folded rust-$v.dfa
	s=$(percent_matching stdout ';<?hot::engine::Mixer<u64>>?::churn$')
	note "$v mangling: hot::engine::Mixer<u64>::churn in $s% of samples"
	within "$s" 40 100 || fail "$v: $(sort -k2 -nr stdout | head -2)"
	grep -q '17h[0-9a-f]\{16\}' stdout && fail "$v: a hash is showing"
done
exit 0
