/* SPDX-License-Identifier: MIT */
/*
 * The frames a profile is made of, interned: each distinct (name, object,
 * key, kind, status) has one id, which never changes.  Names and object
 * names are anyone's bytes: they are clean text from here on (text.c).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

const char *const sym_status_text[SYM__COUNT] = {
	[SYM_OK] = "resolved",
	[SYM_NO_SYMBOL] = "no symbol in the object",
	[SYM_NO_OBJECT] = "object not captured",
	[SYM_NO_MAP] = "address outside any mapping",
	[SYM_NO_PROC] = "no process record",
};

struct frames {
	struct frame *v;
	uint32_t n;
	size_t cap;
	struct pairmap ix;	/* (hash of the text, probe) -> id */
	bool lines;		/* "name (file:line)" */
};

struct frames *frames__new(bool lines)
{
	struct frames *f = calloc(1, sizeof(*f));

	if (!f)
		oom();
	f->lines = lines;
	return f;
}

void frames__free(struct frames *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->n; i++) {
		free((char *)f->v[i].name);
		free((char *)f->v[i].object);
		free((char *)f->v[i].key);
	}
	free(f->v);
	pairmap__release(&f->ix);
	free(f);
}

const struct frame *frames__get(const struct frames *f, uint32_t id)
{
	return &f->v[id];
}

uint32_t frames__count(const struct frames *f)
{
	return f->n;
}

static uint32_t intern_clean(struct frames *f, const char *name, const char *object, const char *key, uint8_t kind,
			     uint8_t status)
{
	uint64_t h = hash_string(object, hash_string(name, HASH_SEED)) ^ kind, probe;
	struct pairmap_entry *e;
	struct frame *fr;

	for (probe = 0; (e = pairmap__find(&f->ix, h, probe, false)); probe++) {
		fr = &f->v[e->val];
		if (fr->kind == kind && fr->status == status && !strcmp(fr->name, name) && !strcmp(fr->object, object) &&
		    !strcmp(fr->key, key))
			return e->val;
	}
	e = pairmap__find(&f->ix, h, probe, true);
	if (!e)
		oom();
	must_grow(&f->v, &f->cap, f->n + 1, sizeof(*f->v), 1024);
	f->v[f->n] = (struct frame){ must_strdup(name), must_strdup(object), must_strdup(key), kind, status };
	e->val = f->n;
	return f->n++;
}

uint32_t frames__intern(struct frames *f, const char *name, const char *object, const char *key, uint8_t kind,
			uint8_t status)
{
	char *n, *o;
	uint32_t id;

	if (text_is_clean(name) && text_is_clean(object))
		return intern_clean(f, name, object, key, kind, status);
	n = text_clean(name);
	o = text_clean(object);
	id = intern_clean(f, n, o, key, kind, status);
	free(n);
	free(o);
	return id;
}

uint32_t frames__intern_named(struct frames *f, char *name, const char *file, int line, const char *object,
			      const char *key, uint8_t kind)
{
	char *text = NULL;
	uint32_t id;

	if (f->lines && file && line > 0 && asprintf(&text, "%s (%s:%d)", name, file, line) < 0)
		oom();
	id = frames__intern(f, text ? text : name, object, key, kind, SYM_OK);
	free(text);
	free(name);
	return id;
}

uint32_t frames__intern_offset(struct frames *f, const char *object, uint64_t off, const char *key, uint8_t status)
{
	char *text;
	uint32_t id;

	if (asprintf(&text, "%s+0x%llx", object, (unsigned long long)off) < 0)
		oom();
	id = frames__intern(f, text, object, key, FRAME_USER, status);
	free(text);
	return id;
}

bool frames__lines(const struct frames *f)
{
	return f->lines;
}

const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}
