#!/bin/bash
# Archive size per recorded second of a system-wide recording of a busy
# build (this project, rebuilt with make -j2 in a copy), and its split
# between samples and objects; beside perf.data plus `perf archive`.
. "$(dirname "$0")/bench-subr.sh"
SECS=${SECS:-30}
src=$(cd "$here/../.." && pwd)

mkdir build && (cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$bdir/build") || exit 1
(cd build && ./autogen.sh >/dev/null 2>&1 && ./configure -q >/dev/null 2>&1) || { echo "cannot configure the copy" >&2; exit 1; }
busy() { (cd build && while :; do make -s clean; make -s -j2; done) >/dev/null 2>&1 & echo $!; }

b=$(busy)
"$DFRECORD" -a -d "$SECS" -o build.dfa 2>/dev/null
pkill -P "$b"; kill "$b"; wait "$b" 2>/dev/null
if [ -n "$PERF" ]; then
	b=$(busy)
	"$PERF" record -q -a -g -F 99 -o perf.data -- sleep "$SECS" >/dev/null 2>&1
	pkill -P "$b"; kill "$b"; wait "$b" 2>/dev/null
	rm -f perf.data.tar.bz2
	"$PERF" archive perf.data >/dev/null 2>&1
fi
info=$("$DFREPORT" --info build.dfa)
member() { echo "$info" | awk -v k="$1" '$1 == k { v = $4 } END { print v + 0 }'; }
total=$(size_of build.dfa)
printf '%-34s %12s %12s\n' "($SECS s of make -j2, 99 Hz)" bytes "KiB/s"
row() { printf '%-34s %12s %12s\n' "$1" "$2" "$(awk -v b="$2" -v s="$SECS" 'BEGIN { printf "%.1f", b / s / 1024 }')"; }
row ".dfa whole" "$total"
row ".dfa samples/" "$(member samples/)"
row ".dfa objects/" "$(member objects/)"
row ".dfa procs/ + kernel/ + jit/" "$(( $(member procs/) + $(member kernel/) + $(member jit/) ))"
if [ -n "$PERF" ]; then
	row "perf.data" "$(size_of perf.data)"
	row "perf.data + perf archive" "$(( $(size_of perf.data) + $(size_of perf.data.tar.bz2) ))"
fi
echo "samples: $("$DFREPORT" --info build.dfa | awk '$1 == "samples" { print $2 }') (dfrecord), $([ -n "$PERF" ] && perf_samples perf.data) (perf); processes: $(echo "$info" | awk '$1 == "images" { print $2 }')"
