// SPDX-License-Identifier: GPL-2.0
/*
 * nothp COMMAND [ARG...]: run COMMAND with transparent huge pages disabled
 * for its mm (PR_SET_THP_DISABLE), as a container or service manager may
 * have set it for the task that loads a module.
 */

#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
		return 2;
	}
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)) {
		perror("PR_SET_THP_DISABLE");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 1;
}
