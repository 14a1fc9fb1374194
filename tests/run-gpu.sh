#!/bin/bash
# hbm-alloc/hbm-inuse, torch-alloc/torch-inuse, rdma/rdma-inuse/rdma-latency
# with stand-in libraries that have the real APIs' signatures
# (tests/workloads/gpu: libcuda.so.1, libc10.so, libibverbs.so.1; no GPU
# here): bytes by the function that allocated, only successful calls, frees
# matched by address, VMM handles apart from device pointers, the libraries
# probed whether found at the start (the LD_LIBRARY_PATH of a command), or when a
# process maps them with dlopen (-- COMMAND, -p, -a).
. "$(dirname "$0")/test-subr.sh"
need_bpf
G=$WORKLOADS/gpu
mkdir lib
${CC:-cc} -O1 -g -shared -fPIC -o lib/libcuda.so.1 "$G/fakecuda.c" || fail "cannot build libcuda.so.1"
${CXX:-g++} -O1 -g -shared -fPIC -o lib/libc10.so "$G/fakec10.cpp" || fail "cannot build libc10.so"
${CC:-cc} -O1 -g -shared -fPIC -o lib/libibverbs.so.1 "$G/fakeibverbs.c" || fail "cannot build libibverbs.so.1"
${CC:-cc} -O1 -g -o gpuapp "$G/gpuapp.c" -ldl || fail "cannot build gpuapp"
MiB=1048576

# bytes_of ARCHIVE EVENT FUNCTION: the function's self bytes in the top table
bytes_of() { "$DFREPORT" --top --limit 0 --event "$2" "$1" 2>/dev/null | awk -v f="$3" '$NF == f { print $3; exit }'; }
total_of() { "$DFREPORT" --top --event "$2" "$1" 2>/dev/null | sed -n "s/^# $2: \([0-9]*\) .*/\1/p"; }

# check_cuda ARCHIVE: what gpuapp cuda allocates, kept and freed
check_cuda() {
	local a=$1
	[ "$(bytes_of "$a" hbm-alloc load_weights)" = $((64 * MiB)) ] || fail "$a: load_weights: $(bytes_of "$a" hbm-alloc load_weights)"
	[ "$(bytes_of "$a" hbm-alloc scratch)" = $((128 * MiB)) ] || fail "$a: scratch (8 x 16 MiB): $(bytes_of "$a" hbm-alloc scratch)"
	[ "$(bytes_of "$a" hbm-alloc pitched)" = $((1 * MiB)) ] || fail "$a: pitched (pitch x rows): $(bytes_of "$a" hbm-alloc pitched)"
	[ "$(bytes_of "$a" hbm-alloc managed)" = $((8 * MiB)) ] || fail "$a: managed: $(bytes_of "$a" hbm-alloc managed)"
	[ "$(bytes_of "$a" hbm-alloc async)" = $((4 * MiB)) ] || fail "$a: async: $(bytes_of "$a" hbm-alloc async)"
	[ "$(bytes_of "$a" hbm-alloc vmm)" = $((32 * MiB)) ] || fail "$a: vmm (cuMemCreate): $(bytes_of "$a" hbm-alloc vmm)"
	[ -z "$(bytes_of "$a" hbm-alloc failing)" ] || fail "$a: a failed allocation was counted"
	[ "$(total_of "$a" hbm-alloc)" = $((237 * MiB)) ] || fail "$a: hbm-alloc total $(total_of "$a" hbm-alloc)"
	# still allocated at the end: the weights and the pitched block
	[ "$(total_of "$a" hbm-inuse)" = $((65 * MiB)) ] || fail "$a: hbm-inuse total $(total_of "$a" hbm-inuse): $("$DFREPORT" --event hbm-inuse "$a" | head -6)"
	[ "$(bytes_of "$a" hbm-inuse load_weights)" = $((64 * MiB)) ] || fail "$a: load_weights not in use"
}

# Found at the start, where the command's loader will look.
expect_exit 0 env LD_LIBRARY_PATH="$tempdir/lib" "$DFRECORD" -e hbm-alloc,hbm-inuse -o start.dfa -- ./gpuapp cuda
check_cuda start.dfa
# Peak in use: weights, then the 32 MiB VMM block on top of weights and pitched (97 MiB).
expect_exit 0 "$DFREPORT" --timeline --event hbm-inuse start.dfa
grep -q "^peak: $((97 * MiB)) bytes" stdout || fail "--timeline: $(tail -2 stdout)"
grep -q '^# hbm-inuse over time' stdout || fail "--timeline does not name hbm-inuse: $(head -1 stdout)"
# Per device where the call names it: the VMM block on device 1 (its allocation properties say so);
# the driver's other calls take the thread's current device, which they do not name.
awk '/^# device 1$/ { d = 1 } d && /^peak:/ { print $2; exit }' stdout | grep -qx $((32 * MiB)) ||
	fail "--timeline: device 1's peak: $(grep -A22 '^# device 1' stdout | tail -1)"
awk '/^# device not named/ { d = 1 } d && /^peak:/ { print $2; exit }' stdout | grep -qx $((80 * MiB)) ||
	fail "--timeline: the unnamed device's peak: $(grep -A22 '^# device not named' stdout | tail -1)"
expect_exit 0 "$DFREPORT" --info start.dfa
grep -q 'gpu_libraries_probed *1' stdout || fail "--info: $(grep gpu_ stdout)"

# Loaded with dlopen by path while recording: probed as it is mapped.
expect_exit 0 "$DFRECORD" -e hbm-alloc,hbm-inuse -o dlopen.dfa -- ./gpuapp cuda "$tempdir/lib/libcuda.so.1"
check_cuda dlopen.dfa
# -p: a process that loads the library after the recording began.
./gpuapp -w "$(slow 2)" cuda "$tempdir/lib/libcuda.so.1" & app=$!	# loads once dfrecord is attached, even sanitized
cleanup_hooks="kill $app 2>/dev/null;"
sleep 0.2
expect_exit 0 "$DFRECORD" -p $app -e hbm-alloc,hbm-inuse -o pid.dfa
check_cuda pid.dfa
# -a: the whole system for as long as the command runs.
expect_exit 0 "$DFRECORD" -a -e hbm-alloc,hbm-inuse -o all.dfa -- ./gpuapp cuda "$tempdir/lib/libcuda.so.1"
check_cuda all.dfa
# Host memory is apart: mem-alloc of the same run sees no device bytes.
expect_exit 0 "$DFRECORD" -e mem-alloc,hbm-alloc -o both.dfa -- ./gpuapp cuda "$tempdir/lib/libcuda.so.1"
# The stand-in's "device" memory is host memory from malloc: the same
# addresses are host blocks (freed by free) and device blocks (freed by
# cuMemFree), and neither kind's frees may match the other's.
check_cuda both.dfa
[ "$(bytes_of both.dfa mem-alloc load_weights)" = 0 ] || fail "device bytes counted as host memory in load_weights: $(bytes_of both.dfa mem-alloc load_weights)"
# The stand-in's malloc runs inside cuMemAlloc_v2, whose return a uretprobe
# holds: the walk takes the real return address from the kernel's return
# instance, so the host block is under load_weights too.
host=$("$DFREPORT" --folded --event mem-inuse both.dfa 2>/dev/null | awk '/;main;load_weights;cuMemAlloc_v2;/ { s += $NF } END { print s + 0 }')
[ "$host" = $((64 * MiB)) ] || fail "host mem-inuse under load_weights (the stand-in's malloc of the kept block): $host: $("$DFREPORT" --folded --event mem-inuse both.dfa 2>/dev/null | grep take)"

# PyTorch's blocks, by the code that asked for them.
expect_exit 0 "$DFRECORD" -e torch-alloc,torch-inuse -o torch.dfa -- ./gpuapp torch "$tempdir/lib/libc10.so"
[ "$(bytes_of torch.dfa torch-alloc make_tensors)" = $((12 * MiB)) ] || fail "torch-alloc: $("$DFREPORT" --event torch-alloc torch.dfa | head -5)"
[ "$(bytes_of torch.dfa torch-inuse make_tensors)" = $((8 * MiB)) ] || fail "torch-inuse: $("$DFREPORT" --event torch-inuse torch.dfa | head -5)"
expect_exit 0 "$DFREPORT" --timeline --event torch-inuse torch.dfa
awk '/^# device 0$/ { d = 1 } d && /^peak:/ { print $2; exit }' stdout | grep -qx $((12 * MiB)) ||
	fail "torch --timeline: cuda:0's peak: $(cat stdout | tail -3)"

# Registered memory, what stays registered, and the time registering took (2 ms a call in the stand-in).
expect_exit 0 "$DFRECORD" -e rdma -o rdma.dfa -- ./gpuapp rdma "$tempdir/lib/libibverbs.so.1"
[ "$(bytes_of rdma.dfa rdma register_buffers)" = $((14 * MiB)) ] || fail "rdma: $("$DFREPORT" --event rdma rdma.dfa | head -5)"
[ "$(bytes_of rdma.dfa rdma-inuse register_buffers)" = $((10 * MiB)) ] || fail "rdma-inuse: $("$DFREPORT" --event rdma-inuse rdma.dfa | head -5)"
us=$(bytes_of rdma.dfa rdma-latency register_buffers)
note "4 registrations took $us us"
[ "${us:-0}" -ge 8000 ] && [ "$us" -lt 200000 ] || fail "rdma-latency: $us us for 4 calls of 2 ms"

# No such library: -a waits for processes that would map one; a command that never does gets one line.
expect_exit 0 "$DFRECORD" -a -e hbm-alloc -d 1 -o none.dfa
expect_exit 0 "$DFRECORD" -e hbm-alloc,rdma -o none.dfa -- true
grep -q 'no CUDA, PyTorch or libibverbs library was probed' stderr || fail "no library: nothing said: $(cat stderr)"
[ "$(grep -c 'library was probed' stderr)" = 1 ] || fail "no library said more than once"

# Every output takes the new events.
expect_exit 0 "$DFREPORT" --pprof --event hbm-inuse -o hbm.pb.gz start.dfa
expect_exit 0 "$DFREPORT" --folded --event hbm-alloc start.dfa
grep -q '^gpuapp;.*;main;scratch [0-9]*$' stdout || fail "--folded hbm-alloc: $(head -3 stdout)"
expect_exit 0 "$DFREPORT" --html -o gpu.html start.dfa
grep -q '"name":"hbm-alloc"' gpu.html && grep -q '"name":"hbm-inuse"' gpu.html || fail "the page lacks the hbm events"
exit 0
