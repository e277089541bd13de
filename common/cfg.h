/*-------------------------------------------------------------------------
 *
 * cfg.h
 *	  YAML configuration loader shared by ferry-relay and ferry-sink.
 *
 * One file (ferry.yaml) configures both daemons; each daemon describes the
 * settings it reads with a table of cfg_option_t and loads the file with
 * cfg_load().  Paths use '/' between map levels because setting names
 * themselves contain dots (Debezium's "topic.prefix"):
 *
 *	  postgres:
 *		conninfo: "host=127.0.0.1 dbname=postgres"
 *	  relay:
 *		topic.prefix: debezium          -> path "relay/topic.prefix"
 *	  kafka:                            -> CFG_MAP at path "kafka"
 *		bootstrap.servers: 127.0.0.1:9092
 *
 * Rules:
 *	- every key under a section the daemon owns must match a table row, or
 *	  loading fails with "file:line:col: unrecognized configuration key";
 *	- top-level sections listed in `foreign` (the other daemon's) are skipped
 *	  whole; any other unknown top-level key is an error;
 *	- a row with `env` set is overridden by that environment variable when
 *	  it is set (secrets: passwords, keys);
 *	- rows not present in the file take their default (parsed like a value
 *	  from the file, so defaults are validated too);
 *	- CFG_MAP collects every scalar below it as dotted key=value pairs in
 *	  file order (nested maps are joined with '.'), for verbatim pass-through
 *	  to librdkafka; each pair remembers its line for error messages.
 *
 * IDENTIFICATION
 *	  common/cfg.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FERRY_CFG_H
#define FERRY_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cfg_type
{
	CFG_STRING,					/* char * (NULL if unset and no default) */
	CFG_INT,					/* int64_t, checked against min/max */
	CFG_BOOL,					/* bool: true/false/yes/no/on/off/1/0 */
	CFG_ENUM,					/* char *, one of choices[] */
	CFG_LIST,					/* cfg_list_t: YAML sequence or comma-separated string */
	CFG_MAP						/* cfg_map_t: pass-through pairs */
} cfg_type_t;

/* one key=value of a CFG_MAP, or one element of a CFG_LIST */
typedef struct cfg_pair
{
	char	   *key;			/* NULL for list elements */
	char	   *value;
	int			line;			/* 1-based line in the file, 0 if from defaults */
	struct cfg_pair *next;
} cfg_pair_t;

typedef struct cfg_map
{
	cfg_pair_t *head;
	cfg_pair_t *tail;
	int			count;
} cfg_map_t;

typedef cfg_map_t cfg_list_t;

#define CFG_SECRET	0x01		/* redacted by cfg_dump */

typedef struct cfg_option
{
	const char *path;			/* "relay/topic.prefix" */
	cfg_type_t	type;
	size_t		offset;			/* offsetof(target struct, field) */
	const char *def;			/* default as text, NULL for none */
	int64_t		min;			/* CFG_INT bounds (both 0: unbounded) */
	int64_t		max;
	const char *const *choices; /* CFG_ENUM: NULL-terminated */
	const char *env;			/* environment variable that overrides */
	int			flags;			/* CFG_SECRET */
	const char *help;			/* one line, for --help and the docs */
} cfg_option_t;

/*
 * Load `file` into `target` as described by `opts` (terminated by a row with
 * path NULL).  `foreign` lists top-level sections to skip (NULL-terminated,
 * may be NULL).  On failure returns -1 and writes "file:line:col: message"
 * into errbuf.  Strings, lists and maps written into target are owned by it;
 * release them with cfg_free().
 */
int			cfg_load(const char *file, const cfg_option_t *opts,
					 const char *const *foreign, void *target,
					 char *errbuf, size_t errlen);

/* apply defaults (and env overrides) only: for running without a file */
int			cfg_load_defaults(const cfg_option_t *opts, void *target,
							  char *errbuf, size_t errlen);

/* the line of `path` in the last loaded file (0 if it came from a default) */
int			cfg_line_of(const cfg_option_t *opts, const void *target,
						const char *path);

/* print every option with its effective value (secrets redacted) */
void		cfg_dump(const cfg_option_t *opts, const void *target, FILE *out);

/* print every option with its default and help, for --help */
void		cfg_help(const cfg_option_t *opts, FILE *out);

void		cfg_free(const cfg_option_t *opts, void *target);

/* map/list helpers */
const char *cfg_map_get(const cfg_map_t *map, const char *key);
void		cfg_map_set(cfg_map_t *map, const char *key, const char *value, int line);

#endif							/* FERRY_CFG_H */
