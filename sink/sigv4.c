/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *	  AWS Signature Version 4 (header-based), as pure functions.
 *
 * See docs.aws.amazon.com "Authenticating Requests (AWS Signature Version
 * 4)".  The steps are: canonical request -> string to sign -> signing key
 * (HMAC chain over date, region, service, "aws4_request") -> signature.
 *
 * IDENTIFICATION
 *	  sink/sigv4.c
 *
 *-------------------------------------------------------------------------
 */
#include "sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static const char hexdigits[] = "0123456789abcdef";

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0F];
	}
	out[2 * len] = '\0';
}

void
sink_sigv4_sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *) data, len, md);
	hex_encode(md, sizeof(md), out);
}

static void
hmac_sha256(const void *key, size_t keylen, const char *msg, unsigned char *out)
{
	unsigned int outlen = SHA256_DIGEST_LENGTH;

	HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) msg,
		 strlen(msg), out, &outlen);
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

void
sink_sigv4_uri_encode(sink_buf_t *out, const char *s, bool keep_slash)
{
	static const char upper[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (is_unreserved(*p) || (keep_slash && *p == '/'))
			sink_buf_appendc(out, (char) *p);
		else
		{
			char		enc[3] = {'%', upper[*p >> 4], upper[*p & 0x0F]};

			sink_buf_append(out, enc, 3);
		}
	}
}

/* an encoded query pair or a canonical header, for sorting */
typedef struct sortable
{
	char	   *name;
	char	   *value;
} sortable_t;

static int
sortable_cmp(const void *a, const void *b)
{
	const sortable_t *x = a;
	const sortable_t *y = b;
	int			c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/* lower-case name; value trimmed with inner runs of spaces collapsed */
static void
canonical_header(const sink_sigv4_pair_t *h, sortable_t *out)
{
	size_t		n = strlen(h->value);
	const char *v = h->value;
	char	   *dst;
	bool		space = false;

	out->name = strdup(h->name);
	for (char *p = out->name; *p; p++)
		*p = (char) tolower((unsigned char) *p);
	out->value = dst = malloc(n + 1);
	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++)
	{
		if (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			space = true;
		else
		{
			if (space && dst != out->value)
				*dst++ = ' ';
			space = false;
			*dst++ = *v;
		}
	}
	*dst = '\0';
}

void
sink_sigv4_canonical_request(const sink_sigv4_request_t *req,
							 sink_buf_t *creq, sink_buf_t *signed_headers)
{
	sortable_t *q = calloc((size_t) req->nquery + 1, sizeof(sortable_t));
	sortable_t *h = calloc((size_t) req->nheaders + 1, sizeof(sortable_t));

	sink_buf_appends(creq, req->method);
	sink_buf_appendc(creq, '\n');
	sink_sigv4_uri_encode(creq, req->path, true);
	sink_buf_appendc(creq, '\n');

	/* query: encode, then sort by encoded name and value */
	for (int i = 0; i < req->nquery; i++)
	{
		sink_buf_t	b = SINK_BUF_INIT;

		sink_sigv4_uri_encode(&b, req->query[i].name, false);
		q[i].name = b.data ? b.data : strdup("");
		b = (sink_buf_t) SINK_BUF_INIT;
		sink_sigv4_uri_encode(&b, req->query[i].value ? req->query[i].value : "", false);
		q[i].value = b.data ? b.data : strdup("");
	}
	qsort(q, (size_t) req->nquery, sizeof(sortable_t), sortable_cmp);
	for (int i = 0; i < req->nquery; i++)
	{
		if (i > 0)
			sink_buf_appendc(creq, '&');
		sink_buf_appends(creq, q[i].name);
		sink_buf_appendc(creq, '=');
		sink_buf_appends(creq, q[i].value);
	}
	sink_buf_appendc(creq, '\n');

	/* headers: lower-case, trim, sort; repeated names join with ',' */
	for (int i = 0; i < req->nheaders; i++)
		canonical_header(&req->headers[i], &h[i]);
	/* stable order for equal names: keep given order of values */
	for (int i = 1; i < req->nheaders; i++)
	{
		sortable_t	t = h[i];
		int			j = i - 1;

		while (j >= 0 && strcmp(h[j].name, t.name) > 0)
		{
			h[j + 1] = h[j];
			j--;
		}
		h[j + 1] = t;
	}
	for (int i = 0; i < req->nheaders; i++)
	{
		bool		same = (i > 0 && strcmp(h[i - 1].name, h[i].name) == 0);

		if (same)
		{
			/* continuation of the previous line */
			creq->len--;		/* drop '\n' */
			sink_buf_appendc(creq, ',');
		}
		else
		{
			sink_buf_appends(creq, h[i].name);
			sink_buf_appendc(creq, ':');
			if (signed_headers->len > 0)
				sink_buf_appendc(signed_headers, ';');
			sink_buf_appends(signed_headers, h[i].name);
		}
		sink_buf_appends(creq, h[i].value);
		sink_buf_appendc(creq, '\n');
	}
	if (signed_headers->data == NULL)
		sink_buf_appends(signed_headers, "");
	sink_buf_appendc(creq, '\n');
	sink_buf_appends(creq, signed_headers->data);
	sink_buf_appendc(creq, '\n');
	sink_buf_appends(creq, req->payload_hash);

	for (int i = 0; i < req->nquery; i++)
	{
		free(q[i].name);
		free(q[i].value);
	}
	for (int i = 0; i < req->nheaders; i++)
	{
		free(h[i].name);
		free(h[i].value);
	}
	free(q);
	free(h);
}

void
sink_sigv4_string_to_sign(const char *creq, const char *amz_date,
						  const char *region, const char *service,
						  sink_buf_t *sts)
{
	char		hash[SINK_SHA256_HEX_LEN + 1];

	sink_sigv4_sha256_hex(creq, strlen(creq), hash);
	sink_buf_appendf(sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
					 amz_date, amz_date, region, service, hash);
}

void
sink_sigv4_signature(const char *secret_access_key, const char *amz_date,
					 const char *region, const char *service,
					 const char *sts, char *sig_hex)
{
	sink_buf_t	key = SINK_BUF_INIT;
	char		date[9];
	unsigned char k1[SHA256_DIGEST_LENGTH];
	unsigned char k2[SHA256_DIGEST_LENGTH];

	memcpy(date, amz_date, 8);
	date[8] = '\0';
	sink_buf_appendf(&key, "AWS4%s", secret_access_key);
	hmac_sha256(key.data, key.len, date, k1);
	hmac_sha256(k1, sizeof(k1), region, k2);
	hmac_sha256(k2, sizeof(k2), service, k1);
	hmac_sha256(k1, sizeof(k1), "aws4_request", k2);
	hmac_sha256(k2, sizeof(k2), sts, k1);
	hex_encode(k1, sizeof(k1), sig_hex);
	/* don't leave the derived secret in freed memory */
	memset(key.data, 0, key.len);
	sink_buf_free(&key);
}

void
sink_sigv4_sign(const sink_sigv4_request_t *req,
				const sink_sigv4_credentials_t *cred,
				const char *region, const char *service,
				const char *amz_date, sink_buf_t *authz,
				sink_buf_t *creq_out, sink_buf_t *sts_out)
{
	sink_buf_t	creq = SINK_BUF_INIT;
	sink_buf_t	signed_headers = SINK_BUF_INIT;
	sink_buf_t	sts = SINK_BUF_INIT;
	char		sig[SINK_SHA256_HEX_LEN + 1];

	sink_sigv4_canonical_request(req, &creq, &signed_headers);
	sink_sigv4_string_to_sign(creq.data, amz_date, region, service, &sts);
	sink_sigv4_signature(cred->secret_access_key, amz_date, region, service,
						 sts.data, sig);
	sink_buf_appendf(authz,
					 "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
					 "SignedHeaders=%s, Signature=%s",
					 cred->access_key_id, amz_date, region, service,
					 signed_headers.data, sig);
	if (creq_out)
		sink_buf_append(creq_out, creq.data, creq.len);
	if (sts_out)
		sink_buf_append(sts_out, sts.data, sts.len);
	sink_buf_free(&creq);
	sink_buf_free(&signed_headers);
	sink_buf_free(&sts);
}
