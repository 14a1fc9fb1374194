/* SPDX-License-Identifier: MIT */
/* The top table: functions by self and total share, like perf report --no-children/--children. */
#include <stdlib.h>
#include <string.h>
#include "report.h"

struct row {
	uint32_t id;
	uint64_t self, total;
};

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int out_top(const struct profile *pf, const struct report_opts *o, FILE *f)
{
	uint32_t n_frames = profile__frame_count(pf);
	struct row *rows = calloc(n_frames + 1, sizeof(*rows));
	size_t *stamp = calloc(n_frames + 1, sizeof(*stamp)), n = 0;
	double total = pf->total ? (double)pf->total : 1;

	if (!rows || !stamp)
		oom();
	for (uint32_t i = 0; i < n_frames; i++)
		rows[i].id = i;
	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];

		/* Root frames (comm, [pid N], [tid N]) are who, not a function. */
		for (uint32_t j = 0; j < p->n; j++) {
			uint32_t id = pf->ids[p->off + j];

			if (profile__frame(pf, id)->kind == FRAME_ROOT)
				continue;
			if (stamp[id] != i + 1) {	/* recursion counts once */
				stamp[id] = i + 1;
				rows[id].total += p->value;
			}
		}
		if (p->n > 1)
			rows[pf->ids[p->off + p->n - 1]].self += p->value;
	}
	qsort(rows, n_frames, sizeof(*rows), cmp_row);
	if (profile__event(pf)->unit == DFA_UNIT_COUNT)
		fprintf(f, "# %s: %llu samples, %llu process images\n", profile__event_name(pf),
			(unsigned long long)pf->samples, (unsigned long long)pf->images);
	else
		fprintf(f, profile__event(pf)->per_thread ? "# %s: %llu %s in %llu samples, %llu threads\n"
							  : "# %s: %llu %s in %llu samples, %llu process images\n",
			profile__event_name(pf),
			(unsigned long long)profile__shown(pf, pf->total),
			profile__unit(pf), (unsigned long long)pf->samples, (unsigned long long)pf->images);
	fprintf(f, "%7s %7s %12s  %-24s %s\n", "Self%", "Total%", "Self", "Object", "Function");
	for (uint32_t i = 0; i < n_frames; i++) {
		const struct frame *fr = profile__frame(pf, rows[i].id);
		uint64_t self = profile__shown(pf, rows[i].self);

		if (!rows[i].total || (o->limit && n >= o->limit))
			continue;
		fprintf(f, "%6.2f%% %6.2f%% %12llu  %-24s %s\n", 100.0 * rows[i].self / total,
			100.0 * rows[i].total / total, (unsigned long long)self,
			fr->object[0] ? fr->object : "?", fr->name);
		n++;
	}
	free(rows);
	free(stamp);
	return 0;
}
