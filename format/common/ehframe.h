/* SPDX-License-Identifier: MIT */
/* ehframe.c: the FDEs of an object's .eh_frame, through its .eh_frame_hdr (libelf.h users only). */
#ifndef DF_EHFRAME_H
#define DF_EHFRAME_H

#ifdef _LIBELF_H
#include <stdbool.h>
#include <stdint.h>

struct ehframe {
	bool ok;
	bool no_fdes;		/* .eh_frame (if any) holds no FDE at all */
	const uint8_t *hdr, *frame, *table;	/* .eh_frame_hdr, .eh_frame, the hdr's search table */
	size_t hdr_len, frame_len, entry;	/* entry: bytes of one table value */
	uint64_t hdr_vaddr, frame_vaddr, count;	/* count: FDEs in the table, sorted by start */
	uint8_t table_enc;
};
void ehframe__init(struct ehframe *e, Elf *elf);
/* What FDE i and its CIE say, for a reader of their instructions (cfirows.c). */
struct ehframe_fde {
	uint64_t start, range;		/* link-time addresses */
	const uint8_t *cie_insns, *insns;	/* the CIE's initial instructions, the FDE's */
	size_t cie_insns_len, insns_len;
	uint64_t insns_vaddr;		/* link-time address of insns (DW_CFA_set_loc, pc-relative) */
	uint64_t code_align, ra_reg;
	int64_t data_align;
	uint8_t fde_enc;		/* DW_EH_PE encoding of the FDE's addresses */
	bool signal;			/* augmentation 'S': a signal trampoline's frame */
	bool aug_z;			/* augmentation data present (FDEs carry their length) */
};
/* FDE i of the table (0 to count - 1) into f; false if unreadable, or not the FDE the table lists. */
bool ehframe__fde_program(const struct ehframe *e, uint64_t i, struct ehframe_fde *f);
/* The link-time address where the function holding vaddr starts; false if no FDE covers it. */
bool ehframe__func_start(const struct ehframe *e, uint64_t vaddr, uint64_t *start);
#endif

#endif
