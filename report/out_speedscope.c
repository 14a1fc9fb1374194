/* SPDX-License-Identifier: MIT */
/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile, a stack per distinct path (root first) with its value
 * as weight (times in nanoseconds, memory in bytes), frames shared.
 */
#include <stdlib.h>
#include <string.h>
#include "report.h"

int out_speedscope(const struct profile *pf, const struct report_opts *o, FILE *f)
{
	uint32_t n_frames = profile__frame_count(pf);
	enum dfa_unit u = profile__event(pf)->unit;
	/* Time in nanoseconds (a counted sample stands for one period), so the
	 * axis reads as time; bytes as bytes. */
	bool counts = u == DFA_UNIT_COUNT && !pf->period_ns;
	uint64_t scale = u == DFA_UNIT_COUNT ? (pf->period_ns ? pf->period_ns : 1) : 1;
	const char *unit = counts ? "none" : u == DFA_UNIT_BYTES ? "bytes" : "nanoseconds";

	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":\"dfprof\",\"name\":", f);
	put_json_string(f, o->archive);
	fputs(",\"activeProfileIndex\":0,\"shared\":{\"frames\":[", f);
	for (uint32_t i = 0; i < n_frames; i++) {
		const struct frame *fr = profile__frame(pf, i);
		char *text = folded_frame_text(fr);

		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		put_json_string(f, text);
		if (fr->object[0]) {
			fputs(",\"file\":", f);
			put_json_string(f, fr->object);
		}
		fputc('}', f);
		free(text);
	}
	fprintf(f, "]},\"profiles\":[{\"type\":\"sampled\",\"name\":\"%s\",\"unit\":\"%s\",\"startValue\":0,"
		"\"endValue\":%llu,\"samples\":[", profile__event_name(pf), unit,
		(unsigned long long)(pf->total * scale));
	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];

		fputs(i ? ",[" : "[", f);
		for (uint32_t j = 0; j < p->n; j++)
			fprintf(f, j ? ",%u" : "%u", pf->ids[p->off + j]);
		fputc(']', f);
	}
	fputs("],\"weights\":[", f);
	for (size_t i = 0; i < pf->n_paths; i++)
		fprintf(f, i ? ",%llu" : "%llu", (unsigned long long)(pf->paths[i].value * scale));
	fputs("]}]}\n", f);
	return ferror(f) ? -1 : 0;
}
