# Shared by tests/run-replay-*.sh: the replay cases of tests/fixtures/cases
# whose names match a pattern, each dfreport run compared byte for byte
# (standard error too) with tests/fixtures/expected/NAME.  Needs no root.
. "$(dirname "$0")/test-subr.sh"
fixtures="$top_srcdir/tests/fixtures"
ln -s "$fixtures"/*.dfa "$fixtures"/*.jsonl .

# replay PATTERN MIN: the cases named PATTERN (an extended regex), at least MIN of them
replay() {
	local pattern=$1 min=$2 n=0 name archive opts
	while read -r name archive opts; do
		case "$name" in "#"* | "") continue ;; esac
		echo "$name" | grep -Eq "^($pattern)$" || continue
		# shellcheck disable=SC2086
		"$DFREPORT" $opts "$archive" >out 2>err
		cmp -s out "$fixtures/expected/$name" ||
			fail "$name: dfreport $opts $archive differs from expected/$name: $(diff "$fixtures/expected/$name" out | head -20)"
		cmp -s err "$fixtures/expected/$name.stderr" ||
			fail "$name: standard error differs: $(diff "$fixtures/expected/$name.stderr" err | head -10)"
		n=$((n + 1))
	done < "$fixtures/cases"
	note "$n cases as expected"
	[ "$n" -ge "$min" ] || fail "only $n cases match $pattern"
}
