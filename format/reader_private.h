/* SPDX-License-Identifier: MIT */
/* The archive reader's state, shared by its files (reader*.c). */
#ifndef DFA_READER_PRIVATE_H
#define DFA_READER_PRIVATE_H

#include "dfa_private.h"
#include "hashmap.h"

struct member {
	char *name;
	uint8_t *stored;	/* compressed bytes, kept for lazy members (and samples with stack copies) */
	uint64_t stored_len;
	uint64_t size;		/* decompressed, once decoded */
	struct dfa_buf data;	/* decompressed, once asked for */
	bool decoded;
};

struct stack_rec {
	size_t off;		/* into ips: user, kernel, then interpreted frames */
	uint32_t n_user, n_kern, n_interp;
	uint32_t user_end;
};

/* A stack copy: its bytes stay in its samples member, decompressed again when asked for. */
struct ustack_rec {
	uint64_t ip, sp, bp;
	size_t member;		/* members index */
	size_t off;		/* into the member's decompressed bytes */
	uint32_t len;
};

struct proc_rec {
	struct dfa_proc p;
	struct dfa_map *maps;
};

struct thread_name {
	uint32_t tid;
	uint64_t ts;
	char *name;
};

struct dfa_reader {
	char err[512];
	bool incomplete, have_meta, have_end;
	uint64_t file_size;	/* of the archive: no member can be larger */
	uint64_t budget;	/* decompressed bytes the archive may still take */
	uint64_t budget_all;
	struct ZSTD_DCtx_s *zctx;	/* kept between members */
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
	struct thread_name *threads;	/* by (tid, ts) after the sort */
	size_t n_threads, threads_cap;
	struct pairmap proc_ix;	/* (pid, begin) -> procs index, while decoding (before the sort) */
	struct ustack_rec *ustacks;
	size_t n_ustacks, ustacks_cap;
	struct dfa_free *frees;
	size_t n_frees, frees_cap;
	struct dfa_func *funcs;	/* sorted by id once read */
	size_t n_funcs, funcs_cap;
	struct dfa_context *contexts;	/* by id; attributes and their strings owned */
	size_t n_contexts, contexts_cap;
	struct dfa_buf ustack_member;	/* the samples member whose copies were last asked for */
	size_t ustack_member_ix;	/* its index + 1; 0: none */
	bool member_has_ustacks;	/* the member being decoded */
	struct member *members;
	size_t n_members, members_cap;
	struct pairmap member_ix;	/* (name's hash, k) -> members index + 1: the first of that name */
	size_t n_jit_members;
	char **map_strs;	/* mappings' paths and object keys, each kept once */
	size_t n_map_strs, map_strs_cap;
	struct pairmap map_str_ix;	/* (hash, k) -> map_strs index + 1 */
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
void reader_free_attrs(const struct dfa_attr *a, uint32_t n);

#endif
