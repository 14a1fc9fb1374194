/* SPDX-License-Identifier: MIT */
/*
 * Names from an archive are bytes anyone could choose (a thread name set
 * with prctl, a file name, a JIT map line): before they reach an output
 * they become valid UTF-8 without control characters, every other byte
 * written as \xNN, so SVG, JSON and protobuf readers accept them and a
 * terminal shows them as they are.
 */
#include <stdlib.h>
#include <string.h>
#include "report.h"

int utf8_char_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;
	uint32_t cp;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and beyond U+10FFFF are not UTF-8;
	 * C1 controls are control characters all the same. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return 0;
	return n;
}

bool text_is_clean(const char *s)
{
	for (int n; *s; s += n)
		if (!(n = utf8_char_len(s)))
			return false;
	return true;
}

char *text_clean(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *out, *d;

	if (text_is_clean(s))
		return must_strdup(s);
	out = d = must_realloc(NULL, 4 * strlen(s) + 1);
	while (*s) {
		int n = utf8_char_len(s);

		if (n) {
			memcpy(d, s, n);
			d += n;
			s += n;
			continue;
		}
		*d++ = '\\';
		*d++ = 'x';
		*d++ = hex[(unsigned char)*s >> 4];
		*d++ = hex[*s & 15];
		s++;
	}
	*d = 0;
	return out;
}

size_t utf8_prefix(const char *s, size_t chars)
{
	size_t off = 0;

	for (; chars && s[off]; chars--) {
		int n = utf8_char_len(s + off);

		off += n ? n : 1;
	}
	return off;
}

size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (size_t off = 0; s[off]; n++) {
		int len = utf8_char_len(s + off);

		off += len ? len : 1;
	}
	return n;
}

void put_json_string(FILE *f, const char *raw)
{
	char *clean = text_clean(raw);

	fputc('"', f);
	for (const char *s = clean; *s; s++) {
		if (*s == '<')	/* never "</script>" inside a page */
			fputs("\\u003c", f);
		else if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
	free(clean);
}

void put_xml_text(FILE *f, const char *raw)
{
	char *clean = text_clean(raw);

	for (const char *s = clean; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
	free(clean);
}
