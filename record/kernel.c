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
	char *pending;	/* lines not yet written */
	size_t pending_len;
	FILE *pending_f;
	unsigned chunk;
	bool modules_done;
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int load(struct kernel *k)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
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
		if (k->n == alloc) {
			struct ksym *g = realloc(k->syms, (alloc = alloc ? alloc * 2 : 65536) * sizeof(*g));

			if (!g)
				break;
			k->syms = g;
		}
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
	k->pending_f = open_memstream(&k->pending, &k->pending_len);
	if (!k->pending_f) {
		kernel__free(k);
		return NULL;
	}
	return k;
}

void kernel__free(struct kernel *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->syms[i].name);
	free(k->syms);
	if (k->pending_f)
		fclose(k->pending_f);
	free(k->pending);
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
		k->syms[j].stored = true;
		/* A symbol ends where the next one begins (syms[lo] lies above ip). */
		fprintf(k->pending_f, "%llx %llx %s\n", (unsigned long long)k->syms[j].addr,
			(unsigned long long)(lo < k->n ? k->syms[lo].addr : ips[i] + 1),
			k->syms[j].name);
	}
}

/* The module list (names, sizes, load addresses), once: kallsyms names the symbols. */
static int store_modules(struct kernel *k)
{
	char buf[1 << 16];
	size_t n;
	FILE *f;
	int ret = DFA_OK;

	k->modules_done = true;
	f = fopen("/proc/modules", "re");
	if (!f)
		return DFA_OK;	/* a kernel without modules */
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n)
		ret = dfa_writer__add_file(k->w, "kernel/modules", buf, n);
	return ret;
}

int kernel__flush(struct kernel *k)
{
	char name[32];
	int ret;

	if (!k->modules_done && (ret = store_modules(k)) != DFA_OK)
		return ret;
	if (fflush(k->pending_f) || !k->pending_len)
		return DFA_OK;
	snprintf(name, sizeof(name), "kernel/ksyms.%08u", k->chunk++);
	ret = dfa_writer__add_file(k->w, name, k->pending, k->pending_len);
	fclose(k->pending_f);
	free(k->pending);
	k->pending = NULL;
	k->pending_len = 0;
	k->pending_f = open_memstream(&k->pending, &k->pending_len);
	return ret;
}
