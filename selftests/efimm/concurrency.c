// SPDX-License-Identifier: GPL-2.0
/*
 * concurrency PROCS CALLS: PROCS processes make CALLS mixed runtime service
 * calls each through efi_test, which efimm serves when routed, and check
 * every answer: GetTime gives a valid time, each process reads back exactly
 * the value it last wrote to its own variable, QueryVariableInfo and
 * GetNextVariableName succeed. concurrency.sh sets up routing and drives
 * the kernel's own path at the same time.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sys/wait.h>

#include "efi_test_calls.h"

/* At runtime only non-volatile variables can be written. */
#define ATTRS (EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | \
	       EFI_VARIABLE_RUNTIME_ACCESS)

static int check_time(const efi_time_t *t)
{
	return t->year >= 1998 && t->month >= 1 && t->month <= 12 &&
	       t->day >= 1 && t->day <= 31 && t->hour < 24 &&
	       t->minute < 60 && t->second < 60;
}

/*
 * OVMF cannot reclaim its variable store at runtime, and in -bios mode it
 * holds a few hundred writes: one call in write_every writes, at most one
 * in 25, and no more than MAX_WRITES in all, to leave room for the tests
 * after this one.
 */
#define MAX_WRITES 96
static int write_every = 25;

enum op { GET_TIME, GET_OWN_VARIABLE, SET_OWN_VARIABLE, QUERY_INFO, NEXT_NAME };

/* Call @i of a worker: reads in turn, and now and then a write. */
static enum op op_of(int i)
{
	static const enum op reads[] = { GET_TIME, GET_OWN_VARIABLE, QUERY_INFO, NEXT_NAME };

	if (i % write_every == write_every - 1)
		return SET_OWN_VARIABLE;
	return reads[i % 4];
}

/* Returns the number of wrong answers this process saw. */
static int worker(int id, int calls)
{
	char name[32];
	uint32_t written = 0, value, attr;
	unsigned long size;
	int fd, i, wrong = 0;
	efi_status_t st;

	snprintf(name, sizeof(name), "EfimmConcurrency%d", id);
	fd = open("/dev/efi_test", O_RDWR);
	if (fd < 0) {
		ksft_print_msg("worker %d: /dev/efi_test: %s\n", id, strerror(errno));
		return 1;
	}
	st = set_variable(fd, name, &test_guid, ATTRS, &written, sizeof(written));
	if (st != EFI_SUCCESS) {
		ksft_print_msg("worker %d: first SetVariable: %#llx\n", id,
			       (unsigned long long)st);
		return 1;
	}
	for (i = 0; i < calls; i++) {
		const char *what = NULL;

		switch (op_of(i)) {
		case GET_TIME: {
			efi_time_t t;

			st = get_time(fd, &t);
			if (st != EFI_SUCCESS || !check_time(&t))
				what = "GetTime";
			break;
		}
		case GET_OWN_VARIABLE:
			size = sizeof(value);
			st = get_variable(fd, name, &test_guid, &attr, &value, &size);
			if (st != EFI_SUCCESS || size != sizeof(value) ||
			    value != written || attr != ATTRS)
				what = "GetVariable (own variable)";
			break;
		case SET_OWN_VARIABLE:
			written = (uint32_t)i;
			st = set_variable(fd, name, &test_guid, ATTRS,
					  &written, sizeof(written));
			if (st != EFI_SUCCESS)
				what = "SetVariable";
			break;
		case QUERY_INFO: {
			uint64_t info[3];

			st = query_info(fd, info);
			if (st != EFI_SUCCESS || info[1] > info[0])
				what = "QueryVariableInfo";
			break;
		}
		case NEXT_NAME: {
			efi_char16_t next[128] = { 0 };
			efi_guid_t guid = { { 0 } };
			unsigned long nsize = sizeof(next);
			struct efi_getnextvariablename a = { &nsize, next, &guid, &st };

			st = ~0ULL;
			ioctl(fd, EFI_RUNTIME_GET_NEXTVARIABLENAME, &a);
			if (st != EFI_SUCCESS || !next[0])
				what = "GetNextVariableName";
			break;
		}
		}
		if (what) {
			wrong++;
			ksft_print_msg("worker %d call %d: %s: status %#llx\n", id, i, what,
				       (unsigned long long)st);
		}
	}
	if (set_variable(fd, name, &test_guid, ATTRS, NULL, 0) != EFI_SUCCESS)
		wrong++;
	close(fd);
	return wrong;
}

int main(int argc, char **argv)
{
	int procs, calls, p, status, failed = 0;

	procs = argc == 3 ? atoi(argv[1]) : 0;
	calls = argc == 3 ? atoi(argv[2]) : 0;
	if (procs <= 0 || calls <= 0) {
		fprintf(stderr, "usage: %s PROCS CALLS\n", argv[0]);
		return KSFT_FAIL;
	}
	if (procs * calls / MAX_WRITES > write_every)
		write_every = procs * calls / MAX_WRITES;
	for (p = 0; p < procs; p++) {
		pid_t pid = fork();

		if (pid < 0)
			return KSFT_FAIL;
		if (pid == 0) {
			int wrong = worker(p, calls);

			fflush(stdout);
			_exit(wrong ? 1 : 0);
		}
	}
	for (p = 0; p < procs; p++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	ksft_print_msg("%d processes x %d calls: %d with wrong answers\n", procs, calls,
		       failed);
	return failed ? KSFT_FAIL : KSFT_PASS;
}
