// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Process life cycle: follows descendants of targets, reports fork/exec/exit. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "procs.h"

const volatile bool filter = false;

__u64 lost = 0;

static __always_inline void emit(__u32 type, __u32 pid, __u32 ppid, __u64 flags)
{
	struct df_proc_rec *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	e->hdr.type = type;
	e->hdr.pid = pid;
	e->hdr.ts = bpf_ktime_get_ns();
	e->ppid = ppid;
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, flags);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = 1;

	if (child->pid != ctgid || df_paused)	/* a new thread, or stopping */
		return 0;
	if (filter) {
		if (!bpf_map_lookup_elem(&targets, &ptgid))
			return 0;
		bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	}
	emit(DF_RB_FORK, ctgid, ptgid, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;

	if (!df_wanted(filter, tgid))
		return 0;
	/* A new image: dfrecord says again whether it is Python. */
	bpf_map_delete_elem(&py_procs, &tgid);
	/* Wake dfrecord: it reads the new image's maps while they are there. */
	emit(DF_RB_EXEC, tgid, 0, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	if (p->pid != tgid || !df_wanted(filter, tgid))
		return 0;
	emit(DF_RB_EXIT, tgid, 0, BPF_RB_NO_WAKEUP);
	bpf_map_delete_elem(&seen, &tgid);	/* the pid may come back as another process */
	bpf_map_delete_elem(&py_procs, &tgid);
	if (filter)
		bpf_map_delete_elem(&targets, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
