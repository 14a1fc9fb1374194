/* SPDX-License-Identifier: MIT */
/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile, a stack per distinct path (root first) with its value
 * as weight, frames shared.
 */
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* A JSON string of any bytes: made valid UTF-8 without control characters first (text.c). */
static void put_json_string(FILE *f, const char *raw)
{
	char *clean = text_clean(raw);

	fputc('"', f);
	for (const char *s = clean; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
	free(clean);
}

int out_speedscope(const struct profile *pf, const struct report_opts *o, FILE *f)
{
	uint32_t n_frames = symbolizer__frame_count(pf->sym);
	enum dfa_unit u = profile__event(pf)->unit;
	const char *unit = u == DFA_UNIT_COUNT ? "none" : u == DFA_UNIT_NS ? "microseconds" : "bytes";

	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":\"dfprof\",\"name\":", f);
	put_json_string(f, o->archive);
	fputs(",\"activeProfileIndex\":0,\"shared\":{\"frames\":[", f);
	for (uint32_t i = 0; i < n_frames; i++) {
		const struct frame *fr = symbolizer__frame(pf->sym, i);
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
		(unsigned long long)profile__shown(pf, pf->total));
	for (size_t i = 0; i < pf->n_paths; i++) {
		const struct path *p = &pf->paths[i];

		fputs(i ? ",[" : "[", f);
		for (uint32_t j = 0; j < p->n; j++)
			fprintf(f, j ? ",%u" : "%u", pf->ids[p->off + j]);
		fputc(']', f);
	}
	fputs("],\"weights\":[", f);
	for (size_t i = 0; i < pf->n_paths; i++)
		fprintf(f, i ? ",%llu" : "%llu", (unsigned long long)profile__shown(pf, pf->paths[i].value));
	fputs("]}]}\n", f);
	return ferror(f) ? -1 : 0;
}
