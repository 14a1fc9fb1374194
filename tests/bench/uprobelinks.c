/*
 * Attach and detach costs of N uprobes on libc functions: as N perf-event
 * uprobes (how dfrecord attaches its memory and GPU probes today) or as one
 * multi-uprobe link (BPF_TRACE_UPROBE_MULTI, kernel 6.6+, reached through the
 * raw bpf(2) syscall: Debian's 6.1 headers and libbpf 1.1 lack it).
 *   uprobelinks multi|single N LIBC   prints "attach_ms detach_ms"
 * The first N functions nm lists in LIBC; their addresses are taken as file
 * offsets (true of glibc, whose executable segment has vaddr == offset).
 */
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ATTACH_UPROBE_MULTI 48	/* BPF_TRACE_UPROBE_MULTI */

struct link_create_um {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, um_flags, pid;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int prog_load(uint32_t expected)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_KPROBE;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = 2;
	a.license = (uintptr_t)"GPL";
	a.expected_attach_type = expected;
	return syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
}

int main(int argc, char **argv)
{
	const char *lib = argc > 3 ? argv[3] : "/lib/x86_64-linux-gnu/libc.so.6";
	int n = argc > 2 ? atoi(argv[2]) : 19, fds[64];
	uint64_t offs[64];
	char cmd[512], line[64];
	FILE *f;
	int got = 0;

	if (argc < 2 || n < 1 || n > 64) {
		fprintf(stderr, "usage: uprobelinks multi|single N (1-64) [LIBC]\n");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' | awk '$2 == \"T\" || $2 == \"W\" { print $1 }' | sort -u | head -64", lib);
	f = popen(cmd, "r");
	if (!f)
		return 1;
	while (got < n && fgets(line, sizeof(line), f))
		offs[got++] = strtoull(line, NULL, 16);
	pclose(f);
	if (got < n) {
		fprintf(stderr, "%s: only %d functions\n", lib, got);
		return 1;
	}
	double t0 = now(), t1, t2;
	if (!strcmp(argv[1], "multi")) {
		int prog = prog_load(ATTACH_UPROBE_MULTI);
		if (prog < 0) { perror("prog load"); return 1; }
		struct link_create_um a = { .prog_fd = prog, .attach_type = ATTACH_UPROBE_MULTI,
			.path = (uintptr_t)lib, .offsets = (uintptr_t)offs, .cnt = n };
		char buf[sizeof(union bpf_attr)];
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &a, sizeof(a));
		t0 = now();
		int link = syscall(__NR_bpf, BPF_LINK_CREATE, buf, sizeof(buf));
		if (link < 0) { perror("link create"); return 1; }
		t1 = now();
		close(link);
		close(prog);
		t2 = now();
	} else {
		int prog = prog_load(0), type;
		FILE *t = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
		if (prog < 0 || !t || fscanf(t, "%d", &type) != 1) { perror("setup"); return 1; }
		fclose(t);
		t0 = now();
		for (int i = 0; i < n; i++) {
			struct perf_event_attr pa = { .size = sizeof(pa), .type = type, .config1 = (uintptr_t)lib,
				.config2 = offs[i] };
			fds[i] = syscall(__NR_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
			if (fds[i] < 0 || ioctl(fds[i], PERF_EVENT_IOC_SET_BPF, prog) || ioctl(fds[i], PERF_EVENT_IOC_ENABLE, 0)) {
				perror("uprobe"); return 1;
			}
		}
		t1 = now();
		for (int i = 0; i < n; i++)
			close(fds[i]);
		close(prog);
		t2 = now();
	}
	printf("%.1f %.1f\n", (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	return 0;
}
