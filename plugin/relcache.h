/*-------------------------------------------------------------------------
 *
 * relcache.h
 *	  The decoding session's per-relation cache (relcache.c).
 *
 * IDENTIFICATION
 *	  plugin/relcache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FERRY_RELCACHE_H
#define FERRY_RELCACHE_H

#include "ferry.h"

typedef struct FerryRelEntry
{
	Oid			relid;			/* hash key, must be first */
	bool		valid;			/* false after an invalidation */
	uint32		schema_id;		/* relay format: id of this version */
	bool		schema_sent;	/* 'S' frame already sent this session */
	MemoryContext cxt;			/* holds info */
	FerryRelInfo *info;
} FerryRelEntry;

extern void ferry_relcache_init(MemoryContext parent);
extern FerryRelEntry *ferry_relcache_get(FerryOptions *opts, Relation rel,
										 uint32 *next_schema_id);

#endif							/* FERRY_RELCACHE_H */
