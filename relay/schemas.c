/*-------------------------------------------------------------------------
 *
 * schemas.c
 *	  Cache of the plugin's 'S' frames (schema id -> topic and schemas),
 *	  and the relay's small growable buffer.
 *
 * Schema ids are scoped to one decoding session (docs/wire-format.md): the
 * cache is reset on every reconnect and for every snapshot table.  It is an
 * open-addressing hash table keyed by the u32 id (0 marks a free slot); the
 * hot path does one lookup per record.
 *
 * IDENTIFICATION
 *	  relay/schemas.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "relay.h"

static uint32_t
hash_u32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

void
relay_schemas_init(relay_schemas_t *sc)
{
	sc->cap = 64;
	sc->count = 0;
	sc->slots = calloc(sc->cap, sizeof(relay_schema_t));
	if (!sc->slots)
		log_fatal("out of memory");
}

static void
clear_slot(relay_schema_t *s)
{
	free(s->key_schema);
	free(s->value_schema);
	memset(s, 0, sizeof(*s));
}

void
relay_schemas_reset(relay_schemas_t *sc)
{
	for (uint32_t i = 0; i < sc->cap; i++)
		if (sc->slots[i].id != 0)
			clear_slot(&sc->slots[i]);
	sc->count = 0;
}

void
relay_schemas_free(relay_schemas_t *sc)
{
	if (!sc->slots)
		return;
	relay_schemas_reset(sc);
	free(sc->slots);
	sc->slots = NULL;
}

relay_schema_t *
relay_schemas_get(const relay_schemas_t *sc, uint32_t id)
{
	uint32_t	mask = sc->cap - 1;

	for (uint32_t i = hash_u32(id) & mask;; i = (i + 1) & mask)
	{
		if (sc->slots[i].id == id)
			return &sc->slots[i];
		if (sc->slots[i].id == 0)
			return NULL;
	}
}

/* the entry for id, cleared (its old schemas freed) if it existed */
relay_schema_t *
relay_schemas_put(relay_schemas_t *sc, uint32_t id)
{
	relay_schema_t *s = relay_schemas_get(sc, id);
	uint32_t	mask;

	if (s)
	{
		clear_slot(s);
		s->id = id;
		return s;
	}
	if ((sc->count + 1) * 2 > sc->cap)
	{
		relay_schema_t *old = sc->slots;
		uint32_t	oldcap = sc->cap;

		sc->cap *= 2;
		sc->slots = calloc(sc->cap, sizeof(relay_schema_t));
		if (!sc->slots)
			log_fatal("out of memory");
		mask = sc->cap - 1;
		for (uint32_t j = 0; j < oldcap; j++)
		{
			if (old[j].id == 0)
				continue;
			for (uint32_t i = hash_u32(old[j].id) & mask;; i = (i + 1) & mask)
			{
				if (sc->slots[i].id == 0)
				{
					sc->slots[i] = old[j];
					break;
				}
			}
		}
		free(old);
	}
	mask = sc->cap - 1;
	for (uint32_t i = hash_u32(id) & mask;; i = (i + 1) & mask)
	{
		if (sc->slots[i].id == 0)
		{
			sc->slots[i].id = id;
			sc->count++;
			return &sc->slots[i];
		}
	}
}

void
relay_buf_reserve(relay_buf_t *b, size_t extra)
{
	size_t		need = b->len + extra;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 4096;
	while (b->cap < need)
		b->cap *= 2;
	b->data = realloc(b->data, b->cap);
	if (!b->data)
		log_fatal("out of memory");
}

void
relay_buf_append(relay_buf_t *b, const void *data, size_t len)
{
	relay_buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
}

void
relay_buf_free(relay_buf_t *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
