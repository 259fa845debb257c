// SPDX-License-Identifier: GPL-2.0
/*
 * lend CPU HOG_MS: the priority inversion efimm's callers lend their
 * priority against, built in the open (lend.sh). GetTime must take a
 * while (efimm_hostile's "arm spin": 250 ms) and be routed through efimm;
 * what makes efimm's calls (its thread, or the firmware task at cpl3) is
 * pinned to CPU, which must give normal tasks no time under a real-time
 * one (its fair server off).
 *
 *  - L, a normal task on CPU, calls GetTime;
 *  - H, SCHED_FIFO 50 on CPU, spins for HOG_MS from the start;
 *  - R, SCHED_FIFO 80 on another CPU, calls GetTime once H spins.
 *
 * Unlent, L's call cannot go on until H stops, and R waits behind it: R's
 * call ends after H's spin. Lent, what makes the calls runs at R's
 * priority, above H: R's call ends while H still spins. Prints the times
 * in ms from the start; exits 0 if R's call ended first, 1 if H did, 2 if
 * something else went wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "efi_test_calls.h"

/* How long GetTime spins (efimm_hostile's SPIN_MS). */
#define SPIN_MS 250

struct times {
	double l_start, l_end, h_start, h_end, r_start, r_end;
	unsigned long l_status, r_status;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Pin the calling task to @cpu at @policy/@prio, or die. */
static void become(int cpu, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) ||
	    sched_setscheduler(0, policy, &sp)) {
		perror("sched");
		_exit(2);
	}
}

static unsigned long timed_get_time(double *start, double *end)
{
	int fd = open("/dev/efi_test", O_RDWR);
	efi_time_t t;
	unsigned long status;

	if (fd < 0) {
		perror("/dev/efi_test");
		_exit(2);
	}
	*start = now_ms();
	status = get_time(fd, &t);
	*end = now_ms();
	close(fd);
	return status;
}

int main(int argc, char **argv)
{
	struct times *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int cpu, other, hog_ms, status, bad = 0;
	pid_t l, h;
	double t0;

	if (argc != 3 || t == MAP_FAILED) {
		fprintf(stderr, "usage: %s CPU HOG_MS\n", argv[0]);
		return 2;
	}
	cpu = atoi(argv[1]);
	hog_ms = atoi(argv[2]);
	other = cpu ? 0 : 1;
	/* Off CPU before H spins there: R must be able to ask. */
	become(other, SCHED_OTHER, 0);
	t0 = now_ms();

	l = fork();
	if (!l) {
		become(cpu, SCHED_OTHER, 0);
		t->l_status = timed_get_time(&t->l_start, &t->l_end);
		_exit(0);
	}
	/* L's call is in the firmware. */
	sleep_ms(50);
	h = fork();
	if (!h) {
		become(cpu, SCHED_FIFO, 50);
		t->h_start = now_ms();
		while (now_ms() < t0 + hog_ms)
			;
		t->h_end = now_ms();
		_exit(0);
	}
	/* H spins: L's call stands still, unlent. */
	sleep_ms(50);
	become(other, SCHED_FIFO, 80);
	t->r_status = timed_get_time(&t->r_start, &t->r_end);

	if (waitpid(h, &status, 0) != h || !WIFEXITED(status) || WEXITSTATUS(status))
		bad = 1;
	if (waitpid(l, &status, 0) != l || !WIFEXITED(status) || WEXITSTATUS(status))
		bad = 1;
	printf("L: call %.0f-%.0f ms, status %#lx; H: spun %.0f-%.0f ms; "
	       "R: call %.0f-%.0f ms, status %#lx\n",
	       t->l_start - t0, t->l_end - t0, t->l_status, t->h_start - t0,
	       t->h_end - t0, t->r_start - t0, t->r_end - t0, t->r_status);
	if (bad || t->l_status || t->r_status)
		return 2;
	/*
	 * The scene as set: L called, then H spun, then R called. R's call
	 * came after L's whole loop and its own, each SPIN_MS of the TSC: it
	 * cannot end sooner unless it did not wait for L's.
	 */
	if (!(t->l_start < t->h_start && t->h_start < t->r_start) ||
	    t->r_end < t->l_start + 2 * SPIN_MS) {
		printf("the calls did not happen in the order the test sets\n");
		return 2;
	}
	return t->r_end < t->h_end ? 0 : 1;
}
