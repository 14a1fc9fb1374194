/* SPDX-License-Identifier: MIT */
/* libdfa against a hostile filesystem and a full disk: output files, write recovery, budgets. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dfa.h"
#include "test-util.h"

static char dir[] = "/tmp/test-safety.XXXXXX";

static char *at(const char *name)
{
	static char buf[4][256];
	static int i;

	snprintf(buf[i % 4], sizeof(buf[0]), "%s/%s", dir, name);
	return buf[i++ % 4];
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static bool holds(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return !strcmp(buf, text);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;

	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void clear(void)
{
	DIR *d = opendir(dir);

	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(at(e->d_name));
	closedir(d);
}

/* A planted link at the output path is replaced, never written through. */
static void test_outfile(void)
{
	struct dfa_outfile *f;
	struct stat st;

	put(at("secret"), "root's file\n");
	symlink(at("secret"), at("out"));
	symlink(at("nowhere"), at("dangling"));
	f = dfa_outfile__new();
	umask(0);
	CHECK(dfa_outfile__create(f, at("out"), 0600) == DFA_OK, "%s", dfa_outfile__error(f));
	CHECK(write(dfa_outfile__fd(f), "new\n", 4) == 4, "write");
	CHECK(dfa_outfile__commit(f) == DFA_OK, "%s", dfa_outfile__error(f));
	dfa_outfile__free(f);
	umask(022);
	CHECK(holds(at("secret"), "root's file\n"), "the link's target was written through");
	CHECK(lstat(at("out"), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600,
	      "output is not a 0600 regular file: %o", st.st_mode);
	CHECK(holds(at("out"), "new\n"), "output content");

	/* Uncommitted: an existing file stays as it was, and no temporary is left. */
	f = dfa_outfile__new();
	CHECK(dfa_outfile__create(f, at("out"), 0600) == DFA_OK, "%s", dfa_outfile__error(f));
	CHECK(write(dfa_outfile__fd(f), "half", 4) == 4, "write");
	dfa_outfile__free(f);
	CHECK(holds(at("out"), "new\n"), "an uncommitted file replaced the old one");
	CHECK(entries() == 3, "%d entries: a temporary file was left", entries());

	/* A dangling link: its target is never created. */
	f = dfa_outfile__new();
	CHECK(dfa_outfile__create(f, at("dangling"), 0600) == DFA_OK, "%s", dfa_outfile__error(f));
	CHECK(dfa_outfile__commit(f) == DFA_OK, "%s", dfa_outfile__error(f));
	dfa_outfile__free(f);
	CHECK(access(at("nowhere"), F_OK) != 0, "the dangling link's target was created");

	/* A directory, or a directory that is not there: one clear error. */
	mkdir(at("adir"), 0755);
	f = dfa_outfile__new();
	CHECK(dfa_outfile__create(f, at("adir"), 0600) == DFA_FAILED && strstr(dfa_outfile__error(f), "directory"),
	      "%s", dfa_outfile__error(f));
	dfa_outfile__free(f);
	f = dfa_outfile__new();
	CHECK(dfa_outfile__create(f, at("no/such/x.dfa"), 0600) == DFA_FAILED &&
	      strstr(dfa_outfile__error(f), "No such file"), "%s", dfa_outfile__error(f));
	dfa_outfile__free(f);
	rmdir(at("adir"));
	clear();
}

/* A writer freed before publishing leaves an old archive of that name alone. */
static void test_unpublished(void)
{
	struct dfa_writer *w = dfa_writer__new();

	put(at("old.dfa"), "an older archive\n");
	CHECK(dfa_writer__open(w, at("old.dfa")) == DFA_OK && dfa_writer__begin(w) == DFA_OK, "%s",
	      dfa_writer__error(w));
	dfa_writer__free(w);
	CHECK(holds(at("old.dfa"), "an older archive\n"), "a failed start replaced the old archive");
	CHECK(entries() == 1, "%d entries left", entries());
	clear();
}

static void add_samples(struct dfa_writer *w, int n, uint64_t ts0)
{
	for (int i = 0; i < n; i++) {
		uint64_t user[1] = { 0x400000 + i };
		struct dfa_sample s = { .ts = ts0 + i, .pid = 1, .tid = 1, .value = 1 };
		struct dfa_stack st = { .n_user = 1, .user = user };

		CHECK(dfa_writer__add_sample(w, &s, &st, NULL) == DFA_OK, "sample");
	}
}

/* The file may grow no further (a full disk): what was written stays readable. */
static void test_write_failure(void)
{
	struct rlimit old, lim = { 96 << 10, 96 << 10 };
	struct dfa_writer *w = dfa_writer__new();
	struct dfa_reader *r = dfa_reader__new();
	size_t big = 256 << 10;
	uint8_t *noise = malloc(big);
	uint64_t x = 1;

	for (size_t i = 0; i < big; i++)	/* does not compress */
		noise[i] = (x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 56;
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	CHECK(dfa_writer__open(w, at("full.dfa")) == DFA_OK && dfa_writer__begin(w) == DFA_OK &&
	      dfa_writer__publish(w) == DFA_OK, "%s", dfa_writer__error(w));
	add_samples(w, 100, 1000);
	CHECK(dfa_writer__flush(w) == DFA_OK, "%s", dfa_writer__error(w));
	setrlimit(RLIMIT_FSIZE, &lim);
	/* Too large for what is left: refused, and the archive is cut back before it. */
	CHECK(dfa_writer__add_object(w, "00aa", noise, big) == DFA_FAILED &&
	      strstr(dfa_writer__error(w), "full.dfa") && strstr(dfa_writer__error(w), "File too large"),
	      "%s", dfa_writer__error(w));
	CHECK(!dfa_writer__has_object(w, "00aa"), "a failed object counts as stored");
	/* Later, smaller members still fit. */
	add_samples(w, 100, 2000);
	CHECK(dfa_writer__flush(w) == DFA_OK, "after a failed write: %s", dfa_writer__error(w));
	CHECK(dfa_writer__finish(w) == DFA_OK, "%s", dfa_writer__error(w));
	setrlimit(RLIMIT_FSIZE, &old);
	dfa_writer__free(w);
	CHECK(dfa_reader__open(r, at("full.dfa")) == DFA_OK, "%s", dfa_reader__error(r));
	CHECK(dfa_reader__sample_count(r) == 200, "%zu samples", dfa_reader__sample_count(r));
	dfa_reader__free(r);

	/* Nothing fits any more: the call fails, the archive stays readable (incomplete). */
	w = dfa_writer__new();
	r = dfa_reader__new();
	CHECK(dfa_writer__open(w, at("full2.dfa")) == DFA_OK && dfa_writer__begin(w) == DFA_OK &&
	      dfa_writer__publish(w) == DFA_OK, "%s", dfa_writer__error(w));
	add_samples(w, 100, 1000);
	CHECK(dfa_writer__flush(w) == DFA_OK, "%s", dfa_writer__error(w));
	lim.rlim_cur = lim.rlim_max = 8 << 10;
	setrlimit(RLIMIT_FSIZE, &lim);
	CHECK(dfa_writer__add_file(w, "jit/x", noise, big) == DFA_FAILED, "a write past the limit succeeded");
	CHECK(dfa_reader__open(r, at("full2.dfa")) == DFA_WARN && dfa_reader__sample_count(r) == 100,
	      "%s: %zu samples", dfa_reader__error(r), dfa_reader__sample_count(r));
	dfa_writer__free(w);
	dfa_reader__free(r);
	free(noise);
	clear();
}

/* Kernel symbols: bad lines are skipped and counted, never fatal. */
static void test_ksyms(void)
{
	struct dfa_writer *w = dfa_writer__new();
	struct dfa_reader *r = dfa_reader__new();
	struct dfa_ksym good[2] = { { 0x2000, 0x2100, "b" }, { 0x1000, 0x1100, "a [m]" } };
	const struct dfa_ksym *k;
	size_t n;

	CHECK(dfa_writer__open(w, at("k.dfa")) == DFA_OK && dfa_writer__begin(w) == DFA_OK, "open");
	CHECK(dfa_writer__add_ksyms(w, good, 2) == DFA_OK, "%s", dfa_writer__error(w));
	good[0].end = good[0].start;
	CHECK(dfa_writer__add_ksyms(w, good, 2) == DFA_FAILED, "an empty symbol was written");
	CHECK(dfa_writer__finish(w) == DFA_OK, "%s", dfa_writer__error(w));
	dfa_writer__free(w);
	CHECK(dfa_reader__open(r, at("k.dfa")) == DFA_OK, "%s", dfa_reader__error(r));
	CHECK(dfa_reader__ksyms(r, &k, &n) == DFA_OK && n == 2 && !strcmp(k[0].name, "a [m]") &&
	      k[1].start == 0x2000, "read back");
	dfa_reader__free(r);
	clear();
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	test_outfile();
	test_unpublished();
	test_write_failure();
	test_ksyms();
	rmdir(dir);
	printf("test-safety: %d checks, %d failed\n", test_checks, test_failures);
	return test_failures ? 1 : 0;
}
