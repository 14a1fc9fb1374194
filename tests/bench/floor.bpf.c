// SPDX-License-Identifier: GPL-2.0 OR MIT
/* An empty uprobe program: what a uprobe costs before any work is done. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int empty(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
