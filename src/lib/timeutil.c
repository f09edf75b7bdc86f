/* timeutil.c: RFC 3339 in UTC, without the C library's time zone state. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static char *put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

char *fmt_rfc3339(int64_t ms, char buf[RFC3339_BUFSZ])
{
	int64_t secs = floor_div(ms, 1000), days = floor_div(secs, 86400), y;
	int64_t sod = secs - days * 86400, msec = ms - secs * 1000;
	unsigned mo, d;

	civil_from_days(days, &y, &mo, &d);
	if (y < 0 || y > 9999) {
		/* Not a date any payload means; still written, never truncated. */
		snprintf(buf, RFC3339_BUFSZ, "%lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, mo, d,
			 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
		return buf;
	}
	/* Written by hand: this runs for every time of every event. */
	char *p = put_digits(buf, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, mo, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod % 60), 2);
	if (msec) {
		*p++ = '.';
		p = put_digits(p, (unsigned)msec, 3);
	}
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

/* up: a fraction of a millisecond rounds up, not down (a bound) */
static int parse_time(const char *s, int64_t *ms, int up)
{
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	int64_t us = 0; /* the fraction, in microseconds */
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (!s || digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
			return -1;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &se))
				return -1;
			if (*s == '.' || *s == ',') {
				/* to the microsecond, rounded, as PostgreSQL reads it (a loader
				 * checks a time, PostgreSQL stores it: they must be one instant) */
				int n = 0;
				s++;
				if (!isdigit((unsigned char)*s))
					return -1;
				for (; isdigit((unsigned char)*s); s++, n++)
					if (n < 6)
						us = us * 10 + (*s - '0');
					else if (n == 6 && *s >= '5')
						us++;
				for (; n < 6; n++)
					us *= 10;
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return -1;
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1, oh, om;
			if (digits(&s, 2, &oh))
				return -1;
			if (*s == ':')
				s++;
			if (digits(&s, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 60 + om);
		}
	}
	if (*s)
		return -1;
	/* a leap second (:60) is the next minute's first, as PostgreSQL reads it */
	int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se -
		       (int64_t)off * 60;
	*ms = secs * 1000 + (up ? (us + 999) / 1000 : us / 1000); /* us may be 1000000: the rounding carried */
	return 0;
}

int parse_rfc3339(const char *s, int64_t *ms)
{
	return parse_time(s, ms, 0);
}

int parse_rfc3339_bound(const char *s, int64_t *ms)
{
	return parse_time(s, ms, 1);
}

int64_t epoch_to_ms(int64_t v)
{
	return (v > 100000000000LL || v < -100000000000LL) ? v : v * 1000;
}

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int arrival_in_future(int64_t ms)
{
	return ms > now_ms() + INT64_C(86400000);
}

int time_in_range(int64_t ms)
{
	return ms >= 0 && ms <= INT64_C(253402300799999); /* 9999-12-31T23:59:59.999Z */
}

int parse_rfc3339_strict(const char *s, int64_t *ms)
{
	size_t i = 19;

	if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || !strchr("Tt ", s[10]) || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	if (s[i] == '.' || s[i] == ',') {
		if (!isdigit((unsigned char)s[++i]))
			return -1;
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if (s[i] == 'Z' || s[i] == 'z') {
		if (s[i + 1])
			return -1;
	} else if (s[i] == '+' || s[i] == '-') {
		/* PostgreSQL takes offsets to 15:59: a record time it would refuse is ours to refuse */
		if (strlen(s + i) != 6 || s[i + 3] != ':' || s[i + 1] > '1' || (s[i + 1] == '1' && s[i + 2] > '5'))
			return -1;
	} else {
		return -1;
	}
	return parse_rfc3339(s, ms);
}
