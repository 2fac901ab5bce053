/* SPDX-License-Identifier: MIT */
/*
 * What the mesa suite's test programs share: RESULT lines, and reading
 * what the drm-shim's vsvm backend logged (DRM_SHIM_VSVM_LOG) and what
 * vsvm's engine copied out of a userptr object (DRM_SHIM_VSVM_DUMP).
 * One test program per file: the state is static.
 *
 * Prints "RESULT pass|fail mesa.<prefix>.<mode>.<check> [reason]".
 */
#ifndef SHIM_CHECK_H
#define SHIM_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *mode;
static const char *prefix;
static const char *log_path, *dump_path;
static int failed;

static void result(bool ok, const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s mesa.%s.%s.%s", ok ? "pass" : "fail", prefix, mode, check);
	if (!ok && fmt) {
		putchar(' ');
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failed++;
}

/* The shim's log from byte offset *pos on; *pos moves to its end. */
static char *log_since(long *pos)
{
	FILE *f = fopen(log_path, "r");
	char *buf;
	long end;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	end = ftell(f);
	buf = calloc(1, end - *pos + 1);
	fseek(f, *pos, SEEK_SET);
	if (fread(buf, 1, end - *pos, f) != (size_t)(end - *pos))
		buf[0] = 0;
	fclose(f);
	*pos = end;
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ';';
	return buf;
}

/* Whether the log (entries separated by ';') has a successful
 * "userptr-create" of a read-only object (DRM_USERPTR_READ_ONLY, bit 0 of
 * the DRM_USERPTR_* flags the shim logs whichever IOCTL made it) through
 * the IOCTL named how ("userptr-create generic", "userptr-create
 * amdgpu-gem-userptr", ...).
 */
static inline bool read_only_created(const char *log, const char *how)
{
	char *copy = strdup(log), *save = NULL;
	bool found = false;

	for (char *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
		char *f = strstr(e, " flags=0x");

		if (strstr(e, how) && f && (strtoul(f + 9, NULL, 16) & 1) &&
		    strstr(e, " ret=0"))
			found = true;
	}
	free(copy);
	return found;
}

static bool dump_matches(const void *expect, size_t size, char *why, size_t len)
{
	unsigned char *got = malloc(size);
	FILE *f = fopen(dump_path, "r");
	size_t n = f ? fread(got, 1, size, f) : 0;
	bool ok = false;

	if (!f) {
		snprintf(why, len, "no dump %s", dump_path);
	} else if (n != size) {
		snprintf(why, len, "dump has %zu bytes, want %zu", n, size);
	} else {
		ok = !memcmp(got, expect, size);
		for (size_t i = 0; !ok && i < size; i++) {
			if (got[i] != ((const unsigned char *)expect)[i]) {
				snprintf(why, len, "byte %zu: GPU 0x%02x CPU 0x%02x",
					 i, got[i], ((const unsigned char *)expect)[i]);
				break;
			}
		}
	}
	if (f)
		fclose(f);
	free(got);
	return ok;
}

#endif
