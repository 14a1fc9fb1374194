/* SPDX-License-Identifier: MIT */
/*
 * ClickHouse's HTTP interface through libcurl: one handle kept alive for a
 * run.  A statement without data goes as the request body; an INSERT's
 * statement goes in the URL and its rows in the body.  wait_end_of_query
 * makes the server answer only once the statement is done, so an error is
 * an HTTP status, never an exception at the end of half a result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clickhouse.h"
#include "netlibs.h"

#define MAX_ANSWER (4ULL << 30)	/* a result larger than this is refused */

struct clickhouse {
	const struct curl_lib *cu;
	CURL *curl;
	CURLU *url;
	char *where;		/* the URL without its password */
	bool unusable;		/* a bad URL, or no libcurl: error says which */
	char error[512];
};

static bool curl_ready;

struct clickhouse *clickhouse__new(const char *url)
{
	struct clickhouse *ch = calloc(1, sizeof(*ch));
	CURLU *bare = NULL;
	char *scheme = NULL;

	const struct curl_lib *cu;
	const char *err;

	if (!ch)
		return NULL;
	if (!(cu = ch->cu = curl_lib__get(&err))) {
		snprintf(ch->error, sizeof(ch->error), "--clickhouse: %s", err);
		ch->unusable = true;
		if (!(ch->where = strdup(url)))
			goto fail;
		return ch;
	}
	if (!curl_ready && cu->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		curl_ready = true;
	ch->curl = cu->easy_init();
	ch->url = cu->url();
	if (!ch->curl || !ch->url)
		goto fail;
	if (cu->url_set(ch->url, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    cu->url_get(ch->url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(ch->error, sizeof(ch->error), "--clickhouse: '%s' is not an http:// or https:// URL", url);
		ch->unusable = true;
		ch->where = strdup(url);
	} else if ((bare = cu->url_dup(ch->url)) && cu->url_set(bare, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK) {
		char *s = NULL;

		cu->url_get(bare, CURLUPART_URL, &s, 0);
		ch->where = s ? strdup(s) : NULL;
		cu->mem_free(s);
	}
	cu->mem_free(scheme);
	cu->url_cleanup(bare);
	if (!ch->where)
		goto fail;
	cu->easy_setopt(ch->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A password can stay out of the command line: ~/.netrc, as curl reads it. */
	cu->easy_setopt(ch->curl, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
	cu->easy_setopt(ch->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A server that stops answering for five minutes is gone. */
	cu->easy_setopt(ch->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	cu->easy_setopt(ch->curl, CURLOPT_LOW_SPEED_TIME, 300L);
	cu->easy_setopt(ch->curl, CURLOPT_NOSIGNAL, 1L);
	return ch;
fail:
	clickhouse__free(ch);
	return NULL;
}

void clickhouse__free(struct clickhouse *ch)
{
	if (!ch)
		return;
	if (ch->cu) {
		ch->cu->easy_cleanup(ch->curl);
		ch->cu->url_cleanup(ch->url);
	}
	free(ch->where);
	free(ch);
}

const char *clickhouse__error(const struct clickhouse *ch)
{
	return ch->error;
}

const char *clickhouse__where(const struct clickhouse *ch)
{
	return ch->where;
}

struct answer {
	struct rowbin *out;
	struct rowbin err;	/* the body of a failed request */
	long status;
	const struct curl_lib *cu;
	CURL *curl;
};

static size_t take_answer(char *data, size_t size, size_t n, void *ctx)
{
	struct answer *a = ctx;
	struct rowbin *b;

	if (!a->status)
		a->cu->easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &a->status);
	b = a->status == 200 && a->out ? a->out : &a->err;
	n *= size;
	if (b == &a->err && b->n > 4096)
		return n;	/* the message's first line is all that is shown */
	if (b->n + n > MAX_ANSWER)
		return 0;	/* ends the transfer: CURLE_WRITE_ERROR */
	must_grow(&b->d, &b->cap, b->n + n, 1, 1 << 16);
	memcpy(b->d + b->n, data, n);
	b->n += n;
	return n;
}

/* The first line of the server's message, at most 300 bytes of it. */
static void server_message(struct clickhouse *ch, struct answer *a)
{
	const char *t = a->err.n ? (const char *)a->err.d : "(no message)";
	size_t n = a->err.n ? a->err.n : strlen(t);
	const char *nl = memchr(t, '\n', n);
	int len = (int)(nl ? (size_t)(nl - t) : n);
	bool login = a->status == 401 || a->status == 403 || strstr(t, "Code: 192,") || strstr(t, "Code: 193,") ||
		     strstr(t, "Code: 194,") || strstr(t, "Code: 516,");

	if (len > 300)
		len = 300;
	snprintf(ch->error, sizeof(ch->error), "ClickHouse at %s %s (HTTP %ld): %.*s", ch->where,
		 login ? "refused the login" : "failed", a->status, len, t);
}

/* The URL of one request: the server's, the statement added when it goes there. */
static char *request_url(struct clickhouse *ch, const char *sql)
{
	const struct curl_lib *cu = ch->cu;
	CURLU *u = cu->url_dup(ch->url);
	char *s = NULL, *q = NULL;
	size_t n = sql ? strlen(sql) + 8 : 0;

	if (!u)
		return NULL;
	if (cu->url_set(u, CURLUPART_QUERY, "wait_end_of_query=1", CURLU_APPENDQUERY) != CURLUE_OK)
		goto cleanup;
	if (sql) {
		q = must_realloc(NULL, n);
		snprintf(q, n, "query=%s", sql);
		if (cu->url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
			goto cleanup;
	}
	cu->url_get(u, CURLUPART_URL, &s, 0);
cleanup:
	free(q);
	cu->url_cleanup(u);
	return s;
}

int clickhouse__run(struct clickhouse *ch, const char *sql, const void *body, size_t len, struct rowbin *out)
{
	const struct curl_lib *cu = ch->cu;
	struct answer a = { .out = out, .cu = cu, .curl = ch->curl };
	char *url;
	CURLcode rc;
	int ret = -1;

	if (ch->unusable)
		return -1;
	url = request_url(ch, body ? sql : NULL);
	if (!url) {
		snprintf(ch->error, sizeof(ch->error), "ClickHouse at %s: cannot make a request URL", ch->where);
		return -1;
	}
	if (out)
		out->n = 0;
	if (!body) {
		body = sql;
		len = strlen(sql);
	}
	cu->easy_setopt(ch->curl, CURLOPT_URL, url);
	cu->easy_setopt(ch->curl, CURLOPT_POSTFIELDS, body);
	cu->easy_setopt(ch->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	cu->easy_setopt(ch->curl, CURLOPT_WRITEFUNCTION, take_answer);
	cu->easy_setopt(ch->curl, CURLOPT_WRITEDATA, &a);
	rc = cu->easy_perform(ch->curl);
	if (rc == CURLE_OK)
		cu->easy_getinfo(ch->curl, CURLINFO_RESPONSE_CODE, &a.status);
	if (rc == CURLE_WRITE_ERROR && a.status == 200)
		snprintf(ch->error, sizeof(ch->error), "ClickHouse at %s: the answer is over %llu GiB", ch->where,
			 MAX_ANSWER >> 30);
	else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(ch->error, sizeof(ch->error), "ClickHouse at %s is unreachable: %s", ch->where,
			 cu->easy_strerror(rc));
	else if (rc != CURLE_OK)
		snprintf(ch->error, sizeof(ch->error), "ClickHouse at %s: %s", ch->where, cu->easy_strerror(rc));
	else if (a.status != 200)
		server_message(ch, &a);
	else
		ret = 0;
	cu->mem_free(url);
	rowbin__release(&a.err);
	return ret;
}
