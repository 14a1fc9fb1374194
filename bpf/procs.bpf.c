// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Process life cycle: follows descendants of targets, reports fork/exec/exit. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "procs.h"

const volatile bool filter = false;
/* Set at load: fork records wake dfrecord (it has probes to attach for the child). */
const volatile bool wake_on_fork = false;
const volatile bool send_args = true;	/* exec records carry the command line */

__u64 lost = 0;

/* Copies of a parent's mappings for its fork (the value is too large for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct df_uproc);
} uproc_scratch SEC(".maps");

/* Images whose df_uimages entry could not be written (the map full). */
__u64 uimages_full = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DF_PY_EXES_MAX);
	__type(key, struct df_py_exe_key);
	__type(value, struct df_py_exe);
} py_exes SEC(".maps");

/* An exec of an interpreter dfrecord knows: its frames are walked from now on. */
static __always_inline void python_at_exec(struct task_struct *p, struct linux_binprm *bprm, __u32 tgid, __u64 ts)
{
	struct df_py_exe_key key = { BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev),
				     BPF_CORE_READ(bprm, file, f_inode, i_ino) };
	const struct df_py_exe *x = bpf_map_lookup_elem(&py_exes, &key);
	struct df_py_proc v;
	__u64 code;

	if (!x || !(code = BPF_CORE_READ(p, mm, start_code)))
		return;
	v.runtime = code + x->runtime_from_code;
	v.cookie = DF_PY_EXEC_COOKIE(ts);
	v.version = x->version;
	v.off = x->off;
	if (!bpf_map_update_elem(&py_procs, &tgid, &v, BPF_ANY))
		df_pid_set(&df_pextra, tgid);
}

static __always_inline void emit(__u32 type, __u32 pid, __u32 ppid, __u64 ts, __u64 start, __u64 flags)
{
	struct df_proc_rec *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	e->hdr.type = type;
	e->hdr.pid = pid;
	e->hdr.ts = ts;
	e->ppid = ppid;
	e->pad = 0;
	e->start = start;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, flags);
}

/* The exec record, with the command line and the path execve was given. */
static __always_inline void emit_exec(struct task_struct *p, struct linux_binprm *bprm, __u32 tgid, __u64 ts)
{
	struct df_exec_rec *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct df_uinode_key key;
	__u64 start, end, len;
	long n;

	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	e->p.hdr.type = DF_RB_EXEC;
	e->p.hdr.pid = tgid;
	e->p.hdr.ts = ts;
	e->p.ppid = 0;
	e->p.pad = 0;
	/* exec keeps the process: its start is the thread group's (de_thread copies it) */
	e->p.start = BPF_CORE_READ(p, start_time);
	e->pad = 0;
	bpf_get_current_comm(e->p.comm, sizeof(e->p.comm));
	e->args_len = 0;
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > DF_EXEC_ARGS)
		len = DF_EXEC_ARGS;
	len &= 2 * DF_EXEC_ARGS - 1;	/* bounds the verifier sees */
	/* The arguments of the image being started, in its own memory (current's). */
	if (send_args && len > 0 && len <= DF_EXEC_ARGS && !bpf_probe_read_user(e->args, len, (void *)start))
		e->args_len = len;
	n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	e->path_len = n > 0 ? n - 1 : 0;
	/* No wakeup, unless dfrecord has no table for the executable yet: it
	 * builds one at once, so that the image's samples are walked here. */
	key.dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	bpf_ringbuf_submit(e, !df_bpf_unwind || bpf_map_lookup_elem(&df_uinodes, &key) ? BPF_RB_NO_WAKEUP
										  : BPF_RB_FORCE_WAKEUP);
}

/* Room for what the BPF walk learns of a new address space: its executable's and
 * dynamic loader's code (regs->ip is the loader's entry, else the program's) and the vDSO. */
static __always_inline void learn_exec(struct task_struct *p, __u32 tgid)
{
	struct df_ulearned fresh = { .mm = (__u64)p->mm };
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(p);
	__u64 at[3] = { BPF_CORE_READ(p, mm, start_code), regs ? DF_REGS_IP(regs) : 0,
			(__u64)BPF_CORE_READ(p, mm, context.vdso) };
	struct df_umap m;

	if (bpf_map_update_elem(&df_ulearned, &tgid, &fresh, BPF_ANY))
		return;
	for (int i = 0; i < 3; i++)
		if (at[i] && df_ask_vma(at[i], &m))
			df_learn(tgid, fresh.mm, &m);
}

/* pid is a new image from ts on: mappings dfrecord set up for an earlier one no longer count. */
static __always_inline void new_image(__u32 pid, __u64 ts)
{
	if (!df_bpf_unwind)
		return;
	if (bpf_map_update_elem(&df_uimages, &pid, &ts, BPF_ANY)) {
		__sync_fetch_and_add(&uimages_full, 1);
		bpf_map_delete_elem(&df_uprocs, &pid);
	}
	df_uimages_changed();
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, zero = 0;
	const struct df_uproc *pmaps;
	struct df_uproc *copy;
	const struct df_ulearned *learned;
	struct df_ulearned fresh;
	const struct df_tctx_proc *tctx;
	struct df_tctx_proc tcopy;
	__u64 ts;

	if (child->pid != ctgid || df_paused)	/* a new thread, or stopping */
		return 0;
	if (filter) {
		if (!df_pid_has(&targets, ptgid))
			return 0;
		df_pid_set(&targets, ctgid);
	}
	ts = bpf_ktime_get_ns();
	emit(DF_RB_FORK, ctgid, ptgid, ts, child->start_time, wake_on_fork ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	new_image(ctgid, ts);
	/* The child maps what its parent does: it is walked with the parent's
	 * tables until dfrecord reads its own. */
	if (df_bpf_unwind && (pmaps = df_uproc_of(ptgid)) && (copy = bpf_map_lookup_elem(&uproc_scratch, &zero)) &&
	    !bpf_probe_read_kernel(copy, sizeof(*copy), pmaps)) {
		copy->image = ts;
		bpf_map_update_elem(&df_uprocs, &ctgid, copy, BPF_ANY);
	}
	/* The copy's threads publish their context where the parent's did. */
	if ((tctx = bpf_map_lookup_elem(&df_tctx_procs, &ptgid)) && !bpf_probe_read_kernel(&tcopy, sizeof(tcopy), tctx) &&
	    !bpf_map_update_elem(&df_tctx_procs, &ctgid, &tcopy, BPF_ANY))
		df_pid_set(&df_pextra, ctgid);
	/* ... and what was learned of the parent's address space holds for the copy. */
	if (df_bpf_unwind && (learned = bpf_map_lookup_elem(&df_ulearned, &ptgid)) &&
	    !bpf_probe_read_kernel(&fresh, sizeof(fresh), learned)) {
		fresh.mm = (__u64)child->mm;
		bpf_map_update_elem(&df_ulearned, &ctgid, &fresh, BPF_ANY);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	__u64 ts;

	if (!df_wanted(filter, tgid, 0))
		return 0;
	/* A new image: Python if its executable is an interpreter dfrecord
	 * knows, else when dfrecord says so. */
	ts = bpf_ktime_get_ns();
	bpf_map_delete_elem(&py_procs, &tgid);
	bpf_map_delete_elem(&df_tctx_procs, &tgid);
	df_pid_clear(&df_pextra, tgid);
	python_at_exec(p, bprm, tgid, ts);
	/* The image's mappings come as records too. */
	emit_exec(p, bprm, tgid, ts);
	new_image(tgid, ts);
	if (df_bpf_unwind)
		learn_exec(p, tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	if (p->pid != tgid || !df_wanted(filter, tgid, 0))
		return 0;
	emit(DF_RB_EXIT, tgid, 0, bpf_ktime_get_ns(), 0, BPF_RB_NO_WAKEUP);
	bpf_map_delete_elem(&df_uprocs, &tgid);
	bpf_map_delete_elem(&df_uimages, &tgid);
	df_uimages_changed();
	bpf_map_delete_elem(&df_ulearned, &tgid);
	bpf_map_delete_elem(&df_woken, &tgid);
	bpf_map_delete_elem(&py_procs, &tgid);
	bpf_map_delete_elem(&df_tctx_procs, &tgid);
	df_pid_clear(&df_pextra, tgid);
	if (filter)
		df_pid_clear(&targets, tgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
