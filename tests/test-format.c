/* SPDX-License-Identifier: MIT */
/* Unit tests for libdfa: round trip, truncation, corruption, versions, unknown parts. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dfa.h"
#include "dfa_private.h"
#include "test-util.h"

static char tmpdir[] = "/tmp/test-format.XXXXXX";

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? n : 1);
	if (fread(buf, 1, n, f) != (size_t)n)
		n = 0;
	fclose(f);
	*len = n;
	return buf;
}

/* A recording of 3 chunks: 2 processes, 40 samples each chunk, one object, one file. */
#define N_CHUNKS 3
#define PER_CHUNK 40
#define N_SAMPLES (N_CHUNKS * PER_CHUNK + 2)	/* and two memory samples */
static const char object_bytes[] = "\177ELF pretend object bytes";

static void write_sample_archive(const char *path, bool finish)
{
	struct dfa_writer *w = dfa_writer__new();
	struct dfa_map maps[2] = {
		{ 0x400000, 0x401000, 0, DFA_PROT_R | DFA_PROT_X, "/usr/bin/a b", "0123abcd", 0 },
		{ 0x7f0000000000, 0x7f0000100000, 0x1000, DFA_PROT_R | DFA_PROT_X, "/lib/libc.so.6", "", 0 },
	};
	struct dfa_proc p = { .pid = 100, .ppid = 1, .begin = 0, .comm = "alpha", .exe = "/usr/bin/a b",
			      .cmdline = "a b --x", .n_maps = 2, .maps = maps };
	/* Out of order: the reader sorts them. */
	struct dfa_ksym ksyms[2] = { { 0xffffffff81000100, 0xffffffff81000180, "do_sys_open" },
				     { 0xffffffff81000000, 0xffffffff81000100, "start_kernel [mod]" } };

	CHECK(dfa_writer__open(w, path) == DFA_OK, "%s", dfa_writer__error(w));
	dfa_writer__set_meta(w, "host", "test\nhost\\x");
	CHECK(dfa_writer__begin(w) == DFA_OK, "%s", dfa_writer__error(w));
	CHECK(dfa_writer__publish(w) == DFA_OK, "%s", dfa_writer__error(w));
	CHECK(dfa_writer__add_object(w, "0123abcd", object_bytes, sizeof(object_bytes)) == DFA_OK, "object");
	CHECK(dfa_writer__add_object(w, "0123abcd", object_bytes, sizeof(object_bytes)) == DFA_OK, "dup object");
	CHECK(dfa_writer__add_object(w, "../evil", "x", 1) == DFA_FAILED, "bad key accepted");
	CHECK(dfa_writer__add_ksyms(w, ksyms, 2) == DFA_OK, "kernel symbols: %s", dfa_writer__error(w));
	CHECK(dfa_writer__add_kernel_modules(w, "m 4096 0 - Live 0x0\n", 21) == DFA_OK, "modules");
	CHECK(dfa_writer__add_jit_map(w, 200, 5000, "500000 100 jitted\n", 18) == DFA_OK, "jit map");
	CHECK(dfa_writer__add_debug_file(w, "0123abcd", "\177ELF debug", 10) == DFA_OK, "debug file");
	CHECK(dfa_writer__add_file(w, "kernel/modules", "x", 1) == DFA_FAILED, "modules written as a plain file");
	CHECK(dfa_writer__add_file(w, "jit/1.2.map", "x", 1) == DFA_FAILED, "a JIT map written as a plain file");
	CHECK(dfa_writer__add_file(w, "samples/x", "x", 1) == DFA_FAILED, "reserved name accepted");
	CHECK(dfa_writer__add_file(w, "kernel/ksyms.9", "x", 1) == DFA_FAILED, "ksyms written as a plain file");
	CHECK(dfa_writer__add_proc(w, &p) == DFA_OK, "proc");
	p.pid = 200;
	p.begin = 5000;
	p.comm = "beta";
	CHECK(dfa_writer__add_proc(w, &p) == DFA_OK, "proc 2");
	/* Some samples in a trace span, for the corruption tests to reach contexts too. */
	struct dfa_attr attr = { "0", "GET /x" };
	struct dfa_context ctx = { .trace_id = { 1, 2, 3 }, .span_id = { 4, 5 }, .n_attrs = 1, .attrs = &attr };
	uint32_t ctx_id;

	CHECK(dfa_writer__context(w, &ctx, &ctx_id) == DFA_OK, "context");
	for (int c = 0; c < N_CHUNKS; c++) {
		for (int i = 0; i < PER_CHUNK; i++) {
			uint64_t user[3] = { 0x400100 + (i % 4), 0x400200, 0x7f0000000100 };
			uint64_t kern[2] = { 0xffffffff81000010, 0xffffffff81000020 };
			struct dfa_sample s = { .ts = 10000 + c * 1000 + i, .pid = i % 2 ? 200 : 100,
						.tid = 1000 + i, .cpu = i % 4, .event = DFA_EV_ONCPU, .value = 1,
						.context = i % 6 ? 0 : ctx_id + 1 };

			uint8_t bytes[40];
			struct dfa_ustack us = { user[0], 0x7ffd0000 + i * 8, 0x7ffd0100, sizeof(bytes), bytes };

			/* Every seventh sample has Python frames too. */
			uint64_t py[2] = { DFA_IFRAME(7, i, false), DFA_IFRAME(9, DFA_INSTR_UNKNOWN, true) };
			struct dfa_stack st = { 3, i % 3 ? 2 : 0, user, kern, i % 7 ? 0 : 2, py, DFA_UEND_NONE };

			for (size_t b = 0; b < sizeof(bytes); b++)
				bytes[b] = (uint8_t)(i + b);
			CHECK(dfa_writer__add_sample(w, &s, &st, i % 5 ? NULL : &us) == DFA_OK, "sample");
		}
		CHECK(dfa_writer__flush(w) == DFA_OK, "flush");
	}
	CHECK(dfa_writer__add_exit(w, 100, 0, 99999) == DFA_OK, "exit");
	/* Thread names: 101 renamed at 7000; a name longer than a comm is cut to 15 bytes. */
	CHECK(dfa_writer__add_thread(w, 100, 101, 5000, "worker") == DFA_OK, "thread");
	CHECK(dfa_writer__add_thread(w, 100, 101, 7000, "renamed") == DFA_OK, "thread");
	CHECK(dfa_writer__add_thread(w, 100, 102, 5000, "a-very-long-thread-name") == DFA_OK, "thread");
	/* Memory: two allocations with addresses, one freed. */
	{
		uint64_t user[1] = { 0x400123 };
		struct dfa_sample a = { .ts = 50000, .pid = 100, .tid = 100, .event = DFA_EV_MEM_ALLOC,
					.value = 4096, .addr = 0x5555aaaa0000 };
		struct dfa_stack st = { .n_user = 1, .user = user };
		/* Functions may be defined after the stacks that use them. */
		static const uint8_t table[] = { 0x80, 0xd8, 0x02 };
		struct dfa_func f9 = { 9, 100, DFA_FUNC_PYTHON, 0x30b, 12, "<module>", "/t/a.py", NULL, 0 };
		struct dfa_func f7 = { 7, 100, DFA_FUNC_PYTHON, 0x30b, 3, "C.hot", "/t/a.py", table, 3 };

		uint32_t id, id2;
		bool added;

		/* The two halves of add_sample, as dfrecord calls them. */
		CHECK(dfa_writer__stack(w, &st, &id, &added) == DFA_OK && added, "a new stack not said to be new");
		CHECK(dfa_writer__add_sample_of(w, &a, id, NULL) == DFA_OK, "alloc");
		a.ts++;
		a.addr += 4096;
		CHECK(dfa_writer__stack(w, &st, &id2, &added) == DFA_OK && !added && id2 == id, "the same stack again");
		CHECK(dfa_writer__add_sample_of(w, &a, id + 1000, NULL) == DFA_FAILED, "an unknown stack id accepted");
		CHECK(dfa_writer__add_sample_of(w, &a, id2, NULL) == DFA_OK, "alloc 2");
		CHECK(dfa_writer__add_func(w, &f9) == DFA_OK && dfa_writer__add_func(w, &f7) == DFA_OK, "funcs");
		CHECK(dfa_writer__add_free(w, 100, 0x5555aaaa0000, 50010, DFA_EV_MEM_ALLOC) == DFA_OK, "free");
		CHECK(dfa_writer__flush(w) == DFA_OK, "flush");
	}
	if (finish) {
		dfa_writer__set_meta(w, "samples", "120");
		CHECK(dfa_writer__finish(w) == DFA_OK, "%s", dfa_writer__error(w));
	}
	dfa_writer__free(w);
}

static void test_round_trip(const char *path)
{
	struct dfa_reader *r = dfa_reader__new();
	const struct dfa_proc *p;
	struct dfa_stack st;
	const void *data;
	size_t len, n;

	CHECK(dfa_reader__open(r, path) == DFA_OK, "%s", dfa_reader__error(r));
	CHECK(!dfa_reader__incomplete(r), "complete archive marked incomplete");
	CHECK(dfa_reader__meta(r, "host") && !strcmp(dfa_reader__meta(r, "host"), "test\nhost\\x"), "meta escape");
	CHECK(dfa_reader__meta(r, "status") && !strcmp(dfa_reader__meta(r, "status"), "complete"), "status");
	n = dfa_reader__sample_count(r) - 2;	/* two memory samples at the end */
	CHECK(n == N_CHUNKS * PER_CHUNK, "samples %zu", n);
	{
		const struct dfa_sample *m = &dfa_reader__samples(r)[n];
		const struct dfa_free *f = dfa_reader__frees(r);

		CHECK(m[0].event == DFA_EV_MEM_ALLOC && m[0].addr == 0x5555aaaa0000 && m[1].addr == 0x5555aaaa1000 &&
		      m[0].value == 4096 && m[1].ts == 50001, "memory samples");
		CHECK(dfa_reader__free_count(r) == 1 && f[0].pid == 100 && f[0].addr == 0x5555aaaa0000 &&
		      f[0].ts == 50010, "free record");
		CHECK(dfa_reader__samples(r)[0].addr == 0, "on-cpu sample has an address");
	}
	{
		/* 4 user variants x 2 kernel, those with Python frames apart, 1 memory */
		size_t want = 1, py = 0;
		bool base[4][2] = { { false } };

		for (int i = 0; i < PER_CHUNK; i++) {
			if (i % 7 == 0)
				py++;
			else if (!base[i % 4][i % 3 != 0] && (base[i % 4][i % 3 != 0] = true))
				want++;
		}
		want += py;
		CHECK(dfa_reader__stack_count(r) == want, "stacks %zu, want %zu", dfa_reader__stack_count(r), want);
	}
	{
		const struct dfa_func *f7 = dfa_reader__func(r, 7), *f9 = dfa_reader__func(r, 9);

		CHECK(dfa_reader__func_count(r) == 2 && !dfa_reader__func(r, 8), "function count");
		CHECK(f7 && f7->pid == 100 && f7->kind == DFA_FUNC_PYTHON && f7->version == 0x30b && f7->firstline == 3 &&
		      !strcmp(f7->name, "C.hot") && !strcmp(f7->file, "/t/a.py") && f7->lines_len == 3 &&
		      f7->lines[1] == 0xd8, "function 7");
		CHECK(f9 && !strcmp(f9->name, "<module>") && f9->lines_len == 0, "function 9");
	}
	for (size_t i = 0; i < n; i++) {
		const struct dfa_sample *s = &dfa_reader__samples(r)[i];
		int c = i / PER_CHUNK, k = i % PER_CHUNK;

		CHECK(s->ts == (uint64_t)(10000 + c * 1000 + k) && s->tid == (uint32_t)(1000 + k), "sample %zu", i);
		CHECK(dfa_reader__stack(r, s->stack, &st) == DFA_OK, "stack");
		CHECK(st.n_user == 3 && st.user[0] == 0x400100u + (k % 4) && st.user[2] == 0x7f0000000100,
		      "user stack of %zu", i);
		CHECK(st.n_kern == (k % 3 ? 2u : 0u) && (!st.n_kern || st.kern[1] == 0xffffffff81000020),
		      "kernel stack of %zu", i);
		CHECK(st.n_interp == (k % 7 ? 0u : 2u) &&
		      (!st.n_interp || (DFA_IFRAME_FUNC(st.interp[0]) == 7 && DFA_IFRAME_INSTR(st.interp[0]) == (uint32_t)k &&
					!DFA_IFRAME_ENTRY(st.interp[0]) && DFA_IFRAME_FUNC(st.interp[1]) == 9 &&
					DFA_IFRAME_INSTR(st.interp[1]) == DFA_INSTR_UNKNOWN && DFA_IFRAME_ENTRY(st.interp[1]))),
		      "interpreted frames of %zu", i);
		struct dfa_ustack us;
		int has = dfa_reader__ustack(r, s, &us) == DFA_OK;

		CHECK(has == (k % 5 == 0), "stack copy presence of %zu", i);
		CHECK(!has || (us.len == 40 && us.sp == 0x7ffd0000u + k * 8 && us.bp == 0x7ffd0100 &&
			       us.ip == st.user[0] && us.data[39] == (uint8_t)(k + 39)), "stack copy of %zu", i);
	}
	CHECK(dfa_reader__proc_count(r) == 2, "procs %zu", dfa_reader__proc_count(r));
	CHECK(dfa_reader__thread_name(r, 101, 100) && !strcmp(dfa_reader__thread_name(r, 101, 100), "worker"),
	      "a thread's first name stands for earlier times");
	CHECK(!strcmp(dfa_reader__thread_name(r, 101, 6999), "worker"), "thread name before the rename");
	CHECK(!strcmp(dfa_reader__thread_name(r, 101, 7000), "renamed"), "thread name from the rename on");
	CHECK(!strcmp(dfa_reader__thread_name(r, 102, 9000), "a-very-long-thr"), "thread name cut to 15 bytes");
	CHECK(!dfa_reader__thread_name(r, 103, 9000), "an unknown thread has no name");
	p = dfa_reader__find_proc(r, 200, 6000);
	CHECK(p && !strcmp(p->comm, "beta") && p->n_maps == 2 && !strcmp(p->maps[0].path, "/usr/bin/a b"),
	      "proc 200");
	p = dfa_reader__find_proc(r, 100, 1);
	CHECK(p && p->end == 99999 && !strcmp(p->maps[0].object, "0123abcd"), "proc 100 exit");
	CHECK(!dfa_reader__find_proc(r, 300, 1), "no proc 300");
	{
		/* one object id per key, shared by the images that map it; none without one */
		const struct dfa_proc *q = dfa_reader__find_proc(r, 200, 6000);

		CHECK(p->maps[0].object_id && q->maps[0].object_id == p->maps[0].object_id && !p->maps[1].object_id &&
		      q->maps[0].path == p->maps[0].path, "object ids: %u %u %u", p->maps[0].object_id,
		      q->maps[0].object_id, p->maps[1].object_id);
	}
	CHECK(dfa_reader__object(r, "0123abcd", &data, &len) == DFA_OK && len == sizeof(object_bytes) &&
	      !memcmp(data, object_bytes, len), "object bytes");
	CHECK(dfa_reader__object(r, "missing", &data, &len) == DFA_FAILED, "missing object");
	CHECK(dfa_reader__kernel_modules(r, &data, &len) == DFA_OK && len == 21, "modules");
	CHECK(dfa_reader__debug_file(r, "0123abcd", &data, &len) == DFA_OK && len == 10, "debug file");
	CHECK(dfa_reader__debug_file(r, "missing", &data, &len) == DFA_FAILED, "missing debug file");
	p = dfa_reader__find_proc(r, 200, 6000);
	CHECK(p && dfa_reader__jit_map(r, p, &data, &len) == DFA_OK && len == 18, "jit map of 200");
	p = dfa_reader__find_proc(r, 100, 1);
	CHECK(p && dfa_reader__jit_map(r, p, &data, &len) == DFA_FAILED, "no jit map of 100");
	{
		struct dfa_member_info mi;
		int kinds[DFA_MEMBER__COUNT] = { 0 };

		for (size_t i = 0; dfa_reader__member_info(r, i, &mi) == DFA_OK; i++)
			kinds[mi.kind]++;
		CHECK(kinds[DFA_MEMBER_META] == 1 && kinds[DFA_MEMBER_END] == 1 && kinds[DFA_MEMBER_OBJECT] == 1 &&
		      kinds[DFA_MEMBER_DEBUG_FILE] == 1 && kinds[DFA_MEMBER_JIT] == 1 && kinds[DFA_MEMBER_KERNEL] == 2 &&
		      kinds[DFA_MEMBER_SAMPLES] == N_CHUNKS + 1, "member kinds");
	}
	{
		const struct dfa_ksym *k;

		CHECK(dfa_reader__ksyms(r, &k, &n) == DFA_OK && n == 2 && k[0].start == 0xffffffff81000000 &&
		      k[0].end == 0xffffffff81000100 && !strcmp(k[0].name, "start_kernel [mod]") &&
		      !strcmp(k[1].name, "do_sys_open"), "kernel symbols read back: %s", dfa_reader__error(r));
	}
	dfa_reader__free(r);
}

/* Offsets at which each tar member ends in the file. */
static size_t member_ends(const char *buf, size_t len, size_t *ends, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t n = 0;

	archive_read_support_format_tar(a);
	archive_read_open_memory(a, buf, len);
	while (n < max && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		int64_t size = archive_entry_size(e);

		archive_read_data_skip(a);
		/* header offset + 512 header block(s) + data rounded to 512 */
		ends[n++] = archive_read_header_position(a) + 512 + ((size + 511) & ~511LL);
	}
	archive_read_free(a);
	return n;
}

static void test_truncation(const char *path)
{
	size_t len, ends[64], n, prev_samples = 0;
	char *buf = slurp(path, &len);

	n = member_ends(buf, len, ends, 64);
	CHECK(n >= 8, "members %zu", n);
	/* At every member boundary: what came before is all there, with a warning. */
	for (size_t i = 0; i < n; i++) {
		struct dfa_reader *r = dfa_reader__new();
		int ret = dfa_reader__open_memory(r, buf, ends[i]);
		size_t ns = dfa_reader__sample_count(r);

		if (i + 1 < n)
			CHECK(ret == DFA_WARN && dfa_reader__incomplete(r), "cut after member %zu: %d %s", i, ret,
			      dfa_reader__error(r));
		CHECK((ns % PER_CHUNK == 0 || ns == N_SAMPLES) && ns >= prev_samples,
		      "cut after member %zu: %zu samples", i, ns);
		prev_samples = ns;
		dfa_reader__free(r);
	}
	CHECK(prev_samples == N_SAMPLES, "all samples at the last boundary");
	/* Anywhere at all: never a crash, never more samples than written. */
	for (size_t cut = 0; cut < len; cut += 97) {
		struct dfa_reader *r = dfa_reader__new();
		int ret = dfa_reader__open_memory(r, buf, cut);

		CHECK(ret != DFA_OK || cut >= ends[n - 1] - 1024, "cut at %zu read as complete", cut);
		CHECK(dfa_reader__sample_count(r) <= N_SAMPLES, "cut at %zu", cut);
		CHECK(ret == DFA_OK || *dfa_reader__error(r), "cut at %zu: no message", cut);
		dfa_reader__free(r);
	}
	free(buf);
}

static void test_corruption(const char *path)
{
	size_t len, named = 0, failed = 0;
	char *buf = slurp(path, &len);

	srand(42);
	for (int iter = 0; iter < 2000; iter++) {
		char *copy = malloc(len);
		struct dfa_reader *r = dfa_reader__new();
		int ret;

		memcpy(copy, buf, len);
		for (int k = 0; k < 1 + iter % 4; k++)
			copy[rand() % len] ^= 1 << (rand() % 8);
		ret = dfa_reader__open_memory(r, copy, len);
		if (ret != DFA_OK) {
			failed++;
			CHECK(*dfa_reader__error(r), "no error message");
			named += strstr(dfa_reader__error(r), "member") != NULL;
		}
		CHECK(dfa_reader__sample_count(r) <= N_SAMPLES, "too many samples");
		/* Objects decode lazily: corruption there shows up here, as an error. */
		const void *d;
		size_t l;

		dfa_reader__object(r, "0123abcd", &d, &l);
		dfa_reader__free(r);
		free(copy);
	}
	CHECK(failed > 0, "no corruption detected in 2000 mutations");
	CHECK(named > 0, "no error names its member");
	/* A flipped byte inside a samples member payload: the checksum names it. */
	{
		char *copy = malloc(len);
		char *hdr = memmem(buf, len, "samples/00000001", 16);
		struct dfa_reader *r = dfa_reader__new();
		size_t size;

		CHECK(hdr != NULL, "no samples/00000001 header");
		memcpy(copy, buf, len);
		if (hdr) {
			size = strtoul(hdr + 124, NULL, 8);	/* ustar size field, octal */
			copy[hdr - buf + 512 + size / 2] ^= 0x55;
		}
		CHECK(dfa_reader__open_memory(r, copy, len) == DFA_FAILED &&
		      strstr(dfa_reader__error(r), "samples/00000001"),
		      "corrupt samples member: %s", dfa_reader__error(r));
		dfa_reader__free(r);
		free(copy);
	}
	free(buf);
}

static void write_raw(const char *path, const char *const *names, const struct dfa_buf *payloads, int n)
{
	CHECK(raw_archive_write(path, names, payloads, n) == 0, "cannot write %s", path);
}

static void put_rec(struct dfa_buf *chunk, uint64_t type, const struct dfa_buf *rec)
{
	dfa_buf__put_uv(chunk, type);
	dfa_buf__put_uv(chunk, rec->len);
	dfa_buf__put(chunk, rec->data, rec->len);
}

static void test_versions(void)
{
	char path[256];
	const char *names[4] = { "meta", "future/thing", "samples/00000000", "end" };
	struct dfa_buf pl[4] = { 0 }, rec = { 0 };
	struct dfa_reader *r;

	snprintf(path, sizeof(path), "%s/raw.dfa", tmpdir);
	/* A newer minor version with an unknown feature, member and record type. */
	dfa_kv__put(&pl[0], "format", "1.9");
	dfa_kv__put(&pl[0], "features", "samples,procs,teleport");
	dfa_buf__put(&pl[1], "whatever", 8);
	dfa_buf__put_uv(&rec, 0);	/* STACK id 0: 1 user frame, 0 kernel */
	dfa_buf__put_uv(&rec, 1);
	dfa_buf__put_uv(&rec, 0);
	dfa_buf__put_sv(&rec, 0x1234);
	put_rec(&pl[2], DFA_REC_STACK, &rec);
	dfa_buf__reset(&rec);
	dfa_buf__put(&rec, "\x01\x02\x03", 3);
	put_rec(&pl[2], 99, &rec);	/* unknown record type */
	dfa_buf__reset(&rec);
	dfa_buf__put_sv(&rec, 777);	/* SAMPLE with a trailing field from the future */
	for (int i = 0; i < 6; i++)
		dfa_buf__put_uv(&rec, i == 5 ? 0 : 1);
	dfa_buf__put_uv(&rec, 424242);	/* addr (1.1) */
	dfa_buf__put_uv(&rec, 7);	/* and a field from the future */
	put_rec(&pl[2], DFA_REC_SAMPLE, &rec);
	dfa_kv__put(&pl[3], "status", "complete");
	write_raw(path, names, pl, 4);
	r = dfa_reader__new();
	CHECK(dfa_reader__open(r, path) == DFA_OK, "future minor: %s", dfa_reader__error(r));
	CHECK(dfa_reader__sample_count(r) == 1 && dfa_reader__samples(r)[0].ts == 777 &&
	      dfa_reader__samples(r)[0].addr == 424242, "future minor sample");
	dfa_reader__free(r);

	/* A newer major version is refused with a clear message. */
	dfa_buf__reset(&pl[0]);
	dfa_kv__put(&pl[0], "format", "2.0");
	write_raw(path, names, pl, 4);
	r = dfa_reader__new();
	CHECK(dfa_reader__open(r, path) == DFA_FATAL && strstr(dfa_reader__error(r), "newer"),
	      "major 2: %s", dfa_reader__error(r));
	dfa_reader__free(r);

	/* A sample naming a stack never defined is corrupt, and says where. */
	dfa_buf__reset(&pl[0]);
	dfa_kv__put(&pl[0], "format", "1.0");
	dfa_buf__reset(&pl[2]);
	dfa_buf__reset(&rec);
	for (int i = 0; i < 7; i++)
		dfa_buf__put_uv(&rec, i == 6 ? 5 : 1);
	put_rec(&pl[2], DFA_REC_SAMPLE, &rec);
	write_raw(path, names, pl, 4);
	r = dfa_reader__new();
	CHECK(dfa_reader__open(r, path) == DFA_FAILED && strstr(dfa_reader__error(r), "samples/00000000") &&
	      strstr(dfa_reader__error(r), "undefined stack"), "undefined stack: %s", dfa_reader__error(r));
	dfa_reader__free(r);

	/* Not an archive at all. */
	FILE *f = fopen(path, "w");
	fputs("hello, I am text\n", f);
	fclose(f);
	r = dfa_reader__new();
	CHECK(dfa_reader__open(r, path) == DFA_FAILED && strstr(dfa_reader__error(r), "not a dfprof archive"),
	      "text file: %s", dfa_reader__error(r));
	dfa_reader__free(r);
	for (int i = 0; i < 4; i++)
		dfa_buf__release(&pl[i]);
	dfa_buf__release(&rec);
}

static void test_varints(void)
{
	struct dfa_buf b = { 0 };
	const int64_t sv[] = { 0, 1, -1, INT64_MAX, INT64_MIN, 0x7f, -0x80 };
	struct dfa_cur c;

	dfa_buf__put_uv(&b, UINT64_MAX);
	for (size_t i = 0; i < sizeof(sv) / sizeof(*sv); i++)
		dfa_buf__put_sv(&b, sv[i]);
	c = (struct dfa_cur){ b.data, b.data + b.len, NULL };
	CHECK(dfa_cur__uv(&c) == UINT64_MAX, "uv max");
	for (size_t i = 0; i < sizeof(sv) / sizeof(*sv); i++)
		CHECK(dfa_cur__sv(&c) == sv[i], "sv %zu", i);
	CHECK(!c.err && c.p == c.end, "consumed");
	dfa_cur__uv(&c);
	CHECK(c.err, "read past end not detected");
	c = (struct dfa_cur){ (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", NULL, NULL };
	c.end = c.p + 10;
	dfa_cur__uv(&c);
	CHECK(c.err, "64-bit overflow not detected");
	dfa_buf__release(&b);
}

/*
 * 1.3: how the recorder walked each stack (user_end) survives the round trip
 * and tells stacks apart; stack copies over many members (each at most
 * DFA_SAMPLES_MEMBER_BYTES) read back whole, in any order.
 */
static void test_walks_and_copies(const char *path)
{
	enum { N = 1500, COPY = 8192 };
	struct dfa_writer *w = dfa_writer__new();
	struct dfa_reader *r = dfa_reader__new();
	static uint8_t bytes[COPY];
	uint64_t user[3] = { 0x401000, 0x402000, 0x403000 };
	size_t members = 0;
	struct dfa_member_info mi;

	CHECK(dfa_writer__open(w, path) == DFA_OK && dfa_writer__begin(w) == DFA_OK, "open: %s", dfa_writer__error(w));
	for (uint32_t i = 0; i < N; i++) {
		struct dfa_sample s = { .ts = 1000 + i, .pid = 7, .tid = 7, .event = DFA_EV_ONCPU, .value = 1 };
		struct dfa_stack st = { .n_user = 3, .user = user, .user_end = i % 3 ? DFA_UEND_COMPLETE : DFA_UEND_DEPTH };
		struct dfa_ustack us = { user[0], 0x7ffd0000, 0x7ffd0100, COPY, bytes };

		memset(bytes, i & 0xff, sizeof(bytes));
		memcpy(bytes, &i, sizeof(i));
		CHECK(dfa_writer__add_sample(w, &s, &st, i % 2 ? &us : NULL) == DFA_OK, "sample %u", i);
	}
	CHECK(dfa_writer__finish(w) == DFA_OK, "finish: %s", dfa_writer__error(w));
	dfa_writer__free(w);
	CHECK(dfa_reader__open(r, path) == DFA_OK, "open: %s", dfa_reader__error(r));
	for (size_t i = 0; dfa_reader__member_info(r, i, &mi) == DFA_OK; i++)
		members += mi.kind == DFA_MEMBER_SAMPLES;
	/* 750 copies of 8 KiB: 6 MiB, in members of at most 8 MiB each */
	CHECK(members >= 1 && dfa_reader__stack_count(r) == 2, "%zu samples members, %zu stacks", members,
	      dfa_reader__stack_count(r));
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t k = 0; k < N; k++) {
			/* forwards, then from both ends in turn: members read again as asked */
			uint32_t i = pass ? (k % 2 ? N - 1 - k / 2 : k / 2) : k;
			const struct dfa_sample *s = &dfa_reader__samples(r)[i];
			struct dfa_stack st;
			struct dfa_ustack us;
			uint32_t got;

			CHECK(dfa_reader__stack(r, s->stack, &st) == DFA_OK &&
			      st.user_end == (i % 3 ? DFA_UEND_COMPLETE : DFA_UEND_DEPTH), "sample %u: walk end %u", i,
			      st.user_end);
			if (!(i % 2)) {
				CHECK(dfa_reader__ustack(r, s, &us) != DFA_OK, "sample %u has a copy it was not given", i);
				continue;
			}
			CHECK(dfa_reader__ustack(r, s, &us) == DFA_OK && us.len == COPY, "sample %u: no copy", i);
			memcpy(&got, us.data, sizeof(got));
			CHECK(got == i && us.data[COPY - 1] == (i & 0xff), "sample %u: copy of sample %u", i, got);
		}
	dfa_reader__free(r);
	unlink(path);
}

/* Trace contexts (1.5): defined once however many samples use them, attributes kept. */
static void test_contexts(const char *path)
{
	struct dfa_writer *w = dfa_writer__new();
	struct dfa_reader *r = dfa_reader__new();
	struct dfa_attr attrs[2] = { { "0", "GET /a" }, { "http.route", "/b" } };
	struct dfa_context a = { .trace_flags = 1, .n_attrs = 2, .attrs = attrs }, b = { 0 };
	uint64_t user[1] = { 0x401000 };
	uint32_t ia, ib, ia2;
	const struct dfa_context *c;

	memset(a.trace_id, 0x11, 16);
	memset(a.span_id, 0xa0, 8);
	memset(b.trace_id, 0x22, 16);
	memset(b.span_id, 0xb1, 8);
	CHECK(dfa_writer__open(w, path) == DFA_OK && dfa_writer__begin(w) == DFA_OK, "open: %s", dfa_writer__error(w));
	CHECK(dfa_writer__context(w, &a, &ia) == DFA_OK && dfa_writer__context(w, &b, &ib) == DFA_OK &&
	      dfa_writer__context(w, &a, &ia2) == DFA_OK && ia == ia2 && ia != ib, "context ids %u %u %u", ia, ib, ia2);
	for (uint32_t i = 0; i < 30; i++) {
		struct dfa_sample s = { .ts = 1000 + i, .pid = 7, .tid = 7, .event = DFA_EV_ONCPU, .value = 1,
					.context = i % 3 == 0 ? 0 : i % 3 == 1 ? ia + 1 : ib + 1 };
		struct dfa_stack st = { .n_user = 1, .user = user };

		CHECK(dfa_writer__add_sample(w, &s, &st, NULL) == DFA_OK, "sample %u: %s", i, dfa_writer__error(w));
	}
	{
		struct dfa_sample s = { .ts = 2000, .pid = 7, .tid = 7, .event = DFA_EV_ONCPU, .value = 1, .context = 9 };
		struct dfa_stack st = { .n_user = 1, .user = user };

		CHECK(dfa_writer__add_sample(w, &s, &st, NULL) == DFA_FAILED, "an undefined context accepted");
	}
	CHECK(dfa_writer__finish(w) == DFA_OK, "finish: %s", dfa_writer__error(w));
	dfa_writer__free(w);
	CHECK(dfa_reader__open(r, path) == DFA_OK, "open: %s", dfa_reader__error(r));
	CHECK(dfa_reader__context_count(r) == 2 && !dfa_reader__context(r, 2), "%zu contexts",
	      dfa_reader__context_count(r));
	for (uint32_t i = 0; i < 30 && i < dfa_reader__sample_count(r); i++) {
		const struct dfa_sample *s = &dfa_reader__samples(r)[i];
		const struct dfa_context *want = i % 3 == 0 ? NULL : i % 3 == 1 ? &a : &b;

		c = s->context ? dfa_reader__context(r, s->context - 1) : NULL;
		CHECK(!want == !c && (!c || (!memcmp(c->trace_id, want->trace_id, 16) &&
					   !memcmp(c->span_id, want->span_id, 8))), "sample %u: context %u", i, s->context);
	}
	c = dfa_reader__context(r, ia);
	CHECK(c && c->trace_flags == 1 && c->n_attrs == 2 && !strcmp(c->attrs[0].key, "0") &&
	      !strcmp(c->attrs[0].value, "GET /a") && !strcmp(c->attrs[1].key, "http.route") &&
	      !strcmp(c->attrs[1].value, "/b"), "attributes not kept");
	dfa_reader__free(r);
	unlink(path);
}

static void test_member_size(const char *path)
{
	enum { N = 3000, COPY = 8192 };
	struct dfa_writer *w = dfa_writer__new();
	struct dfa_reader *r = dfa_reader__new();
	static uint8_t bytes[COPY];
	uint64_t user[1] = { 0x401000 };
	size_t members = 0;
	struct dfa_member_info mi;

	CHECK(dfa_writer__open(w, path) == DFA_OK && dfa_writer__begin(w) == DFA_OK, "open");
	for (uint32_t i = 0; i < N; i++) {
		struct dfa_sample s = { .ts = 1000 + i, .pid = 7, .tid = 7, .event = DFA_EV_ONCPU, .value = 1 };
		struct dfa_stack st = { .n_user = 1, .user = user };
		struct dfa_ustack us = { user[0], 0x7ffd0000, 0x7ffd0100, COPY, bytes };

		memcpy(bytes, &i, sizeof(i));
		CHECK(dfa_writer__add_sample(w, &s, &st, &us) == DFA_OK, "sample %u", i);
	}
	CHECK(dfa_writer__finish(w) == DFA_OK, "finish");
	dfa_writer__free(w);
	CHECK(dfa_reader__open(r, path) == DFA_OK, "open: %s", dfa_reader__error(r));
	for (size_t i = 0; dfa_reader__member_info(r, i, &mi) == DFA_OK; i++)
		if (mi.kind == DFA_MEMBER_SAMPLES) {
			members++;
			CHECK(mi.size <= DFA_SAMPLES_MEMBER_BYTES + COPY + 256, "member %s: %llu bytes", mi.name,
			      (unsigned long long)mi.size);
		}
	/* 24 MiB of copies with no flush: the writer cut members itself */
	CHECK(members >= 3, "24 MiB of samples in %zu members", members);
	dfa_reader__free(r);
	unlink(path);
}

int main(void)
{
	char path[256], partial[256];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(path, sizeof(path), "%s/a.dfa", tmpdir);
	snprintf(partial, sizeof(partial), "%s/partial.dfa", tmpdir);
	test_varints();
	write_sample_archive(path, true);
	test_round_trip(path);
	test_truncation(path);
	test_corruption(path);
	write_sample_archive(partial, false);
	{
		struct dfa_reader *r = dfa_reader__new();

		CHECK(dfa_reader__open(r, partial) == DFA_WARN && dfa_reader__incomplete(r) &&
		      dfa_reader__sample_count(r) == N_SAMPLES,
		      "unfinished archive: %s", dfa_reader__error(r));
		dfa_reader__free(r);
	}
	test_versions();
	snprintf(path, sizeof(path), "%s/walks.dfa", tmpdir);
	test_walks_and_copies(path);
	test_contexts(path);
	test_member_size(path);
	snprintf(path, sizeof(path), "%s/a.dfa", tmpdir);
	unlink(path);
	unlink(partial);
	snprintf(path, sizeof(path), "%s/raw.dfa", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	printf("test-format: %d checks, %d failed\n", test_checks, test_failures);
	return test_failures ? 1 : 0;
}
