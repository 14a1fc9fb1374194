/* SPDX-License-Identifier: MIT */
/*
 * Java methods named as Java spells them, "RET CLASS.NAME(ARGS)", from the
 * JVM's signatures: by the JVMTI agent for compiled code and by dfrecord for
 * interpreted frames (hotspot.c), so that a method is one frame either way.
 */
#include <stdio.h>
#include <string.h>
#include "javasig.h"

/* One JVM type from a signature at *s (advanced past it), as Java spells it. */
static void put_type(const char **s, char *out, size_t cap, size_t *len)
{
	static const char *const prim[128] = { ['B'] = "byte", ['C'] = "char", ['D'] = "double", ['F'] = "float",
						['I'] = "int", ['J'] = "long", ['S'] = "short", ['Z'] = "boolean",
						['V'] = "void" };
	unsigned dims = 0;
	const char *p = *s;

	while (*p == '[')
		dims++, p++;
	if (*p == 'L') {
		for (p++; *p && *p != ';'; p++)
			if (*len + 1 < cap)
				out[(*len)++] = *p == '/' ? '.' : *p;
		if (*p == ';')
			p++;
	} else if (*p && (unsigned char)*p < 128 && prim[(unsigned char)*p]) {
		*len += snprintf(out + *len, *len < cap ? cap - *len : 0, "%s", prim[(unsigned char)*p]);
		p++;
	} else if (*p) {
		p++;
	}
	while (dims--)
		*len += snprintf(out + *len, *len < cap ? cap - *len : 0, "[]");
	if (*len >= cap)
		*len = cap - 1;
	out[*len] = 0;
	*s = p;
}

void java_method_text(const char *csig, const char *name, const char *sig, char *out, size_t cap)
{
	const char *c = csig, *ret = strchr(sig, ')');
	size_t len = 0;

	out[0] = 0;
	if (ret) {
		ret++;
		put_type(&ret, out, cap, &len);
		len += snprintf(out + len, len < cap ? cap - len : 0, " ");
	}
	if (len < cap)
		put_type(&c, out, cap, &len);
	len += snprintf(out + len, len < cap ? cap - len : 0, ".%s(", name);
	for (const char *a = sig[0] == '(' ? sig + 1 : sig; *a && *a != ')' && len < cap;) {
		if (a != sig + 1)
			len += snprintf(out + len, len < cap ? cap - len : 0, ", ");
		if (len < cap)
			put_type(&a, out, cap, &len);
	}
	if (len < cap)
		snprintf(out + len, cap - len, ")");
	out[cap - 1] = 0;
}


void java_type_text(const char *sig, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = 0;
	put_type(&sig, out, cap, &len);
}
