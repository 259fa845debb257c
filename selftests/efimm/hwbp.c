// SPDX-License-Identifier: GPL-2.0
/*
 * hwbp ADDR COMMAND: arm an execute hardware breakpoint at ADDR on every
 * CPU (CPU-wide perf events, kernel mode included), run COMMAND with
 * sh -c, and print how often the breakpoint fired meanwhile. Exits 1 if
 * the breakpoints cannot be armed, else with COMMAND's status.
 */

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CPUS 64

static int open_breakpoint(__u64 addr, int cpu)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof(attr);
	attr.bp_type = HW_BREAKPOINT_X;
	attr.bp_addr = addr;
	attr.bp_len = sizeof(long);
	/* Count in kernel mode too: that is where the firmware runs. */
	return syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0);
}

int main(int argc, char **argv)
{
	int fds[MAX_CPUS], ncpus, cpu, status;
	__u64 addr, total = 0, n;

	if (argc != 3) {
		fprintf(stderr, "usage: %s ADDR COMMAND\n", argv[0]);
		return 2;
	}
	addr = strtoull(argv[1], NULL, 0);
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	for (cpu = 0; cpu < ncpus; cpu++) {
		fds[cpu] = open_breakpoint(addr, cpu);
		if (fds[cpu] < 0) {
			perror("perf_event_open");
			return 1;
		}
	}
	status = system(argv[2]);
	for (cpu = 0; cpu < ncpus; cpu++) {
		if (read(fds[cpu], &n, sizeof(n)) != sizeof(n)) {
			perror("read");
			return 1;
		}
		total += n;
	}
	printf("%llu\n", (unsigned long long)total);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
