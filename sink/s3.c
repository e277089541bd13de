/*-------------------------------------------------------------------------
 *
 * s3.c
 *	  A small S3 client on libcurl: PUT (single or multipart), LIST v2,
 *	  DELETE, and a bucket check, signed with AWS Signature Version 4.
 *
 * One CURL handle is kept for the process so connections are reused.
 * Every request carries x-amz-content-sha256 (the body's SHA-256) and is
 * signed over host;x-amz-content-sha256;x-amz-date[;x-amz-security-token].
 *
 * Failures are classified from the HTTP status and the <Code> of S3's XML
 * error body:
 *	- transport errors (connect, timeout, reset), 5xx, 429, SlowDown,
 *	  RequestTimeout, InternalError, ServiceUnavailable: retried with
 *	  exponential backoff (retry.backoff.ms doubling up to
 *	  retry.backoff.max.ms, with jitter), forever unless s3/retries >= 0;
 *	- everything else (AccessDenied, SignatureDoesNotMatch,
 *	  InvalidAccessKeyId, NoSuchBucket, other 4xx): fatal, reported with
 *	  the code and S3's message.
 *
 * IDENTIFICATION
 *	  sink/s3.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "log.h"
#include "sigv4.h"
#include "target.h"

struct sink_s3
{
	sink_s3_conf_t conf;		/* strings borrowed from the configuration */
	char	   *bucket;
	char	   *scheme;			/* "http" or "https" */
	char	   *host;			/* host[:port] we connect to and sign */
	bool		path_style;
	CURL	   *curl;
	volatile sig_atomic_t *stop;
	sink_target_stats_t stats;
};

/* one response */
typedef struct s3_resp
{
	long		status;
	CURLcode	cc;
	sink_buf_t	body;
	char		etag[256];
	char		curl_err[CURL_ERROR_SIZE];
	char		code[128];		/* S3 error <Code>, "" if none */
	char		message[512];	/* S3 error <Message> */
} s3_resp_t;

/* request outcome classes */
#define S3_OK		0
#define S3_RETRY	1
#define S3_FATAL	2

static void
set_error(char *errbuf, size_t errlen, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static void
set_error(char *errbuf, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

sink_s3_t *
sink_s3_new(const sink_s3_conf_t *conf, const char *bucket,
			volatile sig_atomic_t *stop, char *errbuf, size_t errlen)
{
	sink_s3_t  *s3;
	const char *ep = conf->endpoint;
	char		defep[256];
	const char *p;

	if (conf->access_key_id == NULL || conf->access_key_id[0] == '\0' ||
		conf->secret_access_key == NULL || conf->secret_access_key[0] == '\0')
	{
		set_error(errbuf, errlen,
				  "no S3 credentials: set sink/s3/access.key.id and sink/s3/secret.access.key "
				  "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		return NULL;
	}
	if (ep == NULL || ep[0] == '\0')
	{
		snprintf(defep, sizeof(defep), "https://s3.%s.amazonaws.com", conf->region);
		ep = defep;
	}
	p = strstr(ep, "://");
	if (p == NULL || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0))
	{
		set_error(errbuf, errlen, "invalid S3 endpoint \"%s\": expected http://host[:port] or https://host[:port]", ep);
		return NULL;
	}
	s3 = calloc(1, sizeof(*s3));
	s3->conf = *conf;
	s3->bucket = strdup(bucket);
	s3->scheme = strndup(ep, (size_t) (p - ep));
	s3->host = strdup(p + 3);
	/* drop a trailing path or slash from the endpoint */
	s3->host[strcspn(s3->host, "/")] = '\0';
	if (strcmp(conf->path_style, "true") == 0)
		s3->path_style = true;
	else if (strcmp(conf->path_style, "false") == 0)
		s3->path_style = false;
	else
		s3->path_style = (conf->endpoint != NULL && conf->endpoint[0] != '\0');
	if (!s3->path_style)
	{
		char	   *vh;

		if (asprintf(&vh, "%s.%s", bucket, s3->host) < 0)
			abort();
		free(s3->host);
		s3->host = vh;
	}
	s3->stop = stop;
	s3->curl = curl_easy_init();
	if (s3->curl == NULL)
	{
		set_error(errbuf, errlen, "could not initialize libcurl");
		sink_s3_free(s3);
		return NULL;
	}
	return s3;
}

void
sink_s3_free(sink_s3_t *s3)
{
	if (s3 == NULL)
		return;
	if (s3->curl)
		curl_easy_cleanup(s3->curl);
	free(s3->bucket);
	free(s3->scheme);
	free(s3->host);
	free(s3);
}

void
sink_s3_get_stats(const sink_s3_t *s3, sink_target_stats_t *st)
{
	*st = s3->stats;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	s3_resp_t  *resp = userdata;

	sink_buf_append(&resp->body, ptr, size * nmemb);
	return size * nmemb;
}

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	s3_resp_t  *resp = userdata;
	size_t		n = size * nmemb;

	if (n > 5 && strncasecmp(ptr, "ETag:", 5) == 0)
	{
		const char *v = ptr + 5;
		size_t		len = n - 5;

		while (len > 0 && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len >= sizeof(resp->etag))
			len = sizeof(resp->etag) - 1;
		memcpy(resp->etag, v, len);
		resp->etag[len] = '\0';
	}
	return n;
}

/* copy the text of the first <tag>...</tag> in xml into out; false if absent */
static bool
xml_text(const char *xml, const char *tag, char *out, size_t outlen)
{
	char		open[64],
				close[64];
	const char *s,
			   *e;
	size_t		n;

	if (xml == NULL)
		return false;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = strstr(xml, open);
	if (s == NULL)
		return false;
	s += strlen(open);
	e = strstr(s, close);
	if (e == NULL)
		return false;
	n = (size_t) (e - s);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* decode the five XML entities in place */
static void
xml_unescape(char *s)
{
	static const struct
	{
		const char *ent;
		char		c;
	}			ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	char	   *dst = s;

	while (*s)
	{
		bool		done = false;

		if (*s == '&')
		{
			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			{
				size_t		l = strlen(ents[i].ent);

				if (strncmp(s, ents[i].ent, l) == 0)
				{
					*dst++ = ents[i].c;
					s += l;
					done = true;
					break;
				}
			}
		}
		if (!done)
			*dst++ = *s++;
	}
	*dst = '\0';
}

/*
 * Send one request; no retries.  key is the object key (unencoded, "" for
 * the bucket).  query pairs are unencoded.  Fills resp and returns S3_OK,
 * S3_RETRY or S3_FATAL.
 */
static int
s3_request_once(sink_s3_t *s3, const char *method, const char *key,
				const sink_sigv4_pair_t *query, int nquery,
				const void *body, size_t len, const char *content_type,
				s3_resp_t *resp)
{
	sink_buf_t	path = SINK_BUF_INIT;
	sink_buf_t	url = SINK_BUF_INIT;
	sink_buf_t	authz = SINK_BUF_INIT;
	sink_buf_t	hdr = SINK_BUF_INIT;
	char		hash[SINK_SHA256_HEX_LEN + 1];
	char		amz_date[32];
	time_t		now = time(NULL);
	struct tm	tm;
	sink_sigv4_pair_t headers[4];
	int			nheaders = 0;
	sink_sigv4_request_t req;
	sink_sigv4_credentials_t cred;
	struct curl_slist *hl = NULL;
	int			rc;

	memset(resp, 0, sizeof(*resp));
	if (s3->path_style)
	{
		sink_buf_appendc(&path, '/');
		sink_buf_appends(&path, s3->bucket);
		if (key[0] != '\0')
			sink_buf_appendc(&path, '/');
	}
	else
		sink_buf_appendc(&path, '/');
	sink_buf_appends(&path, key);

	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	sink_sigv4_sha256_hex(body ? body : "", body ? len : 0, hash);

	headers[nheaders++] = (sink_sigv4_pair_t) {"host", s3->host};
	headers[nheaders++] = (sink_sigv4_pair_t) {"x-amz-content-sha256", hash};
	headers[nheaders++] = (sink_sigv4_pair_t) {"x-amz-date", amz_date};
	if (s3->conf.session_token && s3->conf.session_token[0])
		headers[nheaders++] = (sink_sigv4_pair_t) {"x-amz-security-token", s3->conf.session_token};

	req.method = method;
	req.path = path.data;
	req.query = query;
	req.nquery = nquery;
	req.headers = headers;
	req.nheaders = nheaders;
	req.payload_hash = hash;
	cred.access_key_id = s3->conf.access_key_id;
	cred.secret_access_key = s3->conf.secret_access_key;
	sink_sigv4_sign(&req, &cred, s3->conf.region, "s3", amz_date, &authz, NULL, NULL);

	sink_buf_appendf(&url, "%s://%s", s3->scheme, s3->host);
	sink_sigv4_uri_encode(&url, path.data, true);
	for (int i = 0; i < nquery; i++)
	{
		sink_buf_appendc(&url, i == 0 ? '?' : '&');
		sink_sigv4_uri_encode(&url, query[i].name, false);
		sink_buf_appendc(&url, '=');
		sink_sigv4_uri_encode(&url, query[i].value ? query[i].value : "", false);
	}

	for (int i = 0; i < nheaders; i++)
	{
		sink_buf_reset(&hdr);
		sink_buf_appendf(&hdr, "%s: %s", headers[i].name, headers[i].value);
		hl = curl_slist_append(hl, hdr.data);
	}
	sink_buf_reset(&hdr);
	sink_buf_appendf(&hdr, "Authorization: %s", authz.data);
	hl = curl_slist_append(hl, hdr.data);
	hl = curl_slist_append(hl, "Expect:");
	if (content_type)
	{
		sink_buf_reset(&hdr);
		sink_buf_appendf(&hdr, "Content-Type: %s", content_type);
		hl = curl_slist_append(hl, hdr.data);
	}
	else
		hl = curl_slist_append(hl, "Content-Type:");

	curl_easy_reset(s3->curl);
	curl_easy_setopt(s3->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(s3->curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(s3->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s3->curl, CURLOPT_ERRORBUFFER, resp->curl_err);
	curl_easy_setopt(s3->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(s3->curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(s3->curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(s3->curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(s3->curl, CURLOPT_CONNECTTIMEOUT_MS, (long) s3->conf.connect_timeout_ms);
	curl_easy_setopt(s3->curl, CURLOPT_TIMEOUT_MS, (long) s3->conf.request_timeout_ms);
	curl_easy_setopt(s3->curl, CURLOPT_SSL_VERIFYPEER, s3->conf.tls_verify ? 1L : 0L);
	curl_easy_setopt(s3->curl, CURLOPT_SSL_VERIFYHOST, s3->conf.tls_verify ? 2L : 0L);
	if (s3->conf.ca_file && s3->conf.ca_file[0])
		curl_easy_setopt(s3->curl, CURLOPT_CAINFO, s3->conf.ca_file);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(s3->curl, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "DELETE") == 0)
		curl_easy_setopt(s3->curl, CURLOPT_CUSTOMREQUEST, "DELETE");
	else
	{
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(s3->curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(s3->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(s3->curl, CURLOPT_POSTFIELDS, body ? (const char *) body : "");
		curl_easy_setopt(s3->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (body ? len : 0));
	}

	s3->stats.requests++;
	log_debug("S3 request %s %s", method, url.data);
	resp->cc = curl_easy_perform(s3->curl);
	if (resp->cc != CURLE_OK)
	{
		if (resp->curl_err[0] == '\0')
			snprintf(resp->curl_err, sizeof(resp->curl_err), "%s", curl_easy_strerror(resp->cc));
		/* certificate and URL problems do not go away by retrying */
		if (resp->cc == CURLE_PEER_FAILED_VERIFICATION || resp->cc == CURLE_SSL_CACERT_BADFILE ||
			resp->cc == CURLE_SSL_CERTPROBLEM || resp->cc == CURLE_SSL_ISSUER_ERROR ||
			resp->cc == CURLE_UNSUPPORTED_PROTOCOL || resp->cc == CURLE_URL_MALFORMAT)
			rc = S3_FATAL;
		else
			rc = S3_RETRY;
		goto done;
	}
	curl_easy_getinfo(s3->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->body.data)
	{
		if (xml_text(resp->body.data, "Code", resp->code, sizeof(resp->code)))
			xml_text(resp->body.data, "Message", resp->message, sizeof(resp->message));
	}
	if (resp->status >= 200 && resp->status < 300 &&
		!(resp->body.data && strstr(resp->body.data, "<Error>")))
		rc = S3_OK;
	else if (resp->status >= 500 || resp->status == 429 ||
			 strcmp(resp->code, "SlowDown") == 0 ||
			 strcmp(resp->code, "RequestTimeout") == 0 ||
			 strcmp(resp->code, "InternalError") == 0 ||
			 strcmp(resp->code, "ServiceUnavailable") == 0 ||
			 strcmp(resp->code, "RequestTimeTooSkewed") == 0 ||
			 (resp->status >= 200 && resp->status < 300))
		rc = S3_RETRY;
	else
		rc = S3_FATAL;

done:
	curl_slist_free_all(hl);
	sink_buf_free(&path);
	sink_buf_free(&url);
	sink_buf_free(&authz);
	sink_buf_free(&hdr);
	return rc;
}

/* describe a failed response */
static void
resp_describe(const sink_s3_t *s3, const s3_resp_t *resp, char *out, size_t outlen)
{
	const char *hint = "";

	if (resp->cc != CURLE_OK)
	{
		snprintf(out, outlen, "%s", resp->curl_err);
		return;
	}
	if (strcmp(resp->code, "NoSuchBucket") == 0)
		hint = " (create the bucket or fix sink/target)";
	else if (strcmp(resp->code, "InvalidAccessKeyId") == 0 ||
			 strcmp(resp->code, "XAdminUserNotFound") == 0)
		hint = " (check sink/s3/access.key.id or AWS_ACCESS_KEY_ID)";
	else if (strcmp(resp->code, "SignatureDoesNotMatch") == 0)
		hint = " (check sink/s3/secret.access.key or AWS_SECRET_ACCESS_KEY, and sink/s3/region)";
	else if (strcmp(resp->code, "AccessDenied") == 0)
		hint = " (the credentials lack permission on the bucket)";
	else if (strcmp(resp->code, "AuthorizationHeaderMalformed") == 0)
		hint = " (check sink/s3/region)";
	if (resp->code[0])
		snprintf(out, outlen, "%s: %s (HTTP %ld, bucket \"%s\")%s",
				 resp->code, resp->message[0] ? resp->message : "no message",
				 resp->status, s3->bucket, hint);
	else
		snprintf(out, outlen, "HTTP status %ld", resp->status);
}

/* sleep ms in slices, returning false early if a stop was requested */
static bool
s3_sleep(sink_s3_t *s3, int64_t ms)
{
	while (ms > 0)
	{
		int64_t		slice = ms > 100 ? 100 : ms;

		if (s3->stop && *s3->stop)
			return false;
		usleep((useconds_t) (slice * 1000));
		ms -= slice;
	}
	return !(s3->stop && *s3->stop);
}

/*
 * A request with retries.  what describes the operation for messages
 * ("could not upload object \"k\" to bucket \"b\"").  max_retries < 0 means
 * the configured count.
 */
static int
s3_request(sink_s3_t *s3, const char *what, const char *method, const char *key,
		   const sink_sigv4_pair_t *query, int nquery,
		   const void *body, size_t len, const char *content_type,
		   s3_resp_t *resp, int64_t max_retries, char *errbuf, size_t errlen)
{
	int64_t		retries = max_retries >= 0 ? max_retries : s3->conf.retries;
	char		desc[1024];

	for (int64_t attempt = 0;; attempt++)
	{
		int			rc;
		int64_t		backoff;

		if (attempt > 0)
			sink_buf_free(&resp->body);
		rc = s3_request_once(s3, method, key, query, nquery, body, len, content_type, resp);
		if (rc == S3_OK)
			return SINK_OK;
		resp_describe(s3, resp, desc, sizeof(desc));
		if (rc == S3_FATAL)
		{
			set_error(errbuf, errlen, "%s: %s", what, desc);
			return SINK_ERR_FATAL;
		}
		if (retries >= 0 && attempt >= retries)
		{
			set_error(errbuf, errlen, "%s: %s (gave up after %lld attempts)", what, desc,
					  (long long) attempt + 1);
			return SINK_ERR_RETRY;
		}
		backoff = s3->conf.retry_backoff_ms;
		for (int64_t i = 0; i < attempt && backoff < s3->conf.retry_backoff_max_ms; i++)
			backoff *= 2;
		if (backoff > s3->conf.retry_backoff_max_ms)
			backoff = s3->conf.retry_backoff_max_ms;
		/* jitter: 50% to 100% of the backoff */
		backoff = backoff / 2 + (backoff > 1 ? random() % (backoff / 2 + 1) : 0);
		s3->stats.retries++;
		log_warning("%s: %s; retrying in %lld ms (attempt %lld)", what, desc,
					(long long) backoff, (long long) attempt + 2);
		if (!s3_sleep(s3, backoff))
		{
			set_error(errbuf, errlen, "%s: %s (interrupted by shutdown)", what, desc);
			return SINK_ERR_RETRY;
		}
	}
}

int
sink_s3_check(sink_s3_t *s3, const char *prefix, char *errbuf, size_t errlen)
{
	s3_resp_t	resp;
	sink_sigv4_pair_t q[] = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", prefix}};
	char		what[512];
	int			rc;

	snprintf(what, sizeof(what), "could not list bucket \"%s\"", s3->bucket);
	rc = s3_request(s3, what, "GET", "", q, 3, NULL, 0, NULL, &resp,
					s3->conf.retries >= 0 && s3->conf.retries < 2 ? s3->conf.retries : 2,
					errbuf, errlen);
	sink_buf_free(&resp.body);
	return rc;
}

/* JSON Lines, gzip, or bytes */
static const char *
content_type_of(const char *key)
{
	size_t		n = strlen(key);

	if (n > 3 && strcmp(key + n - 3, ".gz") == 0)
		return "application/gzip";
	if (n > 5 && strcmp(key + n - 5, ".json") == 0)
		return "application/x-ndjson";
	return "application/octet-stream";
}

static int
s3_put_single(sink_s3_t *s3, const char *key, const void *data, size_t len,
			  char *errbuf, size_t errlen)
{
	s3_resp_t	resp;
	char		what[1024];
	int			rc;

	snprintf(what, sizeof(what), "could not upload object \"%s\" to bucket \"%s\"", key, s3->bucket);
	rc = s3_request(s3, what, "PUT", key, NULL, 0, data, len,
					content_type_of(key), &resp, -1, errbuf, errlen);
	sink_buf_free(&resp.body);
	return rc;
}

static int
s3_put_multipart(sink_s3_t *s3, const char *key, const void *data, size_t len,
				 char *errbuf, size_t errlen)
{
	s3_resp_t	resp;
	char		what[1024];
	char		upload_id[1024];
	sink_buf_t	complete = SINK_BUF_INIT;
	size_t		part_size = (size_t) s3->conf.part_size;
	int			nparts = (int) ((len + part_size - 1) / part_size);
	int			rc;

	snprintf(what, sizeof(what), "could not start multipart upload of object \"%s\" to bucket \"%s\"",
			 key, s3->bucket);
	{
		sink_sigv4_pair_t q[] = {{"uploads", ""}};

		rc = s3_request(s3, what, "POST", key, q, 1, NULL, 0, NULL, &resp, -1, errbuf, errlen);
	}
	if (rc != SINK_OK)
	{
		sink_buf_free(&resp.body);
		return rc;
	}
	if (!xml_text(resp.body.data, "UploadId", upload_id, sizeof(upload_id)))
	{
		set_error(errbuf, errlen, "%s: no UploadId in the response", what);
		sink_buf_free(&resp.body);
		return SINK_ERR_RETRY;
	}
	sink_buf_free(&resp.body);

	sink_buf_appends(&complete, "<CompleteMultipartUpload>");
	for (int part = 1; part <= nparts; part++)
	{
		size_t		off = (size_t) (part - 1) * part_size;
		size_t		n = len - off < part_size ? len - off : part_size;
		char		pn[16];
		sink_sigv4_pair_t q[] = {{"partNumber", pn}, {"uploadId", upload_id}};

		snprintf(pn, sizeof(pn), "%d", part);
		snprintf(what, sizeof(what), "could not upload part %d of object \"%s\" to bucket \"%s\"",
				 part, key, s3->bucket);
		rc = s3_request(s3, what, "PUT", key, q, 2, (const char *) data + off, n,
						"application/octet-stream", &resp, -1, errbuf, errlen);
		sink_buf_free(&resp.body);
		if (rc != SINK_OK)
			goto abort;
		sink_buf_appendf(&complete, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
						 part, resp.etag);
	}
	sink_buf_appends(&complete, "</CompleteMultipartUpload>");
	snprintf(what, sizeof(what), "could not complete multipart upload of object \"%s\" to bucket \"%s\"",
			 key, s3->bucket);
	{
		sink_sigv4_pair_t q[] = {{"uploadId", upload_id}};

		rc = s3_request(s3, what, "POST", key, q, 1, complete.data, complete.len,
						"application/xml", &resp, -1, errbuf, errlen);
		sink_buf_free(&resp.body);
	}
	if (rc != SINK_OK)
		goto abort;
	sink_buf_free(&complete);
	return SINK_OK;

abort:
	{
		sink_sigv4_pair_t q[] = {{"uploadId", upload_id}};
		char		err2[256];

		/* best effort; a leftover upload holds no visible object */
		s3_request(s3, "could not abort multipart upload", "DELETE", key, q, 1,
				   NULL, 0, NULL, &resp, 1, err2, sizeof(err2));
		sink_buf_free(&resp.body);
	}
	sink_buf_free(&complete);
	return rc;
}

int
sink_s3_put(sink_s3_t *s3, const char *key, const void *data, size_t len,
			char *errbuf, size_t errlen)
{
	if (len > (size_t) s3->conf.part_size)
		return s3_put_multipart(s3, key, data, len, errbuf, errlen);
	return s3_put_single(s3, key, data, len, errbuf, errlen);
}

int
sink_s3_delete(sink_s3_t *s3, const char *key, char *errbuf, size_t errlen)
{
	s3_resp_t	resp;
	char		what[1024];
	int			rc;

	snprintf(what, sizeof(what), "could not delete object \"%s\" from bucket \"%s\"", key, s3->bucket);
	rc = s3_request(s3, what, "DELETE", key, NULL, 0, NULL, 0, NULL, &resp, -1, errbuf, errlen);
	if (rc == SINK_ERR_FATAL && strcmp(resp.code, "NoSuchKey") == 0)
		rc = SINK_OK;
	sink_buf_free(&resp.body);
	return rc;
}

int
sink_s3_list(sink_s3_t *s3, const char *prefix, size_t strip,
			 sink_target_list_cb cb, void *arg, char *errbuf, size_t errlen)
{
	char		token[2048] = "";
	char		what[1024];
	int			rc = SINK_OK;

	snprintf(what, sizeof(what), "could not list objects with prefix \"%s\" in bucket \"%s\"",
			 prefix, s3->bucket);
	for (;;)
	{
		s3_resp_t	resp;
		sink_sigv4_pair_t q[4] = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", "1000"}};
		int			nq = 3;
		const char *p;
		bool		truncated;
		char		flag[16] = "";

		if (token[0])
			q[nq++] = (sink_sigv4_pair_t) {"continuation-token", token};
		rc = s3_request(s3, what, "GET", "", q, nq, NULL, 0, NULL, &resp, -1, errbuf, errlen);
		if (rc != SINK_OK)
		{
			sink_buf_free(&resp.body);
			return rc;
		}
		p = resp.body.data ? resp.body.data : "";
		while ((p = strstr(p, "<Key>")) != NULL)
		{
			const char *e = strstr(p + 5, "</Key>");
			char	   *k;

			if (e == NULL)
				break;
			k = strndup(p + 5, (size_t) (e - p - 5));
			xml_unescape(k);
			if (strlen(k) >= strip && cb(k + strip, arg) != 0)
			{
				free(k);
				sink_buf_free(&resp.body);
				return SINK_OK;
			}
			free(k);
			p = e;
		}
		truncated = xml_text(resp.body.data, "IsTruncated", flag, sizeof(flag)) &&
			strcmp(flag, "true") == 0;
		token[0] = '\0';
		if (truncated)
		{
			xml_text(resp.body.data, "NextContinuationToken", token, sizeof(token));
			xml_unescape(token);
		}
		sink_buf_free(&resp.body);
		if (!truncated || token[0] == '\0')
			break;
	}
	return rc;
}
