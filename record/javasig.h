/* SPDX-License-Identifier: MIT */
#ifndef DF_JAVASIG_H
#define DF_JAVASIG_H
#include <stddef.h>

/* "RET CLASS.NAME(ARGS)" from a class signature ("Lpkg/Class;"), a method name
 * and its signature ("(J)J"), into out (at most cap bytes, always terminated). */
void java_method_text(const char *csig, const char *name, const char *sig, char *out, size_t cap);
/* "java.lang.String", "byte[]": a type's signature as Java spells the type. */
void java_type_text(const char *sig, char *out, size_t cap);

#endif
