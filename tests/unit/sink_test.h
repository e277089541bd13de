/*-------------------------------------------------------------------------
 *
 * sink_test.h
 *	  A tiny counted test harness for the ferry-sink unit tests.
 *
 * Every check prints "ok" or "not ok" with its description and is counted;
 * main() ends with SINK_TEST_DONE(), which prints "<suite>: N passed,
 * M failed" and returns non-zero when anything failed.  tests/unit/Makefile
 * adds the counts of all suites into its last line.
 *
 * IDENTIFICATION
 *	  tests/unit/sink_test.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SINK_TEST_H
#define SINK_TEST_H

#include <stdio.h>
#include <string.h>

static int	sink_test_passed;
static int	sink_test_failed;

#define CHECK(cond, ...) \
	do { \
		if (cond) { \
			sink_test_passed++; \
			printf("ok %d - ", sink_test_passed + sink_test_failed); \
		} else { \
			sink_test_failed++; \
			printf("not ok %d - ", sink_test_passed + sink_test_failed); \
		} \
		printf(__VA_ARGS__); \
		if (!(cond)) \
			printf("  (%s:%d: %s)", __FILE__, __LINE__, #cond); \
		printf("\n"); \
	} while (0)

#define CHECK_STR(got, want, ...) \
	do { \
		const char *g_ = (got); \
		const char *w_ = (want); \
		int same_ = (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) || (g_ == w_); \
		CHECK(same_, __VA_ARGS__); \
		if (!same_) \
			printf("#   got:  \"%s\"\n#   want: \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

#define SINK_TEST_DONE(suite) \
	do { \
		printf("%s: %d passed, %d failed\n", (suite), sink_test_passed, sink_test_failed); \
		return sink_test_failed ? 1 : 0; \
	} while (0)

#endif							/* SINK_TEST_H */
