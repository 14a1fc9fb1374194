/* SPDX-License-Identifier: MIT */
/*
 * Capabilities.  dfrecord needs root's to load and attach its BPF programs;
 * once they are attached it keeps only those it still uses (session.c says
 * which) and drops the rest for good, bounding set included.  Two system
 * calls (capget/capset) and prctl do it; libcap-ng would add a dependency
 * for these few lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "record.h"

static int caps_get(uint64_t *eff, uint64_t *perm)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	*perm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	return 0;
}

uint64_t privs__effective(void)
{
	uint64_t eff, perm;

	return caps_get(&eff, &perm) ? 0 : eff;
}

bool privs__can_record(void)
{
	uint64_t eff = privs__effective();

	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON));
}

/* The highest capability this kernel knows. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

bool privs__known(int cap)
{
	return cap <= last_cap();
}

int privs__keep(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	uint64_t eff, perm;
	int last = last_cap();

	if (caps_get(&eff, &perm))
		return -1;
	keep &= perm;
	/* Nothing started later (the JVM attach child) can gain back the rest. */
	for (int cap = 0; cap <= last && cap < 64; cap++)
		if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -1;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}
