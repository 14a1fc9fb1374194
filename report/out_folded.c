/* SPDX-License-Identifier: MIT */
/* Folded stacks (Brendan Gregg's collapsed format), one line per distinct stack. */
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* Backslash and ';' are escaped so a frame never splits; kernel frames get "_[k]". */
char *folded_frame_text(const struct frame *fr)
{
	size_t n = strlen(fr->name);
	char *t = must_realloc(NULL, 2 * n + 5), *d = t;

	for (const char *p = fr->name; *p; p++) {
		if (*p == ';' || *p == '\\')
			*d++ = '\\';
		*d++ = *p == '\n' ? ' ' : *p;
	}
	if (fr->kind == FRAME_KERNEL)
		memcpy(d, "_[k]", 4), d += 4;
	*d = 0;
	return t;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->text, ((const struct folded_line *)b)->text);
}

static char *path_text(const struct profile *pf, const struct path *p, char **texts)
{
	size_t len = 1;
	char *s, *d;

	for (uint32_t i = 0; i < p->n; i++)
		len += strlen(texts[pf->ids[p->off + i]]) + 1;
	s = d = must_realloc(NULL, len);
	for (uint32_t i = 0; i < p->n; i++) {
		const char *t = texts[pf->ids[p->off + i]];
		size_t n = strlen(t);

		if (i)
			*d++ = ';';
		memcpy(d, t, n);
		d += n;
	}
	*d = 0;
	return s;
}

/* The profile's stacks as folded text, sorted, alike ones merged; values as shown. */
struct folded_line *folded_lines(const struct profile *pf, size_t *n_out)
{
	uint32_t n_frames = profile__frame_count(pf);
	char **texts = must_realloc(NULL, (n_frames + 1) * sizeof(*texts));
	struct folded_line *lines = must_realloc(NULL, (pf->n_paths + 1) * sizeof(*lines));
	size_t n = 0;

	for (uint32_t i = 0; i < n_frames; i++)
		texts[i] = folded_frame_text(profile__frame(pf, i));
	for (size_t i = 0; i < pf->n_paths; i++)
		lines[i] = (struct folded_line){ path_text(pf, &pf->paths[i], texts), pf->paths[i].value };
	qsort(lines, pf->n_paths, sizeof(*lines), cmp_line);
	/* Distinct frames can print alike (same name, other object): merge them. */
	for (size_t i = 0; i < pf->n_paths; i++) {
		if (n && !strcmp(lines[n - 1].text, lines[i].text)) {
			lines[n - 1].value += lines[i].value;
			free(lines[i].text);
			continue;
		}
		lines[n++] = lines[i];
	}
	for (size_t i = 0; i < n; i++)
		lines[i].value = profile__shown(pf, lines[i].value);
	for (uint32_t i = 0; i < n_frames; i++)
		free(texts[i]);
	free(texts);
	*n_out = n;
	return lines;
}

void folded_lines__free(struct folded_line *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i].text);
	free(lines);
}

int out_folded(const struct profile *pf, FILE *f)
{
	size_t n;
	struct folded_line *lines = folded_lines(pf, &n);

	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %llu\n", lines[i].text, (unsigned long long)lines[i].value);
	folded_lines__free(lines, n);
	return 0;
}
