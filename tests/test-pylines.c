/* SPDX-License-Identifier: MIT */
/*
 * Checks dfreport's reading of CPython location tables against the
 * interpreter's own: each stdin line is "FIRSTLINE HEXTABLE LINE..." with the
 * line of every code unit as co_positions() gives it (-1: none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

int main(void)
{
	char *buf = NULL;
	size_t cap = 0;
	unsigned long codes = 0, units = 0, bad = 0;

	while (getline(&buf, &cap, stdin) > 0) {
		char *p = buf, *hex;
		int first = strtol(p, &p, 10);
		size_t len;
		uint8_t *t;

		hex = strtok_r(p, " \n", &p);
		if (!hex)
			continue;
		len = strlen(hex) / 2;
		t = malloc(len + 1);
		for (size_t i = 0; i < len; i++)
			sscanf(hex + 2 * i, "%2hhx", &t[i]);
		for (uint32_t instr = 0;; instr++) {
			char *tok = strtok_r(NULL, " \n", &p);
			int want, got;

			if (!tok)
				break;
			want = atoi(tok);
			got = python_line(t, len, first, instr);
			units++;
			if (got != want && bad++ < 10)
				fprintf(stderr, "code %lu unit %u: line %d, want %d\n", codes, instr, got, want);
		}
		free(t);
		codes++;
	}
	free(buf);
	printf("%lu code objects, %lu code units, %lu wrong\n", codes, units, bad);
	return bad || !units;
}
