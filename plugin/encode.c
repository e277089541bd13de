/*-------------------------------------------------------------------------
 *
 * encode.c
 *	  The Debezium-compatible encoder: JSON text exactly as Kafka Connect's
 *	  JsonConverter (Jackson) writes it, Java number formatting, per-type
 *	  value encoders, the source block and the record framing of
 *	  docs/wire-format.md.
 *
 * Everything here writes into a caller's StringInfo and allocates at most
 * short-lived scratch memory; callers reset their scratch context.
 *
 * IDENTIFICATION
 *	  plugin/encode.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/md5.h"
#include "common/shortest_dec.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/cash.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/geo_decls.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rangetypes.h"
#include "utils/typcache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "utils/varbit.h"

#include "ferry.h"
#include "../common/wire.h"

/*
 * The C library's snprintf: PG's replacement has no long double support,
 * which the float formatter needs.
 */
#undef snprintf

/* µs between 1970-01-01 and 2000-01-01 */
#define UNIX_PG_EPOCH_DIFF_US	INT64CONST(946684800000000)
#define UNIX_PG_EPOCH_DIFF_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

static const char hexdigits_upper[] = "0123456789ABCDEF";
static const char hexdigits_lower[] = "0123456789abcdef";

/* Append a decimal integer without going through printf */
static inline void
append_int64(StringInfo out, int64 v)
{
	char		buf[MAXINT8LEN + 1];
	int			len = pg_lltoa(v, buf);

	ferry_append_bin(out, buf, len);
}

/* ---------------------------------------------------------------------
 * JSON strings
 * ---------------------------------------------------------------------
 */

/*
 * Append s[0..len) as a JSON string the way Jackson does: only '"', '\\'
 * and control characters are escaped (short forms where Jackson has them,
 * else \u00XX with upper-case hex); '/', DEL and non-ASCII are raw.
 */
/* 1 for the bytes ferry_json_string copies as they are */
static const unsigned char json_plain[256] = {
#define P16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x22 '"' */
	P16,
	P16,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 0x5C '\\' */
	P16, P16,
	P16, P16, P16, P16, P16, P16, P16,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0	/* 0xF0.. */
#undef P16
};

void
ferry_json_string(StringInfo out, const char *s, int len)
{
	int			start = 0;
	int			i = 0;

	/* the common case: nothing to escape, one copy */
	while (i < len && json_plain[(unsigned char) s[i]])
		i++;
	if (i == len)
	{
		char	   *p;

		ferry_reserve(out, len + 2);
		p = out->data + out->len;
		p[0] = '"';
		memcpy(p + 1, s, len);
		p[len + 1] = '"';
		out->len += len + 2;
		out->data[out->len] = '\0';
		return;
	}

	ferry_append_char(out, '"');
	for (; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		const char *esc = NULL;
		char		ubuf[7];

		if (json_plain[c])
			continue;
		if (c >= 0xF0)
		{
			/*
			 * Jackson writes a supplementary character (4-byte UTF-8) as an
			 * escaped UTF-16 surrogate pair, e.g. \uD83C\uDF89.
			 */
			pg_wchar	cp;
			char		sbuf[13];

			if (i + 3 >= len)
				continue;
			cp = utf8_to_unicode((const unsigned char *) s + i);
			if (cp < 0x10000)
				continue;
			cp -= 0x10000;
			snprintf(sbuf, sizeof(sbuf), "\\u%04X\\u%04X",
					 (unsigned) (0xD800 + (cp >> 10)), (unsigned) (0xDC00 + (cp & 0x3FF)));
			if (i > start)
				ferry_append_bin(out, s + start, i - start);
			appendStringInfoString(out, sbuf);
			i += 3;
			start = i + 1;
			continue;
		}
		switch (c)
		{
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\b':
				esc = "\\b";
				break;
			case '\t':
				esc = "\\t";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\f':
				esc = "\\f";
				break;
			case '\r':
				esc = "\\r";
				break;
			default:
				ubuf[0] = '\\';
				ubuf[1] = 'u';
				ubuf[2] = '0';
				ubuf[3] = '0';
				ubuf[4] = hexdigits_upper[c >> 4];
				ubuf[5] = hexdigits_upper[c & 0xF];
				ubuf[6] = '\0';
				esc = ubuf;
				break;
		}
		if (i > start)
			ferry_append_bin(out, s + start, i - start);
		appendStringInfoString(out, esc);
		start = i + 1;
	}
	if (len > start)
		ferry_append_bin(out, s + start, len - start);
	ferry_append_char(out, '"');
}

void
ferry_json_cstring(StringInfo out, const char *s)
{
	ferry_json_string(out, s, strlen(s));
}

/*
 * A string inside a Kafka Connect header Struct (SimpleHeaderConverter,
 * Values.append): quoted, only backslash and double quote escaped.
 */
void
ferry_hdr_string(StringInfo out, const char *s, int len)
{
	int			i;

	ferry_append_char(out, '"');
	for (i = 0; i < len; i++)
	{
		if (s[i] == '"' || s[i] == '\\')
			ferry_append_char(out, '\\');
		ferry_append_char(out, s[i]);
	}
	ferry_append_char(out, '"');
}

static inline void
write_string(StringInfo out, const char *s, int len, bool hdr)
{
	if (hdr)
		ferry_hdr_string(out, s, len);
	else
		ferry_json_string(out, s, len);
}

/* ---------------------------------------------------------------------
 * base64 / hex
 * ---------------------------------------------------------------------
 */

/* Append base64 (RFC 4648, with padding, no line breaks) in quotes */
void
ferry_base64(StringInfo out, const unsigned char *data, int len, bool url)
{
	static const char std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char urlsafe[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *alpha = url ? urlsafe : std;
	int			i;
	char	   *p;

	ferry_reserve(out, (len + 2) / 3 * 4 + 2);
	p = out->data + out->len;
	*p++ = '"';
	for (i = 0; i + 2 < len; i += 3)
	{
		uint32		v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];

		*p++ = alpha[(v >> 18) & 0x3F];
		*p++ = alpha[(v >> 12) & 0x3F];
		*p++ = alpha[(v >> 6) & 0x3F];
		*p++ = alpha[v & 0x3F];
	}
	if (i < len)
	{
		uint32		v = data[i] << 16;

		if (i + 1 < len)
			v |= data[i + 1] << 8;
		*p++ = alpha[(v >> 18) & 0x3F];
		*p++ = alpha[(v >> 12) & 0x3F];
		*p++ = (i + 1 < len) ? alpha[(v >> 6) & 0x3F] : '=';
		*p++ = '=';
	}
	*p++ = '"';
	out->len = p - out->data;
	out->data[out->len] = '\0';
}

/* binary.handling.mode applied to raw bytes */
static void
write_binary(StringInfo out, FerryOptions *opts, const unsigned char *data, int len)
{
	int			i;

	switch (opts->binary_mode)
	{
		case FERRY_BINARY_BYTES:
		case FERRY_BINARY_BASE64:
			ferry_base64(out, data, len, false);
			break;
		case FERRY_BINARY_BASE64_URL:
			ferry_base64(out, data, len, true);
			break;
		case FERRY_BINARY_HEX:
			ferry_append_char(out, '"');
			for (i = 0; i < len; i++)
			{
				ferry_append_char(out, hexdigits_lower[data[i] >> 4]);
				ferry_append_char(out, hexdigits_lower[data[i] & 0xF]);
			}
			ferry_append_char(out, '"');
			break;
	}
}

/* ---------------------------------------------------------------------
 * Java Float.toString / Double.toString (JDK 19+)
 * ---------------------------------------------------------------------
 */

/*
 * Parse a C-formatted decimal ("123.45", "1e+23", "4.9e-324") into its
 * significant digits (no leading/trailing zeros) and the exponent of the
 * first digit, value = d.ddd * 10^exp.  Returns the digit count (0 = zero).
 */
static int
parse_decimal(const char *s, char *digits, int *exp)
{
	int			n = 0;
	int			intlen = 0;
	bool		in_frac = false;
	int			lead = 0;
	bool		seen_nonzero = false;
	int			e = 0;

	if (*s == '-')
		s++;
	for (; *s && *s != 'e' && *s != 'E'; s++)
	{
		if (*s == '.')
		{
			in_frac = true;
			continue;
		}
		if (!in_frac)
			intlen++;
		if (!seen_nonzero && *s == '0')
		{
			lead++;
			continue;
		}
		seen_nonzero = true;
		digits[n++] = *s;
	}
	if (*s == 'e' || *s == 'E')
		e = atoi(s + 1);
	while (n > 0 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*exp = intlen - 1 + e - lead;
	return n;
}

static void
java_layout(StringInfo out, bool negative, const char *digits, int n, int exp)
{
	int			i;

	if (negative)
		ferry_append_char(out, '-');
	if (n == 0)
	{
		ferry_append_lit(out, "0.0");
		return;
	}
	if (exp >= -3 && exp < 7)
	{
		if (exp >= 0)
		{
			for (i = 0; i <= exp; i++)
				ferry_append_char(out, i < n ? digits[i] : '0');
			ferry_append_char(out, '.');
			if (n > exp + 1)
				ferry_append_bin(out, digits + exp + 1, n - exp - 1);
			else
				ferry_append_char(out, '0');
		}
		else
		{
			ferry_append_lit(out, "0.");
			for (i = 0; i < -exp - 1; i++)
				ferry_append_char(out, '0');
			ferry_append_bin(out, digits, n);
		}
	}
	else
	{
		ferry_append_char(out, digits[0]);
		ferry_append_char(out, '.');
		if (n > 1)
			ferry_append_bin(out, digits + 1, n - 1);
		else
			ferry_append_char(out, '0');
		appendStringInfo(out, "E%d", exp);
	}
}

/*
 * The decimal digits of m = odd * 2^j (odd is odd) if they are at most 19
 * significant digits: returns the count (0 if longer) and sets *exp so that
 * m = d.ddd * 10^exp.  Exact integer arithmetic.
 */
static int
exact_short_decimal(uint64 odd, int j, char *digits, int *exp)
{
	uint64		q;
	int			pow10;
	char		buf[24];
	int			n;
	int			i;

	if (j < 0)
	{
		/* m = odd * 5^-j / 10^-j */
		q = odd;
		for (i = 0; i < -j; i++)
		{
			if (q > PG_UINT64_MAX / 5)
				return 0;
			q *= 5;
		}
		pow10 = j;
	}
	else
	{
		int			t = 0;
		uint64		r = odd;

		while (r % 5 == 0)
		{
			r /= 5;
			t++;
		}
		if (j >= t)
		{
			/* m = r * 2^(j-t) * 10^t */
			q = r;
			for (i = 0; i < j - t; i++)
			{
				if (q > PG_UINT64_MAX / 2)
					return 0;
				q *= 2;
			}
			pow10 = t;
		}
		else
		{
			/* m = r * 5^(t-j) * 10^j */
			q = r;
			for (i = 0; i < t - j; i++)
			{
				if (q > PG_UINT64_MAX / 5)
					return 0;
				q *= 5;
			}
			pow10 = j;
		}
	}
	n = pg_ulltoa_n(q, buf);
	buf[n] = '\0';
	/* q has no factor 10, so no trailing zeros */
	memcpy(digits, buf, n + 1);
	*exp = n - 1 + pow10;
	return n;
}

/*
 * Java (JDK 19+) picks, among the decimals that round to v, those of the
 * minimal length (at least two digits considered when one would do) and of
 * them the closest to v.  PG's shortest-decimal code never returns a bound
 * of the rounding interval, but under round-half-even a bound belongs to it
 * when v's significand is even, and a bound can be much shorter (1.0E23,
 * 3.0E10f).  So the bounds (the exact midpoints to the neighbours) are
 * checked for a shorter exact decimal.
 */
static void
java_number(StringInfo out, double v, const char *shortest, bool is_float)
{
	char		digits[64];
	int			exp;
	int			n;
	double		a = fabs(v);
	uint64		mant;
	int			e;				/* a = mant * 2^e */
	bool		min_normal;

	n = parse_decimal(shortest, digits, &exp);
	if (is_float)
	{
		union
		{
			float		f;
			uint32		u;
		}			fb;
		int			eb;

		fb.f = (float) a;
		eb = (fb.u >> 23) & 0xFF;
		mant = fb.u & 0x7FFFFF;
		min_normal = (mant == 0 && eb > 1);
		if (eb == 0)
			e = -149;
		else
		{
			mant |= UINT64CONST(1) << 23;
			e = eb - 150;
		}
	}
	else
	{
		union
		{
			double		d;
			uint64		u;
		}			db;
		int			eb;

		db.d = a;
		eb = (int) ((db.u >> 52) & 0x7FF);
		mant = db.u & UINT64CONST(0xFFFFFFFFFFFFF);
		min_normal = (mant == 0 && eb > 1);
		if (eb == 0)
			e = -1074;
		else
		{
			mant |= UINT64CONST(1) << 52;
			e = eb - 1075;
		}
	}
	if ((mant & 1) == 0 && n > 1 && a != 0)
	{
		char		bd[24];
		int			bexp;
		int			m;

		/* upper bound (2M+1) * 2^(e-1) */
		m = exact_short_decimal(2 * mant + 1, e - 1, bd, &bexp);
		if (m > 0 && m < n)
		{
			memcpy(digits, bd, m + 1);
			n = m;
			exp = bexp;
		}
		/* lower bound: the gap below a power of two is half as wide */
		if (min_normal)
			m = exact_short_decimal(4 * mant - 1, e - 2, bd, &bexp);
		else
			m = exact_short_decimal(2 * mant - 1, e - 1, bd, &bexp);
		if (m > 0 && m < n)
		{
			memcpy(digits, bd, m + 1);
			n = m;
			exp = bexp;
		}
	}
	if (n == 1)
	{
		char		two[64];

		snprintf(two, sizeof(two), "%.1e", a);
		n = parse_decimal(two, digits, &exp);
	}
	java_layout(out, signbit(v) != 0, digits, n, exp);
}

void
ferry_java_double(StringInfo out, double d)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (isnan(d))
		ferry_append_lit(out, "\"NaN\"");
	else if (isinf(d))
		appendStringInfoString(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
	{
		double_to_shortest_decimal_buf(d, buf);
		java_number(out, d, buf, false);
	}
}

void
ferry_java_float(StringInfo out, float f)
{
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

	if (isnan(f))
		ferry_append_lit(out, "\"NaN\"");
	else if (isinf(f))
		appendStringInfoString(out, f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
	{
		float_to_shortest_decimal_buf(f, buf);
		java_number(out, (double) f, buf, true);
	}
}

/* ---------------------------------------------------------------------
 * Topic names, Java String.hashCode and HashMap iteration order
 * ---------------------------------------------------------------------
 */

/*
 * Debezium's topic sanitising: every UTF-16 unit outside [A-Za-z0-9._-]
 * becomes '_' (a supplementary character is two units), at most 249 chars.
 */
void
ferry_sanitize_topic(StringInfo out, const char *s)
{
	int			start = out->len;
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		unsigned char c = *p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
		{
			ferry_append_char(out, c);
			p++;
		}
		else if (c < 0x80)
		{
			ferry_append_char(out, '_');
			p++;
		}
		else
		{
			int			l = pg_utf_mblen(p);

			ferry_append_char(out, '_');
			if (l == 4)
				ferry_append_char(out, '_');
			while (l-- > 0 && *p)
				p++;
		}
	}
	if (out->len - start > 249)
	{
		out->len = start + 249;
		out->data[out->len] = '\0';
	}
	if (strcmp(out->data + start, ".") == 0 || strcmp(out->data + start, "..") == 0)
	{
		out->len = start;
		ferry_append_char(out, '_');
	}
}

/* java.lang.String.hashCode of UTF-8 text, over UTF-16 code units */
int
ferry_java_string_hash(const char *s, int len)
{
	uint32		h = 0;
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		pg_wchar	cp;
		int			l = pg_utf_mblen(p);

		if (l > end - p)
			l = end - p;
		cp = utf8_to_unicode(p);
		p += l;
		if (cp > 0xFFFF)
		{
			cp -= 0x10000;
			h = h * 31 + (0xD800 + (cp >> 10));
			h = h * 31 + (0xDC00 + (cp & 0x3FF));
		}
		else
			h = h * 31 + cp;
	}
	return (int) h;
}

/*
 * Iteration order of a java.util.HashMap<String,…> filled with keys[0..n)
 * in that order (keys distinct): by bucket of the final table size, ties in
 * insertion order (resizes keep the relative order within a bucket).
 * Returns a palloc'd permutation.
 */
int *
ferry_java_hashmap_order(const char **keys, const int *lens, int n)
{
	int			cap = 16;
	int		   *bucket = palloc(sizeof(int) * (n + 1));
	int		   *order = palloc(sizeof(int) * (n + 1));
	int			i,
				j;

	while (n > cap * 3 / 4)
		cap *= 2;
	for (i = 0; i < n; i++)
	{
		uint32		h = (uint32) ferry_java_string_hash(keys[i], lens[i]);

		h ^= h >> 16;
		bucket[i] = h & (cap - 1);
		order[i] = i;
	}
	/* insertion sort: stable, n is small */
	for (i = 1; i < n; i++)
	{
		int			v = order[i];

		for (j = i - 1; j >= 0 && bucket[order[j]] > bucket[v]; j--)
			order[j + 1] = order[j];
		order[j + 1] = v;
	}
	pfree(bucket);
	return order;
}

/* ---------------------------------------------------------------------
 * Decimals: Java BigInteger.toByteArray of an unscaled value
 * ---------------------------------------------------------------------
 */

/*
 * digits: decimal digits of the magnitude (leading zeros allowed).
 * Appends the minimal big-endian two's complement bytes to 'bytes'.
 */
void
ferry_decimal_bytes(StringInfo bytes, const char *digits, bool negative)
{
	int			nd = strlen(digits);
	int		   *num = palloc(sizeof(int) * (nd + 1));
	unsigned char *mag = palloc(nd / 2 + 2);
	int			nmag = 0;
	int			start = 0;
	int			i;

	for (i = 0; i < nd; i++)
		num[i] = digits[i] - '0';
	while (start < nd && num[start] == 0)
		start++;
	/* repeated division by 256, least significant byte first */
	while (start < nd)
	{
		int			rem = 0;

		for (i = start; i < nd; i++)
		{
			int			cur = rem * 10 + num[i];

			num[i] = cur / 256;
			rem = cur % 256;
		}
		mag[nmag++] = (unsigned char) rem;
		while (start < nd && num[start] == 0)
			start++;
	}
	/* mag is little-endian now */
	if (!negative || nmag == 0)
	{
		if (nmag == 0 || (mag[nmag - 1] & 0x80))
			ferry_append_char(bytes, 0);
		for (i = nmag - 1; i >= 0; i--)
			ferry_append_char(bytes, (char) mag[i]);
	}
	else
	{
		int			carry = 1;

		for (i = 0; i < nmag; i++)
		{
			int			v = ((~mag[i]) & 0xFF) + carry;

			mag[i] = (unsigned char) (v & 0xFF);
			carry = v >> 8;
		}
		if (!(mag[nmag - 1] & 0x80))
			ferry_append_char(bytes, (char) 0xFF);
		for (i = nmag - 1; i >= 0; i--)
			ferry_append_char(bytes, (char) mag[i]);
	}
	pfree(num);
	pfree(mag);
}

static void
write_unscaled_base64(StringInfo out, const char *digits, bool negative)
{
	StringInfoData b;
	int			nd = strlen(digits);

	if (nd <= 18)
	{
		/* fits an int64: BigInteger.toByteArray is its minimal two's complement */
		int64		v = 0;
		unsigned char bytes[8];
		int			n = 1;
		int			i;

		for (i = 0; i < nd; i++)
			v = v * 10 + (digits[i] - '0');
		if (negative)
			v = -v;
		while (n < 8 && !(v >= -(INT64CONST(1) << (8 * n - 1)) &&
						  v < (INT64CONST(1) << (8 * n - 1))))
			n++;
		for (i = 0; i < n; i++)
			bytes[i] = (unsigned char) ((uint64) v >> (8 * (n - 1 - i)));
		ferry_base64(out, bytes, n, false);
		return;
	}

	initStringInfo(&b);
	ferry_decimal_bytes(&b, digits, negative);
	ferry_base64(out, (unsigned char *) b.data, b.len, false);
	pfree(b.data);
}

/*
 * Split numeric text ("-12.340") into sign, integer digits and fraction
 * digits (pointers into a palloc'd copy).
 */
static void
split_numeric_text(char *txt, bool *neg, char **intpart, char **frac)
{
	char	   *dot;

	*neg = false;
	if (*txt == '-')
	{
		*neg = true;
		txt++;
	}
	*intpart = txt;
	dot = strchr(txt, '.');
	if (dot)
	{
		*dot = '\0';
		*frac = dot + 1;
	}
	else
		*frac = txt + strlen(txt);
}

/* numeric(p,s) in decimal.handling.mode=precise */
static void
write_decimal_precise(StringInfo out, char *txt, int scale, bool hdr)
{
	bool		neg;
	char	   *ip,
			   *fp;
	StringInfoData d;
	int			flen;
	int			i;

	if (hdr)
	{
		/* BigDecimal.toString in a header struct */
		appendStringInfoString(out, txt);
		return;
	}
	split_numeric_text(txt, &neg, &ip, &fp);
	flen = strlen(fp);
	{
		int			ilen = strlen(ip);

		if (scale >= 0 && ilen + scale < 64)
		{
			char		buf[64];

			memcpy(buf, ip, ilen);
			for (i = 0; i < scale; i++)
				buf[ilen + i] = i < flen ? fp[i] : '0';
			buf[ilen + scale] = '\0';
			write_unscaled_base64(out, buf, neg);
			return;
		}
	}
	initStringInfo(&d);
	appendStringInfoString(&d, ip);
	for (i = 0; i < scale; i++)
		ferry_append_char(&d, i < flen ? fp[i] : '0');
	write_unscaled_base64(out, d.data, neg);
	pfree(d.data);
}

/* numeric without typmod: VariableScaleDecimal with stripped trailing zeros */
static void
write_vardecimal(StringInfo out, char *txt, bool hdr)
{
	bool		neg;
	char	   *ip,
			   *fp;
	int			flen;
	StringInfoData d;

	split_numeric_text(txt, &neg, &ip, &fp);
	flen = strlen(fp);
	while (flen > 0 && fp[flen - 1] == '0')
		flen--;
	initStringInfo(&d);
	appendStringInfoString(&d, ip);
	ferry_append_bin(&d, fp, flen);
	appendStringInfo(out, hdr ? "{\"scale\":%d,\"value\":" : "{\"scale\":%d,\"value\":", flen);
	write_unscaled_base64(out, d.data, neg);
	ferry_append_char(out, '}');
	pfree(d.data);
}

static void
write_numeric(StringInfo out, FerryOptions *opts, FerryType *t, Numeric num, bool hdr)
{
	char	   *txt = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));

	if (numeric_is_nan(num) || numeric_is_inf(num))
	{
		bool		nan = numeric_is_nan(num);
		bool		neg = txt[0] == '-';

		switch (opts->decimal_mode)
		{
			case FERRY_DECIMAL_PRECISE:
				/* Debezium cannot convert it and leaves the field null */
				ferry_append_lit(out, "null");
				break;
			case FERRY_DECIMAL_DOUBLE:
				appendStringInfoString(out, nan ? "\"NaN\"" : neg ? "\"-Infinity\"" : "\"Infinity\"");
				break;
			case FERRY_DECIMAL_STRING:
				appendStringInfoString(out, nan ? "\"NAN\"" : neg ? "\"NEGATIVE_INFINITY\"" : "\"POSITIVE_INFINITY\"");
				break;
		}
		return;
	}
	switch (opts->decimal_mode)
	{
		case FERRY_DECIMAL_PRECISE:
			if (t->kind == FK_DECIMAL)
				write_decimal_precise(out, txt, t->scale, hdr);
			else
				write_vardecimal(out, txt, hdr);
			break;
		case FERRY_DECIMAL_DOUBLE:
			ferry_java_double(out, strtod(txt, NULL));
			break;
		case FERRY_DECIMAL_STRING:
			write_string(out, txt, strlen(txt), hdr);
			break;
	}
	pfree(txt);
}

/* ---------------------------------------------------------------------
 * Temporal values
 * ---------------------------------------------------------------------
 */

/* v (>= 0) as exactly width digits, zero padded */
static inline void
put_padded(char *p, int v, int width)
{
	int			i;

	for (i = width - 1; i >= 0; i--)
	{
		p[i] = '0' + v % 10;
		v /= 10;
	}
}

static void
append_fraction(StringInfo out, int64 usec, int digits, bool strip)
{
	char		buf[16];
	int			n;

	/* usec has 6 digits; ZonedTimestamp pads to the column precision */
	put_padded(buf, (int) usec, 6);
	memcpy(buf + 6, "000", 4);
	n = digits;
	if (strip)
	{
		n = 9;
		while (n > 0 && buf[n - 1] == '0')
			n--;
	}
	if (n > 0)
	{
		ferry_append_char(out, '.');
		ferry_append_bin(out, buf, n);
	}
}

/* HH:mm:ss[.fff] of µs since midnight */
static void
append_time_of_day(StringInfo out, int64 us, int digits, bool strip)
{
	int64		secs = us / USECS_PER_SEC;

	if (secs / 3600 < 100)
	{
		char		buf[8];

		put_padded(buf, (int) (secs / 3600), 2);
		buf[2] = ':';
		put_padded(buf + 3, (int) (secs / 60 % 60), 2);
		buf[5] = ':';
		put_padded(buf + 6, (int) (secs % 60), 2);
		ferry_append_bin(out, buf, 8);
	}
	else
		appendStringInfo(out, "%02d:%02d:%02d",
						 (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60));
	append_fraction(out, us % USECS_PER_SEC, digits, strip);
}

/* ZonedTimestamp: UTC, exactly p fractional digits (p = 0: Java ISO form) */
static void
write_zoned_timestamp(StringInfo out, TimestampTz ts, int precision)
{
	int64		days;
	int64		tod;
	int			y,
				m,
				d;

	if (TIMESTAMP_IS_NOBEGIN(ts))
	{
		ferry_append_lit(out, "\"-infinity\"");
		return;
	}
	if (TIMESTAMP_IS_NOEND(ts))
	{
		ferry_append_lit(out, "\"infinity\"");
		return;
	}
	days = ts / USECS_PER_DAY;
	tod = ts % USECS_PER_DAY;
	if (tod < 0)
	{
		tod += USECS_PER_DAY;
		days--;
	}
	j2date((int) (days + POSTGRES_EPOCH_JDATE), &y, &m, &d);
	ferry_append_char(out, '"');
	if (y > 9999)
		appendStringInfo(out, "+%d", y);
	else if (y < 0)
		appendStringInfo(out, "-%04d", -y);
	else
	{
		char		buf[4];

		put_padded(buf, y, 4);
		ferry_append_bin(out, buf, 4);
	}
	{
		char		buf[7];

		buf[0] = '-';
		put_padded(buf + 1, m, 2);
		buf[3] = '-';
		put_padded(buf + 4, d, 2);
		buf[6] = 'T';
		ferry_append_bin(out, buf, 7);
	}
	append_time_of_day(out, tod, precision, precision == 0);
	ferry_append_lit(out, "Z\"");
}

/* JSON value of an interval in MicroDuration (numeric) mode */
static void
write_interval(StringInfo out, FerryOptions *opts, Interval *iv)
{
	int			years = iv->month / 12;
	int			months = iv->month % 12;
	int64		t = iv->time;
	int64		at = t < 0 ? -t : t;
	int			sign = t < 0 ? -1 : 1;
	int64		hours = sign * (at / USECS_PER_HOUR);
	int64		minutes = sign * ((at / USECS_PER_MINUTE) % 60);
	int64		wsecs = sign * ((at / USECS_PER_SEC) % 60);
	int64		usecs = sign * (at % USECS_PER_SEC);

	if (opts->interval_mode == FERRY_INTERVAL_NUMERIC)
	{
		/* the exact double expression of io.debezium.time.MicroDuration */
		double		seconds = (double) wsecs + (double) usecs / 1000000.0;
		double		ndays = ((double) (years * 12 + months)) * (365.25 / 12.0) + iv->day;
		double		nsecs = (((ndays * 24 + hours) * 60) + minutes) * 60 + seconds;

		double		us = nsecs * 1e6;
		int64		result;

		/* Java's (long) cast saturates */
		if (isnan(us))
			result = 0;
		else if (us >= 9223372036854775807.0)
			result = PG_INT64_MAX;
		else if (us <= -9223372036854775808.0)
			result = PG_INT64_MIN;
		else
			result = (int64) us;
		append_int64(out, result);
	}
	else
	{
		/* io.debezium.time.Interval: seconds as BigDecimal.toPlainString */
		appendStringInfo(out, "\"P%dY%dM%dDT" INT64_FORMAT "H" INT64_FORMAT "M",
						 years, months, iv->day, hours, minutes);
		if (usecs == 0)
			appendStringInfo(out, INT64_FORMAT, wsecs);
		else
		{
			char		buf[16];
			int			n;

			if (wsecs == 0 && usecs < 0)
				ferry_append_char(out, '-');
			appendStringInfo(out, INT64_FORMAT, wsecs);
			snprintf(buf, sizeof(buf), "%06d", (int) (usecs < 0 ? -usecs : usecs));
			n = 6;
			while (n > 0 && buf[n - 1] == '0')
				n--;
			ferry_append_char(out, '.');
			ferry_append_bin(out, buf, n);
		}
		ferry_append_lit(out, "S\"");
	}
}

/* ---------------------------------------------------------------------
 * hstore: parse the text form, emit a Java HashMap as Jackson JSON
 * ---------------------------------------------------------------------
 */

/* parse one "…" token or NULL; returns false on NULL */
static bool
hstore_token(const char **pp, StringInfo tok)
{
	const char *p = *pp;

	resetStringInfo(tok);
	while (*p == ' ' || *p == ',')
		p++;
	if (*p == '"')
	{
		p++;
		while (*p && *p != '"')
		{
			if (*p == '\\' && p[1])
				p++;
			ferry_append_char(tok, *p++);
		}
		if (*p == '"')
			p++;
		*pp = p;
		return true;
	}
	/* unquoted NULL */
	while (*p && *p != ',' && *p != ' ')
		p++;
	*pp = p;
	return false;
}

static void
write_hstore(StringInfo out, const char *txt, bool as_map)
{
	const char *p = txt;
	int			cap = 8,
				n = 0;
	const char **keys = palloc(sizeof(char *) * cap);
	int		   *klens = palloc(sizeof(int) * cap);
	char	  **vals = palloc(sizeof(char *) * cap);
	int		   *vlens = palloc(sizeof(int) * cap);
	int		   *order;
	StringInfoData tok;
	StringInfoData js;
	int			i;

	initStringInfo(&tok);
	while (*p)
	{
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		if (n == cap)
		{
			cap *= 2;
			keys = repalloc(keys, sizeof(char *) * cap);
			klens = repalloc(klens, sizeof(int) * cap);
			vals = repalloc(vals, sizeof(char *) * cap);
			vlens = repalloc(vlens, sizeof(int) * cap);
		}
		hstore_token(&p, &tok);
		keys[n] = pnstrdup(tok.data, tok.len);
		klens[n] = tok.len;
		while (*p == ' ' || *p == '=' || *p == '>')
			p++;
		if (hstore_token(&p, &tok))
		{
			vals[n] = pnstrdup(tok.data, tok.len);
			vlens[n] = tok.len;
		}
		else
		{
			vals[n] = NULL;
			vlens[n] = 0;
		}
		n++;
	}
	order = ferry_java_hashmap_order(keys, klens, n);
	initStringInfo(&js);
	ferry_append_char(&js, '{');
	for (i = 0; i < n; i++)
	{
		int			k = order[i];

		if (i > 0)
			ferry_append_char(&js, ',');
		ferry_json_string(&js, keys[k], klens[k]);
		ferry_append_char(&js, ':');
		if (vals[k])
			ferry_json_string(&js, vals[k], vlens[k]);
		else
			ferry_append_lit(&js, "null");
	}
	ferry_append_char(&js, '}');
	if (as_map)
		ferry_append_bin(out, js.data, js.len);
	else
		ferry_json_string(out, js.data, js.len);
}

/*
 * tstzrange as PostgreSQL prints it with TimeZone UTC and DateStyle ISO,
 * whatever the session's settings (Debezium's connection runs in the JVM's
 * zone, UTC in the reference setup).
 */
static void
append_utc_timestamptz(StringInfo buf, TimestampTz ts)
{
	char		str[MAXDATELEN + 1];
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts))
		EncodeSpecialTimestamp(ts, str);
	else if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) == 0)
	{
		tm.tm_isdst = 0;		/* else the offset is not printed */
		EncodeDateTime(&tm, fsec, true, 0, NULL, USE_ISO_DATES, str);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	/* range_out quotes a bound with a space (every finite timestamp) */
	if (strchr(str, ' '))
	{
		ferry_append_char(buf, '"');
		appendStringInfoString(buf, str);
		ferry_append_char(buf, '"');
	}
	else
		appendStringInfoString(buf, str);
}

static void
write_tstzrange(StringInfo out, Datum d, bool hdr)
{
	RangeType  *r = DatumGetRangeTypeP(d);
	TypeCacheEntry *typcache = lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO);
	RangeBound	lower;
	RangeBound	upper;
	bool		empty;
	StringInfoData buf;

	range_deserialize(typcache, r, &lower, &upper, &empty);
	initStringInfo(&buf);
	if (empty)
		ferry_append_lit(&buf, "empty");
	else
	{
		ferry_append_char(&buf, lower.inclusive ? '[' : '(');
		if (!lower.infinite)
			append_utc_timestamptz(&buf, DatumGetTimestampTz(lower.val));
		ferry_append_char(&buf, ',');
		if (!upper.infinite)
			append_utc_timestamptz(&buf, DatumGetTimestampTz(upper.val));
		ferry_append_char(&buf, upper.inclusive ? ']' : ')');
	}
	write_string(out, buf.data, buf.len, hdr);
	pfree(buf.data);
}

/* ---------------------------------------------------------------------
 * Values
 * ---------------------------------------------------------------------
 */

static const char *
enum_label(FerryType *t, Oid label)
{
	int			lo = 0,
				hi = t->nlabels - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (t->label_oids[mid] == label)
			return t->labels[mid];
		if (t->label_oids[mid] < label)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static void
write_bits(StringInfo out, VarBit *vb)
{
	int			nbits = VARBITLEN(vb);
	int			nbytes = (nbits + 7) / 8;
	unsigned char *le = palloc0(nbytes + 1);
	bits8	   *src = VARBITS(vb);
	int			i;

	/* character i from the left is bit (nbits - 1 - i) of the number */
	for (i = 0; i < nbits; i++)
	{
		if (src[i / 8] & (0x80 >> (i % 8)))
		{
			int			b = nbits - 1 - i;

			le[b / 8] |= (1 << (b % 8));
		}
	}
	while (nbytes > 0 && le[nbytes - 1] == 0)
		nbytes--;
	ferry_base64(out, le, nbytes, false);
	pfree(le);
}

static void
write_point(StringInfo out, Point *pt)
{
	unsigned char wkb[21];
	union
	{
		double		d;
		uint64		u;
	}			cv;
	int			i;

	wkb[0] = 1;
	wkb[1] = 1;
	wkb[2] = wkb[3] = wkb[4] = 0;
	cv.d = pt->x;
	for (i = 0; i < 8; i++)
		wkb[5 + i] = (cv.u >> (8 * i)) & 0xFF;
	cv.d = pt->y;
	for (i = 0; i < 8; i++)
		wkb[13 + i] = (cv.u >> (8 * i)) & 0xFF;
	ferry_append_lit(out, "{\"x\":");
	ferry_java_double(out, pt->x);
	ferry_append_lit(out, ",\"y\":");
	ferry_java_double(out, pt->y);
	ferry_append_lit(out, ",\"wkb\":");
	ferry_base64(out, wkb, 21, false);
	ferry_append_lit(out, ",\"srid\":null}");
}

static void
write_array(StringInfo out, FerryOptions *opts, FerryType *t, Datum d, bool hdr)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;

	deconstruct_array(arr, t->elemtypid, t->elmlen, t->elmbyval, t->elmalign,
					  &elems, &nulls, &n);
	ferry_append_char(out, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			ferry_append_char(out, ',');
		if (nulls[i])
			ferry_append_lit(out, "null");
		else
			ferry_encode_value(out, opts, t->elem, elems[i], hdr);
	}
	ferry_append_char(out, ']');
}

/*
 * Append the JSON of one non-null, detoastable value of type t.  hdr
 * selects the Kafka Connect header form (SimpleHeaderConverter).
 */
void
ferry_encode_value(StringInfo out, FerryOptions *opts, FerryType *t, Datum d, bool hdr)
{
	switch (t->kind)
	{
		case FK_BOOL:
			appendStringInfoString(out, DatumGetBool(d) ? "true" : "false");
			break;
		case FK_INT16:
			append_int64(out, DatumGetInt16(d));
			break;
		case FK_INT32:
			append_int64(out, DatumGetInt32(d));
			break;
		case FK_INT64:
			append_int64(out, DatumGetInt64(d));
			break;
		case FK_OID:
			append_int64(out, (int64) DatumGetObjectId(d));
			break;
		case FK_FLOAT32:
			ferry_java_float(out, DatumGetFloat4(d));
			break;
		case FK_FLOAT64:
			ferry_java_double(out, DatumGetFloat8(d));
			break;
		case FK_DECIMAL:
		case FK_VARDECIMAL:
			write_numeric(out, opts, t, DatumGetNumeric(d), hdr);
			break;
		case FK_MONEY:
			{
				Cash		c = DatumGetCash(d);
				char		buf[32];
				uint64		mag = c < 0 ? -(uint64) c : (uint64) c;

				if (opts->decimal_mode == FERRY_DECIMAL_DOUBLE)
					ferry_java_double(out, (double) c / 100.0);
				else if (opts->decimal_mode == FERRY_DECIMAL_STRING || hdr)
				{
					snprintf(buf, sizeof(buf), "%s" UINT64_FORMAT ".%02d",
							 c < 0 ? "-" : "", mag / 100, (int) (mag % 100));
					if (hdr)
						appendStringInfoString(out, buf);
					else
						ferry_json_cstring(out, buf);
				}
				else
				{
					snprintf(buf, sizeof(buf), UINT64_FORMAT, mag);
					write_unscaled_base64(out, buf, c < 0);
				}
				break;
			}
		case FK_TEXT:
			{
				text	   *txt = DatumGetTextPP(d);

				write_string(out, VARDATA_ANY(txt), VARSIZE_ANY_EXHDR(txt), hdr);
				break;
			}
		case FK_NAME:
			{
				Name		nm = DatumGetName(d);

				/*
				 * Debezium 3.6.1 maps name to a string but its pgoutput path has
				 * no converter for it: streamed values pass only as "unknown
				 * data".  Snapshot reads (JDBC) get the string.
				 */
				if (opts->include_unknown || opts->in_snapshot)
					write_string(out, NameStr(*nm), strlen(NameStr(*nm)), hdr);
				else
					ferry_append_lit(out, "null");
				break;
			}
		case FK_OUTSTR:
			if (t->typid == TSTZRANGEOID)
			{
				write_tstzrange(out, d, hdr);
				break;
			}
			{
				char	   *s = OutputFunctionCall(&t->outfunc, d);

				write_string(out, s, strlen(s), hdr);
				pfree(s);
				break;
			}
		case FK_UNKNOWN:
			{
				char	   *s = OutputFunctionCall(&t->outfunc, d);

				if (t->geometric)
				{
					/* pgjdbc's PGbox etc. print their numbers as Java doubles */
					StringInfoData g;
					char	   *p = s;

					initStringInfo(&g);
					while (*p)
					{
						if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '.')
						{
							char	   *end;
							double		v = strtod(p, &end);

							if (end > p)
							{
								ferry_java_double(&g, v);
								p = end;
								continue;
							}
						}
						ferry_append_char(&g, *p++);
					}
					write_binary(out, opts, (unsigned char *) g.data, g.len);
					pfree(g.data);
				}
				else
					write_binary(out, opts, (unsigned char *) s, strlen(s));
				pfree(s);
				break;
			}
		case FK_BYTEA:
			{
				bytea	   *b = DatumGetByteaPP(d);

				write_binary(out, opts, (unsigned char *) VARDATA_ANY(b),
							 VARSIZE_ANY_EXHDR(b));
				break;
			}
		case FK_UUID:
			{
				pg_uuid_t  *u = DatumGetUUIDP(d);
				int			i;

				ferry_append_char(out, '"');
				for (i = 0; i < UUID_LEN; i++)
				{
					if (i == 4 || i == 6 || i == 8 || i == 10)
						ferry_append_char(out, '-');
					ferry_append_char(out, hexdigits_lower[u->data[i] >> 4]);
					ferry_append_char(out, hexdigits_lower[u->data[i] & 0xF]);
				}
				ferry_append_char(out, '"');
				break;
			}
		case FK_DATE:
			{
				DateADT		dt = DatumGetDateADT(d);

				/* LocalDate of Debezium's infinity stand-ins, as epoch days */
				if (DATE_IS_NOEND(dt))
					ferry_append_lit(out, "-2147472692");
				else if (DATE_IS_NOBEGIN(dt))
					ferry_append_lit(out, "-2147472691");
				else
					append_int64(out, (int64) dt + UNIX_PG_EPOCH_DIFF_DAYS);
				break;
			}
		case FK_TIME:
			{
				TimeADT		tm = DatumGetTimeADT(d);

				if (t->millis)
					append_int64(out, tm / 1000);
				else
					append_int64(out, tm);
				break;
			}
		case FK_TIMESTAMP:
			{
				Timestamp	ts = DatumGetTimestamp(d);
				int64		us;

				if (TIMESTAMP_IS_NOEND(ts))
					us = INT64CONST(9223372036825200000);
				else if (TIMESTAMP_IS_NOBEGIN(ts))
					us = INT64CONST(-9223372036832400000);
				else
					us = ts + UNIX_PG_EPOCH_DIFF_US;
				if (t->millis)
				{
					int64		ms = us / 1000;

					if (us % 1000 < 0)
						ms--;
					append_int64(out, ms);
				}
				else
					append_int64(out, us);
				break;
			}
		case FK_TIMESTAMPTZ:
			write_zoned_timestamp(out, DatumGetTimestampTz(d), t->precision);
			break;
		case FK_TIMETZ:
			{
				TimeTzADT  *tz = DatumGetTimeTzADTP(d);
				int64		us = (tz->time + (int64) tz->zone * USECS_PER_SEC) % USECS_PER_DAY;

				if (us < 0)
					us += USECS_PER_DAY;
				ferry_append_char(out, '"');
				append_time_of_day(out, us, 0, true);
				ferry_append_lit(out, "Z\"");
				break;
			}
		case FK_INTERVAL:
			write_interval(out, opts, DatumGetIntervalP(d));
			break;
		case FK_BIT_BOOL:
			{
				VarBit	   *vb = DatumGetVarBitP(d);

				appendStringInfoString(out,
									   (VARBITLEN(vb) > 0 && (VARBITS(vb)[0] & 0x80)) ? "true" : "false");
				break;
			}
		case FK_BITS:
			write_bits(out, DatumGetVarBitP(d));
			break;
		case FK_ENUM:
			{
				const char *l = enum_label(t, DatumGetObjectId(d));
				char	   *s = NULL;

				if (l == NULL)
					l = s = OutputFunctionCall(&t->outfunc, d);
				write_string(out, l, strlen(l), hdr);
				if (s)
					pfree(s);
				break;
			}
		case FK_HSTORE:
			{
				char	   *s = OutputFunctionCall(&t->outfunc, d);

				write_hstore(out, s, opts->hstore_mode == FERRY_HSTORE_MAP);
				pfree(s);
				break;
			}
		case FK_POINT:
			write_point(out, DatumGetPointP(d));
			break;
		case FK_ARRAY:
			write_array(out, opts, t, d, hdr);
			break;
		case FK_ALWAYS_NULL:
			ferry_append_lit(out, "null");
			break;
	}
}

/* The marker of an unchanged TOASTed value (Debezium §7, errata 5) */
void
ferry_write_toast(StringInfo out, FerryOptions *opts, FerryType *t)
{
	/* Debezium's string marker is new String(bytes) of the decoded value */
	const char *ph = opts->placeholder_bytes;
	const unsigned char *pb = (const unsigned char *) opts->placeholder_bytes;
	int			pl = opts->placeholder_len;
	int			i;

	switch (t->toast)
	{
		case FT_NULL:
			ferry_append_lit(out, "null");
			break;
		case FT_STRING:
			ferry_json_cstring(out, ph);
			break;
		case FT_BYTES:
			/* bytes: the placeholder's bytes; hex: the string; base64: null */
			if (opts->binary_mode == FERRY_BINARY_BYTES)
				ferry_base64(out, pb, pl, false);
			else if (opts->binary_mode == FERRY_BINARY_HEX)
				ferry_json_cstring(out, ph);
			else
				ferry_append_lit(out, "null");
			break;
		case FT_TEXT_ARRAY:
			ferry_append_char(out, '[');
			ferry_json_cstring(out, ph);
			ferry_append_char(out, ']');
			break;
		case FT_BYTES_ARRAY:
			ferry_append_char(out, '[');
			ferry_base64(out, pb, pl, false);
			ferry_append_char(out, ']');
			break;
		case FT_INT_ARRAY:
			/* Java bytes are signed */
			ferry_append_char(out, '[');
			for (i = 0; i < pl; i++)
				appendStringInfo(out, "%s%d", i ? "," : "", (int) (signed char) pb[i]);
			ferry_append_char(out, ']');
			break;
		case FT_HSTORE:
			{
				StringInfoData m;

				initStringInfo(&m);
				ferry_append_char(&m, '{');
				ferry_json_cstring(&m, ph);
				ferry_append_char(&m, ':');
				ferry_json_cstring(&m, ph);
				ferry_append_char(&m, '}');
				if (opts->hstore_mode == FERRY_HSTORE_MAP)
					ferry_append_bin(out, m.data, m.len);
				else
					ferry_json_string(out, m.data, m.len);
				pfree(m.data);
				break;
			}
		case FT_UUID_ARRAY:
			if (opts->placeholder_uuid[0] == '\0')
			{
				/* java.util.UUID.nameUUIDFromBytes: MD5, version 3 */
				unsigned char md5[16];
				const char *errstr = NULL;
				int			j = 0;

				if (!pg_md5_binary(pb, pl, md5, &errstr))
					elog(ERROR, "could not compute MD5: %s", errstr ? errstr : "unknown error");
				md5[6] = (md5[6] & 0x0F) | 0x30;
				md5[8] = (md5[8] & 0x3F) | 0x80;
				for (i = 0; i < 16; i++)
				{
					if (i == 4 || i == 6 || i == 8 || i == 10)
						opts->placeholder_uuid[j++] = '-';
					opts->placeholder_uuid[j++] = hexdigits_lower[md5[i] >> 4];
					opts->placeholder_uuid[j++] = hexdigits_lower[md5[i] & 0xF];
				}
				opts->placeholder_uuid[j] = '\0';
			}
			appendStringInfo(out, "[\"%s\"]", opts->placeholder_uuid);
			break;
	}
}

/* ---------------------------------------------------------------------
 * Schemas
 * ---------------------------------------------------------------------
 */

void
ferry_write_field_schema(StringInfo out, FerryType *t, bool optional,
						 const char *defjson, const char *field)
{
	appendStringInfo(out, "{\"type\":\"%s\"", t->type);
	if (t->inner)
	{
		ferry_append_char(out, ',');
		appendStringInfoString(out, t->inner);
	}
	appendStringInfoString(out, optional ? ",\"optional\":true" : ",\"optional\":false");
	if (t->name)
	{
		ferry_append_lit(out, ",\"name\":");
		ferry_json_cstring(out, t->name);
	}
	if (t->version)
		appendStringInfo(out, ",\"version\":%d", t->version);
	if (t->doc)
	{
		ferry_append_lit(out, ",\"doc\":");
		ferry_json_cstring(out, t->doc);
	}
	if (t->params)
	{
		ferry_append_lit(out, ",\"parameters\":");
		appendStringInfoString(out, t->params);
	}
	if (defjson)
	{
		ferry_append_lit(out, ",\"default\":");
		appendStringInfoString(out, defjson);
	}
	if (field)
	{
		ferry_append_lit(out, ",\"field\":");
		ferry_json_cstring(out, field);
	}
	ferry_append_char(out, '}');
}

const char *
ferry_source_schema(void)
{
	return "{\"type\":\"struct\",\"fields\":["
		"{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
		"{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
		"{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
		"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
		"{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
		"\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"},"
		"\"default\":\"false\",\"field\":\"snapshot\"},"
		"{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
		"{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
		"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
		"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
		"{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
		"{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
		"{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
		"{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"
		"{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"},"
		"{\"type\":\"string\",\"optional\":true,\"field\":\"origin\"},"
		"{\"type\":\"int64\",\"optional\":true,\"field\":\"origin_lsn\"}],"
		"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"version\":1,\"field\":\"source\"}";
}

const char *
ferry_txblock_schema(void)
{
	return "{\"type\":\"struct\",\"fields\":["
		"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
		"{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
		"{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
		"\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}";
}

/* ---------------------------------------------------------------------
 * Rows, keys, source block
 * ---------------------------------------------------------------------
 */

/*
 * A tuple deformed once per encoding (heap_getattr per column would be
 * quadratic on wide rows with variable-length columns).
 */
typedef struct DeformedTuple
{
	Datum	   *values;
	bool	   *nulls;
} DeformedTuple;

/*
 * Between ferry_deform_cache_begin and _end (one change: its tuples do not
 * move), the deformed form of the last few tuples is kept, so a change
 * that encodes a tuple as key, row and TOAST source deforms it once.
 */
#define DEFORM_CACHE 3
static bool deform_cache_on = false;
static int	deform_cache_n = 0;
static struct
{
	HeapTuple	tup;
	TupleDesc	desc;
	DeformedTuple dt;
}			deform_cache[DEFORM_CACHE];

void
ferry_deform_cache_begin(void)
{
	deform_cache_on = true;
	deform_cache_n = 0;
}

void
ferry_deform_cache_end(void)
{
	deform_cache_on = false;
	deform_cache_n = 0;
}

/* returns true if dt is cached (the caller must not free it) */
static bool
deform(DeformedTuple *dt, TupleDesc desc, HeapTuple tup)
{
	int			i;

	if (deform_cache_on)
	{
		for (i = 0; i < deform_cache_n; i++)
		{
			if (deform_cache[i].tup == tup && deform_cache[i].desc == desc)
			{
				*dt = deform_cache[i].dt;
				return true;
			}
		}
	}
	dt->values = palloc(sizeof(Datum) * (desc->natts + 1));
	dt->nulls = palloc(sizeof(bool) * (desc->natts + 1));
	heap_deform_tuple(tup, desc, dt->values, dt->nulls);
	if (deform_cache_on && deform_cache_n < DEFORM_CACHE)
	{
		deform_cache[deform_cache_n].tup = tup;
		deform_cache[deform_cache_n].desc = desc;
		deform_cache[deform_cache_n].dt = *dt;
		deform_cache_n++;
		return true;
	}
	return false;
}

static void
write_column(StringInfo out, FerryOptions *opts, FerryColumn *col, TupleDesc desc,
			 DeformedTuple *cur, DeformedTuple *old, bool hdr)
{
	int			i = col->attnum - 1;
	Datum		d = cur->values[i];

	if (cur->nulls[i])
	{
		/* JsonConverter prints the schema default; NOT NULL gets a fallback */
		if (col->defjson)
			appendStringInfoString(out, col->defjson);
		else if (!col->nullable && col->fallback)
			appendStringInfoString(out, col->fallback);
		else
			ferry_append_lit(out, "null");
		return;
	}
	if (TupleDescAttr(desc, i)->attlen == -1 &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(d)))
	{
		/* unchanged TOAST: FULL identity has the old value */
		if (old && !old->nulls[i] &&
			!VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(old->values[i])))
		{
			ferry_encode_value(out, opts, &col->t, old->values[i], hdr);
			return;
		}
		ferry_write_toast(out, opts, &col->t);
		return;
	}
	ferry_encode_value(out, opts, &col->t, d, hdr);
}

/* {"col":value,…} of the captured columns; oldtup supplies unchanged TOAST */
void
ferry_encode_row(StringInfo out, FerryOptions *opts, FerryRelInfo *ri,
				 TupleDesc desc, HeapTuple tup, HeapTuple oldtup)
{
	DeformedTuple cur;
	DeformedTuple old;
	bool		cur_cached;
	bool		old_cached = true;
	int			i;

	cur_cached = deform(&cur, desc, tup);
	if (oldtup)
		old_cached = deform(&old, desc, oldtup);
	ferry_append_char(out, '{');
	for (i = 0; i < ri->ncols; i++)
	{
		if (i > 0)
			ferry_append_char(out, ',');
		ferry_append_bin(out, ri->cols[i].jkey, ri->cols[i].jkey_len);
		write_column(out, opts, &ri->cols[i], desc, &cur, oldtup ? &old : NULL, false);
	}
	ferry_append_char(out, '}');
	if (!cur_cached)
	{
		pfree(cur.values);
		pfree(cur.nulls);
	}
	if (!old_cached)
	{
		pfree(old.values);
		pfree(old.nulls);
	}
}

/* {"id":…} of the key columns; hdr: header Struct form */
void
ferry_encode_key(StringInfo out, FerryOptions *opts, FerryRelInfo *ri,
				 TupleDesc desc, HeapTuple tup, bool hdr)
{
	DeformedTuple cur;
	bool		cached;
	int			i;

	cached = deform(&cur, desc, tup);
	ferry_append_char(out, '{');
	for (i = 0; i < ri->nkeys; i++)
	{
		if (i > 0)
			ferry_append_char(out, ',');
		if (hdr)
		{
			ferry_hdr_string(out, ri->keys[i].name, strlen(ri->keys[i].name));
			ferry_append_char(out, ':');
		}
		else
			ferry_append_bin(out, ri->keys[i].jkey, ri->keys[i].jkey_len);
		write_column(out, opts, &ri->keys[i], desc, &cur, NULL, hdr);
	}
	ferry_append_char(out, '}');
	if (!cached)
	{
		pfree(cur.values);
		pfree(cur.nulls);
	}
}

/* {"version":…,"connector":…,"name":…,"ts_ms": of the source block */
void
ferry_source_head(StringInfo out, FerryOptions *opts)
{
	ferry_append_lit(out, "{\"version\":\"" FERRY_VERSION "\",\"connector\":\"postgresql\",\"name\":");
	ferry_json_cstring(out, opts->topic_prefix);
	ferry_append_lit(out, ",\"ts_ms\":");
}

/* ,"schema":…,"table":…,"txId": of the source block */
void
ferry_source_st(StringInfo out, const char *schema, const char *table)
{
	ferry_append_lit(out, ",\"schema\":");
	ferry_json_cstring(out, schema);
	ferry_append_lit(out, ",\"table\":");
	ferry_json_cstring(out, table);
	ferry_append_lit(out, ",\"txId\":");
}

void
ferry_write_source(StringInfo out, FerryOptions *opts, const char *dbname,
				   FerrySource *src)
{
	int64		ms = src->ts_us / 1000;

	if (src->ts_us % 1000 < 0)
		ms--;
	ferry_reserve(out, 512);
	if (src->head)
		ferry_append_bin(out, src->head, src->head_len);
	else
		ferry_source_head(out, opts);
	append_int64(out, ms);
	if (src->snapshot)
	{
		ferry_append_lit(out, ",\"snapshot\":\"");
		ferry_append_bin(out, src->snapshot, strlen(src->snapshot));
		ferry_append_lit(out, "\",\"db\":");
	}
	else
		ferry_append_lit(out, ",\"snapshot\":\"false\",\"db\":");
	if (src->db_json)
		ferry_append_bin(out, src->db_json, src->db_json_len);
	else
		ferry_json_cstring(out, dbname);
	ferry_append_lit(out, ",\"sequence\":\"[");
	if (src->has_last_commit)
	{
		ferry_append_lit(out, "\\\"");
		append_int64(out, (int64) src->last_commit);
		ferry_append_lit(out, "\\\",\\\"");
	}
	else
		ferry_append_lit(out, "null,\\\"");
	append_int64(out, (int64) src->lsn);
	ferry_append_lit(out, "\\\"]\",\"ts_us\":");
	append_int64(out, src->ts_us);
	ferry_append_lit(out, ",\"ts_ns\":");
	append_int64(out, src->ts_us * 1000);
	if (src->st_json)
		ferry_append_bin(out, src->st_json, src->st_json_len);
	else
		ferry_source_st(out, src->schema, src->table);
	if (src->has_txid)
		append_int64(out, src->txid);
	else
		ferry_append_lit(out, "null");
	ferry_append_lit(out, ",\"lsn\":");
	append_int64(out, (int64) src->lsn);
	ferry_append_lit(out, ",\"xmin\":null,\"origin\":");
	if (src->origin)
	{
		ferry_json_cstring(out, src->origin);
		ferry_append_lit(out, ",\"origin_lsn\":");
		append_int64(out, (int64) src->origin_lsn);
		ferry_append_char(out, '}');
	}
	else
		ferry_append_lit(out, "null,\"origin_lsn\":null}");
}

void
ferry_write_tx_block(StringInfo out, uint32 xid, uint64 lsn, int64 total, int64 dc_order)
{
	appendStringInfo(out, "{\"id\":\"%u:" UINT64_FORMAT "\",\"total_order\":" INT64_FORMAT
					 ",\"data_collection_order\":" INT64_FORMAT "}",
					 xid, lsn, total, dc_order);
}

/* ---------------------------------------------------------------------
 * Framing (docs/wire-format.md)
 * ---------------------------------------------------------------------
 */

static inline void
put_u16(StringInfo out, uint16 v)
{
	char	   *p;

	ferry_reserve(out, 2);
	p = out->data + out->len;
	p[0] = (char) (v >> 8);
	p[1] = (char) v;
	out->len += 2;
	out->data[out->len] = '\0';
}

static inline void
put_u32(StringInfo out, uint32 v)
{
	char	   *p;

	ferry_reserve(out, 4);
	p = out->data + out->len;
	p[0] = (char) (v >> 24);
	p[1] = (char) (v >> 16);
	p[2] = (char) (v >> 8);
	p[3] = (char) v;
	out->len += 4;
	out->data[out->len] = '\0';
}

static void
put_str16(StringInfo out, const char *s, int len)
{
	if (len > 0xFFFF)
		elog(ERROR, "ferry: string of %d bytes does not fit a str16", len);
	put_u16(out, (uint16) len);
	ferry_append_bin(out, s, len);
}

static void
put_str32(StringInfo out, const char *s, int len)
{
	if (s == NULL)
	{
		put_u32(out, FERRY_WIRE_NULL_LEN);
		return;
	}
	put_u32(out, (uint32) len);
	ferry_append_bin(out, s, len);
}

static inline void
patch_u32(StringInfo out, int lenpos)
{
	uint32		len = out->len - lenpos - 4;

	out->data[lenpos] = (char) (len >> 24);
	out->data[lenpos + 1] = (char) (len >> 16);
	out->data[lenpos + 2] = (char) (len >> 8);
	out->data[lenpos + 3] = (char) len;
}

/* The schema envelope's opening, when there is one; true if written */
static inline bool
kafka_json_open(StringInfo out, FerryOptions *opts, const char *schema, int schema_len)
{
	if (!(opts->schemas_enable && schema))
		return false;
	if (schema_len <= 0)
		schema_len = strlen(schema);
	ferry_reserve(out, schema_len + 24);
	ferry_append_lit(out, "{\"schema\":");
	ferry_append_bin(out, schema, schema_len);
	ferry_append_lit(out, ",\"payload\":");
	return true;
}

/* Kafka bytes of a key or value: schema envelope or bare payload */
static void
write_kafka_json(StringInfo out, FerryOptions *opts, const char *schema, int schema_len,
				 StringInfo payload)
{
	bool		env;

	if (payload == NULL)
	{
		ferry_append_lit(out, "null");
		return;
	}
	env = kafka_json_open(out, opts, schema, schema_len);
	ferry_append_bin(out, payload->data, payload->len);
	if (env)
		ferry_append_char(out, '}');
}

static void
put_kafka_str32(StringInfo out, FerryOptions *opts, const char *schema, int schema_len,
				StringInfo payload)
{
	int			lenpos;

	if (payload == NULL)
	{
		put_u32(out, FERRY_WIRE_NULL_LEN);
		return;
	}
	lenpos = out->len;
	put_u32(out, 0);
	write_kafka_json(out, opts, schema, schema_len, payload);
	patch_u32(out, lenpos);
}

/*
 * Append one record in the session's format up to where the value's
 * payload goes (rec->value is not read); the caller appends the payload
 * JSON and calls ferry_record_end_value with the returned position.
 */
int
ferry_record_begin_value(StringInfo out, FerryOptions *opts, FerryRecord *rec)
{
	int			lenpos = -1;

	if (opts->format == FERRY_FORMAT_JSON)
	{
		ferry_append_lit(out, "{\"topic\":");
		if (rec->topic_json)
			ferry_append_bin(out, rec->topic_json, rec->topic_json_len);
		else
			ferry_json_cstring(out, rec->topic);
		ferry_append_lit(out, ",\"key\":");
		write_kafka_json(out, opts, rec->key_schema, rec->key_schema_len, rec->key);
		ferry_append_lit(out, ",\"value\":");
		kafka_json_open(out, opts, rec->value_schema, rec->value_schema_len);
		return -1;
	}

	ferry_append_char(out, FERRY_FRAME_RECORD);
	put_u32(out, rec->schema_id);
	if (rec->schema_id == 0)
	{
		put_str16(out, rec->topic, strlen(rec->topic));
		put_kafka_str32(out, opts, rec->key_schema, rec->key_schema_len, rec->key);
		lenpos = out->len;
		put_u32(out, 0);
		kafka_json_open(out, opts, rec->value_schema, rec->value_schema_len);
	}
	else
	{
		put_str32(out, rec->key ? rec->key->data : NULL, rec->key ? rec->key->len : 0);
		lenpos = out->len;
		put_u32(out, 0);
	}
	return lenpos;
}

static void
write_headers(StringInfo out, FerryOptions *opts, FerryRecord *rec)
{
	int			i;

	if (rec->hdr_blob)
	{
		ferry_append_bin(out, rec->hdr_blob, rec->hdr_blob_len);
		return;
	}
	if (opts->format == FERRY_FORMAT_JSON)
	{
		if (rec->nheaders > 0)
		{
			ferry_append_lit(out, ",\"headers\":{");
			for (i = 0; i < rec->nheaders; i++)
			{
				if (i > 0)
					ferry_append_char(out, ',');
				ferry_json_cstring(out, rec->hname[i]);
				ferry_append_char(out, ':');
				ferry_json_string(out, rec->hvalue[i], rec->hlen[i]);
			}
			ferry_append_char(out, '}');
		}
		ferry_append_char(out, '}');
		return;
	}
	put_u16(out, (uint16) rec->nheaders);
	for (i = 0; i < rec->nheaders; i++)
	{
		put_str16(out, rec->hname[i], strlen(rec->hname[i]));
		put_str32(out, rec->hvalue[i], rec->hlen[i]);
	}
}

void
ferry_record_end_value(StringInfo out, FerryOptions *opts, FerryRecord *rec, int lenpos)
{
	if (opts->format == FERRY_FORMAT_JSON || rec->schema_id == 0)
	{
		if (opts->schemas_enable && rec->value_schema)
			ferry_append_char(out, '}');
	}
	if (lenpos >= 0)
		patch_u32(out, lenpos);
	write_headers(out, opts, rec);
}

/* Append one record in the session's format */
void
ferry_write_record(StringInfo out, FerryOptions *opts, FerryRecord *rec)
{
	int			lenpos;

	if (rec->value == NULL)
	{
		if (opts->format == FERRY_FORMAT_JSON)
		{
			ferry_append_lit(out, "{\"topic\":");
			ferry_json_cstring(out, rec->topic);
			ferry_append_lit(out, ",\"key\":");
			write_kafka_json(out, opts, rec->key_schema, rec->key_schema_len, rec->key);
			ferry_append_lit(out, ",\"value\":null");
		}
		else
		{
			ferry_append_char(out, FERRY_FRAME_RECORD);
			put_u32(out, rec->schema_id);
			if (rec->schema_id == 0)
			{
				put_str16(out, rec->topic, strlen(rec->topic));
				put_kafka_str32(out, opts, rec->key_schema, rec->key_schema_len, rec->key);
			}
			else
				put_str32(out, rec->key ? rec->key->data : NULL, rec->key ? rec->key->len : 0);
			put_u32(out, FERRY_WIRE_NULL_LEN);
		}
		write_headers(out, opts, rec);
		return;
	}
	lenpos = ferry_record_begin_value(out, opts, rec);
	ferry_append_bin(out, rec->value->data, rec->value->len);
	ferry_record_end_value(out, opts, rec, lenpos);
}

/* 'S' frame: defines schema id 'id' for relation ri */
void
ferry_write_schema_frame(StringInfo out, FerryOptions *opts, uint32 id, FerryRelInfo *ri)
{
	ferry_append_char(out, FERRY_FRAME_SCHEMA);
	put_u32(out, id);
	put_str16(out, ri->topic, strlen(ri->topic));
	if (opts->schemas_enable && ri->key_schema)
		put_str32(out, ri->key_schema, ri->key_schema_len);
	else
		put_str32(out, NULL, 0);
	if (opts->schemas_enable)
		put_str32(out, ri->value_schema, ri->value_schema_len);
	else
		put_str32(out, NULL, 0);
}

/* Debezium 3.4+ extended headers (§8.10), appended after any key headers */
void
ferry_add_context_headers(FerryRecord *rec, FerryOptions *opts)
{
	static const char *names[] = {
		"__debezium.context.connectorLogicalName",
		"__debezium.context.taskId",
		"__debezium.context.connectorName",
		"__debezium.context.runId"
	};
	const char *vals[4];
	int			i;

	if (!opts->extended_headers)
		return;
	vals[0] = opts->topic_prefix;
	vals[1] = "0";
	vals[2] = "postgresql";
	vals[3] = opts->run_id;
	for (i = 0; i < 4 && rec->nheaders < FERRY_MAX_HEADERS; i++)
	{
		rec->hname[rec->nheaders] = names[i];
		rec->hvalue[rec->nheaders] = vals[i];
		rec->hlen[rec->nheaders] = strlen(vals[i]);
		rec->nheaders++;
	}
}

/*
 * What write_headers appends for a record whose only headers are the
 * context headers: computed once per session.
 */
void
ferry_context_headers_blob(StringInfo out, FerryOptions *opts)
{
	FerryRecord rec;

	memset(&rec, 0, sizeof(rec));
	ferry_add_context_headers(&rec, opts);
	write_headers(out, opts, &rec);
}

/* Processing time (µs since the Unix epoch) of the envelope's ts_* */
int64
ferry_now_us(FerryOptions *opts)
{
	if (opts->has_fixed_ts)
		return opts->fixed_ts_us;
	return GetCurrentTimestamp() + UNIX_PG_EPOCH_DIFF_US;
}
