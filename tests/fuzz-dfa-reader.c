/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the archive reader.  With -DDF_LIBFUZZER (configure
 * --enable-fuzz, CC=clang) it is a libFuzzer target.  Without it, make check
 * runs it as a plain program:
 *   fuzz-dfa-reader FILE...                  read each file
 *   fuzz-dfa-reader --seed FILE              write a small valid archive
 *   fuzz-dfa-reader --mutate N SEED FILE     read N random mutations of FILE
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dfa.h"

/* Reads everything the reader offers, as dfreport would. */
static void exercise(const uint8_t *data, size_t size)
{
	struct dfa_reader *r = dfa_reader__new();
	struct dfa_member_info mi;
	volatile uint64_t sum = 0;

	if (!r)
		return;
	if (dfa_reader__open_memory(r, data, size) < DFA_FAILED)
		goto cleanup;
	for (size_t i = 0; i < dfa_reader__sample_count(r); i++) {
		const struct dfa_sample *s = &dfa_reader__samples(r)[i];
		struct dfa_stack st;

		struct dfa_ustack us;

		if (dfa_reader__stack(r, s->stack, &st) != DFA_OK)
			abort();	/* the reader promised every stack id is defined */
		if (dfa_reader__ustack(r, s, &us) == DFA_OK && us.len)
			sum += us.data[0] + us.data[us.len - 1];
		for (uint32_t j = 0; j < st.n_user; j++)
			sum += st.user[j];
		for (uint32_t j = 0; j < st.n_kern; j++)
			sum += st.kern[j];
		for (uint32_t j = 0; j < st.n_interp; j++) {
			const struct dfa_func *f = dfa_reader__func(r, DFA_IFRAME_FUNC(st.interp[j]));

			if (f)
				sum += strlen(f->name) + strlen(f->file) + (f->lines_len ? f->lines[f->lines_len - 1] : 0);
		}
		const struct dfa_proc *p = dfa_reader__find_proc(r, s->pid, s->ts);

		if (p)
			sum += p->n_maps;
	}
	for (size_t i = 0; i < dfa_reader__proc_count(r); i++) {
		const struct dfa_proc *p = dfa_reader__proc(r, i);

		sum += strlen(p->comm) + strlen(p->exe) + strlen(p->cmdline);
		for (uint32_t j = 0; j < p->n_maps; j++) {
			const void *d;
			size_t l;

			sum += strlen(p->maps[j].path);
			if (p->maps[j].object[0] && dfa_reader__object(r, p->maps[j].object, &d, &l) == DFA_OK)
				sum += l;
		}
	}
	for (size_t i = 0; dfa_reader__member_info(r, i, &mi) == DFA_OK; i++) {
		const void *d;
		size_t l;

		if (dfa_reader__file(r, mi.name, &d, &l) == DFA_OK)
			sum += l;
	}
	for (size_t i = 0; i < dfa_reader__meta_count(r); i++) {
		const char *v, *k = dfa_reader__meta_at(r, i, &v);

		sum += strlen(k) + strlen(v);
	}
cleanup:
	dfa_reader__free(r);
}

#ifdef DF_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	exercise(data, size);
	return 0;
}
#else
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0) {
		rewind(f);
		buf = malloc(n ? n : 1);
		if (buf && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = n;
	}
	fclose(f);
	return buf;
}

static int seed(const char *path)
{
	struct dfa_writer *w = dfa_writer__new();
	struct dfa_map m = { 0x1000, 0x9000, 0, DFA_PROT_R | DFA_PROT_X, "/bin/x", "abcdef" };
	struct dfa_proc p = { .pid = 7, .comm = "x", .exe = "/bin/x", .cmdline = "x", .n_maps = 1, .maps = &m };
	int ret = 1;

	if (dfa_writer__open(w, path) || dfa_writer__begin(w) ||
	    dfa_writer__add_object(w, "abcdef", "\177ELF....", 8) || dfa_writer__add_proc(w, &p))
		goto cleanup;
	for (int c = 0; c < 3; c++) {
		for (int i = 0; i < 20; i++) {
			uint64_t u[2] = { 0x1100 + i, 0x1200 }, k[1] = { 0xffffffff81000000ULL + i };
			uint64_t py[1] = { DFA_IFRAME(i % 2, i, true) };
			struct dfa_sample s = { .ts = 1000 * c + i, .pid = 7, .tid = 7 + i % 2, .value = 1 };
			struct dfa_stack st = { 2, i % 2, u, k, i % 4 == 0, py };

			uint8_t bytes[24] = { 1, 2, 3, (uint8_t)i };
			struct dfa_ustack us = { u[0], 0x7ff0000 + i, 0x7ff0100, sizeof(bytes), bytes };

			if (dfa_writer__add_sample(w, &s, &st, i % 3 ? NULL : &us))
				goto cleanup;
		}
		{
			static const uint8_t t[] = { 0x80, 0x02 };
			struct dfa_func f = { c, 7, DFA_FUNC_PYTHON, 0x30b, 1 + c, "f", "/x.py", t, sizeof(t) };

			if (dfa_writer__add_func(w, &f))
				goto cleanup;
		}
		if (dfa_writer__flush(w))
			goto cleanup;
	}
	ret = dfa_writer__finish(w) ? 1 : 0;
cleanup:
	if (ret)
		fprintf(stderr, "seed: %s\n", dfa_writer__error(w));
	dfa_writer__free(w);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--seed"))
		return seed(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "--mutate")) {
		unsigned long n = strtoul(argv[2], NULL, 10);
		size_t len;
		uint8_t *orig = slurp(argv[4], &len), *buf;

		if (!orig || !len) {
			fprintf(stderr, "fuzz-dfa-reader: cannot read %s\n", argv[4]);
			return 1;
		}
		buf = malloc(len);
		srand(strtoul(argv[3], NULL, 10));
		for (unsigned long i = 0; i < n; i++) {
			size_t cut = len;

			memcpy(buf, orig, len);
			switch (i % 4) {
			case 0:	/* bit flips */
				for (int k = 0; k < 1 + rand() % 8; k++)
					buf[rand() % len] ^= 1 << (rand() % 8);
				break;
			case 1:	/* truncation */
				cut = rand() % len;
				break;
			case 2:	/* random bytes over a run */
				for (size_t k = rand() % len, e = k + rand() % 64; k < e && k < len; k++)
					buf[k] = rand();
				break;
			default:	/* large numbers planted in the tar size fields and varints */
				buf[rand() % len] = 0xff;
				buf[rand() % len] = '7';
				break;
			}
			exercise(buf, cut);
		}
		printf("fuzz-dfa-reader: %lu mutations of %s read without a crash\n", n, argv[4]);
		free(buf);
		free(orig);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		size_t len;
		uint8_t *buf = slurp(argv[i], &len);

		if (!buf) {
			fprintf(stderr, "fuzz-dfa-reader: cannot read %s\n", argv[i]);
			return 1;
		}
		exercise(buf, len);
		free(buf);
	}
	return 0;
}
#endif
