/*-------------------------------------------------------------------------
 *
 * log.h
 *	  Leveled logging for the Ferry daemons.
 *
 * Lines go to stderr as
 *	  2026-11-24 04:40:00.123 UTC [ferry-relay 1234] LOG:  message
 * The macros skip evaluating their arguments below the active level.
 * Messages follow PostgreSQL's style: lower case, no trailing period,
 * "could not <verb> ...: %s", names quoted, LSNs as %X/%X.
 *
 * IDENTIFICATION
 *	  common/log.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum log_level
{
	LOG_LEVEL_FATAL = 0,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
} log_level_t;

extern log_level_t log_min_level;

/* progname is borrowed and must outlive the process (argv[0] or a literal) */
void		log_init(const char *progname, log_level_t level);

/* "error", "warning", "info", "debug" -> level; returns false if unknown */
bool		log_level_parse(const char *name, log_level_t *level);

void		log_write(log_level_t level, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
void		log_vwrite(log_level_t level, const char *fmt, va_list ap);

#define log_at(lvl, ...) \
	do { \
		if ((lvl) <= log_min_level) \
			log_write((lvl), __VA_ARGS__); \
	} while (0)

#define log_error(...)		log_at(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...)	log_at(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)		log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)		log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* log at FATAL and exit(1) */
void		log_fatal(const char *fmt,...)
			__attribute__((format(printf, 1, 2), noreturn));

/* LSN helpers: printf("%X/%X", LSN_FORMAT_ARGS(lsn)) */
#define LSN_FORMAT_ARGS(lsn) ((uint32_t) ((lsn) >> 32)), ((uint32_t) (lsn))

/* parse "16/B374D848" into *lsn; false if malformed */
bool		lsn_parse(const char *text, uint64_t *lsn);

#endif							/* FERRY_LOG_H */
