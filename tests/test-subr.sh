# Shared by tests/run-*.sh (elfutils style): each test runs in its own
# temporary directory with the tools from the build tree.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
DFRECORD="$top_builddir/dfrecord"
DFREPORT="$top_builddir/dfreport"
WORKLOADS="$top_srcdir/tests/workloads"
test_name=$(basename "$0" .sh)

tempdir=$(mktemp -d "/tmp/dfprof-$test_name.XXXXXX")
cleanup_hooks=""
trap 'eval "$cleanup_hooks"; cd /; rm -rf "$tempdir"' EXIT
cd "$tempdir" || exit 99

fail() { echo "FAIL: $test_name: $*" >&2; exit 1; }
skip() { echo "SKIP: $test_name: $*" >&2; exit 77; }
note() { echo "$test_name: $*"; }

# Recording needs root (or CAP_BPF+CAP_PERFMON) and kernel BTF.
need_bpf() {
	[ "$(id -u)" = 0 ] || skip "needs root to load BPF programs"
	[ -r /sys/kernel/btf/vmlinux ] || skip "kernel has no BTF (/sys/kernel/btf/vmlinux)"
	bpf_lock shared
}

# need_bpf_alone: as need_bpf, for a test that looks at what probes did to
# other processes, so no other test may record while it runs (make check
# runs tests side by side, and their file-wide uprobes reach every process).
need_bpf_alone() {
	need_bpf
	bpf_lock alone
}

# bpf_lock shared|alone: recording tests hold the lock shared, one that must
# be alone holds it exclusively; the gate stops new shared holders while it
# waits, so it is not starved by tests that keep starting.
bpf_lock() {
	local lock=${DFPROF_TEST_LOCK:-/run/lock/dfprof-tests}
	[ -d "${lock%/*}" ] || lock=/tmp/dfprof-tests
	exec 9>&- 8>"$lock.gate"
	flock 8
	exec 9>"$lock"
	if [ "$1" = alone ]; then
		flock -w 900 9 || fail "other tests kept $lock for 15 minutes"
	else
		flock -s 9
		exec 8>&-
	fi
}

# free_port: a TCP port of loopback nobody listens on now (the kernel's pick)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# need_tool COMMAND PACKAGE: a runtime's toolchain, or skip saying which package
need_tool() {
	command -v "$1" >/dev/null || skip "$1 not found (Debian package $2)"
}

# build_workload NAME [CFLAGS...]: compiles tests/workloads/NAME.c into ./NAME
build_workload() {
	local name=$1
	shift
	${CC:-cc} -g "$@" -o "$name" "$WORKLOADS/$name.c" || fail "cannot build workload $name"
}

# expect_exit CODE CMD...: runs CMD, stderr to ./stderr, stdout to ./stdout
expect_exit() {
	local want=$1 got
	shift
	"$@" >stdout 2>stderr
	got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(head -c 600 stderr)"
}

# share FOLDED_FILE PATTERN: percent of the total value whose leaf frame matches PATTERN
leaf_share() {
	awk -v pat="$2" '{ v = $NF; total += v; line = $0; sub(/ [0-9]+$/, "", line);
		n = split(line, f, ";"); if (f[n] ~ pat) hit += v }
		END { if (total == 0) print 0; else printf "%.1f\n", 100 * hit / total }' "$1"
}

# sum_matching FOLDED_FILE PATTERN: total value of the stacks matching PATTERN
# (%.0f: mawk's %d stops at 2^31)
sum_matching() {
	awk -v pat="$2" '{ v = $NF; line = $0; sub(/ [0-9]+$/, "", line); if (line ~ pat) s += v }
		END { printf "%.0f\n", s }' "$1"
}

# percent_matching FOLDED_FILE PATTERN: percent of the total value in stacks matching PATTERN
percent_matching() {
	awk -v pat="$2" '{ v = $NF; line = $0; sub(/ [0-9]+$/, "", line); t += v; if (line ~ pat) m += v }
		END { if (t == 0) print 0; else printf "%.1f\n", 100 * m / t }' "$1"
}

# within VALUE LOW HIGH
within() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}

# slow SECONDS: a time bound of the product, for this build.  The
# sanitizer build (ASAN_OPTIONS set: .ci/run's second half) runs several
# times slower, beside another test on two CPUs: there it checks memory
# errors, and a bound only that dfrecord ends at all, four times as late.
slow() {
	awk -v s="$1" -v k="${ASAN_OPTIONS:+4}" 'BEGIN { printf "%g\n", s * (k ? k : 1) }'
}

# other_pythons: CPython 3.12 and 3.13 interpreters this machine happens to
# have (pyenv, /usr/local), one per version; Debian 12 itself has only 3.11.
other_pythons() {
	local py v seen=" "
	for py in /usr/local/bin/python3.1[23] /usr/bin/python3.1[23] "${PYENV_ROOT:-${HOME:-/nonexistent}/.pyenv}"/versions/3.1[23].*/bin/python3; do
		[ -x "$py" ] || continue
		v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
		case "$seen" in *" $v "*) continue ;; esac
		seen="$seen$v "
		echo "$py"
	done
}

# code_changed PID NAME: bytes of PID's code mapped from files whose path
# holds NAME that differ from the file (a uprobe's breakpoint is one).
code_changed() {
	python3 - "$1" "$2" <<'PY'
import sys
pid, name = sys.argv[1], sys.argv[2]
mem = open("/proc/%s/mem" % pid, "rb")
n = 0
for line in open("/proc/%s/maps" % pid):
    f = line.split()
    if len(f) < 6 or "x" not in f[1] or name not in f[5]:
        continue
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    mem.seek(lo)
    code = mem.read(hi - lo)
    with open(f[5], "rb") as lib:
        lib.seek(int(f[2], 16))
        disk = lib.read(hi - lo)
    n += sum(a != b for a, b in zip(code, disk))
print(n)
PY
}
