/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  A minimal counted test harness for Ferry's C unit tests.
 *
 * Each test program defines test functions and calls them from main()
 * with RUN(fn); CHECK() counts a failed case and keeps going, so one run
 * reports every failure.  UNIT_MAIN_END prints "<prog>: N passed, M failed"
 * and exits non-zero when anything failed.
 *
 * IDENTIFICATION
 *	  tests/unit/unit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FERRY_UNIT_H
#define FERRY_UNIT_H

#include <stdio.h>
#include <string.h>

static int	unit_passed;
static int	unit_failed;
static int	unit_case_failed;

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			unit_case_failed = 1; \
		} \
	} while (0)

#define CHECK_STR(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (g_ == NULL || strcmp(g_, w_) != 0) \
		{ \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
					g_ ? g_ : "(null)", w_); \
			unit_case_failed = 1; \
		} \
	} while (0)

#define RUN(fn) \
	do { \
		unit_case_failed = 0; \
		fn(); \
		if (unit_case_failed) \
		{ \
			fprintf(stderr, "FAIL %s\n", #fn); \
			unit_failed++; \
		} \
		else \
			unit_passed++; \
	} while (0)

#define UNIT_MAIN_END(name) \
	do { \
		printf("%s: %d passed, %d failed\n", (name), unit_passed, unit_failed); \
		return unit_failed ? 1 : 0; \
	} while (0)

#endif							/* FERRY_UNIT_H */
