/* SPDX-License-Identifier: MIT */
/* Python frames: an interpreted frame (DFA_IFRAME) named from its FUNC record. */
#include <stdlib.h>
#include <string.h>
#include "report.h"

struct pyframes {
	struct dfa_reader *r;
	struct frames *fr;
	struct pairmap cache;	/* (frame word, 0) -> frame id */
};

struct pyframes *pyframes__new(struct dfa_reader *r, struct frames *fr)
{
	struct pyframes *p = calloc(1, sizeof(*p));

	if (!p)
		oom();
	p->r = r;
	p->fr = fr;
	return p;
}

void pyframes__free(struct pyframes *p)
{
	if (!p)
		return;
	pairmap__release(&p->cache);
	free(p);
}

uint32_t pyframes__frame(struct pyframes *p, uint64_t frame)
{
	const struct dfa_func *f = dfa_reader__func(p->r, DFA_IFRAME_FUNC(frame));
	uint32_t instr = DFA_IFRAME_INSTR(frame), id;
	/* Without --lines every instruction of a function is one frame. */
	uint64_t key = frames__lines(p->fr) ? frame & ~1ULL : frame & ~0xffffffffULL;
	struct pairmap_entry *e = pairmap__find(&p->cache, key, 0, false);
	int line;

	if (e)
		return e->val;
	if (DFA_IFRAME_FUNC(frame) == DFA_FUNC_CUT) {
		id = frames__intern(p->fr, "[more python frames]", "[python]", "", FRAME_INTERP, SYM_NO_SYMBOL);
	} else if (f && f->kind == DFA_FUNC_JAVA) {
		/* a Java method (with its lines where the recorder read them), or the class an allocation made */
		line = instr == DFA_INSTR_UNKNOWN || f->version != 1 ? -1 : java_line(f->lines, f->lines_len, instr);
		if (line > 0 && frames__lines(p->fr))
			id = frames__intern_named(p->fr, must_strdup(f->name), f->file, line, "[java]", "", FRAME_INTERP);
		else
			id = frames__intern(p->fr, f->name, "[java]", "", FRAME_INTERP, SYM_OK);
	} else if (!f || f->kind != DFA_FUNC_PYTHON) {
		id = frames__intern(p->fr, "[unknown python code]", "[python]", "", FRAME_INTERP, SYM_NO_SYMBOL);
	} else {
		line = instr == DFA_INSTR_UNKNOWN ? -1 : python_line(f->lines, f->lines_len, f->firstline, instr);
		/* The function's first line when the instruction's is not known. */
		id = frames__intern_named(p->fr, must_strdup(f->name), base_name(f->file),
					  line > 0 ? line : (int)f->firstline, base_name(f->file), "", FRAME_INTERP);
	}
	e = pairmap__find(&p->cache, key, 0, true);
	if (!e)
		oom();
	e->val = id;
	return id;
}

bool pyframes__is_eval_loop(const struct frame *f)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";

	if (f->kind != FRAME_USER)
		return false;
	/* HotSpot's interpreter, as its perf map names it: a frame per Java call. */
	if (!strcmp(f->name, "Interpreter") && !strcmp(f->object, "[jit]"))
		return true;
	return !strncmp(f->name, eval, sizeof(eval) - 1) && strchr(" .", f->name[sizeof(eval) - 1]);
}
