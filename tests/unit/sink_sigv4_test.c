/*-------------------------------------------------------------------------
 *
 * sink_sigv4_test.c
 *	  sink/sigv4.c against AWS's published Signature Version 4 vectors.
 *
 * Two sources, both published by AWS:
 *	- the "aws-sig-v4-test-suite" (docs.aws.amazon.com/general/latest/gr/
 *	  signature-v4-test-suite.html): service "service", region us-east-1,
 *	  key AKIDEXAMPLE, 2015-08-30T12:36:00Z;
 *	- the S3 examples of "Signature Calculations for the Authorization
 *	  Header" (examplebucket, AKIAIOSFODNN7EXAMPLE, 2013-05-24).
 *
 * IDENTIFICATION
 *	  tests/unit/sink_sigv4_test.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../sink/sigv4.h"

#define P(n, v) {(n), (v)}

static const sink_sigv4_credentials_t suite_cred = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
};
static const sink_sigv4_credentials_t s3_cred = {
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
};

#define SUITE_PREFIX "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

typedef struct vector
{
	const char *name;
	const char *method;
	const char *path;
	sink_sigv4_pair_t query[4];
	int			nquery;
	sink_sigv4_pair_t headers[6];
	int			nheaders;
	const char *body;
	const char *authz;			/* without SUITE_PREFIX */
} vector_t;

#define HOST P("Host", "example.amazonaws.com")
#define DATE P("X-Amz-Date", "20150830T123600Z")

static const vector_t suite[] = {
	{"get-vanilla", "GET", "/", {{0}}, 0, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
	{"get-vanilla-query-order-key-case", "GET", "/",
	 {P("Param2", "value2"), P("Param1", "value1")}, 2, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	{"get-vanilla-empty-query-key", "GET", "/",
	 {P("Param1", "value1")}, 1, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
	{"get-vanilla-query-unreserved", "GET", "/",
	 {P("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")}, 1,
	 {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
	{"get-vanilla-utf8-query", "GET", "/", {P("\xe1\x88\xb4", "bar")}, 1,
	 {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
	{"get-unreserved", "GET",
	 "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	 {{0}}, 0, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
	{"get-utf8", "GET", "/\xe1\x88\xb4", {{0}}, 0, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
	{"get-header-key-duplicate", "GET", "/", {{0}}, 0,
	 {HOST, P("My-Header1", "value2"), P("My-Header1", "value2"),
	  P("My-Header1", "value1"), DATE}, 5, "",
	 "SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
	{"get-header-value-order", "GET", "/", {{0}}, 0,
	 {HOST, P("My-Header1", "value4"), P("My-Header1", "value1"),
	  P("My-Header1", "value3"), P("My-Header1", "value2"), DATE}, 6, "",
	 "SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
	{"get-header-value-trim", "GET", "/", {{0}}, 0,
	 {HOST, P("My-Header1", " value1"), P("My-Header2", " \"a   b   c\""), DATE}, 4, "",
	 "SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
	{"post-vanilla", "POST", "/", {{0}}, 0, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
	{"post-vanilla-query", "POST", "/", {P("Param1", "value1")}, 1, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
	{"post-vanilla-query-nonunreserved", "POST", "/",
	 {P("@#$%^", ""), P("+", "/,?><`\";:\\|][{}")}, 2, {HOST, DATE}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"},
	{"post-header-key-case", "POST", "/", {{0}}, 0,
	 {P("HOST", "example.amazonaws.com"), P("X-AMZ-DATE", "20150830T123600Z")}, 2, "",
	 "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
	{"post-header-key-sort", "POST", "/", {{0}}, 0,
	 {HOST, P("My-Header1", "value1"), DATE}, 3, "",
	 "SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
	{"post-header-value-case", "POST", "/", {{0}}, 0,
	 {HOST, P("My-Header1", "VALUE1"), DATE}, 3, "",
	 "SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
	{"post-sts-header-before", "POST", "/", {{0}}, 0,
	 {HOST, DATE, P("X-Amz-Security-Token",
					"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==")}, 3, "",
	 "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
	{"post-x-www-form-urlencoded", "POST", "/", {{0}}, 0,
	 {P("Content-Type", "application/x-www-form-urlencoded"), HOST, DATE}, 3, "Param1=value1",
	 "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
	{"post-x-www-form-urlencoded-parameters", "POST", "/", {{0}}, 0,
	 {P("Content-Type", "application/x-www-form-urlencoded; charset=utf8"), HOST, DATE}, 3, "Param1=value1",
	 "SignedHeaders=content-type;host;x-amz-date, Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
};

static size_t vector_index;

/* one vector of the suite (vector_index) */
static void
test_suite_vector(void)
{
	const vector_t *v = &suite[vector_index];
	char		hash[65];
	sink_sigv4_request_t req = {0};
	sink_buf_t	authz = SINK_BUF_INIT;
	sink_buf_t	want = SINK_BUF_INIT;

	sink_sigv4_sha256_hex(v->body, strlen(v->body), hash);
	req.method = v->method;
	req.path = v->path;
	req.query = v->query;
	req.nquery = v->nquery;
	req.headers = v->headers;
	req.nheaders = v->nheaders;
	req.payload_hash = hash;
	sink_sigv4_sign(&req, &suite_cred, "us-east-1", "service",
					"20150830T123600Z", &authz, NULL, NULL);
	sink_buf_appendf(&want, "%s%s", SUITE_PREFIX, v->authz);
	CHECK_STR(authz.data, want.data);
	if (authz.data == NULL || strcmp(authz.data, want.data) != 0)
		fprintf(stderr, "aws-sig-v4-test-suite vector \"%s\" failed\n", v->name);
	sink_buf_free(&authz);
	sink_buf_free(&want);
}

/* the intermediate texts of get-vanilla, as published (.creq, .sts) */
static void
test_get_vanilla_texts(void)
{
	sink_sigv4_pair_t headers[] = {HOST, DATE};
	sink_sigv4_request_t req = {"GET", "/", NULL, 0, headers, 2, SINK_SIGV4_EMPTY_SHA256};
	sink_buf_t	authz = SINK_BUF_INIT,
				creq = SINK_BUF_INIT,
				sts = SINK_BUF_INIT;

	sink_sigv4_sign(&req, &suite_cred, "us-east-1", "service",
					"20150830T123600Z", &authz, &creq, &sts);
	/* get-vanilla canonical request */
	CHECK_STR(creq.data,
			  "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
			  "host;x-amz-date\n"
			  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* get-vanilla string to sign */
	CHECK_STR(sts.data,
			  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
			  "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	sink_buf_free(&authz);
	sink_buf_free(&creq);
	sink_buf_free(&sts);
}

#define S3_PREFIX "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "

static void
s3_check(const char *name, const char *method, const char *path,
		 const sink_sigv4_pair_t *query, int nquery,
		 const sink_sigv4_pair_t *headers, int nheaders,
		 const char *payload_hash, const char *want_tail)
{
	sink_sigv4_request_t req = {method, path, query, nquery, headers, nheaders, payload_hash};
	sink_buf_t	authz = SINK_BUF_INIT;
	sink_buf_t	want = SINK_BUF_INIT;

	sink_sigv4_sign(&req, &s3_cred, "us-east-1", "s3", "20130524T000000Z",
					&authz, NULL, NULL);
	sink_buf_appendf(&want, "%s%s", S3_PREFIX, want_tail);
	CHECK_STR(authz.data, want.data);
	if (authz.data == NULL || strcmp(authz.data, want.data) != 0)
		fprintf(stderr, "S3 documentation example \"%s\" failed\n", name);
	sink_buf_free(&authz);
	sink_buf_free(&want);
}

static void
test_s3_examples(void)
{
	const char *put_body = "Welcome to Amazon S3.";
	char		put_hash[65];

	{
		sink_sigv4_pair_t h[] = {
			P("Host", "examplebucket.s3.amazonaws.com"),
			P("Range", "bytes=0-9"),
			P("x-amz-content-sha256", SINK_SIGV4_EMPTY_SHA256),
			P("x-amz-date", "20130524T000000Z"),
		};

		s3_check("GET object", "GET", "/test.txt", NULL, 0, h, 4, SINK_SIGV4_EMPTY_SHA256,
				 "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
				 "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	}
	sink_sigv4_sha256_hex(put_body, strlen(put_body), put_hash);
	/* SHA-256 of the PUT example body */
	CHECK_STR(put_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	{
		sink_sigv4_pair_t h[] = {
			P("Host", "examplebucket.s3.amazonaws.com"),
			P("Date", "Fri, 24 May 2013 00:00:00 GMT"),
			P("x-amz-date", "20130524T000000Z"),
			P("x-amz-storage-class", "REDUCED_REDUNDANCY"),
			P("x-amz-content-sha256", put_hash),
		};

		s3_check("PUT object", "PUT", "/test$file.text", NULL, 0, h, 5, put_hash,
				 "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
				 "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	}
	{
		sink_sigv4_pair_t q[] = {P("lifecycle", "")};
		sink_sigv4_pair_t h[] = {
			P("Host", "examplebucket.s3.amazonaws.com"),
			P("x-amz-date", "20130524T000000Z"),
			P("x-amz-content-sha256", SINK_SIGV4_EMPTY_SHA256),
		};

		s3_check("GET bucket lifecycle", "GET", "/", q, 1, h, 3, SINK_SIGV4_EMPTY_SHA256,
				 "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
				 "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	}
	{
		sink_sigv4_pair_t q[] = {P("max-keys", "2"), P("prefix", "J")};
		sink_sigv4_pair_t h[] = {
			P("Host", "examplebucket.s3.amazonaws.com"),
			P("x-amz-date", "20130524T000000Z"),
			P("x-amz-content-sha256", SINK_SIGV4_EMPTY_SHA256),
		};

		s3_check("GET bucket (list objects)", "GET", "/", q, 2, h, 3, SINK_SIGV4_EMPTY_SHA256,
				 "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
				 "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	}
}

static void
test_uri_encode(void)
{
	sink_buf_t	b = SINK_BUF_INIT;

	sink_sigv4_uri_encode(&b, "debezium.commerce.users/2023-03-01/11/0000000000-00000000000000000000.json", true);
	/* object names of the default layout need no encoding */
	CHECK_STR(b.data, "debezium.commerce.users/2023-03-01/11/0000000000-00000000000000000000.json");
	sink_buf_reset(&b);
	sink_sigv4_uri_encode(&b, "a b/c+d=e&f", true);
	/* path keeps '/', encodes space as %20 and '+' */
	CHECK_STR(b.data, "a%20b/c%2Bd%3De%26f");
	sink_buf_reset(&b);
	sink_sigv4_uri_encode(&b, "a/b", false);
	/* query values encode '/' */
	CHECK_STR(b.data, "a%2Fb");
	sink_buf_free(&b);
}

int
main(void)
{
	for (vector_index = 0; vector_index < sizeof(suite) / sizeof(suite[0]); vector_index++)
		RUN(test_suite_vector);
	RUN(test_get_vanilla_texts);
	RUN(test_s3_examples);
	RUN(test_uri_encode);
	UNIT_MAIN_END("sink_sigv4");
}
