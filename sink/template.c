/*-------------------------------------------------------------------------
 *
 * template.c
 *	  Object names from a template: parse, render, and match back.
 *
 * IDENTIFICATION
 *	  sink/template.c
 *
 *-------------------------------------------------------------------------
 */
#include "template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum part_kind
{
	PART_LITERAL,
	PART_TOPIC,
	PART_PARTITION,
	PART_OFFSET,
	PART_YEAR,
	PART_MONTH,
	PART_DAY,
	PART_HOUR
} part_kind_t;

typedef struct part
{
	part_kind_t kind;
	char	   *text;			/* PART_LITERAL */
	int			width;			/* zero padding, 0 for none */
} part_t;

struct sink_template
{
	part_t	   *parts;
	int			nparts;
};

static void
add_part(sink_template_t *t, part_kind_t kind, const char *text, size_t len, int width)
{
	part_t	   *p;

	t->parts = realloc(t->parts, sizeof(part_t) * (size_t) (t->nparts + 1));
	p = &t->parts[t->nparts++];
	p->kind = kind;
	p->text = text ? strndup(text, len) : NULL;
	p->width = width;
}

/* "  x " -> "x" in place */
static char *
trim(char *s)
{
	char	   *e;

	while (isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

/* one placeholder body "name[:arg]" */
static int
parse_placeholder(sink_template_t *t, char *body, char *errbuf, size_t errlen)
{
	char	   *arg = strchr(body, ':');
	char	   *name;

	if (arg)
		*arg++ = '\0';
	name = trim(body);
	if (arg)
		arg = trim(arg);
	if (strcmp(name, "topic") == 0 && arg == NULL)
	{
		add_part(t, PART_TOPIC, NULL, 0, 0);
		return 0;
	}
	if (strcmp(name, "partition") == 0 || strcmp(name, "start_offset") == 0)
	{
		part_kind_t kind = name[0] == 'p' ? PART_PARTITION : PART_OFFSET;
		int			default_width = (kind == PART_PARTITION) ? 10 : 20;
		int			width = 0;

		if (arg == NULL || strcmp(arg, "padding=false") == 0)
			width = 0;
		else if (strcmp(arg, "padding=true") == 0)
			width = default_width;
		else
		{
			char	   *end;
			long		w = strtol(arg, &end, 10);

			if (*end != '\0' || w < 1 || w > 20)
			{
				snprintf(errbuf, errlen, "invalid argument \"%s\" of {%s} in the object name template "
						 "(expected padding=true, padding=false or a width 1..20)", arg, name);
				return -1;
			}
			width = (int) w;
		}
		add_part(t, kind, NULL, 0, width);
		return 0;
	}
	if (strcmp(name, "timestamp") == 0 && arg != NULL)
	{
		const char *unit = strncmp(arg, "unit=", 5) == 0 ? arg + 5 : arg;

		if (strcmp(unit, "yyyy") == 0)
			add_part(t, PART_YEAR, NULL, 0, 4);
		else if (strcmp(unit, "MM") == 0)
			add_part(t, PART_MONTH, NULL, 0, 2);
		else if (strcmp(unit, "dd") == 0)
			add_part(t, PART_DAY, NULL, 0, 2);
		else if (strcmp(unit, "HH") == 0)
			add_part(t, PART_HOUR, NULL, 0, 2);
		else
		{
			snprintf(errbuf, errlen, "invalid timestamp unit \"%s\" in the object name template "
					 "(expected yyyy, MM, dd or HH)", unit);
			return -1;
		}
		return 0;
	}
	snprintf(errbuf, errlen, "unknown placeholder {%s%s%s} in the object name template "
			 "(expected topic, partition, start_offset, timestamp:unit)",
			 name, arg ? ":" : "", arg ? arg : "");
	return -1;
}

sink_template_t *
sink_template_parse(const char *text, const char *suffix, char *errbuf, size_t errlen)
{
	sink_template_t *t = calloc(1, sizeof(*t));
	sink_buf_t	src = SINK_BUF_INIT;
	const char *p;
	const char *lit;
	bool		has_topic = false,
				has_part = false,
				has_off = false;

	while (*text == '/')
		text++;
	sink_buf_appends(&src, text);
	if (suffix && (src.len < strlen(suffix) ||
				   strcmp(src.data + src.len - strlen(suffix), suffix) != 0))
		sink_buf_appends(&src, suffix);

	p = lit = src.data;
	while (*p)
	{
		if (*p == '{')
		{
			bool		dbl = (p[1] == '{');
			const char *start = p + (dbl ? 2 : 1);
			const char *end = strstr(start, dbl ? "}}" : "}");
			char	   *body;
			int			rc;

			if (end == NULL)
			{
				snprintf(errbuf, errlen, "unterminated placeholder in the object name template \"%s\"", text);
				goto fail;
			}
			if (p > lit)
				add_part(t, PART_LITERAL, lit, (size_t) (p - lit), 0);
			body = strndup(start, (size_t) (end - start));
			rc = parse_placeholder(t, body, errbuf, errlen);
			free(body);
			if (rc != 0)
				goto fail;
			p = end + (dbl ? 2 : 1);
			lit = p;
		}
		else if (*p == '}')
		{
			snprintf(errbuf, errlen, "unmatched '}' in the object name template \"%s\"", text);
			goto fail;
		}
		else
			p++;
	}
	if (p > lit)
		add_part(t, PART_LITERAL, lit, (size_t) (p - lit), 0);

	for (int i = 0; i < t->nparts; i++)
	{
		has_topic |= t->parts[i].kind == PART_TOPIC;
		has_part |= t->parts[i].kind == PART_PARTITION;
		has_off |= t->parts[i].kind == PART_OFFSET;
		/* two numbers in a row could not be told apart when matching */
		if (i > 0 && t->parts[i].kind != PART_LITERAL && t->parts[i].kind != PART_TOPIC &&
			t->parts[i - 1].kind != PART_LITERAL && t->parts[i - 1].kind != PART_TOPIC &&
			(t->parts[i].width == 0 || t->parts[i - 1].width == 0))
		{
			snprintf(errbuf, errlen, "object name template \"%s\": unpadded numbers must be "
					 "separated by text", text);
			goto fail;
		}
	}
	if (!has_topic || !has_part || !has_off)
	{
		snprintf(errbuf, errlen, "object name template \"%s\" must contain {topic}, {partition} "
				 "and {start_offset}, so that every batch gets its own name", text);
		goto fail;
	}
	sink_buf_free(&src);
	return t;

fail:
	sink_buf_free(&src);
	sink_template_free(t);
	return NULL;
}

void
sink_template_free(sink_template_t *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nparts; i++)
		free(t->parts[i].text);
	free(t->parts);
	free(t);
}

void
sink_template_render(const sink_template_t *t, const char *topic,
					 int32_t partition, int64_t start_offset,
					 int64_t timestamp_ms, sink_buf_t *out)
{
	time_t		secs = (time_t) (timestamp_ms >= 0 ? timestamp_ms / 1000 : 0);
	struct tm	tm;

	gmtime_r(&secs, &tm);
	for (int i = 0; i < t->nparts; i++)
	{
		const part_t *p = &t->parts[i];

		switch (p->kind)
		{
			case PART_LITERAL:
				sink_buf_appends(out, p->text);
				break;
			case PART_TOPIC:
				sink_buf_appends(out, topic);
				break;
			case PART_PARTITION:
				sink_buf_appendf(out, "%0*d", p->width, (int) partition);
				break;
			case PART_OFFSET:
				sink_buf_appendf(out, "%0*lld", p->width, (long long) start_offset);
				break;
			case PART_YEAR:
				sink_buf_appendf(out, "%04d", tm.tm_year + 1900);
				break;
			case PART_MONTH:
				sink_buf_appendf(out, "%02d", tm.tm_mon + 1);
				break;
			case PART_DAY:
				sink_buf_appendf(out, "%02d", tm.tm_mday);
				break;
			case PART_HOUR:
				sink_buf_appendf(out, "%02d", tm.tm_hour);
				break;
		}
	}
}

void
sink_template_list_prefix(const sink_template_t *t, const char *topic, sink_buf_t *out)
{
	for (int i = 0; i < t->nparts; i++)
	{
		if (t->parts[i].kind == PART_LITERAL)
			sink_buf_appends(out, t->parts[i].text);
		else if (t->parts[i].kind == PART_TOPIC)
			sink_buf_appends(out, topic);
		else
			break;
	}
	if (out->data == NULL)
		sink_buf_appends(out, "");
}

/* read digits at *s: exactly width of them, or 1..20 when width is 0 */
static bool
match_number(const char **s, int width, int64_t *value)
{
	const char *p = *s;
	int			n = 0;
	int64_t		v = 0;

	while (isdigit((unsigned char) p[n]) && (width == 0 || n < width) && n < 20)
	{
		v = v * 10 + (p[n] - '0');
		n++;
	}
	if (n == 0 || (width > 0 && n != width))
		return false;
	*s = p + n;
	*value = v;
	return true;
}

bool
sink_template_match(const sink_template_t *t, const char *name,
					const char *topic, int32_t *partition, int64_t *start_offset)
{
	const char *s = name;
	int64_t		v;
	bool		got_p = false,
				got_o = false;

	for (int i = 0; i < t->nparts; i++)
	{
		const part_t *p = &t->parts[i];
		size_t		n;

		switch (p->kind)
		{
			case PART_LITERAL:
				n = strlen(p->text);
				if (strncmp(s, p->text, n) != 0)
					return false;
				s += n;
				break;
			case PART_TOPIC:
				n = strlen(topic);
				if (strncmp(s, topic, n) != 0)
					return false;
				s += n;
				break;
			default:
				if (!match_number(&s, p->width, &v))
					return false;
				if (p->kind == PART_PARTITION)
				{
					*partition = (int32_t) v;
					got_p = true;
				}
				else if (p->kind == PART_OFFSET)
				{
					*start_offset = v;
					got_o = true;
				}
				break;
		}
	}
	return *s == '\0' && got_p && got_o;
}
