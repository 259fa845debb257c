// SPDX-License-Identifier: GPL-2.0
/*
 * soak CALLS WRITES MONOTONIC: CALLS runtime service calls through
 * efi_test, which efimm serves when routed, every answer checked: GetTime
 * gives a valid time, GetVariable reads back the number last written to
 * the soak's variable, which WRITES of the calls rewrite (numbered 1, 2,
 * ...), and MONOTONIC of the calls are GetNextHighMonotonicCount, whose
 * count must strictly increase. soak.sh runs it under real-time threads
 * and CPU hogs. The writes and counts are spread evenly over the run.
 * Every tenth of the run goes to the kernel log, so that a console shows
 * how far a soak got and how fast, even one that never ends.
 */

#define _GNU_SOURCE
#include "efi_test_calls.h"

#define ATTRS (EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | \
	       EFI_VARIABLE_RUNTIME_ACCESS)
#define NAME "EfimmSoak"

static int valid_time(const efi_time_t *t)
{
	return t->year >= 1998 && t->month >= 1 && t->month <= 12 &&
	       t->day >= 1 && t->day <= 31 && t->hour < 24 &&
	       t->minute < 60 && t->second < 60;
}

/* A line in the kernel log, timestamped by the kernel; best effort. */
static void progress(long done, long calls)
{
	int fd = open("/dev/kmsg", O_WRONLY), len;
	char line[64];

	if (fd < 0)
		return;
	/* One write(2) per record: dprintf() seeks, which /dev/kmsg refuses. */
	len = snprintf(line, sizeof(line), "efimm soak: %ld of %ld calls\n", done, calls);
	if (write(fd, line, len) != len)
		perror("/dev/kmsg");
	close(fd);
}

/* Whether call @i of @calls is one of the @n spread evenly over the run. */
static int nth(long i, long calls, long n)
{
	return n && (i + 1) * n / calls != i * n / calls;
}

int main(int argc, char **argv)
{
	long calls, writes, monotonic, i, wrong = 0, done_writes = 0, done_counts = 0;
	long pending_writes = 0, pending_counts = 0;
	uint32_t written = 0, value, attr, count, last_count = 0;
	unsigned long size;
	efi_status_t st;
	efi_time_t t;
	int fd;

	calls = argc == 4 ? atol(argv[1]) : 0;
	writes = argc == 4 ? atol(argv[2]) : -1;
	monotonic = argc == 4 ? atol(argv[3]) : -1;
	if (calls <= 0 || writes < 0 || monotonic < 0 || writes + monotonic > calls) {
		fprintf(stderr, "usage: %s CALLS WRITES MONOTONIC\n", argv[0]);
		return KSFT_FAIL;
	}
	fd = open("/dev/efi_test", O_RDWR);
	if (fd < 0) {
		ksft_print_msg("/dev/efi_test: %s\n", strerror(errno));
		return KSFT_FAIL;
	}
	if (set_variable(fd, NAME, &test_guid, ATTRS, &written, sizeof(written)) ||
	    mono_count(fd, &last_count)) {
		ksft_print_msg("cannot set up the soak variable or the count\n");
		return KSFT_FAIL;
	}
	/* A write and a count due at the same call: the count comes next. */
	for (i = 0; (i < calls || pending_writes || pending_counts) && wrong < 10; i++) {
		const char *what = NULL;

		if (i % (calls >= 10 ? calls / 10 : 1) == 0)
			progress(i, calls);
		if (i < calls) {
			pending_writes += nth(i, calls, writes);
			pending_counts += nth(i, calls, monotonic);
		}
		if (pending_writes) {
			pending_writes--;
			value = written + 1;
			st = set_variable(fd, NAME, &test_guid, ATTRS, &value, sizeof(value));
			if (st == EFI_SUCCESS)
				written = value;
			else
				what = "SetVariable";
			done_writes++;
		} else if (pending_counts) {
			pending_counts--;
			st = mono_count(fd, &count);
			if (st != EFI_SUCCESS || count <= last_count)
				what = "GetNextHighMonotonicCount (not increasing)";
			else
				last_count = count;
			done_counts++;
		} else if (i % 2) {
			size = sizeof(value);
			st = get_variable(fd, NAME, &test_guid, &attr, &value, &size);
			if (st != EFI_SUCCESS || size != sizeof(value) ||
			    value != written || attr != ATTRS)
				what = "GetVariable (not the number last written)";
		} else {
			st = get_time(fd, &t);
			if (st != EFI_SUCCESS || !valid_time(&t))
				what = "GetTime";
		}
		if (what) {
			wrong++;
			ksft_print_msg("call %ld: %s: status %#llx\n", i, what,
				       (unsigned long long)st);
		}
	}
	if (set_variable(fd, NAME, &test_guid, ATTRS, NULL, 0) != EFI_SUCCESS)
		wrong++;
	close(fd);
	ksft_print_msg("%ld calls: %ld numbered writes (last %u), %ld monotonic counts (last %u), "
		       "%ld wrong\n", i, done_writes, written, done_counts, last_count, wrong);
	return wrong || i < calls || done_writes != writes || done_counts != monotonic ?
	       KSFT_FAIL : KSFT_PASS;
}
