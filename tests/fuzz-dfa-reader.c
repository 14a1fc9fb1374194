/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the archive reader.  With -DDF_LIBFUZZER (configure
 * --enable-fuzz, CC=clang) it is a libFuzzer target.  Without it, make check
 * runs it as a plain program:
 *   fuzz-dfa-reader FILE...                  read each file
 *   fuzz-dfa-reader --seed FILE              write a small valid archive
 *   fuzz-dfa-reader --mutate N SEED FILE     read N random mutations of FILE
 *   fuzz-dfa-reader --remix SEED FILE OUT    write FILE with one member's payload
 *                                            mutated (decompressed, changed,
 *                                            recompressed: the framing stays valid)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>
#include "dfa.h"
#include "dfa_private.h"
#include "test-util.h"

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
		sum += st.user_end;
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
	struct dfa_map m = { 0x1000, 0x9000, 0, DFA_PROT_R | DFA_PROT_X, "/bin/x", "abcdef", 0 };
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
			struct dfa_stack st = { 2, i % 2, u, k, i % 4 == 0, py, i % 13 };

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

/* Changes a payload as a careless or hostile writer could: bits, extreme
 * bytes, cuts, repeats.  ELF objects get most changes in their headers. */
static void mutate_payload(struct dfa_buf *b, bool elf)
{
	size_t len = b->len, span;

	if (!len)
		return;
	span = elf && len > 4096 && rand() % 3 ? 4096 : len;
	switch (rand() % 5) {
	case 0:
		for (int k = 0; k < 1 + rand() % 16; k++)
			b->data[rand() % span] ^= 1 << (rand() % 8);
		break;
	case 1: {
		static const uint8_t extremes[] = { 0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe };

		for (int k = 0; k < 1 + rand() % 8; k++)
			b->data[rand() % span] = extremes[rand() % sizeof(extremes)];
		break;
	}
	case 2:
		b->len = rand() % len;
		break;
	case 3: {	/* a run repeated over what follows it */
		size_t from = rand() % len, n = 1 + rand() % 64, to = rand() % len;

		for (size_t k = 0; k < n && to + k < len && from + k < len; k++)
			b->data[to + k] = b->data[from + k];
		break;
	}
	default:	/* a 64-bit field of all ones, as counts and sizes are */
		for (size_t k = 0, at = rand() % span; k < 8 && at + k < len; k++)
			b->data[at + k] = 0xff;
		break;
	}
}

static int remix(unsigned long seed_value, const char *in, const char *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char **names = NULL;
	struct dfa_buf *data = NULL;	/* decompressed */
	size_t n = 0, target;
	int ret = 1;

	srand(seed_value);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, in, 1 << 16) != ARCHIVE_OK)
		goto cleanup;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		size_t size = archive_entry_size(e);
		uint8_t *z = malloc(size ? size : 1);

		names = realloc(names, (n + 1) * sizeof(*names));
		data = realloc(data, (n + 1) * sizeof(*data));
		names[n] = strdup(archive_entry_pathname(e));
		data[n] = (struct dfa_buf){ 0 };
		n++;
		if (archive_read_data(a, z, size) != (la_ssize_t)size ||
		    dfa_zstd__decompress(NULL, z, size, DFA_MAX_MEMBER, &data[n - 1])) {
			free(z);
			fprintf(stderr, "fuzz-dfa-reader: %s: cannot read member %s\n", in, names[n - 1]);
			goto cleanup;
		}
		free(z);
	}
	if (n < 2)
		goto cleanup;
	/* Not meta (its format line decides everything else); objects half the time. */
	do {
		target = 1 + rand() % (n - 1);
	} while (rand() % 2 && strncmp(names[target], "objects/", 8));
	mutate_payload(&data[target], !strncmp(names[target], "objects/", 8));
	if (raw_archive_write(out, (const char *const *)names, data, n))
		goto cleanup;
	printf("%s\n", names[target]);
	ret = 0;
cleanup:
	archive_read_free(a);
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		dfa_buf__release(&data[i]);
	}
	free(names);
	free(data);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--seed"))
		return seed(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "--remix"))
		return remix(strtoul(argv[2], NULL, 10), argv[3], argv[4]);
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
