// SPDX-License-Identifier: GPL-2.0 OR MIT
/* On-CPU sampling: a perf_event program on cpu-clock on every CPU. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "oncpu.h"

const volatile bool filter = false;
const volatile bool kernel_stacks = true;
const volatile __u32 ustack_bytes = 0;	/* stack copied with every sample (leaf repair) */
const volatile __u32 dwarf_bytes = 0;	/* ... where the BPF walk fell back (a process not set up yet) */

__u64 lost = 0;		/* ring buffer full */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct df_oncpu_scratch);
} scratch SEC(".maps");

SEC("perf_event")
int on_cpu(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0;
	struct df_sample_rec *e;
	struct df_uregs ur;
	__u64 size;
	__u32 want = ustack_bytes;
	bool user_mode;

	if (tid == 0 || !df_wanted(filter, tgid, tid))	/* idle, or not ours */
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->hdr.type = DF_RB_SAMPLE;
	e->hdr.pid = tgid;
	e->hdr.ts = bpf_ktime_get_ns();
	e->tid = tid;
	e->cpu = bpf_get_smp_processor_id();
	e->value = 1;
	e->addr = 0;
	e->event = DF_EV_ONCPU;
	e->flags = 0;
	df_current_comm(e->comm);
	/* A sample taken in user mode has no kernel stack: skip the walk.  (The
	 * context's registers are read whole, as the verifier wants.) */
	user_mode = DF_REGS_USER((struct pt_regs *)&ctx->regs);
	size = df_fill_stacks(ctx, e, kernel_stacks && !user_mode, 0,
			      df_uregs_of(df_user_regs((struct pt_regs *)&ctx->regs), &ur), tgid);
	if (!size)
		return 0;
	size = df_add_python(e, size, tgid, tid);
	size = df_add_tctx(e, size, tgid);
	want = df_copy_want(e, want, dwarf_bytes);
	if (want && e->n_user > 0) {
		__u32 used = df_copy_ustack(df_user_regs(&ctx->regs), (void *)e + size, want, DF_MAX_USTACK);

		if (used) {
			e->flags |= DF_F_USTACK;
			size += used;
		}
	}
	if (size > sizeof(struct df_oncpu_scratch))
		return 0;
	/* Mostly no wakeup: dfrecord drains on a timer, so it does not itself
	 * run (and get sampled) after every sample. */
	if (bpf_ringbuf_output(&events, e, size, df_wakeup(e)))
		__sync_fetch_and_add(&lost, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
