/*-------------------------------------------------------------------------
 *
 * relcache.c
 *	  Per-relation metadata of the ferry plugin: Debezium's type mapping,
 *	  column defaults, key columns and the cached schema JSON, plus the
 *	  decoding session's relation cache and its invalidation.
 *
 * Building a FerryRelInfo does catalog lookups (under the historic snapshot
 * while decoding); nothing here is on the per-row path except the cache
 * lookup itself.
 *
 * IDENTIFICATION
 *	  plugin/relcache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "ferry.h"
#include "relcache.h"

/* ---------------------------------------------------------------------
 * Type mapping (Debezium §6)
 * ---------------------------------------------------------------------
 */

static int
cmp_oid_label(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Load the labels of an enum; builds the "allowed" parameter too */
static void
load_enum(FerryType *t, Oid enumtypid)
{
	Relation	enumrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			cap = 16;
	int			n = 0;
	float4	   *sortorder;
	Oid		   *oids;
	char	  **labels;
	StringInfoData allowed;
	int			i,
				j;

	oids = palloc(sizeof(Oid) * cap);
	labels = palloc(sizeof(char *) * cap);
	sortorder = palloc(sizeof(float4) * cap);
	ScanKeyInit(&key, Anum_pg_enum_enumtypid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(enumtypid));
	enumrel = table_open(EnumRelationId, AccessShareLock);
	scan = systable_beginscan(enumrel, EnumTypIdLabelIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_enum en = (Form_pg_enum) GETSTRUCT(tup);

		if (n == cap)
		{
			cap *= 2;
			oids = repalloc(oids, sizeof(Oid) * cap);
			labels = repalloc(labels, sizeof(char *) * cap);
			sortorder = repalloc(sortorder, sizeof(float4) * cap);
		}
		oids[n] = en->oid;
		labels[n] = pstrdup(NameStr(en->enumlabel));
		sortorder[n] = en->enumsortorder;
		n++;
	}
	systable_endscan(scan);
	table_close(enumrel, AccessShareLock);

	/* "allowed": labels in sort order */
	for (i = 1; i < n; i++)
	{
		for (j = i; j > 0 && sortorder[j - 1] > sortorder[j]; j--)
		{
			float4		fs = sortorder[j];
			Oid			fo = oids[j];
			char	   *fl = labels[j];

			sortorder[j] = sortorder[j - 1];
			oids[j] = oids[j - 1];
			labels[j] = labels[j - 1];
			sortorder[j - 1] = fs;
			oids[j - 1] = fo;
			labels[j - 1] = fl;
		}
	}
	initStringInfo(&allowed);
	appendStringInfoString(&allowed, "{\"allowed\":");
	{
		StringInfoData l;

		initStringInfo(&l);
		for (i = 0; i < n; i++)
		{
			if (i > 0)
				appendStringInfoChar(&l, ',');
			appendStringInfoString(&l, labels[i]);
		}
		ferry_json_string(&allowed, l.data, l.len);
	}
	appendStringInfoChar(&allowed, '}');
	t->params = allowed.data;

	/* lookup table sorted by oid */
	t->nlabels = n;
	t->label_oids = palloc(sizeof(Oid) * (n + 1));
	t->labels = palloc(sizeof(char *) * (n + 1));
	{
		Oid		   *idx = palloc(sizeof(Oid) * 2 * (n + 1));

		for (i = 0; i < n; i++)
		{
			idx[2 * i] = oids[i];
			idx[2 * i + 1] = i;
		}
		qsort(idx, n, sizeof(Oid) * 2, cmp_oid_label);
		for (i = 0; i < n; i++)
		{
			t->label_oids[i] = idx[2 * i];
			t->labels[i] = labels[idx[2 * i + 1]];
		}
	}
}

static void
set_outfunc(FerryType *t, Oid typid)
{
	Oid			outfn;
	bool		isvarlena;

	getTypeOutputInfo(typid, &outfn, &isvarlena);
	fmgr_info_cxt(outfn, &t->outfunc, CurrentMemoryContext);
	t->has_out = true;
}

/*
 * Fill t for a value of type typid/typmod.  Returns false when Debezium has
 * no converter for it (the column is left out).  is_elem: an array element.
 */
static bool
classify_type(FerryOptions *opts, FerryType *t, Oid typid, int32 typmod, bool is_elem)
{
	HeapTuple	tp;
	Form_pg_type typ;
	char		typtype;
	char	   *typname;
	Oid			typelem;
	int16		typlen;

	memset(t, 0, sizeof(FerryType));
	typid = getBaseTypeAndTypmod(typid, &typmod);
	t->typid = typid;
	t->typmod = typmod;

	switch (typid)
	{
		case BOOLOID:
			t->kind = FK_BOOL;
			t->type = "boolean";
			return true;
		case INT2OID:
			t->kind = FK_INT16;
			t->type = "int16";
			return true;
		case INT4OID:
			t->kind = FK_INT32;
			t->type = "int32";
			return true;
		case INT8OID:
			t->kind = FK_INT64;
			t->type = "int64";
			return true;
		case OIDOID:
			t->kind = FK_OID;
			t->type = "int64";
			return true;
		case FLOAT4OID:
			t->kind = FK_FLOAT32;
			t->type = "float";
			return true;
		case FLOAT8OID:
			t->kind = FK_FLOAT64;
			t->type = "double";
			return true;
		case NUMERICOID:
			if (typmod >= (int32) VARHDRSZ)
			{
				int32		tm = typmod - VARHDRSZ;

				t->kind = FK_DECIMAL;
				t->precision = (tm >> 16) & 0xFFFF;
				t->scale = (((tm & 0x7FF) ^ 1024) - 1024);
			}
			else
				t->kind = FK_VARDECIMAL;
			set_outfunc(t, typid);
			if (opts->decimal_mode == FERRY_DECIMAL_DOUBLE)
				t->type = "double";
			else if (opts->decimal_mode == FERRY_DECIMAL_STRING)
				t->type = "string";
			else if (t->kind == FK_DECIMAL)
			{
				t->type = "bytes";
				t->name = "org.apache.kafka.connect.data.Decimal";
				t->version = 1;
				t->params = psprintf("{\"scale\":\"%d\",\"connect.decimal.precision\":\"%d\"}",
											t->scale, t->precision);
			}
			else
			{
				t->type = "struct";
				t->inner = "\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
					"{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]";
				t->name = "io.debezium.data.VariableScaleDecimal";
				t->version = 1;
				t->doc = "Variable scaled decimal";
			}
			return true;
		case CASHOID:
			if (is_elem)
				return false;
			t->kind = FK_MONEY;
			if (opts->decimal_mode == FERRY_DECIMAL_DOUBLE)
				t->type = "double";
			else if (opts->decimal_mode == FERRY_DECIMAL_STRING)
				t->type = "string";
			else
			{
				t->type = "bytes";
				t->name = "org.apache.kafka.connect.data.Decimal";
				t->version = 1;
				t->params = "{\"scale\":\"2\"}";
			}
			return true;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			t->kind = FK_TEXT;
			t->type = "string";
			return true;
		case NAMEOID:
			if (is_elem)
				return false;
			t->kind = FK_NAME;
			t->type = "string";
			return true;
		case CHAROID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
		case INT4RANGEOID:
		case INT8RANGEOID:
		case NUMRANGEOID:
		case TSRANGEOID:
		case TSTZRANGEOID:
		case DATERANGEOID:
			t->kind = FK_OUTSTR;
			t->type = "string";
			set_outfunc(t, typid);
			return true;
		case BYTEAOID:
			t->kind = FK_BYTEA;
			t->type = (opts->binary_mode == FERRY_BINARY_BYTES) ? "bytes" : "string";
			return true;
		case JSONOID:
		case JSONBOID:
			t->kind = FK_OUTSTR;
			t->type = "string";
			t->name = "io.debezium.data.Json";
			t->version = 1;
			set_outfunc(t, typid);
			return true;
		case XMLOID:
			if (is_elem)
				return false;
			t->kind = FK_OUTSTR;
			t->type = "string";
			t->name = "io.debezium.data.Xml";
			t->version = 1;
			set_outfunc(t, typid);
			return true;
		case TSVECTOROID:
			t->kind = FK_OUTSTR;
			t->type = "string";
			t->name = "io.debezium.data.Tsvector";
			t->version = 1;
			set_outfunc(t, typid);
			return true;
		case UUIDOID:
			t->kind = FK_UUID;
			t->type = "string";
			t->name = "io.debezium.data.Uuid";
			t->version = 1;
			return true;
		case DATEOID:
			t->kind = FK_DATE;
			t->type = "int32";
			t->name = (opts->time_mode == FERRY_TIME_CONNECT) ?
				"org.apache.kafka.connect.data.Date" : "io.debezium.time.Date";
			t->version = 1;
			return true;
		case TIMEOID:
			t->kind = FK_TIME;
			t->precision = typmod < 0 ? 6 : typmod;
			t->version = 1;
			if (opts->time_mode == FERRY_TIME_CONNECT)
			{
				t->millis = true;
				t->type = "int32";
				t->name = "org.apache.kafka.connect.data.Time";
			}
			else if (opts->time_mode == FERRY_TIME_ADAPTIVE && t->precision <= 3)
			{
				t->millis = true;
				t->type = "int32";
				t->name = "io.debezium.time.Time";
			}
			else
			{
				t->type = "int64";
				t->name = "io.debezium.time.MicroTime";
			}
			return true;
		case TIMESTAMPOID:
			t->kind = FK_TIMESTAMP;
			t->precision = typmod < 0 ? 6 : typmod;
			t->type = "int64";
			t->version = 1;
			if (opts->time_mode == FERRY_TIME_CONNECT)
			{
				t->millis = true;
				t->name = "org.apache.kafka.connect.data.Timestamp";
			}
			else if (t->precision <= 3)
			{
				t->millis = true;
				t->name = "io.debezium.time.Timestamp";
			}
			else
				t->name = "io.debezium.time.MicroTimestamp";
			return true;
		case TIMESTAMPTZOID:
			t->kind = FK_TIMESTAMPTZ;
			t->precision = typmod < 0 ? 6 : typmod;
			t->type = "string";
			t->name = "io.debezium.time.ZonedTimestamp";
			t->version = 1;
			return true;
		case TIMETZOID:
			t->kind = FK_TIMETZ;
			t->precision = typmod < 0 ? 6 : typmod;
			t->type = "string";
			t->name = "io.debezium.time.ZonedTime";
			t->version = 1;
			return true;
		case INTERVALOID:
			if (is_elem)
				return false;
			t->kind = FK_INTERVAL;
			t->version = 1;
			if (opts->interval_mode == FERRY_INTERVAL_NUMERIC)
			{
				t->type = "int64";
				t->name = "io.debezium.time.MicroDuration";
			}
			else
			{
				t->type = "string";
				t->name = "io.debezium.time.Interval";
			}
			return true;
		case BITOID:
		case VARBITOID:
			if (is_elem && typid == VARBITOID)
				return false;
			t->bits = typmod < 0 ? (typid == BITOID ? 1 : 2147483647) : typmod;
			if (t->bits <= 1)
			{
				t->kind = FK_BIT_BOOL;
				t->type = "boolean";
			}
			else
			{
				t->kind = FK_BITS;
				t->type = "bytes";
				t->name = "io.debezium.data.Bits";
				t->version = 1;
				t->params = psprintf("{\"length\":\"%d\"}", t->bits);
			}
			return true;
		case POINTOID:
			if (is_elem)
				return false;
			t->kind = FK_POINT;
			t->type = "struct";
			t->inner = "\"fields\":[{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},"
				"{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
				"{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
				"{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]";
			t->name = "io.debezium.data.geometry.Point";
			t->version = 1;
			t->doc = "Geometry (POINT)";
			return true;
		default:
			break;
	}

	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typ = (Form_pg_type) GETSTRUCT(tp);
	typtype = typ->typtype;
	typname = pstrdup(NameStr(typ->typname));
	typelem = typ->typelem;
	typlen = typ->typlen;
	ReleaseSysCache(tp);

	if (typtype == TYPTYPE_ENUM)
	{
		t->kind = FK_ENUM;
		t->type = "string";
		t->name = "io.debezium.data.Enum";
		t->version = 1;
		set_outfunc(t, typid);
		load_enum(t, typid);
		return true;
	}
	if (strcmp(typname, "hstore") == 0)
	{
		t->kind = FK_HSTORE;
		if (opts->hstore_mode == FERRY_HSTORE_MAP)
		{
			t->type = "map";
			t->inner = "\"keys\":{\"type\":\"string\",\"optional\":false},"
				"\"values\":{\"type\":\"string\",\"optional\":true}";
		}
		else
		{
			t->type = "string";
			t->name = "io.debezium.data.Json";
			t->version = 1;
		}
		set_outfunc(t, typid);
		return true;
	}
	if (strcmp(typname, "citext") == 0 || strcmp(typname, "isbn") == 0 ||
		strcmp(typname, "ltree") == 0)
	{
		t->kind = FK_OUTSTR;
		t->type = "string";
		if (typname[0] == 'l')
		{
			t->name = "io.debezium.data.Ltree";
			t->version = 1;
		}
		set_outfunc(t, typid);
		return true;
	}
	if (OidIsValid(typelem) && typlen == -1 && !is_elem)
	{
		FerryType  *et = palloc0(sizeof(FerryType));
		Oid			elemtype = typelem;
		StringInfoData items;

		if (get_typtype(elemtype) == TYPTYPE_DOMAIN)
			goto unknown;
		if (elemtype == BITOID)
		{
			/* Debezium: scalar schema, array converter: always null */
			if (!classify_type(opts, t, BITOID, typmod, true))
				goto unknown;
			t->kind = FK_ALWAYS_NULL;
			return true;
		}
		if (!classify_type(opts, et, elemtype, typmod, true))
			goto unknown;
		t->kind = FK_ARRAY;
		t->type = "array";
		t->elem = et;
		t->elemtypid = elemtype;
		get_typlenbyvalalign(elemtype, &t->elmlen, &t->elmbyval, &t->elmalign);
		initStringInfo(&items);
		appendStringInfoString(&items, "\"items\":");
		ferry_write_field_schema(&items, et, et->kind != FK_ENUM, NULL, NULL);
		t->inner = items.data;
		return true;
	}

unknown:
	if (opts->include_unknown && !is_elem)
	{
		memset(t, 0, sizeof(FerryType));
		t->typid = typid;
		t->typmod = typmod;
		t->kind = FK_UNKNOWN;
		t->type = (opts->binary_mode == FERRY_BINARY_BYTES) ? "bytes" : "string";
		t->geometric = (typid == BOXOID || typid == CIRCLEOID || typid == LSEGOID ||
						typid == PATHOID || typid == POLYGONOID || typid == LINEOID);
		set_outfunc(t, typid);
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------------
 * Defaults (§6.4) and fallbacks (§6.6)
 * ---------------------------------------------------------------------
 */

/* Debezium's FUNCTION_DEFAULT_PATTERN and CURRENT_* keywords */
static bool
is_function_default(const char *s)
{
	const char *p = s;
	const char *q;
	static const char *kw[] = {"current_timestamp", "current_time", "current_date",
	"localtime", "localtimestamp", NULL};
	int			i;

	for (i = 0; kw[i]; i++)
		if (pg_strncasecmp(s, kw[i], strlen(kw[i])) == 0)
			return true;
	if (*p == '(')
		p++;
	q = p;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		   (*p >= '0' && *p <= '9') || *p == '_' || *p == '.')
		p++;
	if (p == q || *p != '(')
		return false;
	return strchr(p + 1, ')') != NULL;
}

/* Types whose defaults Debezium parses (createDefaultValueMappers) */
static bool
default_supported(FerryType *t, Oid coltype)
{
	if (get_typtype(coltype) == TYPTYPE_DOMAIN)
		return false;
	switch (t->typid)
	{
		case BITOID:
		case VARBITOID:
		case BOOLOID:
		case BPCHAROID:
		case VARCHAROID:
		case TEXTOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case JSONOID:
		case JSONBOID:
		case XMLOID:
		case UUIDOID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
			return true;
		case NUMERICOID:
			/* errata 1: VariableScaleDecimal never gets a default */
			return t->kind == FK_DECIMAL;
		default:
			return t->kind == FK_ENUM;
	}
}

/* Zero placeholder Debezium substitutes for a function default */
static char *
zero_default(FerryOptions *opts, FerryType *t)
{
	switch (t->kind)
	{
		case FK_INT16:
		case FK_INT32:
		case FK_INT64:
		case FK_DATE:
		case FK_TIME:
		case FK_TIMESTAMP:
			return "0";
		case FK_INTERVAL:
			return opts->interval_mode == FERRY_INTERVAL_NUMERIC ? "0" : "\"P0Y0M0DT0H0M0S\"";
		case FK_FLOAT32:
		case FK_FLOAT64:
			return "0.0";
		case FK_BOOL:
		case FK_BIT_BOOL:
			return "false";
		case FK_DECIMAL:
			if (opts->decimal_mode == FERRY_DECIMAL_DOUBLE)
				return "0.0";
			if (opts->decimal_mode == FERRY_DECIMAL_STRING)
				return "\"0\"";
			return "\"AA==\"";
		case FK_TEXT:
			return "\"\"";
		case FK_OUTSTR:
			if (t->typid == JSONOID || t->typid == JSONBOID)
				return "\"{}\"";
			return "\"\"";
		case FK_UUID:
			return "\"00000000-0000-0000-0000-000000000000\"";
		case FK_TIMESTAMPTZ:
			{
				StringInfoData s;

				initStringInfo(&s);
				appendStringInfoString(&s, "\"1970-01-01T00:00:00");
				if (t->precision > 0)
				{
					int			i;

					appendStringInfoChar(&s, '.');
					for (i = 0; i < t->precision; i++)
						appendStringInfoChar(&s, '0');
				}
				appendStringInfoString(&s, "Z\"");
				return s.data;
			}
		case FK_BITS:
			return "\"\"";
		default:
			return NULL;
	}
}

static char *
column_default(FerryOptions *opts, Relation rel, FerryColumn *col, Oid coltype)
{
	TupleDesc	desc = RelationGetDescr(rel);
	TupleConstr *constr = desc->constr;
	Node	   *expr = NULL;
	char	   *txt;
	int			i;

	if (constr == NULL || !default_supported(&col->t, coltype))
		return NULL;
	for (i = 0; i < constr->num_defval; i++)
	{
		if (constr->defval[i].adnum == col->attnum)
		{
			expr = stringToNode(constr->defval[i].adbin);
			break;
		}
	}
	if (expr == NULL)
		return NULL;
	txt = deparse_expression(expr,
							 deparse_context_for(RelationGetRelationName(rel),
												 RelationGetRelid(rel)),
							 false, false);
	if (is_function_default(txt))
		return zero_default(opts, &col->t);

	/* a literal: Debezium parses the text; we evaluate the constant */
	if (!(txt[0] == '\'' || txt[0] == '-' || (txt[0] >= '0' && txt[0] <= '9') ||
		  strcmp(txt, "true") == 0 || strcmp(txt, "false") == 0))
		return NULL;
	expr = eval_const_expressions(NULL, expr);
	expr = strip_implicit_coercions(expr);
	if (IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	if (IsA(expr, Const) && !((Const *) expr)->constisnull)
	{
		Const	   *c = (Const *) expr;
		StringInfoData s;

		if (getBaseType(c->consttype) != col->t.typid &&
			!(col->t.kind == FK_TEXT && (c->consttype == TEXTOID ||
										 c->consttype == VARCHAROID ||
										 c->consttype == BPCHAROID)))
			return NULL;
		initStringInfo(&s);
		ferry_encode_value(&s, opts, &col->t, c->constvalue, false);
		return s.data;
	}
	return NULL;
}

static void
set_fallback_and_toast(FerryColumn *col)
{
	FerryType  *t = &col->t;

	switch (t->kind)
	{
		case FK_BOOL:
		case FK_BIT_BOOL:
			col->fallback = "false";
			break;
		case FK_INT16:
		case FK_INT32:
		case FK_INT64:
		case FK_OID:
		case FK_DATE:
		case FK_TIME:
		case FK_TIMESTAMP:
			col->fallback = "0";
			break;
		case FK_INTERVAL:
			col->fallback = strcmp(t->type, "int64") == 0 ? "0" : "\"P0Y0M0DT0H0M0S\"";
			break;
		case FK_FLOAT32:
		case FK_FLOAT64:
			col->fallback = "0.0";
			break;
		case FK_DECIMAL:
		case FK_MONEY:
			col->fallback = strcmp(t->type, "bytes") == 0 ? "\"AA==\"" :
				strcmp(t->type, "double") == 0 ? "0.0" : "\"0\"";
			break;
		case FK_VARDECIMAL:
			col->fallback = strcmp(t->type, "struct") == 0 ? "{\"scale\":0,\"value\":\"AA==\"}" :
				strcmp(t->type, "double") == 0 ? "0.0" : "\"0\"";
			break;
		case FK_TIMESTAMPTZ:
			col->fallback = "\"1970-01-01T00:00:00Z\"";
			break;
		case FK_TIMETZ:
			col->fallback = "\"00:00:00Z\"";
			break;
		case FK_POINT:
			col->fallback = "{\"x\":0.0,\"y\":0.0,\"wkb\":\"AQEAAAAAAAAAAAAAAAAAAAAAAAAA\",\"srid\":null}";
			break;
		case FK_ARRAY:
			col->fallback = "[]";
			break;
		case FK_HSTORE:
			col->fallback = strcmp(t->type, "map") == 0 ? "{}" : "\"{}\"";
			break;
		case FK_ALWAYS_NULL:
			col->fallback = NULL;
			break;
		default:
			col->fallback = "\"\"";
			break;
	}

	switch (t->kind)
	{
		case FK_TEXT:
		case FK_NAME:
		case FK_OUTSTR:
		case FK_ENUM:
		case FK_UUID:
			t->toast = FT_STRING;
			break;
		case FK_BYTEA:
			t->toast = FT_BYTES;
			break;
		case FK_HSTORE:
			t->toast = FT_HSTORE;
			break;
		case FK_ARRAY:
			switch (t->elemtypid)
			{
				case TEXTOID:
				case VARCHAROID:
				case BPCHAROID:
				case JSONOID:
				case JSONBOID:
					t->toast = FT_TEXT_ARRAY;
					break;
				case BYTEAOID:
					t->toast = FT_BYTES_ARRAY;
					break;
				case INT4OID:
				case DATEOID:
				case INT8OID:
					t->toast = FT_INT_ARRAY;
					break;
				case UUIDOID:
					t->toast = FT_UUID_ARRAY;
					break;
				default:
					t->toast = FT_NULL;
					break;
			}
			break;
		default:
			t->toast = FT_NULL;
			break;
	}
}

/* ---------------------------------------------------------------------
 * Keys
 * ---------------------------------------------------------------------
 */

/*
 * Debezium's key: the primary key, else the first unique index by name
 * without expression columns, else none.  Returns the attnums.
 */
static int
key_attnums(Relation rel, AttrNumber **attnums)
{
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	List	   *indexes;
	ListCell   *lc;
	Oid			best = InvalidOid;
	char	   *bestname = NULL;
	HeapTuple	tp;
	Form_pg_index idx;
	int			n,
				i;

	if (!OidIsValid(pk))
	{
		indexes = RelationGetIndexList(rel);
		foreach(lc, indexes)
		{
			Oid			ioid = lfirst_oid(lc);
			bool		ok;
			char	   *nm;

			tp = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(ioid));
			if (!HeapTupleIsValid(tp))
				elog(ERROR, "cache lookup failed for index %u", ioid);
			idx = (Form_pg_index) GETSTRUCT(tp);
			ok = idx->indisunique && idx->indisvalid &&
				heap_attisnull(tp, Anum_pg_index_indexprs, NULL);
			for (i = 0; ok && i < idx->indnkeyatts; i++)
				if (idx->indkey.values[i] <= 0)
					ok = false;
			ReleaseSysCache(tp);
			if (!ok)
				continue;
			nm = get_rel_name(ioid);
			if (bestname == NULL || strcmp(nm, bestname) < 0)
			{
				best = ioid;
				bestname = nm;
			}
		}
		pk = best;
	}
	if (!OidIsValid(pk))
		return 0;
	tp = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pk));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for index %u", pk);
	idx = (Form_pg_index) GETSTRUCT(tp);
	n = idx->indnkeyatts;
	*attnums = palloc(sizeof(AttrNumber) * (n + 1));
	for (i = 0; i < n; i++)
		(*attnums)[i] = idx->indkey.values[i];
	ReleaseSysCache(tp);
	return n;
}

/* ---------------------------------------------------------------------
 * Building a FerryRelInfo
 * ---------------------------------------------------------------------
 */

static bool
build_column(FerryOptions *opts, Relation rel, Form_pg_attribute att, FerryColumn *col)
{
	StringInfoData k;

	memset(col, 0, sizeof(FerryColumn));
	if (!classify_type(opts, &col->t, att->atttypid, att->atttypmod, false))
		return false;
	col->attnum = att->attnum;
	col->name = pstrdup(NameStr(att->attname));
	initStringInfo(&k);
	ferry_json_cstring(&k, col->name);
	appendStringInfoChar(&k, ':');
	col->jkey = k.data;
	col->jkey_len = k.len;
	col->nullable = !att->attnotnull;
	set_fallback_and_toast(col);
	col->defjson = column_default(opts, rel, col, att->atttypid);
	return true;
}

static void
write_struct_schema(StringInfo out, FerryColumn *cols, int n, bool optional,
					const char *name, const char *field)
{
	int			i;

	appendStringInfoString(out, "{\"type\":\"struct\",\"fields\":[");
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(out, ',');
		ferry_write_field_schema(out, &cols[i].t, cols[i].nullable,
								 cols[i].defjson, cols[i].name);
	}
	appendStringInfo(out, "],\"optional\":%s,\"name\":", optional ? "true" : "false");
	ferry_json_cstring(out, name);
	if (field)
	{
		appendStringInfoString(out, ",\"field\":");
		ferry_json_cstring(out, field);
	}
	appendStringInfoChar(out, '}');
}

/*
 * Build everything about rel that is constant per relation version, in
 * memory of cxt.  Catalog access happens here only.
 */
FerryRelInfo *
ferry_relinfo_build(FerryOptions *opts, Relation rel, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	FerryRelInfo *ri = palloc0(sizeof(FerryRelInfo));
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData s;
	AttrNumber *keyatts = NULL;
	int			nkeyatts;
	int			i,
				j;
	char	   *rowname;

	ri->relid = RelationGetRelid(rel);
	ri->schema = get_namespace_name(RelationGetNamespace(rel));
	ri->table = pstrdup(RelationGetRelationName(rel));
	ri->dc_name = psprintf("%s.%s", ri->schema, ri->table);
	ri->captured = ferry_table_captured(opts, ri->schema, ri->table);

	initStringInfo(&s);
	appendStringInfo(&s, "%s.%s.%s", opts->topic_prefix, ri->schema, ri->table);
	{
		StringInfoData t;

		initStringInfo(&t);
		ferry_sanitize_topic(&t, s.data);
		ri->topic = t.data;
	}

	if (!ri->captured)
	{
		MemoryContextSwitchTo(old);
		return ri;
	}

	/* value columns in attnum order */
	ri->cols = palloc0(sizeof(FerryColumn) * (desc->natts + 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *full;

		if (att->attisdropped || att->attgenerated)
			continue;
		full = psprintf("%s.%s.%s", ri->schema, ri->table, NameStr(att->attname));
		if (opts->column_exclude.npatterns > 0 &&
			ferry_filter_match(&opts->column_exclude, full))
			continue;
		if (opts->column_include.npatterns > 0 &&
			!ferry_filter_match(&opts->column_include, full))
			continue;
		if (build_column(opts, rel, att, &ri->cols[ri->ncols]))
			ri->ncols++;
	}

	/* key columns in index order, unaffected by column.exclude.list */
	nkeyatts = key_attnums(rel, &keyatts);
	ri->keys = palloc0(sizeof(FerryColumn) * (nkeyatts + 1));
	for (i = 0; i < nkeyatts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, keyatts[i] - 1);

		for (j = 0; j < ri->ncols; j++)
			if (ri->cols[j].attnum == keyatts[i])
				break;
		if (j < ri->ncols)
			ri->keys[ri->nkeys++] = ri->cols[j];
		else if (build_column(opts, rel, att, &ri->keys[ri->nkeys]))
			ri->nkeys++;
	}

	if (ri->nkeys > 0)
	{
		resetStringInfo(&s);
		write_struct_schema(&s, ri->keys, ri->nkeys, false,
							psprintf("%s.Key", ri->topic), NULL);
		ri->key_schema = pstrdup(s.data);
		ri->key_schema_len = s.len;
	}

	rowname = psprintf("%s.Value", ri->topic);
	resetStringInfo(&s);
	appendStringInfoString(&s, "{\"type\":\"struct\",\"fields\":[");
	write_struct_schema(&s, ri->cols, ri->ncols, true, rowname, "before");
	appendStringInfoChar(&s, ',');
	write_struct_schema(&s, ri->cols, ri->ncols, true, rowname, "after");
	appendStringInfoChar(&s, ',');
	appendStringInfoString(&s, ferry_source_schema());
	appendStringInfoChar(&s, ',');
	appendStringInfoString(&s, ferry_txblock_schema());
	appendStringInfoString(&s, ",{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
						   "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
						   "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
						   "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],"
						   "\"optional\":false,\"name\":");
	ferry_json_cstring(&s, psprintf("%s.Envelope", ri->topic));
	appendStringInfoString(&s, ",\"version\":2}");
	ri->value_schema = s.data;
	ri->value_schema_len = s.len;
	{
		StringInfoData tj;

		initStringInfo(&tj);
		ferry_json_cstring(&tj, ri->topic);
		ri->topic_json = tj.data;
		ri->topic_json_len = tj.len;
		initStringInfo(&tj);
		ferry_source_st(&tj, ri->schema, ri->table);
		ri->st_json = tj.data;
		ri->st_json_len = tj.len;
	}

	MemoryContextSwitchTo(old);
	return ri;
}

/* ---------------------------------------------------------------------
 * The decoding session's cache (pgoutput's RelationSyncCache pattern)
 * ---------------------------------------------------------------------
 */

static HTAB *FerryRelCache = NULL;
static MemoryContext FerryCacheCxt = NULL;
static bool callbacks_registered = false;

/* Invalidation: only flip flags, the entry is rebuilt on next use */
static void
ferry_relcache_inval_cb(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	FerryRelEntry *entry;

	if (FerryRelCache == NULL)
		return;
	if (OidIsValid(relid))
	{
		entry = hash_search(FerryRelCache, &relid, HASH_FIND, NULL);
		if (entry)
			entry->valid = false;
		return;
	}
	hash_seq_init(&status, FerryRelCache);
	while ((entry = hash_seq_search(&status)) != NULL)
		entry->valid = false;
}

static void
ferry_syscache_inval_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	ferry_relcache_inval_cb(arg, InvalidOid);
}

static void
ferry_cache_reset_cb(void *arg)
{
	FerryRelCache = NULL;
	FerryCacheCxt = NULL;
}

/* Create the cache under parent; it goes away with parent */
void
ferry_relcache_init(MemoryContext parent)
{
	HASHCTL		ctl;
	MemoryContextCallback *cb;

	FerryCacheCxt = AllocSetContextCreate(parent, "ferry relation cache",
										  ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(FerryRelEntry);
	ctl.hcxt = FerryCacheCxt;
	FerryRelCache = hash_create("ferry relation cache", 128, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	cb = MemoryContextAlloc(FerryCacheCxt, sizeof(MemoryContextCallback));
	cb->func = ferry_cache_reset_cb;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(FerryCacheCxt, cb);

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(ferry_relcache_inval_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, ferry_syscache_inval_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(ENUMOID, ferry_syscache_inval_cb, (Datum) 0);
		callbacks_registered = true;
	}
}

static bool
same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * The valid entry of rel, rebuilt if invalidated (with a new schema id when
 * the schemas or the topic changed).
 */
FerryRelEntry *
ferry_relcache_get(FerryOptions *opts, Relation rel, uint32 *next_schema_id)
{
	Oid			relid = RelationGetRelid(rel);
	bool		found;
	FerryRelEntry *entry;

	entry = hash_search(FerryRelCache, &relid, HASH_ENTER, &found);
	if (!found)
	{
		entry->valid = false;
		entry->cxt = NULL;
		entry->info = NULL;
	}
	if (!entry->valid)
	{
		MemoryContext cxt = AllocSetContextCreate(FerryCacheCxt, "ferry relation entry",
												  ALLOCSET_SMALL_SIZES);
		FerryRelInfo *info = ferry_relinfo_build(opts, rel, cxt);
		FerryRelInfo *old = entry->info;

		/*
		 * Invalidations also come from statistics updates and the like: keep
		 * the schema id when nothing the consumer sees has changed.
		 */
		if (old == NULL || !same_string(old->topic, info->topic) ||
			!same_string(old->key_schema, info->key_schema) ||
			!same_string(old->value_schema, info->value_schema) ||
			old->captured != info->captured)
		{
			entry->schema_id = (*next_schema_id)++;
			entry->schema_sent = false;
		}
		if (entry->cxt)
			MemoryContextDelete(entry->cxt);
		entry->cxt = cxt;
		entry->info = info;
		entry->valid = true;
	}
	return entry;
}
