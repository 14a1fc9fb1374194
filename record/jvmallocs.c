/* SPDX-License-Identifier: MIT */
/*
 * Java allocations: the JVMTI agent (jvmti_agent.c) samples them in the JVM
 * (SampledObjectAlloc, one per interval bytes on average) into
 * /tmp/dfprof-alloc-PID.log; at the JVM's exit or the recording's end each
 * line becomes a mem-alloc sample whose stack is Java frames only: the
 * allocated class innermost, then the methods.  The frames are interpreted
 * frames of FUNC records of kind Java, named as the agent wrote them.  The
 * file is the JVM user's to write: every line is checked, a bad one
 * skipped and counted.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"
#include "log.h"
#include "record.h"

#define MAX_FRAMES 65		/* the class and 64 methods, as the agent writes */
#define MAX_SAMPLES (1U << 22)
/* Java function ids, apart from the Python code objects' (python.c counts from 0). */
#define JAVA_FUNC_BASE 0x40000000U

static uint32_t next_func = JAVA_FUNC_BASE;

uint32_t java_func__new_id(void)
{
	return next_func == DFA_FUNC_CUT ? DFA_FUNC_CUT : next_func++;
}

struct name_id {
	char *name;
	uint32_t id;
};

struct names {
	struct pairmap ix;	/* (hash, probe) -> index + 1 */
	struct name_id *v;
	size_t n, cap;
};

/* The FUNC id of a name in this JVM's samples, defined in the archive when new. */
static int func_id(struct dfa_writer *w, struct names *nm, uint32_t pid, const char *name, uint32_t *id)
{
	uint64_t h = hash_string(name, HASH_SEED), probe;
	struct pairmap_entry *e;
	struct dfa_func f = { .pid = pid, .kind = DFA_FUNC_JAVA, .name = name, .file = "" };

	for (probe = 0; (e = pairmap__find(&nm->ix, h, probe, false)); probe++)
		if (!strcmp(nm->v[e->val - 1].name, name)) {
			*id = nm->v[e->val - 1].id;
			return 0;
		}
	if (array_grow(&nm->v, &nm->cap, nm->n + 1, sizeof(*nm->v), 256) || !(nm->v[nm->n].name = strdup(name)))
		return -1;
	if ((f.id = java_func__new_id()) == DFA_FUNC_CUT) {
		free(nm->v[nm->n].name);
		return -1;
	}
	if (dfa_writer__add_func(w, &f) != DFA_OK || !(e = pairmap__find(&nm->ix, h, probe, true))) {
		free(nm->v[nm->n].name);
		return -1;
	}
	nm->v[nm->n].id = f.id;
	e->val = ++nm->n;
	*id = f.id;
	return 0;
}

static void names_release(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i].name);
	free(nm->v);
	pairmap__release(&nm->ix);
}

/* One "A TS TID SIZE CLASS;FRAME..." line into a sample; false if malformed. */
static bool add_line(struct dfa_writer *w, struct names *nm, const struct jit_image *im, char *line,
		     uint64_t interval)
{
	unsigned long long ts, size;
	unsigned tid;
	int at = 0;
	uint64_t interp[MAX_FRAMES];
	uint32_t n = 0, id, stack;
	char *names, *save = NULL;

	if (sscanf(line, "A %llu %u %llu %n", &ts, &tid, &size, &at) != 3 || !at || !line[at])
		return false;
	names = line + at;
	for (char *name = strtok_r(names, ";", &save); name && n < MAX_FRAMES; name = strtok_r(NULL, ";", &save)) {
		if (!*name || func_id(w, nm, im->pid, name, &id))
			return false;
		interp[n++] = DFA_IFRAME(id, DFA_INSTR_UNKNOWN, false);
	}
	if (!n)
		return false;
	/* Java frames alone: the outermost ends the one run of them. */
	interp[n - 1] = DFA_IFRAME(DFA_IFRAME_FUNC(interp[n - 1]), DFA_INSTR_UNKNOWN, true);
	struct dfa_stack st = { .n_interp = n, .interp = interp };
	struct dfa_sample s = { .ts = ts, .pid = im->pid, .tid = tid, .event = DFA_EV_MEM_ALLOC,
				.value = heap_sample__bytes(size, interval) };

	return dfa_writer__stack(w, &st, &stack, NULL) == DFA_OK && dfa_writer__add_sample_of(w, &s, stack, NULL) == DFA_OK;
}

size_t jvm_allocs__save(struct dfa_writer *w, const struct jit_image *im)
{
	size_t len, n = 0, bad = 0;
	char *data = jitmaps__read_tmp(im, "/tmp/dfprof-alloc-%u.log", &len), *line, *save = NULL;
	unsigned long long interval = 0;
	struct names nm = { 0 };

	if (!data)
		return 0;
	for (line = strtok_r(data, "\n", &save); line && n < MAX_SAMPLES; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'I') {
			if (sscanf(line, "I %llu", &interval) != 1)
				bad++;
		} else if (add_line(w, &nm, im, line, interval)) {
			n++;
		} else {
			bad++;
		}
	}
	if (bad)
		pr_warn("pid %u: %zu lines of the JVM's allocation samples not understood", im->pid, bad);
	if (n)
		pr_debug("pid %u: %zu Java allocation samples (one per %llu bytes)", im->pid, n, interval);
	names_release(&nm);
	free(data);
	return n;
}
