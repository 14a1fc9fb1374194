/* SPDX-License-Identifier: MIT */
/*
 * Kernel symbols.  /proc/kallsyms is read once at start; a symbol goes into
 * the archive (kernel/ksyms.N members, see docs/format.md) the first time a
 * sampled kernel address falls in it, so the archive holds only what it needs.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "record.h"

struct ksym {
	uint64_t addr;
	char *name;	/* "name" or "name [module]" */
	bool stored;
};

struct kernel {
	struct dfa_writer *w;
	struct ksym *syms;
	size_t n;
	bool restricted;
	struct dfa_ksym *pending;	/* symbols not yet written */
	size_t n_pending, cap_pending;
	char *modules;		/* /proc/modules, read at start (addresses need privilege) */
	size_t modules_len;
	bool modules_done;
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void read_modules(struct kernel *k);

static int load(struct kernel *k)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char *line = NULL;
	size_t cap = 0, cap_syms = 0;
	bool nonzero = false;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long addr;
		char type, name[512], mod[128] = "";
		int n = sscanf(line, "%llx %c %511s %127s", &addr, &type, name, mod);

		if (n < 3 || !strchr("tTwW", type))
			continue;
		nonzero |= addr != 0;
		if (array_grow(&k->syms, &cap_syms, k->n + 1, sizeof(*k->syms), 65536))
			break;
		k->syms[k->n].addr = addr;
		k->syms[k->n].stored = false;
		if (n == 4)
			asprintf(&k->syms[k->n].name, "%s %s", name, mod);
		else
			k->syms[k->n].name = strdup(name);
		if (k->syms[k->n].name)
			k->n++;
	}
	free(line);
	fclose(f);
	k->restricted = k->n && !nonzero;
	if (k->n)
		qsort(k->syms, k->n, sizeof(*k->syms), cmp_ksym);
	return 0;
}

struct kernel *kernel__new(struct dfa_writer *w)
{
	struct kernel *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->w = w;
	if (load(k))
		pr_warn("cannot read /proc/kallsyms: kernel frames will be unnamed");
	else if (k->restricted)
		pr_warn("/proc/kallsyms shows only zero addresses (kernel.kptr_restrict or missing "
			"privilege): kernel frames will be unnamed");
	read_modules(k);
	return k;
}

void kernel__free(struct kernel *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->syms[i].name);
	free(k->syms);
	free(k->pending);
	free(k->modules);
	free(k);
}

bool kernel__restricted(const struct kernel *k)
{
	return k->restricted;
}

void kernel__note(struct kernel *k, const uint64_t *ips, uint32_t n)
{
	if (k->restricted)
		return;
	for (uint32_t i = 0; i < n; i++) {
		size_t lo = 0, hi = k->n, j;

		while (lo < hi) {	/* first symbol above ip */
			size_t mid = (lo + hi) / 2;

			if (k->syms[mid].addr <= ips[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || k->syms[lo - 1].stored)
			continue;
		j = lo - 1;
		if (array_grow(&k->pending, &k->cap_pending, k->n_pending + 1, sizeof(*k->pending), 256))
			return;	/* unnamed in the report, nothing worse */
		k->syms[j].stored = true;
		/* A symbol ends where the next one begins (syms[lo] lies above ip). */
		k->pending[k->n_pending++] = (struct dfa_ksym){ k->syms[j].addr,
			lo < k->n ? k->syms[lo].addr : ips[i] + 1, k->syms[j].name };
	}
}

/* The module list (names, sizes, load addresses): kallsyms names the symbols. */
static void read_modules(struct kernel *k)
{
	FILE *f = fopen("/proc/modules", "re");
	char buf[1 << 16];
	size_t n;

	if (!f)
		return;	/* a kernel without modules */
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	k->modules = n ? malloc(n) : NULL;
	if (k->modules) {
		memcpy(k->modules, buf, n);
		k->modules_len = n;
	}
}

int kernel__flush(struct kernel *k)
{
	int ret = DFA_OK;

	if (!k->modules_done && k->modules_len)
		ret = dfa_writer__add_kernel_modules(k->w, k->modules, k->modules_len);
	k->modules_done = true;
	if (ret != DFA_OK || !k->n_pending)
		return ret;
	ret = dfa_writer__add_ksyms(k->w, k->pending, k->n_pending);
	k->n_pending = 0;
	return ret;
}
