#!/bin/bash
# Stacks without trusting frame pointers: the recorder's BPF walk with unwind
# tables (the default), and offline CFI unwinding of stack copies (dwarf).
. "$(dirname "$0")/test-subr.sh"
need_bpf

# share_of FOLDED LEAF_RE PATH_RE: percent of LEAF_RE-leaf samples whose stack matches PATH_RE
share_of() {
	awk -v leaf="$2" -v pat="$3" '{ v = $NF; line = $0; sub(/ [0-9]+$/, "", line);
		n = split(line, f, ";"); if (f[n] !~ leaf) next; t += v; if (line ~ pat) m += v }
		END { if (t == 0) print 0; else printf "%.1f\n", 100 * m / t }' "$1"
}

# 1. Frameless leaves under framed callers (gcc -O2 -fno-omit-frame-pointer).
build_workload leaf -O2 -fno-omit-frame-pointer
expect_exit 0 "$DFRECORD" -F 499 -o leaf.dfa -- ./leaf 2
expect_exit 0 "$DFRECORD" -F 499 --call-graph dwarf -o leaf-dwarf.dfa -- ./leaf 1
rm -f leaf
expect_exit 0 "$DFREPORT" --folded leaf.dfa
mv stdout leaf.folded
b=$(share_of leaf.folded '^beta_leaf$' ';main;beta;beta_leaf$')
a=$(share_of leaf.folded '^alpha_leaf$' ';main;alpha;alpha_leaf$')
note "main;beta;beta_leaf in $b% of beta_leaf samples, main;alpha;alpha_leaf in $a%"
within "$b" 90 100 || fail "leaf repair: beta missing under beta_leaf: $(grep beta_leaf leaf.folded | head -3)"
within "$a" 90 100 || fail "leaf repair: alpha missing under alpha_leaf"
# The frame-pointer chain alone skips the callers: a dwarf recording's, its copies left aside.
expect_exit 0 "$DFREPORT" --folded leaf-dwarf.dfa
b=$(share_of stdout '^beta_leaf$' ';main;beta;beta_leaf$')
within "$b" 90 100 || fail "dwarf mode: beta missing under beta_leaf ($b%)"
expect_exit 0 "$DFREPORT" --folded --no-unwind leaf-dwarf.dfa
nb=$(share_of stdout '^beta_leaf$' ';beta;beta_leaf$')
note "frame pointers alone: beta;beta_leaf in $nb%"
within "$nb" 0 50 || fail "--no-unwind should show the frame-pointer chain's gap ($nb%)"

# 2. No frame pointers at all: dwarf mode, and auto mode (the default) finds out by itself.
build_workload cpusplit -O2 -fomit-frame-pointer
for mode in dwarf auto; do
	expect_exit 0 "$DFRECORD" -F 499 --call-graph $mode -o nofp-$mode.dfa -- ./cpusplit 2
	expect_exit 0 "$DFREPORT" --folded nofp-$mode.dfa
	mv stdout nofp.folded
	m=$(percent_matching nofp.folded ';main;hot_[abc]$')
	sa=$(leaf_share nofp.folded '^hot_a$')
	sb=$(leaf_share nofp.folded '^hot_b$')
	note "$mode, -fomit-frame-pointer: main reached in $m%; hot_a $sa%, hot_b $sb%"
	within "$m" 90 100 || fail "$mode: stacks reach main in only $m%: $(sort -k2 -n -r nofp.folded | head -2)"
	within "$sa" 52 68 || fail "$mode: hot_a has $sa%"
	within "$sb" 23 37 || fail "$mode: hot_b has $sb%"
done
expect_exit 0 "$DFREPORT" --info nofp-auto.dfa
grep -q '^stack copies' stdout || fail "--info does not report stack copies"

# 3. The Debian python3 interpreter (no frame pointers): native frames down to main.
if [ -x /usr/bin/python3 ]; then
	expect_exit 0 "$DFRECORD" -F 499 -o py.dfa -- /usr/bin/python3 "$WORKLOADS/pyhot.py" 2
	expect_exit 0 "$DFREPORT" --folded py.dfa
	p=$(percent_matching stdout ';(Py_BytesMain|main);')
	note "python3: Py_BytesMain/main reached in $p% of samples"
	within "$p" 90 100 || fail "python3 stacks reach main in only $p%: $(sort -k2 -n -r stdout | head -2 | cut -c1-300)"
	expect_exit 0 "$DFREPORT" --info py.dfa
	grep 'bytes per sample' stdout
else
	fail "/usr/bin/python3 (Debian's interpreter) is not installed"
fi

# --call-graph fp: no copies at all.
build_workload leaf -O2 -fno-omit-frame-pointer
expect_exit 0 "$DFRECORD" -F 199 --call-graph fp -o fp.dfa -- ./leaf 0.5
expect_exit 0 "$DFREPORT" --info fp.dfa
grep -q '^stack copies *0' stdout || fail "--call-graph fp still copied stacks: $(grep 'stack copies' stdout)"
exit 0
