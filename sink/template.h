/*-------------------------------------------------------------------------
 *
 * template.h
 *	  Object names from a template (sink/template).
 *
 * Placeholders, in single or (Aiven-style) double braces:
 *	  {topic}
 *	  {partition}            {partition:padding=true} or {partition:10}  (10 digits)
 *	  {start_offset}         {start_offset:padding=true} or {start_offset:20}  (20 digits)
 *	  {timestamp:unit=yyyy}  or {timestamp:yyyy}; units yyyy, MM, dd, HH
 * The timestamp is the Kafka timestamp of the batch's first record, in
 * UTC, so a name depends only on the data: a batch uploaded again after a
 * crash gets the same name.  Leading '/' are dropped (Aiven templates
 * start with one; the objects did not).  {partition} and {start_offset}
 * are required (names must be unique per batch); so is {topic}.
 *
 * IDENTIFICATION
 *	  sink/template.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SINK_TEMPLATE_H
#define SINK_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define SINK_DEFAULT_TEMPLATE \
	"{topic}/{timestamp:yyyy}-{timestamp:MM}-{timestamp:dd}/{timestamp:HH}/" \
	"{partition:padding=true}-{start_offset:padding=true}.json"

typedef struct sink_template sink_template_t;

/* parse text; when suffix is not NULL and text does not end with it, it is appended */
sink_template_t *sink_template_parse(const char *text, const char *suffix,
									 char *errbuf, size_t errlen);
void		sink_template_free(sink_template_t *t);

void		sink_template_render(const sink_template_t *t, const char *topic,
								 int32_t partition, int64_t start_offset,
								 int64_t timestamp_ms, sink_buf_t *out);

/* the fixed beginning shared by every name of topic (up to the first other placeholder) */
void		sink_template_list_prefix(const sink_template_t *t, const char *topic,
									  sink_buf_t *out);

/* whether name is one of topic's names; if so its partition and start offset */
bool		sink_template_match(const sink_template_t *t, const char *name,
								const char *topic, int32_t *partition,
								int64_t *start_offset);

#endif							/* SINK_TEMPLATE_H */
