#!/bin/bash
# The replay half from checked-in archives (tests/fixtures, remade by
# record.sh): every report mode on on-CPU (frame pointers and stack
# copies), off-CPU, memory, Python, Go, Java JIT and a truncated archive,
# compared byte for byte, standard error too, with expected/ (expect.sh
# writes it).  Needs no root.
. "$(dirname "$0")/test-subr.sh"
fixtures="$top_srcdir/tests/fixtures"
ln -s "$fixtures"/*.dfa .
n=0
while read -r name archive opts; do
	case "$name" in "#"* | "") continue ;; esac
	# shellcheck disable=SC2086
	"$DFREPORT" $opts "$archive" >out 2>err
	cmp -s out "$fixtures/expected/$name" ||
		fail "$name: dfreport $opts $archive differs from expected/$name: $(diff "$fixtures/expected/$name" out | head -20)"
	cmp -s err "$fixtures/expected/$name.stderr" ||
		fail "$name: standard error differs: $(diff "$fixtures/expected/$name.stderr" err | head -10)"
	n=$((n + 1))
done < "$fixtures/cases"
note "$n cases as expected"
[ "$n" -ge 30 ] || fail "only $n cases"
exit 0
