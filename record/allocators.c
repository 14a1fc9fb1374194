/* SPDX-License-Identifier: MIT */
/*
 * Allocator libraries besides the C library's (jemalloc, tcmalloc,
 * mimalloc) that a recording's targets use, found before they allocate:
 * in the maps of -p processes, and for a command in LD_PRELOAD and in its
 * executable's DT_NEEDED.  Processes found later are handled by procs.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch.h"
#include "log.h"
#include "record.h"

bool allocator_library(const char *path)
{
	static const char *const names[] = { "libjemalloc.so", "libtcmalloc", "libmimalloc.so" };
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strncmp(base, names[i], strlen(names[i])))
			return true;
	return false;
}

int allocators__of_pid(uint32_t pid,
		       void (*cb)(void *ctx, uint32_t pid, uint64_t start, uint64_t end, const char *path), void *ctx)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char *p = strchr(line, '/');
		unsigned long long start, end;

		if (!p || sscanf(line, "%llx-%llx", &start, &end) != 2)
			continue;
		p[strcspn(p, "\n")] = 0;
		if (allocator_library(p))
			cb(ctx, pid, start, end, p);
	}
	free(line);
	fclose(f);
	return 0;
}

/* A library name as the dynamic loader would find it in the usual places. */
static bool resolve_lib(const char *name, char *out, size_t len)
{
	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return access(out, R_OK) == 0;
	}
	for (const char *const *dir = arch_lib_dirs; *dir; dir++) {
		snprintf(out, len, "%s/%s", *dir, name);
		if (access(out, R_OK) == 0)
			return true;
	}
	return false;
}

static bool resolve_cmd(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	bool found = false;

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return true;
	}
	copy = strdup(path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", dir, cmd);
		found = access(out, X_OK) == 0;
	}
	free(copy);
	return found;
}

static void needed(const char *exe, void (*cb)(void *ctx, const char *path), void *ctx)
{
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	char lib[PATH_MAX];

	while (elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; gelf_getdyn(d, i, &dyn) && dyn.d_tag != DT_NULL; i++) {
			const char *name = dyn.d_tag == DT_NEEDED ? elf_strptr(elf, sh.sh_link, dyn.d_un.d_val) : NULL;

			if (name && allocator_library(name) && resolve_lib(name, lib, sizeof(lib)))
				cb(ctx, lib);
		}
	}
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
}

void allocators__of_command(const char *cmd, void (*cb)(void *ctx, const char *path), void *ctx)
{
	const char *preload = getenv("LD_PRELOAD");
	char exe[PATH_MAX], lib[PATH_MAX];

	if (preload) {
		char *copy = strdup(preload), *save = NULL;

		for (char *t = strtok_r(copy, " :", &save); t; t = strtok_r(NULL, " :", &save))
			if (allocator_library(t) && resolve_lib(t, lib, sizeof(lib)))
				cb(ctx, lib);
		free(copy);
	}
	if (resolve_cmd(cmd, exe, sizeof(exe)))
		needed(exe, cb, ctx);
}
