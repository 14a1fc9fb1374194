/* SPDX-License-Identifier: MIT */
/*
 * CPython frames: what dfrecord tells the BPF programs about a Python
 * process (where its runtime state is, and the layout of the interpreter's
 * structures in that version), and the records the walk sends.
 */
#ifndef DF_BPF_PYTHON_H
#define DF_BPF_PYTHON_H

#include "common.h"

/* Byte offsets into the interpreter's structures; one set per Python version. */
struct df_py_offsets {
	__u16 runtime_interp_head;	/* _PyRuntimeState.interpreters.head */
	__u16 interp_next;		/* PyInterpreterState.next */
	__u16 interp_tstate_head;	/* PyInterpreterState.threads.head */
	__u16 tstate_next;		/* PyThreadState.next */
	__u16 tstate_native_tid;	/* PyThreadState.native_thread_id */
	__u16 tstate_cframe;		/* PyThreadState.cframe, or DF_PY_NONE (3.13: no cframe) */
	__u16 cframe_current;		/* _PyCFrame.current_frame (3.13: PyThreadState.current_frame) */
	__u16 frame_code;		/* _PyInterpreterFrame.f_code (3.13: f_executable) */
	__u16 frame_previous;
	__u16 frame_prev_instr;		/* (3.13: instr_ptr) */
	__u16 frame_is_entry;		/* 3.11; DF_PY_NONE from 3.12 */
	__u16 frame_owner;		/* 3.12+: entries are shim frames owned by the C stack */
	__u16 code_firstlineno;		/* PyCodeObject */
	__u16 code_filename;
	__u16 code_qualname;
	__u16 code_linetable;
	__u16 code_code;		/* the first code unit (co_code_adaptive) */
	__u16 unicode_state;		/* PyASCIIObject.state */
	__u16 unicode_length;
	__u16 unicode_ascii_data;	/* data of a compact ASCII string */
	__u16 unicode_compact_data;	/* data of other compact strings */
	__u16 bytes_size;		/* PyBytesObject.ob_size */
	__u16 bytes_data;		/* PyBytesObject.ob_sval */
	__u16 pad;
};

#define DF_PY_NONE 0xffff		/* a field this version does not have */
#define DF_PY_OWNED_BY_CSTACK 3		/* 3.12+: the shim frame an eval-loop call starts with */

/* The bytes of a frame read at once: every frame field must lie within them. */
#define DF_PY_FRAME_WINDOW 72

/* A Python process: py_procs[pid]. */
struct df_py_proc {
	__u64 runtime;		/* address of _PyRuntime */
	__u32 cookie;		/* differs for each image, so a reused pid never sees old code */
	__u32 version;		/* major << 8 | minor */
	struct df_py_offsets off;
};

/*
 * An interpreter executable dfrecord has read: py_exes[(dev, inode)].  At
 * exec of that file the BPF side makes the image's py_procs entry itself,
 * so Python frames are walked from the image's first sample, before
 * dfrecord has seen the exec.  Its _PyRuntime is mm->start_code (where the
 * kernel put the executable segment's p_vaddr) plus runtime_from_code.
 */
struct df_py_exe_key {
	__u64 dev;		/* the superblock's s_dev, as the kernel encodes it */
	__u64 ino;
};
struct df_py_exe {
	__s64 runtime_from_code;	/* _PyRuntime's vaddr - the executable segment's p_vaddr */
	__u32 version;
	__u32 pad;
	struct df_py_offsets off;
};
#define DF_PY_EXES_MAX 64
/* The cookie of an image begun at exec time ts: both sides make it from the exec record's ts. */
#define DF_PY_EXEC_COOKIE(ts) ((__u32)((ts) ^ ((ts) >> 32)) | 0x80000000u)

/*
 * One Python frame in a sample, after the native frames: the code object's
 * address, its instruction index (code units; DF_PY_INSTR_UNKNOWN if none)
 * and whether the frame is the first one its eval-loop call ran.
 */
#define DF_PY_ADDR_MASK ((1ULL << 48) - 1)
#define DF_PY_INSTR_SHIFT 48
#define DF_PY_INSTR_UNKNOWN 0x7fffULL
#define DF_PY_ENTRY (1ULL << 63)

#define DF_PY_NAME 128
#define DF_PY_FILE 256
#define DF_PY_LINES 2048	/* location table bytes kept; more is cut */

enum { DF_PY_STR_UTF8 = 0 };	/* else the string's kind: 1, 2 or 4 bytes per code point */

/* What a code object is called; sent the first time a walk meets it. */
struct df_pycode_rec {
	struct df_rec_hdr hdr;	/* type DF_RB_PYCODE */
	__u64 code;		/* its address */
	__u32 firstlineno;
	__u32 version;		/* as in df_py_proc: says how to read lines */
	__u16 name_len, file_len, lines_len;
	__u8 name_kind, file_kind;	/* DF_PY_STR_UTF8, or 1, 2, 4 */
	__u8 lines_cut;		/* the location table was longer than DF_PY_LINES */
	__u8 pad[7];
	char name[DF_PY_NAME];	/* co_qualname */
	char file[DF_PY_FILE];	/* co_filename */
	__u8 lines[DF_PY_LINES];	/* co_linetable */
};

#endif
