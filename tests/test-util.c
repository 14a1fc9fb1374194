/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include "test-util.h"

int test_failures, test_checks;

int raw_archive_write(const char *path, const char *const *names, const struct dfa_buf *payloads, size_t n)
{
	struct archive *a = archive_write_new();
	int ret = -1;

	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, path) != ARCHIVE_OK)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		struct dfa_buf z = { 0 };
		bool ok = e && !dfa_zstd__compress(NULL, payloads[i].data, payloads[i].len, &z);

		if (ok) {
			archive_entry_set_pathname(e, names[i]);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0600);
			archive_entry_set_size(e, z.len);
			ok = archive_write_header(a, e) == ARCHIVE_OK &&
			     archive_write_data(a, z.data, z.len) == (la_ssize_t)z.len;
		}
		archive_entry_free(e);
		dfa_buf__release(&z);
		if (!ok)
			goto cleanup;
	}
	ret = 0;
cleanup:
	archive_write_free(a);
	return ret;
}
