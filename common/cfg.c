/*-------------------------------------------------------------------------
 *
 * cfg.c
 *	  YAML configuration loader shared by ferry-relay and ferry-sink.
 *
 * The file is read with libyaml's document API and checked against the
 * caller's declarative option table (see cfg.h for the rules).  Every error
 * names the file, line and column of the offending node.
 *
 * Not reentrant: the line numbers of the last load are kept in a static
 * table, since each daemon loads one file at a time.
 *
 * IDENTIFICATION
 *	  common/cfg.c
 *
 *-------------------------------------------------------------------------
 */
#include "cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CFG_MAX_OPTIONS 256

/* line of each option in the last loaded file, by table index (0 = default) */
static int	cfg_lines[CFG_MAX_OPTIONS];

typedef struct cfg_ctx
{
	const char *file;
	const cfg_option_t *opts;
	const char *const *foreign;
	void	   *target;
	yaml_document_t *doc;
	bool		seen[CFG_MAX_OPTIONS];
	char	   *errbuf;
	size_t		errlen;
} cfg_ctx_t;

static void
cfg_error(cfg_ctx_t *cx, const yaml_node_t *node, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static void
cfg_error(cfg_ctx_t *cx, const yaml_node_t *node, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (node)
		n = snprintf(cx->errbuf, cx->errlen, "%s:%zu:%zu: ", cx->file,
					 node->start_mark.line + 1, node->start_mark.column + 1);
	else
		n = snprintf(cx->errbuf, cx->errlen, "%s: ", cx->file);
	if (n < 0 || (size_t) n >= cx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(cx->errbuf + n, cx->errlen - n, fmt, ap);
	va_end(ap);
}

static void *
field(void *target, const cfg_option_t *opt)
{
	return (char *) target + opt->offset;
}

static char *
xstrdup(const char *s)
{
	char	   *copy = strdup(s);

	if (copy == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return copy;
}

const char *
cfg_map_get(const cfg_map_t *map, const char *key)
{
	const char *found = NULL;

	/* the last one wins, as with repeated librdkafka properties */
	for (const cfg_pair_t *p = map->head; p; p = p->next)
		if (p->key && strcmp(p->key, key) == 0)
			found = p->value;
	return found;
}

void
cfg_map_set(cfg_map_t *map, const char *key, const char *value, int line)
{
	cfg_pair_t *p = calloc(1, sizeof(*p));

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	p->key = key ? xstrdup(key) : NULL;
	p->value = xstrdup(value);
	p->line = line;
	if (map->tail)
		map->tail->next = p;
	else
		map->head = p;
	map->tail = p;
	map->count++;
}

static void
map_clear(cfg_map_t *map)
{
	cfg_pair_t *p = map->head;

	while (p)
	{
		cfg_pair_t *next = p->next;

		free(p->key);
		free(p->value);
		free(p);
		p = next;
	}
	memset(map, 0, sizeof(*map));
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1", NULL};
	static const char *const no[] = {"false", "no", "off", "0", NULL};

	for (int i = 0; yes[i]; i++)
		if (strcasecmp(s, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
	for (int i = 0; no[i]; i++)
		if (strcasecmp(s, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	return false;
}

/*
 * Parse one scalar value into the option's field.  `where` is the node for
 * error positions (NULL for defaults and environment values, `origin` then
 * says where the text came from).
 */
static int
set_scalar(cfg_ctx_t *cx, const cfg_option_t *opt, const char *text,
		   const yaml_node_t *where, const char *origin, int line)
{
	void	   *dst = field(cx->target, opt);
	char		prefix[160];

	if (where)
		prefix[0] = '\0';
	else
		snprintf(prefix, sizeof(prefix), "%s: ", origin);

	switch (opt->type)
	{
		case CFG_STRING:
			free(*(char **) dst);
			*(char **) dst = xstrdup(text);
			return 0;
		case CFG_ENUM:
			for (int i = 0; opt->choices && opt->choices[i]; i++)
			{
				if (strcmp(text, opt->choices[i]) == 0)
				{
					free(*(char **) dst);
					*(char **) dst = xstrdup(text);
					return 0;
				}
			}
			{
				char		allowed[512] = "";

				for (int i = 0; opt->choices && opt->choices[i]; i++)
				{
					if (i > 0)
						strncat(allowed, ", ", sizeof(allowed) - strlen(allowed) - 1);
					strncat(allowed, opt->choices[i], sizeof(allowed) - strlen(allowed) - 1);
				}
				cfg_error(cx, where, "%sinvalid value \"%s\" for \"%s\": expected one of %s",
						  prefix, text, opt->path, allowed);
			}
			return -1;
		case CFG_INT:
			{
				char	   *end;
				long long	v;

				errno = 0;
				v = strtoll(text, &end, 10);
				if (errno != 0 || end == text || *end != '\0')
				{
					cfg_error(cx, where, "%sinvalid integer \"%s\" for \"%s\"",
							  prefix, text, opt->path);
					return -1;
				}
				if ((opt->min != 0 || opt->max != 0) &&
					(v < opt->min || v > opt->max))
				{
					cfg_error(cx, where, "%svalue %lld for \"%s\" is out of range (%" PRId64 " .. %" PRId64 ")",
							  prefix, v, opt->path, opt->min, opt->max);
					return -1;
				}
				*(int64_t *) dst = v;
				return 0;
			}
		case CFG_BOOL:
			if (!parse_bool(text, (bool *) dst))
			{
				cfg_error(cx, where, "%sinvalid boolean \"%s\" for \"%s\": expected true or false",
						  prefix, text, opt->path);
				return -1;
			}
			return 0;
		case CFG_LIST:
			{
				cfg_map_t  *list = dst;
				char	   *copy = xstrdup(text);
				char	   *save = NULL;

				map_clear(list);
				for (char *tok = strtok_r(copy, ",", &save); tok;
					 tok = strtok_r(NULL, ",", &save))
				{
					while (*tok == ' ' || *tok == '\t')
						tok++;
					for (char *e = tok + strlen(tok); e > tok && (e[-1] == ' ' || e[-1] == '\t');)
						*--e = '\0';
					if (*tok)
						cfg_map_set(list, NULL, tok, line);
				}
				free(copy);
				return 0;
			}
		case CFG_MAP:
			cfg_error(cx, where, "%s\"%s\" must be a map", prefix, opt->path);
			return -1;
	}
	return -1;
}

static const char *
scalar_text(const yaml_node_t *node)
{
	return (const char *) node->data.scalar.value;
}

static bool
is_null_scalar(const yaml_node_t *node)
{
	const char *s;

	if (node->type != YAML_SCALAR_NODE ||
		node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar_text(node);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

/* flatten a map node into dotted key=value pairs */
static int
collect_map(cfg_ctx_t *cx, cfg_map_t *map, const char *prefix,
			yaml_node_t *node, const char *optpath)
{
	if (node->type != YAML_MAPPING_NODE)
	{
		if (is_null_scalar(node))
			return 0;
		cfg_error(cx, node, "\"%s\" must be a map of key: value", optpath);
		return -1;
	}
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
		 pair < node->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *k = yaml_document_get_node(cx->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(cx->doc, pair->value);
		char		key[512];

		if (k->type != YAML_SCALAR_NODE)
		{
			cfg_error(cx, k, "keys of \"%s\" must be plain strings", optpath);
			return -1;
		}
		if (prefix[0])
			snprintf(key, sizeof(key), "%s.%s", prefix, scalar_text(k));
		else
			snprintf(key, sizeof(key), "%s", scalar_text(k));

		if (v->type == YAML_MAPPING_NODE)
		{
			if (collect_map(cx, map, key, v, optpath) < 0)
				return -1;
		}
		else if (v->type == YAML_SCALAR_NODE)
			cfg_map_set(map, key, scalar_text(v), (int) v->start_mark.line + 1);
		else
		{
			cfg_error(cx, v, "value of \"%s.%s\" must be a scalar", optpath, key);
			return -1;
		}
	}
	return 0;
}

static int
find_option(const cfg_option_t *opts, const char *path)
{
	for (int i = 0; opts[i].path; i++)
		if (strcmp(opts[i].path, path) == 0)
			return i;
	return -1;
}

static bool
has_options_below(const cfg_option_t *opts, const char *path)
{
	size_t		len = strlen(path);

	for (int i = 0; opts[i].path; i++)
		if (strncmp(opts[i].path, path, len) == 0 && opts[i].path[len] == '/')
			return true;
	return false;
}

static bool
is_foreign(const cfg_ctx_t *cx, const char *key)
{
	for (int i = 0; cx->foreign && cx->foreign[i]; i++)
		if (strcmp(cx->foreign[i], key) == 0)
			return true;
	return false;
}

static int
walk(cfg_ctx_t *cx, yaml_node_t *node, const char *prefix)
{
	if (node->type != YAML_MAPPING_NODE)
	{
		if (prefix[0] == '\0')
			cfg_error(cx, node, "configuration must be a map of sections");
		else
			cfg_error(cx, node, "\"%s\" must be a map", prefix);
		return -1;
	}

	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
		 pair < node->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *k = yaml_document_get_node(cx->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(cx->doc, pair->value);
		char		path[512];
		int			idx;

		if (k->type != YAML_SCALAR_NODE)
		{
			cfg_error(cx, k, "configuration keys must be plain strings");
			return -1;
		}
		if (prefix[0])
			snprintf(path, sizeof(path), "%s/%s", prefix, scalar_text(k));
		else
			snprintf(path, sizeof(path), "%s", scalar_text(k));

		idx = find_option(cx->opts, path);
		if (idx >= 0)
		{
			const cfg_option_t *opt = &cx->opts[idx];

			if (cx->seen[idx])
			{
				cfg_error(cx, k, "duplicate configuration key \"%s\"", path);
				return -1;
			}
			cx->seen[idx] = true;
			cfg_lines[idx] = (int) k->start_mark.line + 1;

			if (opt->type == CFG_MAP)
			{
				if (collect_map(cx, field(cx->target, opt), "", v, path) < 0)
					return -1;
			}
			else if (opt->type == CFG_LIST && v->type == YAML_SEQUENCE_NODE)
			{
				cfg_map_t  *list = field(cx->target, opt);

				map_clear(list);
				for (yaml_node_item_t *it = v->data.sequence.items.start;
					 it < v->data.sequence.items.top; it++)
				{
					yaml_node_t *item = yaml_document_get_node(cx->doc, *it);

					if (item->type != YAML_SCALAR_NODE)
					{
						cfg_error(cx, item, "elements of \"%s\" must be strings", path);
						return -1;
					}
					cfg_map_set(list, NULL, scalar_text(item),
								(int) item->start_mark.line + 1);
				}
			}
			else if (v->type != YAML_SCALAR_NODE)
			{
				cfg_error(cx, v, "value of \"%s\" must be a scalar", path);
				return -1;
			}
			else if (is_null_scalar(v))
			{
				/* "key:" with no value: keep the default */
				cx->seen[idx] = false;
				cfg_lines[idx] = 0;
			}
			else if (set_scalar(cx, opt, scalar_text(v), v, NULL,
								(int) v->start_mark.line + 1) < 0)
				return -1;
			continue;
		}

		if (prefix[0] == '\0' && is_foreign(cx, path))
			continue;

		if (has_options_below(cx->opts, path))
		{
			if (is_null_scalar(v))
				continue;
			if (walk(cx, v, path) < 0)
				return -1;
			continue;
		}

		cfg_error(cx, k, "unrecognized configuration key \"%s\"", path);
		return -1;
	}
	return 0;
}

/* defaults for what the file did not set, then environment overrides */
static int
apply_defaults_and_env(cfg_ctx_t *cx)
{
	for (int i = 0; cx->opts[i].path; i++)
	{
		const cfg_option_t *opt = &cx->opts[i];
		const char *env = opt->env ? getenv(opt->env) : NULL;

		if (!cx->seen[i] && opt->def && opt->type != CFG_MAP)
		{
			char		origin[256];

			snprintf(origin, sizeof(origin), "default of \"%s\"", opt->path);
			if (set_scalar(cx, opt, opt->def, NULL, origin, 0) < 0)
				return -1;
		}
		if (env && *env)
		{
			char		origin[256];

			snprintf(origin, sizeof(origin), "environment variable %s", opt->env);
			if (opt->type == CFG_MAP)
			{
				cfg_error(cx, NULL, "%s cannot override map \"%s\"", origin, opt->path);
				return -1;
			}
			if (set_scalar(cx, opt, env, NULL, origin, 0) < 0)
				return -1;
		}
	}
	return 0;
}

static int
count_options(const cfg_option_t *opts)
{
	int			n = 0;

	while (opts[n].path)
		n++;
	return n;
}

int
cfg_load(const char *file, const cfg_option_t *opts,
		 const char *const *foreign, void *target,
		 char *errbuf, size_t errlen)
{
	cfg_ctx_t	cx;
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE	   *fp;
	yaml_node_t *root;
	int			rc = -1;

	if (count_options(opts) > CFG_MAX_OPTIONS)
	{
		snprintf(errbuf, errlen, "too many configuration options");
		return -1;
	}
	memset(&cx, 0, sizeof(cx));
	memset(cfg_lines, 0, sizeof(cfg_lines));
	cx.file = file;
	cx.opts = opts;
	cx.foreign = foreign;
	cx.target = target;
	cx.doc = &doc;
	cx.errbuf = errbuf;
	cx.errlen = errlen;

	fp = fopen(file, "r");
	if (fp == NULL)
	{
		snprintf(errbuf, errlen, "could not open configuration file \"%s\": %s",
				 file, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser))
	{
		fclose(fp);
		snprintf(errbuf, errlen, "could not initialize YAML parser");
		return -1;
	}
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &doc))
	{
		snprintf(errbuf, errlen, "%s:%zu:%zu: could not parse configuration: %s",
				 file, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				 parser.problem ? parser.problem : "unknown error");
		yaml_parser_delete(&parser);
		fclose(fp);
		return -1;
	}

	root = yaml_document_get_root_node(&doc);
	if (root == NULL || is_null_scalar(root))
		rc = 0;					/* empty file: all defaults */
	else
		rc = walk(&cx, root, "");
	if (rc == 0)
		rc = apply_defaults_and_env(&cx);

	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(fp);
	return rc;
}

int
cfg_load_defaults(const cfg_option_t *opts, void *target,
				  char *errbuf, size_t errlen)
{
	cfg_ctx_t	cx;

	memset(&cx, 0, sizeof(cx));
	memset(cfg_lines, 0, sizeof(cfg_lines));
	cx.file = "(defaults)";
	cx.opts = opts;
	cx.target = target;
	cx.errbuf = errbuf;
	cx.errlen = errlen;
	return apply_defaults_and_env(&cx);
}

int
cfg_line_of(const cfg_option_t *opts, const void *target, const char *path)
{
	int			idx = find_option(opts, path);

	(void) target;
	return idx >= 0 ? cfg_lines[idx] : 0;
}

static void
print_value(const cfg_option_t *opt, const void *target, FILE *out)
{
	const void *src = (const char *) target + opt->offset;

	if (opt->flags & CFG_SECRET)
	{
		const char *s = *(char *const *) src;

		fputs(s && *s ? "\"********\"" : "~", out);
		return;
	}
	switch (opt->type)
	{
		case CFG_STRING:
		case CFG_ENUM:
			{
				const char *s = *(char *const *) src;

				if (s)
					fprintf(out, "\"%s\"", s);
				else
					fputs("~", out);
				break;
			}
		case CFG_INT:
			fprintf(out, "%" PRId64, *(const int64_t *) src);
			break;
		case CFG_BOOL:
			fputs(*(const bool *) src ? "true" : "false", out);
			break;
		case CFG_LIST:
			{
				const cfg_map_t *list = src;

				fputs("[", out);
				for (const cfg_pair_t *p = list->head; p; p = p->next)
					fprintf(out, "\"%s\"%s", p->value, p->next ? ", " : "");
				fputs("]", out);
				break;
			}
		case CFG_MAP:
			{
				const cfg_map_t *map = src;

				fputs("{", out);
				for (const cfg_pair_t *p = map->head; p; p = p->next)
				{
					bool		secret = strstr(p->key, "password") ||
						strstr(p->key, "secret") || strstr(p->key, "key.pem");

					fprintf(out, "\"%s\": \"%s\"%s", p->key,
							secret ? "********" : p->value, p->next ? ", " : "");
				}
				fputs("}", out);
				break;
			}
	}
}

void
cfg_dump(const cfg_option_t *opts, const void *target, FILE *out)
{
	for (int i = 0; opts[i].path; i++)
	{
		fprintf(out, "%s = ", opts[i].path);
		print_value(&opts[i], target, out);
		fputc('\n', out);
	}
}

void
cfg_help(const cfg_option_t *opts, FILE *out)
{
	for (int i = 0; opts[i].path; i++)
	{
		const cfg_option_t *opt = &opts[i];

		fprintf(out, "  %-34s %s", opt->path, opt->help ? opt->help : "");
		if (opt->def)
			fprintf(out, " (default: %s)", opt->def);
		if (opt->env)
			fprintf(out, " [env %s]", opt->env);
		fputc('\n', out);
	}
}

void
cfg_free(const cfg_option_t *opts, void *target)
{
	for (int i = 0; opts[i].path; i++)
	{
		void	   *dst = field(target, &opts[i]);

		switch (opts[i].type)
		{
			case CFG_STRING:
			case CFG_ENUM:
				free(*(char **) dst);
				*(char **) dst = NULL;
				break;
			case CFG_LIST:
			case CFG_MAP:
				map_clear(dst);
				break;
			default:
				break;
		}
	}
}
