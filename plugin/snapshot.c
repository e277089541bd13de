/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *	  SQL-callable functions of the ferry extension:
 *	  ferry.snapshot_table(regclass, text[]) encodes a table's rows as
 *	  Debezium snapshot reads (op "r") with the plugin's encoder, inside
 *	  the caller's snapshot (the relay imports the slot's exported
 *	  snapshot into a REPEATABLE READ transaction first).
 *
 * IDENTIFICATION
 *	  plugin/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ferry.h"

#define UNIX_PG_EPOCH_DIFF_US	INT64CONST(946684800000000)

PG_FUNCTION_INFO_V1(ferry_snapshot_table);

/* text[] of "name=value" into a DefElem list, as the plugin receives them */
static List *
options_from_array(ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	List	   *result = NIL;

	if (arr == NULL)
		return NIL;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *s;
		char	   *eq;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ferry options must not be null")));
		s = TextDatumGetCString(elems[i]);
		eq = strchr(s, '=');
		if (eq == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ferry option \"%s\" is not of the form name=value", s)));
		*eq = '\0';
		result = lappend(result, makeDefElem(s, (Node *) makeString(eq + 1), -1));
	}
	return result;
}

/* Debezium's setSnapshotMarker (RelationalSnapshotChangeEventSource) */
static const char *
snapshot_marker(FerryOptions *opts, bool first_row, bool last_row)
{
	if (last_row && opts->snap_last_table)
		return "last";
	if (first_row && opts->snap_first_table)
		return "first";
	if (last_row)
		return "last_in_data_collection";
	if (first_row)
		return "first_in_data_collection";
	return "true";
}

static Datum
frame_datum(StringInfo frame)
{
	bytea	   *b = palloc(VARHDRSZ + frame->len);

	SET_VARSIZE(b, VARHDRSZ + frame->len);
	memcpy(VARDATA(b), frame->data, frame->len);
	return PointerGetDatum(b);
}

/* State of one snapshot_table() scan, kept across calls */
typedef struct SnapState
{
	FerryOptions opts;
	Relation	rel;
	FerryRelInfo *ri;
	Snapshot	snapshot;
	TableScanDesc scan;
	HeapTuple	next;			/* look-ahead row (copied), NULL at the end */
	bool		first;
	bool		schema_pending;
	bool		closed;
	char	   *dbname;
	FerrySource src;
	MemoryContext rowcxt;
	StringInfoData frame;
	StringInfoData key;
	StringInfoData val;
} SnapState;

/*
 * End the scan.  Runs when the rows are exhausted, or from the executor's
 * shutdown of the expression context when the caller stops early (our
 * callback is registered after funcapi's, so it runs before
 * multi_call_memory_ctx goes away).
 */
static void
snap_cleanup(Datum arg)
{
	SnapState  *st = (SnapState *) DatumGetPointer(arg);

	if (st->closed)
		return;
	st->closed = true;
	if (st->scan)
		table_endscan(st->scan);
	if (st->snapshot)
		UnregisterSnapshot(st->snapshot);
	table_close(st->rel, NoLock);
	ferry_options_free(&st->opts);
}

static HeapTuple
fetch_next(SnapState *st, MemoryContext cxt)
{
	HeapTuple	t = heap_getnext(st->scan, ForwardScanDirection);
	MemoryContext old;
	HeapTuple	copy;

	if (t == NULL)
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	copy = heap_copytuple(t);
	MemoryContextSwitchTo(old);
	return copy;
}

/*
 * ferry.snapshot_table(rel regclass, options text[]) RETURNS SETOF bytea
 *
 * Options: every plugin option, plus snapshot.first.table,
 * snapshot.last.table (booleans), snapshot.lsn, snapshot.txid and
 * snapshot.ts.us (source fields; defaults: current insert LSN, the
 * caller's transaction id, the caller's transaction start time).
 * Relay format: an 'S' frame (schema id 1) then one 'R' per row; json
 * format: one JSON record per row.  A table the filters exclude yields
 * nothing.  One row per call, so a cursor over it streams.
 */
Datum
ferry_snapshot_table(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	SnapState  *st;
	MemoryContext old;
	HeapTuple	cur;
	FerryRecord rec;
	int64		now;
	Datum		result;

	if (SRF_IS_FIRSTCALL())
	{
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		Oid			relid = PG_GETARG_OID(0);
		ArrayType  *arr = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
		AclResult	aclresult;

		if (GetDatabaseEncoding() != PG_UTF8)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ferry requires a database with encoding UTF8")));
		if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("set-valued function called in context that cannot accept a set")));

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		st = palloc0(sizeof(SnapState));
		ferry_options_init(&st->opts);
		ferry_options_parse(&st->opts, options_from_array(arr), true);
		st->opts.in_snapshot = true;

		st->rel = table_open(relid, AccessShareLock);
		if (st->rel->rd_rel->relkind != RELKIND_RELATION)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a table", RelationGetRelationName(st->rel))));
		aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult, OBJECT_TABLE, RelationGetRelationName(st->rel));

		st->ri = ferry_relinfo_build(&st->opts, st->rel, funcctx->multi_call_memory_ctx);
		st->dbname = get_database_name(MyDatabaseId);
		st->src.ts_us = st->opts.has_fixed_ts ? st->opts.fixed_ts_us :
			st->opts.has_snap_ts ? st->opts.snap_ts_us :
			GetCurrentTransactionStartTimestamp() + UNIX_PG_EPOCH_DIFF_US;
		st->src.lsn = st->opts.has_snap_lsn ? st->opts.snap_lsn : GetXLogInsertRecPtr();
		st->src.has_txid = true;
		st->src.txid = st->opts.has_snap_txid ? st->opts.snap_txid :
			(int64) U64FromFullTransactionId(GetTopFullTransactionId());
		st->src.schema = st->ri->schema;
		st->src.table = st->ri->table;
		st->first = true;
		initStringInfo(&st->frame);
		initStringInfo(&st->key);
		initStringInfo(&st->val);
		st->rowcxt = AllocSetContextCreate(funcctx->multi_call_memory_ctx,
										   "ferry snapshot row", ALLOCSET_DEFAULT_SIZES);
		if (st->ri->captured)
		{
			st->snapshot = RegisterSnapshot(GetActiveSnapshot());
			st->scan = table_beginscan(st->rel, st->snapshot, 0, NULL);
			st->next = fetch_next(st, funcctx->multi_call_memory_ctx);
			st->schema_pending = (st->opts.format == FERRY_FORMAT_RELAY);
		}
		RegisterExprContextCallback(rsinfo->econtext, snap_cleanup, PointerGetDatum(st));
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(old);
	}

	funcctx = SRF_PERCALL_SETUP();
	st = (SnapState *) funcctx->user_fctx;
	CHECK_FOR_INTERRUPTS();

	if (st->schema_pending)
	{
		st->schema_pending = false;
		resetStringInfo(&st->frame);
		ferry_write_schema_frame(&st->frame, &st->opts, 1, st->ri);
		SRF_RETURN_NEXT(funcctx, frame_datum(&st->frame));
	}
	if (st->next == NULL)
	{
		/* st dies with multi_call_memory_ctx: run and drop the callback now */
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

		snap_cleanup(PointerGetDatum(st));
		UnregisterExprContextCallback(rsinfo->econtext, snap_cleanup, PointerGetDatum(st));
		SRF_RETURN_DONE(funcctx);
	}

	cur = st->next;
	st->next = fetch_next(st, funcctx->multi_call_memory_ctx);

	old = MemoryContextSwitchTo(st->rowcxt);
	now = ferry_now_us(&st->opts);
	st->src.snapshot = snapshot_marker(&st->opts, st->first, st->next == NULL);
	st->first = false;
	ferry_deform_cache_end();	/* a failed change may have left it on */
	resetStringInfo(&st->key);
	resetStringInfo(&st->val);
	resetStringInfo(&st->frame);
	if (st->ri->nkeys > 0)
		ferry_encode_key(&st->key, &st->opts, st->ri, RelationGetDescr(st->rel), cur, false);
	appendStringInfoString(&st->val, "{\"before\":null,\"after\":");
	ferry_encode_row(&st->val, &st->opts, st->ri, RelationGetDescr(st->rel), cur, NULL);
	appendStringInfoString(&st->val, ",\"source\":");
	ferry_write_source(&st->val, &st->opts, st->dbname, &st->src);
	appendStringInfo(&st->val, ",\"transaction\":null,\"op\":\"r\",\"ts_ms\":" INT64_FORMAT
					 ",\"ts_us\":" INT64_FORMAT ",\"ts_ns\":" INT64_FORMAT "}",
					 now / 1000, now, now * 1000);

	memset(&rec, 0, sizeof(rec));
	rec.topic = st->ri->topic;
	rec.schema_id = 1;
	rec.key_schema = st->ri->key_schema;
	rec.value_schema = st->ri->value_schema;
	rec.key = st->ri->nkeys > 0 ? &st->key : NULL;
	rec.value = &st->val;
	ferry_add_context_headers(&rec, &st->opts);
	ferry_write_record(&st->frame, &st->opts, &rec);
	MemoryContextSwitchTo(old);

	result = frame_datum(&st->frame);
	MemoryContextReset(st->rowcxt);
	heap_freetuple(cur);
	SRF_RETURN_NEXT(funcctx, result);
}
