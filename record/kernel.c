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
	const char *name, *module;	/* in kernel.text; module: "[name]" or NULL */
	char *joined;			/* "name [module]", made when stored */
	bool stored;
};

#define KALLSYMS_MAX (256u << 20)

struct kernel {
	struct dfa_writer *w;
	char *text;		/* /proc/kallsyms */
	uint64_t noted[4096];	/* ips whose symbol is stored, by ip: most repeat */
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

/* "ADDR TYPE NAME[\t[MODULE]]" lines, parsed in place: the text holds the names. */
static int load(struct kernel *k)
{
	size_t len, cap_syms = 0;
	bool nonzero = false, sorted = true;
	char *line, *next;

	k->text = procfs__read("/proc/kallsyms", &len, KALLSYMS_MAX);
	if (!k->text)
		return -1;
	for (line = k->text; *line; line = next) {
		char *end = strchr(line, '\n'), *name, *mod;
		unsigned long long addr;

		if (end)
			*end = 0;
		next = end ? end + 1 : line + strlen(line);
		addr = strtoull(line, &name, 16);
		if (name == line || name[0] != ' ' || !strchr("tTwW", name[1]) || !name[1] || name[2] != ' ')
			continue;
		name += 3;
		mod = strchr(name, '\t');
		if (mod)
			*mod++ = 0;
		if (!*name || array_grow(&k->syms, &cap_syms, k->n + 1, sizeof(*k->syms), 65536))
			continue;
		nonzero |= addr != 0;
		sorted &= !k->n || k->syms[k->n - 1].addr <= addr;
		k->syms[k->n++] = (struct ksym){ addr, name, mod && *mod ? mod : NULL, NULL, false };
	}
	k->restricted = k->n && !nonzero;
	if (k->n && !sorted)
		qsort(k->syms, k->n, sizeof(*k->syms), cmp_ksym);
	return 0;
}

/* "name [module]" as the archive names a module's symbol. */
static const char *ksym_name(struct ksym *s)
{
	if (!s->module)
		return s->name;
	if (!s->joined && asprintf(&s->joined, "%s %s", s->name, s->module) < 0)
		s->joined = NULL;
	return s->joined ? s->joined : s->name;
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
		free(k->syms[i].joined);
	free(k->syms);
	free(k->text);
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
		uint64_t *seen = &k->noted[(ips[i] ^ ips[i] >> 12) % 4096];
		size_t lo = 0, hi = k->n, j;

		if (*seen == ips[i])
			continue;
		while (lo < hi) {	/* first symbol above ip */
			size_t mid = (lo + hi) / 2;

			if (k->syms[mid].addr <= ips[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0)
			continue;
		j = lo - 1;
		if (!k->syms[j].stored &&
		    array_grow(&k->pending, &k->cap_pending, k->n_pending + 1, sizeof(*k->pending), 256))
			return;	/* unnamed in the report, nothing worse */
		*seen = ips[i];
		if (k->syms[j].stored)
			continue;
		k->syms[j].stored = true;
		/* A symbol ends where the next one begins (syms[lo] lies above ip). */
		k->pending[k->n_pending++] = (struct dfa_ksym){ k->syms[j].addr,
			lo < k->n ? k->syms[lo].addr : ips[i] + 1, ksym_name(&k->syms[j]) };
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

void kernel__set_writer(struct kernel *k, struct dfa_writer *w)
{
	k->w = w;
	k->modules_done = false;
	k->n_pending = 0;
	memset(k->noted, 0, sizeof(k->noted));
	for (size_t i = 0; i < k->n; i++)
		k->syms[i].stored = false;
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
