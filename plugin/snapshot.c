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

static void
put_bytea(Tuplestorestate *ts, TupleDesc desc, StringInfo frame)
{
	bytea	   *b = palloc(VARHDRSZ + frame->len);
	Datum		values[1];
	bool		nulls[1] = {false};

	SET_VARSIZE(b, VARHDRSZ + frame->len);
	memcpy(VARDATA(b), frame->data, frame->len);
	values[0] = PointerGetDatum(b);
	tuplestore_putvalues(ts, desc, values, nulls);
	pfree(b);
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
 * nothing.
 */
Datum
ferry_snapshot_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *arr = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
	FerryOptions opts;
	Relation	rel;
	FerryRelInfo *ri;
	MemoryContext rowcxt;
	MemoryContext old;
	TableScanDesc scan;
	HeapTuple	cur;
	HeapTuple	next;
	bool		first = true;
	StringInfoData frame;
	StringInfoData key;
	StringInfoData val;
	FerrySource src;
	char	   *dbname;
	AclResult	aclresult;
	TupleDesc	desc;

	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ferry requires a database with encoding UTF8")));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	ferry_options_init(&opts);
	ferry_options_parse(&opts, options_from_array(arr), true);

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, RelationGetRelationName(rel));

	ri = ferry_relinfo_build(&opts, rel, CurrentMemoryContext);
	dbname = get_database_name(MyDatabaseId);
	desc = RelationGetDescr(rel);

	memset(&src, 0, sizeof(src));
	src.ts_us = opts.has_fixed_ts ? opts.fixed_ts_us :
		opts.has_snap_ts ? opts.snap_ts_us :
		GetCurrentTransactionStartTimestamp() + UNIX_PG_EPOCH_DIFF_US;
	src.lsn = opts.has_snap_lsn ? opts.snap_lsn : GetXLogInsertRecPtr();
	src.has_txid = true;
	src.txid = opts.has_snap_txid ? opts.snap_txid :
		(int64) U64FromFullTransactionId(GetTopFullTransactionId());
	src.schema = ri->schema;
	src.table = ri->table;

	initStringInfo(&frame);
	initStringInfo(&key);
	initStringInfo(&val);

	if (!ri->captured)
	{
		table_close(rel, AccessShareLock);
		ferry_options_free(&opts);
		return (Datum) 0;
	}

	if (opts.format == FERRY_FORMAT_RELAY)
	{
		ferry_write_schema_frame(&frame, &opts, 1, ri);
		put_bytea(rsinfo->setResult, rsinfo->setDesc, &frame);
	}

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "ferry snapshot row",
								   ALLOCSET_DEFAULT_SIZES);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	next = heap_getnext(scan, ForwardScanDirection);
	next = next ? heap_copytuple(next) : NULL;
	while (next != NULL)
	{
		FerryRecord rec;
		int64		now = ferry_now_us(&opts);
		HeapTuple	t;

		CHECK_FOR_INTERRUPTS();
		cur = next;
		t = heap_getnext(scan, ForwardScanDirection);
		next = t ? heap_copytuple(t) : NULL;

		old = MemoryContextSwitchTo(rowcxt);
		src.snapshot = snapshot_marker(&opts, first, next == NULL);
		first = false;

		resetStringInfo(&key);
		resetStringInfo(&val);
		resetStringInfo(&frame);
		if (ri->nkeys > 0)
			ferry_encode_key(&key, &opts, ri, desc, cur, false);
		appendStringInfoString(&val, "{\"before\":null,\"after\":");
		ferry_encode_row(&val, &opts, ri, desc, cur, NULL);
		appendStringInfoString(&val, ",\"source\":");
		ferry_write_source(&val, &opts, dbname, &src);
		appendStringInfo(&val, ",\"transaction\":null,\"op\":\"r\",\"ts_ms\":" INT64_FORMAT
						 ",\"ts_us\":" INT64_FORMAT ",\"ts_ns\":" INT64_FORMAT "}",
						 now / 1000, now, now * 1000);

		memset(&rec, 0, sizeof(rec));
		rec.topic = ri->topic;
		rec.schema_id = 1;
		rec.key_schema = ri->key_schema;
		rec.value_schema = ri->value_schema;
		rec.key = ri->nkeys > 0 ? &key : NULL;
		rec.value = &val;
		ferry_add_context_headers(&rec, &opts);
		ferry_write_record(&frame, &opts, &rec);
		MemoryContextSwitchTo(old);

		put_bytea(rsinfo->setResult, rsinfo->setDesc, &frame);
		MemoryContextReset(rowcxt);
		heap_freetuple(cur);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	MemoryContextDelete(rowcxt);
	ferry_options_free(&opts);

	return (Datum) 0;
}
