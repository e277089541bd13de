/*-------------------------------------------------------------------------
 *
 * log.c
 *	  Leveled logging to stderr for the Ferry daemons.
 *
 * IDENTIFICATION
 *	  common/log.c
 *
 *-------------------------------------------------------------------------
 */
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

log_level_t log_min_level = LOG_LEVEL_INFO;

static const char *log_progname = "ferry";

static const char *const level_tags[] = {
	[LOG_LEVEL_FATAL] = "FATAL",
	[LOG_LEVEL_ERROR] = "ERROR",
	[LOG_LEVEL_WARNING] = "WARNING",
	[LOG_LEVEL_INFO] = "LOG",
	[LOG_LEVEL_DEBUG] = "DEBUG",
};

void
log_init(const char *progname, log_level_t level)
{
	const char *slash = strrchr(progname, '/');

	log_progname = slash ? slash + 1 : progname;
	log_min_level = level;
}

bool
log_level_parse(const char *name, log_level_t *level)
{
	static const struct
	{
		const char *name;
		log_level_t level;
	}			names[] = {
		{"error", LOG_LEVEL_ERROR},
		{"warning", LOG_LEVEL_WARNING},
		{"info", LOG_LEVEL_INFO},
		{"debug", LOG_LEVEL_DEBUG},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		if (strcasecmp(name, names[i].name) == 0)
		{
			*level = names[i].level;
			return true;
		}
	}
	return false;
}

void
log_vwrite(log_level_t level, const char *fmt, va_list ap)
{
	struct timeval tv;
	struct tm	tm;
	char		stamp[32];
	char		line[4096];
	int			n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);

	/* one write() per line so lines from several threads never interleave */
	n = snprintf(line, sizeof(line), "%s.%03d UTC [%s %d] %s:  ",
				 stamp, (int) (tv.tv_usec / 1000), log_progname, (int) getpid(),
				 level_tags[level]);
	if (n < 0)
		return;
	if ((size_t) n < sizeof(line))
	{
		int			m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);

		if (m > 0)
			n += m;
	}
	if ((size_t) n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
	{
		/* nowhere left to report it */
	}
}

void
log_write(log_level_t level, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

bool
lsn_parse(const char *text, uint64_t *lsn)
{
	unsigned int hi,
				lo;
	int			len;

	if (sscanf(text, "%X/%X%n", &hi, &lo, &len) != 2 || text[len] != '\0')
		return false;
	*lsn = ((uint64_t) hi << 32) | lo;
	return true;
}
