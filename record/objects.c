/* SPDX-License-Identifier: MIT */
/*
 * Object snapshots.  A mapped file is read through the process's own view
 * (/proc/PID/map_files, which also reaches deleted files, then
 * /proc/PID/root/PATH for containers), keyed by its GNU build-id (or a hash
 * of its bytes when it has none), reduced, and stored once.
 */
#define _GNU_SOURCE
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arch.h"
#include "log.h"
#include "record.h"

#define KEY_LEN 72

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char key[KEY_LEN];	/* "" = not an object we can use */
	bool has_fp;
	int fd;			/* kept open: the file can be read after its process exits */
	struct python_image py;
};

/* Files kept open so short-lived processes' objects can still be stored
 * (dfrecord raises its descriptor limit to match). */
#define MAX_KEPT 4000

struct objects {
	struct dfa_writer *w;
	unsigned keep;		/* ELFSNAP_* */
	const char *debug_dir;	/* separate debug files: DIR/.build-id/xx/yyyy.debug */
	struct file_id *files;
	size_t n_files, cap_files;
	char vdso_key[KEY_LEN];
	size_t vdso_len;
	size_t n_kept;
	bool vdso_done;
	struct objects_stats st;
};

struct objects *objects__new(struct dfa_writer *w, unsigned keep, const char *debug_dir)
{
	struct objects *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->w = w;
	o->keep = keep;
	o->debug_dir = debug_dir;
	elf_version(EV_CURRENT);
	return o;
}

void objects__free(struct objects *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_files; i++)
		if (o->files[i].fd >= 0)
			close(o->files[i].fd);
	free(o->files);
	free(o);
}

void objects__stats(const struct objects *o, struct objects_stats *st)
{
	*st = o->st;
}

static int object_key(Elf *elf, const void *bytes, size_t len, char *key)
{
	const uint8_t *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, (const void **)&id);

	if (n > 0 && n <= 32) {
		for (ssize_t i = 0; i < n; i++)
			sprintf(key + 2 * i, "%02x", id[i]);
		return 0;
	}
	if (!bytes)
		return -1;
	snprintf(key, KEY_LEN, "nobuildid-%016llx-%zx", (unsigned long long)hash_bytes(bytes, len, HASH_SEED), len);
	return 0;
}

/* Start-up code from crt*.o, built alike whatever the program was built with. */
static bool crt_function(const char *name)
{
	static const char *const names[] = {
		"_start", "_init", "_fini", "deregister_tm_clones", "register_tm_clones",
		"__do_global_dtors_aux", "frame_dummy", "__libc_csu_init", "__libc_csu_fini",
	};

	for (size_t i = 0; name && i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/*
 * Frame pointers, judged from the code: the share of functions that open
 * by setting one up (arch__fp_prologue: push %rbp; mov %rsp,%rbp).  gcc builds
 * leaves without a frame even with -fno-omit-frame-pointer, so a fifth is
 * enough; code built without frame pointers sets one up only for alloca and
 * over-aligned stacks, far fewer.  Go always keeps frame pointers on x86-64.
 */
static bool elf_has_fp(Elf *elf, const uint8_t *bytes, size_t len)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx, with = 0, seen = 0;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return true;
	for (int pass = 0; pass < 2 && !seen; pass++) {
		while ((scn = elf_nextscn(elf, scn))) {
			const char *name;
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (name && !strcmp(name, ".gopclntab"))
				return true;
			/* symtab first; dynsym when there is none */
			if (sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) || !(d = elf_getdata(scn, NULL)))
				continue;
			for (size_t i = 0; i < sh.sh_size / (sh.sh_entsize ? sh.sh_entsize : 24) && seen < 2000; i++) {
				GElf_Sym sym;
				const uint8_t *code;

				if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
				    sym.st_size < 8 || !(code = elfsnap__func_code(elf, bytes, len, &sym, 8)) ||
				    crt_function(elf_strptr(elf, sh.sh_link, sym.st_name)))
					continue;
				seen++;
				with += arch__fp_prologue(code, 8);
			}
		}
		scn = NULL;
	}
	return !seen || with * 5 >= seen;
}

/* The key of an ELF image; -1 if it is not ELF.  With has_fp, also judges
 * frame pointers and looks for a Python interpreter (into py). */
static int image_key(const void *bytes, size_t len, char *key, bool *has_fp, struct python_image *py,
		     const char *what)
{
	Elf *elf = elf_memory((char *)bytes, len);
	int ret = -1;

	if (!elf || elf_kind(elf) != ELF_K_ELF)
		pr_debug("%s: not an ELF object", what);
	else
		ret = object_key(elf, bytes, len, key);
	if (!ret && has_fp)
		*has_fp = elf_has_fp(elf, bytes, len);
	if (!ret && py && python__detect(elf, bytes, len, py))
		pr_debug("%s: Python %u.%u", what, py->version >> 8, py->version & 0xff);
	if (elf)
		elf_end(elf);
	return ret;
}

/*
 * Reduces and stores an ELF image under key (as the object's debug file with
 * debug_file), unless the archive has it.  A debug file keeps its symbols and
 * CFI: distribution debug files are large, and their DWARF (inlines, lines)
 * is rarely worth its size.
 */
static int store_image(struct objects *o, const void *bytes, size_t len, const char *key, bool debug_file,
		       const char *what)
{
	unsigned keep = debug_file ? ELFSNAP_CFI : o->keep;
	Elf *elf;
	void *snap = NULL;
	size_t snap_len;
	int ret = -1;

	if (debug_file ? dfa_writer__has_debug_file(o->w, key) : dfa_writer__has_object(o->w, key)) {
		o->st.reused++;
		return 0;
	}
	elf = elf_memory((char *)bytes, len);
	if (!elf || elfsnap__reduce(elf, keep, &snap, &snap_len)) {
		pr_debug("%s: cannot reduce: %s", what, elf_errmsg(-1));
		goto cleanup;
	}
	if ((debug_file ? dfa_writer__add_debug_file : dfa_writer__add_object)(o->w, key, snap, snap_len) != DFA_OK) {
		/* Once: on a full disk every later object says the same. */
		if (!o->st.not_written++)
			pr_warn("%s (later objects may not be stored either)", dfa_writer__error(o->w));
		else
			pr_debug("%s: %s", what, dfa_writer__error(o->w));
		goto cleanup;
	}
	pr_debug("stored %s as %s (%zu of %zu bytes)", what, key, snap_len, len);
	o->st.captured++;
	ret = 0;
cleanup:
	free(snap);
	if (elf)
		elf_end(elf);
	return ret;
}

/* The vDSO is the kernel's: the same in every process, so ours stands for all. */
static const char *vdso(struct objects *o, bool store)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	char line[512];
	FILE *f;

	if (!o->vdso_done) {
		o->vdso_done = true;
		f = fopen("/proc/self/maps", "re");
		while (base && f && fgets(line, sizeof(line), f)) {
			unsigned long s, e;

			if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &s, &e) == 2 && s == base) {
				o->vdso_len = e - s;
				if (image_key((const void *)s, e - s, o->vdso_key, NULL, NULL, "[vdso]"))
					o->vdso_key[0] = 0;
				break;
			}
		}
		if (f)
			fclose(f);
	}
	if (!o->vdso_key[0])
		return NULL;
	if (store && store_image(o, (const void *)base, o->vdso_len, o->vdso_key, false, "[vdso]"))
		return NULL;
	return o->vdso_key;
}

/*
 * The file behind a mapping, as the process maps it: through the kernel's
 * link in /proc/PID/map_files (deleted files too), else by its path inside
 * the process's root, where no symbolic link is followed (the kernel
 * reports mapped paths with links resolved).
 */
static int open_mapped(uint32_t pid, uint64_t start, uint64_t end, const char *path, struct stat *st)
{
	char p[96], clean[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)start, (unsigned long long)end);
	fd = safefile__open_proc(p, st);
	if (fd >= 0)
		return fd;
	snprintf(clean, sizeof(clean), "%s", path);
	path_strip_deleted(clean);
	return safefile__open(pid, clean, SAFEFILE_NO_LINKS, st);
}

static struct file_id *file_lookup(struct objects *o, const struct stat *st)
{
	for (size_t i = o->n_files; i-- > 0;) {
		struct file_id *f = &o->files[i];

		if (f->ino == st->st_ino && f->dev == st->st_dev && f->size == st->st_size &&
		    f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec)
			return f;
	}
	return NULL;
}

static struct file_id *file_add(struct objects *o, const struct stat *st)
{
	struct file_id *f;

	if (array_grow(&o->files, &o->cap_files, o->n_files + 1, sizeof(*o->files), 64))
		return NULL;
	f = &o->files[o->n_files++];
	*f = (struct file_id){ st->st_dev, st->st_ino, st->st_size, st->st_mtim, "", true, -1, { 0 } };
	return f;
}

/* Opens the regular file behind a mapping; -1 if it cannot. */
static int open_file(uint32_t pid, uint64_t start, uint64_t end, const char *path, struct stat *st)
{
	int fd = open_mapped(pid, start, end, path, st);

	if (fd < 0 || st->st_size == 0) {
		pr_debug("pid %u: cannot open %s: %s", pid, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void *map_fd(int fd, size_t size)
{
	void *bytes = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

	return bytes == MAP_FAILED ? NULL : bytes;
}

/* Keeps fd with the file's entry, or closes it. */
static void keep_fd(struct objects *o, struct file_id *f, int fd)
{
	if (f && f->fd < 0 && f->key[0] && o->n_kept < MAX_KEPT) {
		f->fd = fd;
		o->n_kept++;
	} else {
		close(fd);
	}
}

/* The key of an opened file (kept open with its entry); NULL if it is not an object. */
static const char *key_fd(struct objects *o, int fd, const struct stat *st, const char *path)
{
	struct file_id *f = file_lookup(o, st);
	void *bytes;

	if (!f) {
		f = file_add(o, st);
		bytes = map_fd(fd, st->st_size);
		if (f && (!bytes || image_key(bytes, st->st_size, f->key, &f->has_fp, &f->py, path)))
			f->key[0] = 0;
		if (f && f->key[0])
			pr_debug("%s: %s, %s frame pointers", path, f->key, f->has_fp ? "with" : "without");
		if (bytes)
			munmap(bytes, st->st_size);
	}
	keep_fd(o, f, fd);
	return f && f->key[0] ? f->key : NULL;
}

const char *objects__key(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, const char *path)
{
	struct stat st;
	int fd;

	if (!strcmp(path, "[vdso]"))
		return vdso(o, false);
	if (path[0] != '/')
		return NULL;	/* anonymous, JIT, [stack], ... */
	fd = open_file(pid, start, end, path, &st);
	if (fd < 0) {
		o->st.failed++;
		return NULL;
	}
	return key_fd(o, fd, &st, path);
}

const char *objects__key_inode(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, dev_t dev,
			       uint64_t ino, const char *path)
{
	struct stat st;
	int fd;

	/* A file seen before, unless the path shows it rewritten in place since. */
	for (size_t i = o->n_files; i-- > 0;) {
		const struct file_id *f = &o->files[i];

		if (f->dev != dev || f->ino != ino)
			continue;
		if (!stat(path, &st) && st.st_dev == dev && st.st_ino == ino &&
		    (st.st_size != f->size || st.st_mtim.tv_sec != f->mtime.tv_sec ||
		     st.st_mtim.tv_nsec != f->mtime.tv_nsec))
			break;
		return f->key[0] ? f->key : NULL;
	}
	/* Not seen yet: through the process while it lives, else the path as
	 * this host sees it; either only if it is the mapped file. */
	fd = open_mapped(pid, start, end, path, &st);
	if (fd < 0)
		fd = safefile__open(0, path, SAFEFILE_NO_LINKS, &st);
	if (fd < 0 || st.st_dev != dev || st.st_ino != ino || st.st_size == 0) {
		pr_debug("pid %u: %s: the mapped file cannot be opened", pid, path);
		if (fd >= 0)
			close(fd);
		o->st.failed++;
		return NULL;
	}
	return key_fd(o, fd, &st, path);
}

/*
 * The separate debug file of a stored object, found by build-id under the
 * debug directory as the process sees it, then as this host does; stored as
 * objects/KEY.debug.  Stripped binaries get their names from it.
 */
static void store_debug_file(struct objects *o, uint32_t pid, const char *key)
{
	char path[PATH_MAX], found[KEY_LEN];
	struct stat st;

	if (!o->debug_dir || !strncmp(key, "nobuildid", 9) || strlen(key) < 3 || dfa_writer__has_debug_file(o->w, key))
		return;
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", o->debug_dir, key, key + 2);
	for (int i = 0; i < 2; i++) {
		void *bytes;
		/* Links are followed inside the process's root only; what is found
		 * counts only if it is an ELF file of that very build-id. */
		int fd = safefile__open(i ? 0 : pid, path, 0, &st);

		if (fd < 0)
			continue;
		bytes = st.st_size ? map_fd(fd, st.st_size) : NULL;
		close(fd);
		if (!bytes)
			continue;
		/* The same build-id, or it describes another build. */
		if (!image_key(bytes, st.st_size, found, NULL, NULL, path) && !strcmp(found, key))
			store_image(o, bytes, st.st_size, key, true, path);
		munmap(bytes, st.st_size);
		return;
	}
}

bool objects__has_fp(const struct objects *o, const char *key)
{
	for (size_t i = 0; i < o->n_files; i++)
		if (!strcmp(o->files[i].key, key))
			return o->files[i].has_fp;
	return true;
}

const struct python_image *objects__python(const struct objects *o, const char *key)
{
	for (size_t i = 0; i < o->n_files; i++)
		if (!strcmp(o->files[i].key, key))
			return o->files[i].py.found ? &o->files[i].py : NULL;
	return NULL;
}

int objects__store(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, const char *path,
		   const char *key)
{
	struct stat st;
	char now[KEY_LEN];
	void *bytes;
	size_t size = 0;
	int ret = -1, fd = -1;

	if (!strcmp(path, "[vdso]"))
		return vdso(o, true) ? 0 : -1;
	if (dfa_writer__has_object(o->w, key)) {
		o->st.reused++;
		return 0;
	}
	/* The file as it was when the process was first seen, if we kept it open:
	 * the process (and the file's name) may be gone by now. */
	for (size_t i = 0; i < o->n_files && fd < 0; i++)
		if (o->files[i].fd >= 0 && !strcmp(o->files[i].key, key)) {
			fd = dup(o->files[i].fd);
			size = o->files[i].size;
		}
	if (fd < 0 && (fd = open_file(pid, start, end, path, &st)) >= 0)
		size = st.st_size;
	bytes = fd >= 0 ? map_fd(fd, size) : NULL;
	/* The file may have been replaced since: store it only if it is the same. */
	if (bytes && !image_key(bytes, size, now, NULL, NULL, path) && !strcmp(now, key))
		ret = store_image(o, bytes, size, key, false, path);
	if (ret == 0)
		store_debug_file(o, pid, key);
	if (bytes)
		munmap(bytes, size);
	if (fd >= 0)
		close(fd);
	if (ret)
		o->st.failed++;
	return ret;
}
