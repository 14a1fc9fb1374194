/* SPDX-License-Identifier: MIT */
/*
 * User stacks unwound in BPF (unwind.bpf.h) from compact tables dfrecord
 * derives from each object's call-frame information (record/unwtab.c):
 * one table per object, shared by every process that maps it, rows in one
 * array (df_urows), each process's executable mappings in df_uprocs.
 */
#ifndef DF_BPF_UNWIND_H
#define DF_BPF_UNWIND_H

#include "common.h"

#define DF_UROWS_MAX (2u << 20)		/* rows of all tables together (16 MiB) */
#define DF_UOBJS_MAX 16384		/* tables (object slots) */
#define DF_UMAPS_MAX 256		/* executable mappings of one process the walk knows */
#define DF_UPROCS_MAX 32768		/* processes */
#define DF_UWALK_STACK 2048		/* bytes of stack the walk reads at once */
#define DF_UWALK_REFILLS 8		/* times a walk reads it again, further up */
#define DF_UROW_CACHE_BITS 10		/* rows the walk keeps per CPU: 2^10 */

/* A row holds from pc on (relative to its table's base) until the next row. */
struct df_urow {
	__u32 pc;
	__u8 kind;	/* enum df_urow_kind */
	__s8 fp;	/* the caller's frame pointer is saved at CFA + 8 * fp; 0: unchanged */
	__s16 cfa;	/* SP and FP rows: CFA = sp (fp) + cfa; PLT rows: the threshold */
};

enum df_urow_kind {
	DF_UROW_NONE,	/* no rule the walk knows (or a gap between functions): it stops */
	DF_UROW_SP,	/* CFA = sp + cfa; the return address at CFA - 8 */
	DF_UROW_FP,	/* CFA = fp + cfa */
	DF_UROW_PLT,	/* a PLT stub: CFA = sp + 8, and 8 more once (ip & 15) >= cfa */
	DF_UROW_SIGNAL,	/* a signal trampoline: the interrupted registers are in the ucontext at sp */
	DF_UROW_END,	/* the outermost frame: the return address is undefined */
	DF_UROW_NO_CFI,	/* code no FDE covers (between functions, hand-written): frame pointers */
};

/* A row the walk found for a pc (rel) of a table's version (gen, 0: none). */
struct df_urow_cached {
	__u32 gen, rel;
	struct df_urow row;
};

/* A table: rows [first, first + n) of df_urows; n 0: evicted.  gen: this
 * version of the slot (never 0, never given twice), which the walk's row
 * cache keys by. */
struct df_uobj {
	__u32 first, n;
	__u32 gen, pad;
};

/* Where a mapping has no table, df_umap.obj says why (the walk then follows frame pointers). */
enum {
	DF_UOBJ_FP = 0xfffffff0u,	/* none needed or none to be had: JIT code, an object without CFI */
	DF_UOBJ_NOT_YET,		/* not built yet */
	DF_UOBJ_TOO_BIG,		/* more rows than a table may have */
	DF_UOBJ_BAD,			/* its CFI could not be read, or made no sense */
};

/*
 * An object's table by the file the kernel maps (its superblock's dev_t and
 * inode number), for mappings dfrecord has not listed for a process yet
 * (the walk then asks the kernel, bpf_find_vma).  Only files dfrecord holds
 * open are listed: their inodes cannot be reused for another file.
 */
struct df_uinode_key {
	__u64 dev, ino;
};
#define DF_USEGS_MAX 4
struct df_useg {
	__u64 off, len, delta;	/* file offsets [off, off + len) hold link-time addresses from off - delta */
};
struct df_uinode {
	__u32 obj;		/* its table (df_uobjs index) */
	__u32 n_segs;
	__u64 base;		/* the link-time address its rows count from */
	struct df_useg segs[DF_USEGS_MAX];
};

/* The vDSO has no file: its table is listed under this key. */
#define DF_UINODE_VDSO ((struct df_uinode_key){ 0, 1 })

/*
 * HotSpot's interpreter in a process (interp_end 0: none).  A frame whose pc
 * is in its code holds its Method* at fp + DF_HOTSPOT_METHOD_OFF and its
 * bytecode pointer at fp + DF_HOTSPOT_BCP_OFF (frame_x86.hpp: -3 and -8
 * words, JDK 9 and later); the walk takes the method along, with the
 * bytecode index the pointer is at in the method's ConstMethod, whose
 * bytecodes follow it (const_size bytes from its start).
 */
struct df_hotspot {
	__u64 interp_start, interp_end;
	__u32 method_const;	/* offset of Method::_constMethod */
	__u32 const_size;	/* sizeof(ConstMethod) */
};
#define DF_HOTSPOT_METHOD_OFF (-24)
#define DF_HOTSPOT_BCP_OFF (-64)
/* A Java frame word: the Method* and, above it, the bytecode index + 1 (0: not known). */
#define DF_JAVA_METHOD_MASK ((1ULL << 48) - 1)
#define DF_JAVA_BCI_SHIFT 48

/* One executable mapping of a process. */
struct df_umap {
	__u64 start, end;
	__u64 adj;	/* pc - adj: the pc as the table has it */
	__u32 obj;	/* its table (df_uobjs index), or DF_UOBJ_* */
	__u32 pad;
};

/*
 * A process image's executable mappings, as dfrecord last learned them.  image
 * is when the image began (the exec or fork record's ts; 0 for processes older
 * than the recording): the walk uses the entry only while df_uimages says the
 * process is still that image, so a late update never describes a newer one.
 */
struct df_uproc {
	__u64 image;
	__u32 n;	/* mappings, sorted by start */
	__u32 pad;
	struct df_hotspot hotspot;
	struct df_umap maps[DF_UMAPS_MAX];
};

/*
 * Mappings the BPF side learned by itself for an address space (mm) dfrecord
 * has not described yet: the executable, the dynamic loader and the vDSO at
 * exec, then one more per sample that needs it (bpf_find_vma, which a
 * sampling interrupt may call once).  A short process is walked this way
 * before dfrecord reads it, instead of falling back to a stack copy.
 */
#define DF_ULEARNED_MAX 8
struct df_ulearned {
	__u64 mm;	/* the address space they are of */
	__u64 taken;	/* entries claimed (atomically: CPUs learn at once) */
	__u64 ready;	/* bit i: maps[i] written */
	struct df_umap maps[DF_ULEARNED_MAX];
};

/* How a sample's user stack was walked, and why the walk ended (the archive keeps it). */
enum df_uend {
	DF_UEND_NONE = 0,	/* not by the BPF walk: frame pointers (the kernel's), or stack copies */
	DF_UEND_COMPLETE,	/* the outermost frame */
	DF_UEND_NO_PROC,	/* a process (or mapping) dfrecord had not set up yet: frame
				 * pointers, and a stack copy where the mode allows */
	DF_UEND_NO_TABLE,	/* in an object without a table yet, frame pointers could not go on */
	DF_UEND_EVICTED,	/* ... whose table was evicted */
	DF_UEND_TOO_BIG,	/* ... too big for a table */
	DF_UEND_BAD_CFI,	/* ... whose CFI could not be read */
	DF_UEND_NO_CFI,		/* in code without CFI (JIT, an object without it), likewise */
	DF_UEND_NO_RULE,	/* at an address whose rule the walk does not know */
	DF_UEND_DEPTH,		/* DF_MAX_USER frames */
	DF_UEND_UNREADABLE,	/* a read of the stack failed */
	DF_UEND__COUNT,
};

/* What a program's walks did on one CPU: the first member of its walk
 * scratch (unwind.bpf.h's df_uwalk), so dfrecord sums them over the CPUs;
 * counted without atomics, as nothing else on that CPU walks meanwhile. */
struct df_uw_counts {
	__u64 walks, frames, fp_steps, vma_lookups, row_hits;
	__u64 ends[DF_UEND__COUNT];
};

#endif
