#!/bin/bash
# Python source lines: dfreport's location-table reader agrees with the
# interpreter's co_positions() on every code unit of some standard modules
# (Debian's 3.11, and any 3.12 or 3.13 the machine has).
. "$(dirname "$0")/test-subr.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY (Debian's python3 package) is not installed"
[ "$("$PY" -c 'import sys; print(sys.version_info[:2] == (3, 11))')" = True ] || skip "$PY is not Python 3.11"
cat >gen.py <<'PYEOF'
import json, dis, threading, argparse, email.parser, types

def codes(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from codes(c)

for mod in (json.decoder, dis, threading, argparse, email.parser):
    src = open(mod.__file__).read()
    for co in codes(compile(src, mod.__file__, "exec")):
        lines = [-1 if p[0] is None else p[0] for p in co.co_positions()]
        print(co.co_firstlineno, co.co_linetable.hex() or "-", *lines)
PYEOF
for py in "$PY" $(other_pythons); do
	"$py" gen.py >tables || fail "$py: cannot dump location tables"
	"$top_builddir/tests/test-pylines" <tables >out 2>err || fail "$py: $(cat out) $(head -c 600 err)"
	note "$py: $(cat out)"
done
exit 0
