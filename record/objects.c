/* SPDX-License-Identifier: MIT */
/*
 * Object snapshots.  A mapped file is read through the process's own view
 * (/proc/PID/map_files, which also reaches deleted files, then
 * /proc/PID/root/PATH for containers), keyed by its GNU build-id (or a hash
 * of its bytes when it has none), reduced, and stored once.  With BPF
 * unwinding, each object's unwind table is built when the object is first
 * keyed (unwind.c keeps it), and rebuilt from the kept file when evicted.
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
#include <time.h>
#include <unistd.h>
#include "arch.h"
#include "log.h"
#include "record.h"
#include <linux/types.h>
#include "unwind.h"

#define KEY_LEN 72
#define MAX_SEGS DF_USEGS_MAX	/* executable segments of an object the walk tells apart */

/* An executable PT_LOAD: file offsets [off, off + len) hold link-time
 * addresses from off - delta. */
struct exec_seg {
	uint64_t off, len, delta;
};

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char key[KEY_LEN];	/* "" = not an object we can use */
	int fd;			/* kept open: the file can be read after its process exits */
	struct python_image py;
	struct tctx_image tctx;	/* an OpenTelemetry thread context it publishes */
	struct hotspot_image hotspot;	/* HotSpot's libjvm: its vmStructs */
	bool go;		/* a Go binary (its heap: probe-mem.c) */
	struct exec_seg segs[MAX_SEGS];
	uint32_t n_segs;
	uint32_t unwind;	/* what unwinder__build said: a slot, or a DF_UOBJ_* reason */
	uint64_t checked;	/* second (CLOCK_MONOTONIC) the kept fd was last looked at */
	uint64_t unwind_base;
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
	struct file_id vdso_file;	/* its segments and table */
	struct pairmap by_key;		/* (hash of key, probe) -> files index, first of a key */
	struct pairmap by_inode;	/* (dev, inode) -> files index, the latest */
	struct unwinder *uw;
	void (*python_exe_hook)(void *ctx, dev_t dev, uint64_t ino, const struct python_image *py);
	void (*python_map_hook)(void *ctx, uint32_t pid, uint64_t runtime, const struct python_image *py);
	void *python_ctx;
	struct objects_stats st;
};

void objects__set_writer(struct objects *o, struct dfa_writer *w)
{
	o->w = w;	/* the writer says what its archive holds (dfa_writer__has_object) */
}

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
	pairmap__release(&o->by_key);
	pairmap__release(&o->by_inode);
	free(o);
}

void objects__set_unwinder(struct objects *o, struct unwinder *u)
{
	o->uw = u;
}

void objects__set_python_hook(struct objects *o,
			       void (*exe_hook)(void *ctx, dev_t dev, uint64_t ino, const struct python_image *py),
			       void (*map_hook)(void *ctx, uint32_t pid, uint64_t runtime, const struct python_image *py),
			       void *ctx)
{
	o->python_exe_hook = exe_hook;
	o->python_map_hook = map_hook;
	o->python_ctx = ctx;
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

/* The executable segments of an ELF image. */
static void exec_segments(Elf *elf, struct file_id *f)
{
	size_t n;

	f->n_segs = 0;
	if (elf_getphdrnum(elf, &n))
		return;
	for (size_t i = 0; i < n && f->n_segs < MAX_SEGS; i++) {
		GElf_Phdr ph;

		uint64_t page;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || !ph.p_filesz)
			continue;
		/* Mappings start at the page: so does the segment, as mapping offsets compare. */
		page = ph.p_offset & ~(uint64_t)4095;
		f->segs[f->n_segs++] = (struct exec_seg){ page, ph.p_filesz + (ph.p_offset - page),
							  ph.p_offset - ph.p_vaddr };
	}
}

/* The unwind table of a newly keyed image, when the walk wants tables. */
static void build_table(struct objects *o, Elf *elf, struct file_id *f, const char *what)
{
	uint64_t base = 0;

	f->unwind = DF_UOBJ_FP;
	if (!o->uw)
		return;
	exec_segments(elf, f);
	if (f->n_segs)
		f->unwind = unwinder__build(o->uw, f->key, elf, what, &base);
	f->unwind_base = base;
}

/* A file's table, for the walk to find by inode: only a file held open (its
 * inode cannot be reused for another) or the vDSO. */
static void list_inode(struct objects *o, const struct file_id *f)
{
	struct df_uinode v = { .obj = f->unwind, .n_segs = f->n_segs, .base = f->unwind_base };

	if (!o->uw || f->unwind >= DF_UOBJS_MAX)
		return;
	for (uint32_t i = 0; i < f->n_segs; i++)
		v.segs[i] = (struct df_useg){ f->segs[i].off, f->segs[i].len, f->segs[i].delta };
	unwinder__set_inode(o->uw, f->dev, f->ino, &v);
}

/* The process whose mapping is being keyed, and where the file's offset 0 is in it. */
struct mapped_at {
	uint32_t pid;
	uint64_t load;
};

/* The key of an ELF image; -1 if it is not ELF.  With f, also looks for a
 * Python interpreter and a thread context and builds the unwind table
 * (fd: the file's, or -1).  An interpreter is told of for the mapping at
 * before the table is built: python3's takes 20-30 ms, in which a process
 * dfrecord -a has just met runs Python code whose frames would be lost. */
static int image_key(struct objects *o, const void *bytes, size_t len, char *key, struct file_id *f,
		     const char *what, int fd, const struct mapped_at *at)
{
	Elf *elf = elf_memory((char *)bytes, len);
	int ret = -1;

	if (!elf || elf_kind(elf) != ELF_K_ELF)
		pr_debug("%s: not an ELF object", what);
	else
		ret = object_key(elf, bytes, len, key);
	if (!ret && f) {
		if (python__detect(elf, bytes, len, &f->py))
			pr_debug("%s: Python %u.%u", what, f->py.version >> 8, f->py.version & 0xff);
		f->go = go__is_binary(elf);
		if (tctx__detect(elf, &f->tctx) || (f->go && go_labels__find(elf, fd, bytes, len, &f->tctx)))
			pr_debug("%s: publishes a thread context (model %u)", what, f->tctx.model);
		if (hotspot__detect(elf, &f->hotspot))
			pr_debug("%s: HotSpot, with vmStructs", what);
		if (at && f->py.found && o->python_map_hook)
			o->python_map_hook(o->python_ctx, at->pid, python__runtime(&f->py, at->load), &f->py);
		build_table(o, elf, f, what);
	}
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

static void vdso_table(struct objects *o, const void *bytes, size_t len)
{
	Elf *elf = elf_memory((char *)bytes, len);

	memcpy(o->vdso_file.key, o->vdso_key, KEY_LEN);
	o->vdso_file.fd = -1;
	if (elf)
		build_table(o, elf, &o->vdso_file, "[vdso]");
	elf_end(elf);
	list_inode(o, &o->vdso_file);	/* dev 0, inode 0: the vDSO */
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
				if (image_key(o, (const void *)s, e - s, o->vdso_key, NULL, "[vdso]", -1, NULL))
					o->vdso_key[0] = 0;
				else
					vdso_table(o, (const void *)s, e - s);
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

	safefile__map_files(p, sizeof(p), pid, start, end);
	fd = safefile__open_proc(p, st);
	if (fd >= 0)
		return fd;
	snprintf(clean, sizeof(clean), "%s", path);
	path_strip_deleted(clean);
	return safefile__open(pid, clean, SAFEFILE_NO_LINKS, st);
}

/* A file by key: the first one keyed so (they are alike). */
static struct file_id *by_key(struct objects *o, const char *key)
{
	uint64_t h = hash_string(key, HASH_SEED);
	struct pairmap_entry *e;

	for (uint64_t probe = 0; (e = pairmap__find(&o->by_key, h, probe, false)); probe++)
		if (!strcmp(o->files[e->val].key, key))
			return &o->files[e->val];
	return NULL;
}

static void index_key(struct objects *o, struct file_id *f)
{
	uint64_t h = hash_string(f->key, HASH_SEED), probe = 0;
	struct pairmap_entry *e;

	if (by_key(o, f->key))
		return;
	while (pairmap__find(&o->by_key, h, probe, false))
		probe++;
	e = pairmap__find(&o->by_key, h, probe, true);
	if (e)
		e->val = f - o->files;
}

static uint64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* The latest file seen with this device and inode. */
static struct file_id *by_inode(struct objects *o, dev_t dev, ino_t ino)
{
	struct pairmap_entry *e = pairmap__find(&o->by_inode, dev, ino, false);

	return e ? &o->files[e->val] : NULL;
}

static struct file_id *file_lookup(struct objects *o, const struct stat *st)
{
	struct file_id *f = by_inode(o, st->st_dev, st->st_ino);

	if (f && f->size == st->st_size && f->mtime.tv_sec == st->st_mtim.tv_sec &&
	    f->mtime.tv_nsec == st->st_mtim.tv_nsec)
		return f;
	return NULL;
}

static struct file_id *file_add(struct objects *o, const struct stat *st)
{
	struct pairmap_entry *e = pairmap__find(&o->by_inode, st->st_dev, st->st_ino, true);
	struct file_id *f;

	if (!e || array_grow(&o->files, &o->cap_files, o->n_files + 1, sizeof(*o->files), 64))
		return NULL;
	e->val = o->n_files;	/* a file rewritten in place: the new one stands for the inode */
	f = &o->files[o->n_files++];
	*f = (struct file_id){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim,
			       .fd = -1, .unwind = DF_UOBJ_FP };
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

/*
 * Shared, not private: the kernel puts the breakpoints of uprobes on a file
 * into every private mapping of it that may execute (dfrecord's own too),
 * which would change the bytes dfrecord hashes and stores.
 */
static void *map_fd(int fd, size_t size)
{
	void *bytes = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

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
static const char *key_fd(struct objects *o, int fd, const struct stat *st, const char *path,
			  const struct mapped_at *at)
{
	struct file_id *f = file_lookup(o, st);
	bool fresh = !f;
	void *bytes;

	if (fresh) {
		f = file_add(o, st);
		bytes = map_fd(fd, st->st_size);
		if (f && (!bytes || image_key(o, bytes, st->st_size, f->key, f, path, fd, at)))
			f->key[0] = 0;
		if (f && f->key[0]) {
			index_key(o, f);
			pr_debug("%s: %s", path, f->key);
		}
		if (bytes)
			munmap(bytes, st->st_size);
	}
	keep_fd(o, f, fd);
	if (fresh && f && f->key[0] && f->fd >= 0)
		list_inode(o, f);
	/* Kept open, so its inode number stays this file's. */
	if (fresh && f && f->key[0] && f->fd >= 0 && f->py.found && f->py.executable && o->python_exe_hook)
		o->python_exe_hook(o->python_ctx, f->dev, f->ino, &f->py);
	return f && f->key[0] ? f->key : NULL;
}

void objects__key_path(struct objects *o, const char *path)
{
	struct stat st;
	char *real = realpath(path, NULL);	/* as the kernel names the mapping: links resolved */
	int fd = real ? open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW) : -1;

	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		key_fd(o, fd, &st, real, NULL);
	free(real);
}

const char *objects__key(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, uint64_t offset,
			 const char *path)
{
	struct mapped_at at = { pid, start - offset };
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
	return key_fd(o, fd, &st, path, &at);
}

const char *objects__key_inode(struct objects *o, uint32_t pid, uint64_t start, uint64_t end, uint64_t offset,
			       dev_t dev, uint64_t ino, const char *path)
{
	struct mapped_at at = { pid, start - offset };
	struct file_id *f = by_inode(o, dev, ino);
	struct stat st;
	int fd;

	/* A file seen before, unless it was rewritten in place since: the file
	 * held open says without a path lookup (looked at once a second at most:
	 * mappings of one file come by the thousand), else the path does. */
	if (f && f->fd >= 0 && now_sec() == f->checked)
		return f->key[0] ? f->key : NULL;
	if (f && f->fd >= 0)
		f->checked = now_sec();
	if (f && (f->fd >= 0 ? fstat(f->fd, &st) : stat(path, &st) || st.st_dev != dev || st.st_ino != ino))
		return f->key[0] ? f->key : NULL;
	if (f && st.st_size == f->size && st.st_mtim.tv_sec == f->mtime.tv_sec && st.st_mtim.tv_nsec == f->mtime.tv_nsec)
		return f->key[0] ? f->key : NULL;
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
	return key_fd(o, fd, &st, path, &at);
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
		if (!image_key(o, bytes, st.st_size, found, NULL, path, -1, NULL) && !strcmp(found, key))
			store_image(o, bytes, st.st_size, key, true, path);
		munmap(bytes, st.st_size);
		return;
	}
}

int objects__fd(struct objects *o, const char *key)
{
	const struct file_id *f = key && key[0] ? by_key(o, key) : NULL;

	return f ? f->fd : -1;
}

bool objects__is_go(struct objects *o, const char *key)
{
	const struct file_id *f = by_key(o, key);

	return f && f->go;
}

const struct python_image *objects__python(struct objects *o, const char *key)
{
	const struct file_id *f = by_key(o, key);

	return f && f->py.found ? &f->py : NULL;
}

const struct tctx_image *objects__tctx(struct objects *o, const char *key)
{
	const struct file_id *f = by_key(o, key);

	return f && f->tctx.found ? &f->tctx : NULL;
}

const struct hotspot_image *objects__hotspot(struct objects *o, const char *key)
{
	const struct file_id *f = by_key(o, key);

	return f && f->hotspot.found ? &f->hotspot : NULL;
}

/* The table again from the kept file, after it was evicted. */
static uint32_t rebuild_table(struct objects *o, struct file_id *f)
{
	uint64_t base;
	void *bytes = f->fd >= 0 ? map_fd(f->fd, f->size) : NULL;
	Elf *elf = bytes ? elf_memory(bytes, f->size) : NULL;
	uint32_t slot = elf ? unwinder__build(o->uw, f->key, elf, f->key, &base) : DF_UOBJ_NOT_YET;

	elf_end(elf);
	if (bytes)
		munmap(bytes, f->size);
	return slot;
}

uint32_t objects__unwind(struct objects *o, const char *key, uint64_t start, uint64_t offset, uint64_t *adj)
{
	struct file_id *f = !strcmp(key, o->vdso_key) ? &o->vdso_file : by_key(o, key);
	uint64_t base;
	uint32_t slot;

	if (!o->uw || !f)
		return DF_UOBJ_FP;
	if (f->unwind >= DF_UOBJS_MAX)
		return f->unwind;	/* none to be had */
	slot = unwinder__table(o->uw, key, &base);
	if (slot >= DF_UOBJS_MAX && f != &o->vdso_file)
		slot = rebuild_table(o, f);
	if (slot >= DF_UOBJS_MAX)
		return DF_UOBJ_NOT_YET;
	unwinder__table(o->uw, key, &base);
	for (uint32_t i = 0; i < f->n_segs; i++)
		if (offset >= f->segs[i].off && offset < f->segs[i].off + f->segs[i].len) {
			/* pc - adj = pc - start + offset - delta - base: the row's pc */
			*adj = start - offset + f->segs[i].delta + base;
			return slot;
		}
	return DF_UOBJ_FP;	/* not a segment the table covers */
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
	if (bytes && !image_key(o, bytes, size, now, NULL, path, -1, NULL) && !strcmp(now, key))
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
