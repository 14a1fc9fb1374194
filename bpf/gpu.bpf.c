// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Device and registered memory (hbm-alloc, torch-alloc, rdma): uprobes on
 * the CUDA driver API in libcuda.so.1, on PyTorch's allocator reporting hook
 * in libc10.so, and on libibverbs' memory registration; the bookkeeping is
 * alloc.bpf.h's, as for host memory.  Blocks are freed by device pointer
 * (cuMemFree*), VMM handle (cuMemRelease; keyed with DF_MEM_HANDLE_BIT),
 * block pointer (PyTorch) or memory region (ibv_dereg_mr).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "gpu.h"
#include "alloc.bpf.h"

static __always_inline int gpu_free(__u64 addr, __u32 event)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!df_wanted(filter, id >> 32, (__u32)id))
		return 0;
	record_free(id >> 32, addr, event);
	return 0;
}

/* cuMemAlloc_v2, cuMemAllocManaged, cuMemAllocAsync, cuMemAllocFromPoolAsync: (CUdeviceptr *dptr, size_t bytes, ...) */
SEC("uprobe")
int BPF_KPROBE(cu_alloc_enter, __u64 dptr, __u64 bytes)
{
	return enter(ctx, DF_MEM_OUTPTR, bytes, 0, dptr, DF_EV_HBM_ALLOC);
}

/* cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height, unsigned elem) */
SEC("uprobe")
int BPF_KPROBE(cu_pitch_enter, __u64 dptr, __u64 pitch, __u64 width, __u64 height)
{
	return enter(ctx, DF_MEM_PITCH, height, pitch, dptr, DF_EV_HBM_ALLOC);
}

/* cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size, const CUmemAllocationProp *prop, flags) */
SEC("uprobe")
int BPF_KPROBE(cu_create_enter, __u64 handle, __u64 size, __u64 prop)
{
	/* CUmemAllocationProp: type, requestedHandleTypes, then location {type, id}: the device ordinal */
	__s32 loc[2] = { 0, -1 };

	bpf_probe_read_user(loc, sizeof(loc), (void *)(prop + 8));
	return enter_dev(ctx, DF_MEM_OUTPTR, size, 0, handle, DF_EV_HBM_ALLOC | DF_MEM_EV_HANDLE,
			 loc[0] == 1 && loc[1] >= 0 && loc[1] < 0xfffe ? loc[1] + 1 : 0);	/* 1: CU_MEM_LOCATION_TYPE_DEVICE */
}

SEC("uretprobe")
int BPF_KRETPROBE(gpu_exit, __u64 ret)
{
	return leave(ctx, ret);
}

/* cuMemFree_v2(CUdeviceptr), cuMemFreeAsync(CUdeviceptr, CUstream) */
SEC("uprobe")
int BPF_KPROBE(cu_free_enter, __u64 dptr)
{
	return gpu_free(dptr, DF_EV_HBM_ALLOC);
}

/* cuMemRelease(CUmemGenericAllocationHandle) */
SEC("uprobe")
int BPF_KPROBE(cu_release_enter, __u64 handle)
{
	return gpu_free(handle | DF_MEM_HANDLE_BIT, DF_EV_HBM_ALLOC);
}

/*
 * c10::reportMemoryUsageToProfiler(void *ptr, int64_t alloc_size, size_t
 * total_allocated, size_t total_reserved, c10::Device): PyTorch's caching
 * allocator calls it for every block it hands out (size > 0) and takes back
 * (size < 0).  A block handed out is recorded at the hook's return, as an
 * allocation is, so that the allocating code is the innermost frame.
 */
SEC("uprobe")
int BPF_KPROBE(torch_report, __u64 ptr, __s64 size, __u64 total_allocated, __u64 total_reserved, __u64 device)
{
	/* c10::Device {int8 type, int8 index} by value: type in the low byte (1: CUDA), index above */
	__s8 type = device & 0xff, index = (device >> 8) & 0xff;

	if (!ptr)
		return 0;
	if (size > 0)
		return enter_dev(ctx, DF_MEM_GIVEN, size, 0, ptr, DF_EV_TORCH_ALLOC, type == 1 && index >= 0 ? index + 1 : 0);
	return gpu_free(ptr, DF_EV_TORCH_ALLOC);
}

/* ibv_reg_mr, __ibv_reg_mr, ibv_reg_mr_iova, ibv_reg_mr_iova2: (pd, addr, length, ...) -> struct ibv_mr * */
SEC("uprobe")
int BPF_KPROBE(ibv_reg_enter, __u64 pd, __u64 addr, __u64 length)
{
	return enter(ctx, DF_MEM_RETURNED_TIMED, length, 0, 0, DF_EV_RDMA);
}

/* ibv_reg_dmabuf_mr(pd, offset, length, iova, fd, access) */
SEC("uprobe")
int BPF_KPROBE(ibv_reg_dmabuf_enter, __u64 pd, __u64 offset, __u64 length)
{
	return enter(ctx, DF_MEM_RETURNED_TIMED, length, 0, 0, DF_EV_RDMA);
}

/* ibv_dereg_mr(struct ibv_mr *) */
SEC("uprobe")
int BPF_KPROBE(ibv_dereg_enter, __u64 mr)
{
	return gpu_free(mr, DF_EV_RDMA);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
