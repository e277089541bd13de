/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *	  AWS Signature Version 4 (header-based), as pure functions.
 *
 * Nothing here does I/O or reads the clock: the caller passes the request
 * parts, the credentials, the region/service and the timestamp, and gets
 * the canonical request, the string to sign and the Authorization header
 * value.  This is what tests/unit/sink_sigv4_test.c checks against AWS's
 * published test vectors.
 *
 * Paths and query parameters are passed *unencoded*; this module encodes
 * them the way S3 wants (RFC 3986 unreserved characters kept, '/' kept in
 * the path, everything else %XX with upper-case hex, no path
 * normalization).
 *
 * IDENTIFICATION
 *	  sink/sigv4.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SINK_SIGV4_H
#define SINK_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SINK_SHA256_HEX_LEN 64

/* SHA-256 of an empty payload, in hex */
#define SINK_SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct sink_sigv4_pair
{
	const char *name;
	const char *value;			/* query: may be "" ; header: trimmed here */
} sink_sigv4_pair_t;

typedef struct sink_sigv4_request
{
	const char *method;			/* "GET", "PUT", ... */
	const char *path;			/* unencoded, starts with '/' */
	const sink_sigv4_pair_t *query;
	int			nquery;
	const sink_sigv4_pair_t *headers;	/* every header to sign, incl. host */
	int			nheaders;
	const char *payload_hash;	/* hex SHA-256 of the body, or
								 * "UNSIGNED-PAYLOAD" */
} sink_sigv4_request_t;

typedef struct sink_sigv4_credentials
{
	const char *access_key_id;
	const char *secret_access_key;
} sink_sigv4_credentials_t;

/* hex SHA-256 of data into out (65 bytes incl. NUL) */
void		sink_sigv4_sha256_hex(const void *data, size_t len, char *out);

/* append the S3 URI encoding of s; keep '/' when keep_slash */
void		sink_sigv4_uri_encode(sink_buf_t *out, const char *s, bool keep_slash);

/* the canonical request and the ';'-joined signed header names */
void		sink_sigv4_canonical_request(const sink_sigv4_request_t *req,
										 sink_buf_t *creq,
										 sink_buf_t *signed_headers);

/* the string to sign for a canonical request; amz_date is 20150830T123600Z */
void		sink_sigv4_string_to_sign(const char *creq, const char *amz_date,
									  const char *region, const char *service,
									  sink_buf_t *sts);

/* hex signature of a string to sign */
void		sink_sigv4_signature(const char *secret_access_key,
								 const char *amz_date, const char *region,
								 const char *service, const char *sts,
								 char *sig_hex);

/*
 * Sign req and write the Authorization header value into authz.  creq and
 * sts receive the intermediate texts when not NULL (for tests and debug
 * logs).
 */
void		sink_sigv4_sign(const sink_sigv4_request_t *req,
							const sink_sigv4_credentials_t *cred,
							const char *region, const char *service,
							const char *amz_date, sink_buf_t *authz,
							sink_buf_t *creq, sink_buf_t *sts);

#endif							/* SINK_SIGV4_H */
