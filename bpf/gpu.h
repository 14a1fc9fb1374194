/* SPDX-License-Identifier: MIT */
/* gpu.bpf.c sends alloc.bpf.h's records (mem.h): samples of hbm-alloc,
 * torch-alloc, rdma and rdma-latency, and FREE records naming their event. */
#ifndef DF_BPF_GPU_H
#define DF_BPF_GPU_H

#include "mem.h"

#endif
