/* SPDX-License-Identifier: MIT */
/*
 * Hostile archives for run-hostile.sh: each is well formed where the reader
 * checks framing and carries one thing an attacker would choose.
 *   mkhostile KIND OUT [FILE]
 * KIND: bomb (a samples member of 256 MiB of zeros), ksyms (80 MiB of
 * kernel symbols), gopclntab (a Go table claiming 2^64-1 functions),
 * timeline (extreme times and sizes), wrapsp (stack copies whose sp and bp
 * sit at the ends of the address space), utf8 (names that are not UTF-8),
 * lost (a recording that lost 42% of its records), zsection (an object
 * whose compressed .debug_info FILE, zlib, claims what it holds), debugdata
 * (an object whose .gnu_debugdata is FILE, xz), jitlog (a JIT code log in
 * which an address changes hands, among lines no agent would write).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dfa.h"
#include "test-util.h"

#define BASE 0x400000ULL	/* where the objects are mapped */
#define KEY "deadbeef00112233"

static struct dfa_writer *w;

static void die(const char *what)
{
	fprintf(stderr, "mkhostile: %s: %s\n", what, w ? dfa_writer__error(w) : "");
	exit(99);
}

static void check(int ret, const char *what)
{
	if (ret != DFA_OK)
		die(what);
}

static void start(const char *out, const char *start_ns, const char *end_ns)
{
	w = dfa_writer__new();
	if (!w)
		die("out of memory");
	check(dfa_writer__open(w, out), "open");
	dfa_writer__set_meta(w, "start_mono_ns", start_ns);
	dfa_writer__set_meta(w, "freq", "99");
	dfa_writer__set_meta(w, "events", "on-cpu");
	check(dfa_writer__begin(w), "begin");
}

static void proc(const char *comm, const char *path, const char *object)
{
	struct dfa_map m = { BASE, BASE + 0x100000, 0, DFA_PROT_R | DFA_PROT_X, path, object, 0 };
	struct dfa_proc p = { .pid = 7, .comm = comm, .exe = path, .cmdline = "x", .n_maps = 1, .maps = &m };

	check(dfa_writer__add_proc(w, &p), "proc");
}

static uint32_t sample_context;	/* the next samples' trace context id + 1, or 0 */

static void sample(uint64_t ts, uint32_t event, uint64_t value, uint64_t addr, uint64_t ip,
		   const struct dfa_ustack *us)
{
	uint64_t user[2] = { ip, ip + 0x10 };
	struct dfa_sample s = { .ts = ts, .pid = 7, .tid = 7, .event = event, .value = value, .addr = addr,
				.context = sample_context };
	struct dfa_stack st = { .n_user = 2, .user = user };

	check(dfa_writer__add_sample(w, &s, &st, us), "sample");
}

static void finish(void)
{
	check(dfa_writer__finish(w), "finish");
	dfa_writer__free(w);
}

/* An ELF object with a text range at 0x1000 and one more section (name, data). */
static void *make_elf(const char *name, const void *data, size_t len, uint64_t flags, bool symtab, size_t *out_len)
{
	static char shstr[] = "\0.text\0.shstrtab\0.symtab\0.strtab\0.gopclntab\0.debug_info\0.gnu_debugdata";
	static char strtab[] = "\0hostile_func";
	int fd = memfd_create("elf", MFD_CLOEXEC);
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	Elf64_Ehdr *eh = elf64_newehdr(e);
	Elf64_Phdr *ph = elf64_newphdr(e, 1);
	Elf64_Sym syms[2] = { { 0 }, { .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
				       .st_shndx = 1, .st_value = 0x1000, .st_size = 0x2000 } };
	struct { const char *name; uint32_t type; const void *d; size_t n; uint64_t flags, addr; } secs[] = {
		{ ".text", SHT_PROGBITS, NULL, 0x2000, SHF_ALLOC | SHF_EXECINSTR, 0x1000 },
		{ ".shstrtab", SHT_STRTAB, shstr, sizeof(shstr), 0, 0 },
		{ name, SHT_PROGBITS, data, len, flags, 0 },
		{ ".symtab", SHT_SYMTAB, syms, sizeof(syms), 0, 0 },
		{ ".strtab", SHT_STRTAB, strtab, sizeof(strtab), 0, 0 },
	};
	static uint8_t text[0x2000];
	struct stat st;
	void *buf;

	if (!e || !eh || !ph)
		die("libelf");
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	for (size_t i = 0; i < (symtab ? 5 : 3); i++) {
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d = elf_newdata(scn);
		Elf64_Shdr *sh = elf64_getshdr(scn);
		const char *name_at;

		d->d_buf = (void *)(secs[i].d ? secs[i].d : text);
		d->d_size = secs[i].n;
		d->d_align = 1;
		d->d_type = i == 3 ? ELF_T_SYM : ELF_T_BYTE;
		/* Each name (with its NUL) is found once in shstr. */
		name_at = memmem(shstr, sizeof(shstr), secs[i].name, strlen(secs[i].name) + 1);
		sh->sh_name = name_at ? (Elf64_Word)(name_at - shstr) : 0;
		sh->sh_type = secs[i].type;
		sh->sh_flags = secs[i].flags;
		sh->sh_addr = secs[i].addr;
		if (i == 3) {
			sh->sh_link = 5;
			sh->sh_info = 1;
			sh->sh_entsize = sizeof(Elf64_Sym);
		}
	}
	eh->e_shstrndx = 2;
	if (elf_update(e, ELF_C_NULL) < 0)
		die(elf_errmsg(-1));
	/* One PT_LOAD of the file from 0 at address 0: .text's address is its offset. */
	Elf64_Shdr *text_sh = elf64_getshdr(elf_getscn(e, 1));
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_X;
	ph->p_offset = ph->p_vaddr = ph->p_paddr = 0;
	ph->p_filesz = ph->p_memsz = text_sh->sh_offset + 0x2000;
	ph->p_align = 0x1000;
	text_sh->sh_addr = text_sh->sh_offset;
	syms[1].st_value = text_sh->sh_offset;
	if (elf_update(e, ELF_C_WRITE) < 0)
		die(elf_errmsg(-1));
	elf_end(e);
	fstat(fd, &st);
	buf = malloc(st.st_size);
	if (!buf || pread(fd, buf, st.st_size, 0) != st.st_size)
		die("reading the ELF file back");
	close(fd);
	*out_len = st.st_size;
	return buf;
}

static void *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *buf;

	if (fd < 0 || fstat(fd, &st))
		die(path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		die(path);
	close(fd);
	*len = st.st_size;
	return buf;
}

/* An object in the archive, mapped by pid 7, and samples in its text. */
static void object_case(const char *out, const char *name, const void *data, size_t len, uint64_t flags,
			bool symtab)
{
	size_t elf_len;
	void *elf = make_elf(name, data, len, flags, symtab, &elf_len);

	start(out, "1000", "2000");
	check(dfa_writer__add_object(w, KEY, elf, elf_len), "object");
	proc("hostile", "/usr/lib/libhostile.so", KEY);
	for (int i = 0; i < 10; i++)
		sample(1100 + i, DFA_EV_ONCPU, 1, 0, BASE + 0x1200 + i, NULL);
	free(elf);
	finish();
}

/* meta, then a samples member of 256 MiB of zeros: records of type 0 and
 * length 0, which a reader skips as unknown, so the framing holds. */
static void bomb(const char *out)
{
	static const char meta[] = "format=1.2\nfeatures=samples\nstart_mono_ns=0\n";
	const char *names[2] = { "meta", "samples/00000000" };
	struct dfa_buf m[2] = { { (uint8_t *)meta, sizeof(meta) - 1 }, { calloc(1, 256u << 20), 256u << 20 } };

	if (!m[1].data || raw_archive_write(out, names, m, 2))
		die(out);
	free(m[1].data);
}

int main(int argc, char **argv)
{
	const char *kind = argc > 2 ? argv[1] : "", *out = argc > 2 ? argv[2] : "";

	elf_version(EV_CURRENT);
	if (!strcmp(kind, "bomb")) {
		bomb(out);
	} else if (!strcmp(kind, "ksyms")) {
		/* 80 MiB of short lines: a reader that spends memory per line shows it. */
		size_t n = (80u << 20) / 36;
		struct dfa_ksym *k = calloc(n, sizeof(*k));

		if (!k)
			die("out of memory");
		start(out, "1000", "2000");
		for (size_t i = 0; i < n; i++)
			k[i] = (struct dfa_ksym){ 0xffffffff80000000ULL + 64 * i, 0xffffffff80000000ULL + 64 * i + 64, "a" };
		check(dfa_writer__add_ksyms(w, k, n), "ksyms");
		finish();
		free(k);
	} else if (!strcmp(kind, "gopclntab")) {
		uint8_t tab[256] = { 0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8 };

		memset(tab + 8, 0xff, 8);	/* nfunc = 2^64 - 1 */
		memset(tab + 16, 0, 8 * 7);	/* text start 0, table offsets 0 */
		tab[8 + 8 * 3] = 64;		/* nameoff */
		tab[8 + 8 * 7] = 72;		/* pclnoff */
		object_case(out, ".gopclntab", tab, sizeof(tab), 0, false);
	} else if (!strcmp(kind, "timeline")) {
		start(out, "0", "18446744073709551615");
		dfa_writer__set_meta(w, "events", "mem-alloc");
		proc("mem", "/bin/mem", "");
		sample(1, DFA_EV_MEM_ALLOC, 1ULL << 63 | 5, 0x1000, BASE + 0x100, NULL);
		sample(UINT64_MAX - 1, DFA_EV_MEM_ALLOC, UINT64_MAX, 0x2000, BASE + 0x100, NULL);
		sample(UINT64_MAX / 2, DFA_EV_MEM_ALLOC, 4096, 0x3000, BASE + 0x100, NULL);
		check(dfa_writer__add_free(w, 7, 0x1000, UINT64_MAX / 3, DFA_EV_MEM_ALLOC), "free");
		dfa_writer__set_meta(w, "end_mono_ns", "18446744073709551615");
		finish();
	} else if (!strcmp(kind, "wrapsp")) {
		/* sp, bp: the first makes a frame-pointer step read at bp = sp - 8, which an
		 * unwinder's bound check must see as below the copy, not 2^64 - 8 above it. */
		static const uint64_t sps[][2] = { { 0, UINT64_MAX - 7 }, { UINT64_MAX - 15, 8 }, { 8, UINT64_MAX - 7 },
						   { 0, UINT64_MAX }, { UINT64_MAX - 7, 16 }, { 0x7ffd0000, 0x7ffcfff0 } };
		uint8_t bytes[16];
		size_t elf_len;
		void *elf = make_elf(".debug_info", "", 0, 0, true, &elf_len);

		memset(bytes, 0xff, sizeof(bytes));
		start(out, "1000", "2000");
		check(dfa_writer__add_object(w, KEY, elf, elf_len), "object");
		proc("wrap", "/usr/lib/libhostile.so", KEY);
		for (size_t i = 0; i < sizeof(sps) / sizeof(*sps); i++) {
			struct dfa_ustack us = { BASE + 0x1200, sps[i][0], sps[i][1], sizeof(bytes), bytes };

			sample(1100 + i, DFA_EV_ONCPU, 1, 0, BASE + 0x1200, &us);
		}
		free(elf);
		finish();
	} else if (!strcmp(kind, "utf8")) {
		/* Invalid bytes, controls, and a name of 200 three-byte characters that a label must cut. */
		char jit[1024] = "500000 100 \xc3(broken \xff name\n500100 100 ";
		size_t n = strlen(jit);

		for (int i = 0; i < 200; i++)
			memcpy(jit + n + 3 * i, "\xe6\x97\xa5", 3);
		n += 600;
		jit[n++] = '\n';
		/* A trace context whose attributes are not text either. */
		struct dfa_attr attrs[2] = { { "\x1b[2Jkey\xff", "val\x01\xc3(\x7f" }, { "0", "\xe2\x80\xae" "rtl" } };
		struct dfa_context ctx = { .trace_id = { 0xab, 1 }, .span_id = { 0xcd, 2 }, .n_attrs = 2, .attrs = attrs };
		uint32_t id;

		start(out, "1000", "2000");
		proc("\xff\xfe" "bad\x01\x1b[31m", "/opt/\xc0\xaf" "app", "");
		check(dfa_writer__add_jit_map(w, 7, 0, jit, n), "jit map");
		check(dfa_writer__context(w, &ctx, &id), "context");
		for (int i = 0; i < 40; i++) {
			sample_context = i % 4 ? 0 : id + 1;
			sample(1100 + i, DFA_EV_ONCPU, 1, 0, i % 2 ? 0x500110 : 0x500010, NULL);
		}
		sample_context = 0;
		finish();
	} else if (!strcmp(kind, "jitlog")) {
		/* A.old at 0x500000 until 1120, then C.fresh there; the perf map has the last name only. */
		static const char map[] = "500000 100 long A.old()\n500200 100 void B.other()\n500000 80 long C.fresh()\n";
		static const char log[] = "L 1000 500000 100 long A.old()\n"
					  "L 1000 500200 100 void B.other()\n"
					  "garbage\nL x 1 2 3\nU 999 777777\nL 5 600000 ffffffffffffffff wraps\nL 6 600000 10\n"
					  "U 1120 500000\nU 1121 500000\n"
					  "L 1125 500000 80 long C.fresh()\n"
					  "U 18446744073709551615 500200";

		start(out, "1000", "2000");
		proc("timed", "/bin/timed", "");
		check(dfa_writer__add_jit_map(w, 7, 0, map, sizeof(map) - 1), "jit map");
		check(dfa_writer__add_jit_log(w, 7, 0, log, sizeof(log) - 1), "jit log");
		for (int i = 0; i < 20; i++) {
			sample(1100 + i, DFA_EV_ONCPU, 1, 0, 0x500010, NULL);
			sample(1130 + i, DFA_EV_ONCPU, 1, 0, 0x500010, NULL);
			sample(1100 + 2 * i, DFA_EV_ONCPU, 1, 0, 0x500210, NULL);
		}
		finish();
	} else if (!strcmp(kind, "lost")) {
		start(out, "1000", "2000");
		proc("lossy", "/bin/lossy", "");
		for (int i = 0; i < 58; i++)
			sample(1100 + i, DFA_EV_ONCPU, 1, 0, BASE + 0x100, NULL);
		dfa_writer__set_meta(w, "samples", "58");
		dfa_writer__set_meta(w, "lost", "42");
		finish();
	} else if ((!strcmp(kind, "procs") || !strcmp(kind, "exits")) && argc > 3) {
		/* Churn: N process images (each a sample, and with exits an exit record),
		 * all mapping one object, as thousands of short processes leave them. */
		unsigned long n = strtoul(argv[3], NULL, 10);
		bool exits = !strcmp(kind, "exits");
		struct dfa_map m = { BASE, BASE + 0x100000, 0, DFA_PROT_R | DFA_PROT_X, "/usr/bin/churn", "", 0 };

		start(out, "1000", "2000");
		for (unsigned long i = 0; i < n; i++) {
			/* pids wrap as on a busy host: images of one pid follow each other */
			uint32_t pid = 1000 + i % 30000;
			uint64_t t = 1000 + 10 * i, user[2] = { BASE + 0x100 + (i % 7) * 16, BASE + 0x2000 };
			struct dfa_proc p = { .pid = pid, .begin = t, .comm = "churn", .exe = "/usr/bin/churn",
					      .cmdline = "churn", .n_maps = 1, .maps = &m };
			struct dfa_sample s = { .ts = t + 5, .pid = pid, .tid = pid, .event = DFA_EV_ONCPU, .value = 1 };
			struct dfa_stack st = { .n_user = 2, .user = user };

			check(dfa_writer__add_proc(w, &p), "proc");
			check(dfa_writer__add_sample(w, &s, &st, NULL), "sample");
			if (exits)
				check(dfa_writer__add_exit(w, pid, t, t + 8), "exit");
			if (i % 4096 == 0)
				check(dfa_writer__flush(w), "flush");
		}
		finish();
	} else if ((!strcmp(kind, "zsection") || !strcmp(kind, "debugdata")) && argc > 3) {
		size_t len;
		uint8_t *data = slurp(argv[3], &len);
		bool z = !strcmp(kind, "zsection");

		/* zsection: FILE is an Elf64_Chdr and its zlib stream */
		object_case(out, z ? ".debug_info" : ".gnu_debugdata", data, len, z ? SHF_COMPRESSED : 0, z);
		free(data);
	} else {
		fprintf(stderr, "usage: mkhostile bomb|ksyms|gopclntab|timeline|wrapsp|utf8|lost OUT | "
			"zsection|debugdata OUT FILE | procs|exits OUT N\n");
		return 2;
	}
	return 0;
}
