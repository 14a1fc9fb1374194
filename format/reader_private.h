/* SPDX-License-Identifier: MIT */
/* The archive reader's state, shared by its files (reader*.c). */
#ifndef DFA_READER_PRIVATE_H
#define DFA_READER_PRIVATE_H

#include "dfa_private.h"

struct member {
	char *name;
	uint8_t *stored;	/* compressed bytes, kept for lazy members */
	uint64_t stored_len;
	struct dfa_buf data;	/* decompressed, once asked for */
	bool decoded;
};

struct stack_rec {
	size_t off;		/* into ips: user, kernel, then interpreted frames */
	uint32_t n_user, n_kern, n_interp;
};

struct ustack_rec {
	uint64_t ip, sp, bp;
	size_t off;		/* into ustack_bytes */
	uint32_t len;
};

struct proc_rec {
	struct dfa_proc p;
	struct dfa_map *maps;
};

struct dfa_reader {
	char err[512];
	bool incomplete, have_meta, have_end;
	uint64_t file_size;	/* of the archive: no member can be larger */
	uint64_t budget;	/* decompressed bytes the archive may still take */
	uint64_t budget_all;
	struct dfa_ksym *ksyms;	/* kernel symbols, parsed on first use */
	size_t n_ksyms;
	char *ksym_names;
	bool ksyms_read;
	struct dfa_kv *kv;
	size_t n_kv;
	struct dfa_sample *samples;
	size_t n_samples, samples_cap;
	uint64_t *ips;
	size_t ips_len, ips_cap;
	struct stack_rec *stacks;
	size_t n_stacks, stacks_cap;
	struct proc_rec *procs;
	size_t n_procs, procs_cap;
	struct ustack_rec *ustacks;
	size_t n_ustacks, ustacks_cap;
	struct dfa_free *frees;
	size_t n_frees, frees_cap;
	struct dfa_func *funcs;	/* sorted by id once read */
	size_t n_funcs, funcs_cap;
	struct dfa_buf ustack_bytes;
	struct member *members;
	size_t n_members, members_cap;
	struct dfa_buf scratch;
};

/* Sets the handle's message and yields code. */
#define FAIL(r, code, ...) (dfa_errorf((r)->err, sizeof((r)->err), __VA_ARGS__), (code))
#define SET_ERR(r, ...) dfa_errorf((r)->err, sizeof((r)->err), __VA_ARGS__)

/* Room for one more element of size sz. */
int reader_grow(void *arr, size_t *cap, size_t n, size_t sz);
/* Decompresses member name into out, within limit and the archive's budget. */
int reader_inflate(struct dfa_reader *r, const char *name, const void *src, size_t len, uint64_t limit,
		   struct dfa_buf *out);
/* reader_records.c, reader_procs.c: one decompressed member's records */
int reader_decode_samples(struct dfa_reader *r, const char *name, const struct dfa_buf *b);
int reader_decode_procs(struct dfa_reader *r, const char *name, const struct dfa_buf *b);
void reader_proc_release(struct proc_rec *pr);
/* Sorted once everything is read. */
void reader_sort_procs(struct dfa_reader *r);
void reader_sort_funcs(struct dfa_reader *r);

#endif
