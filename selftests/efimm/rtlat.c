// SPDX-License-Identifier: GPL-2.0
/*
 * rtlat [-c CPU] [-p PERIOD_US] COMMAND: while COMMAND runs (sh -c), a
 * SCHED_FIFO thread pinned to each CPU (or to CPU only) wakes every
 * PERIOD_US (default 1000) on an absolute CLOCK_MONOTONIC timer and
 * measures how late each wake-up is, the way cyclictest does. Prints
 *
 *   wakeups N
 *   max_lateness_ns N
 *   cpuK.max_lateness_ns N    (one line per measured CPU)
 *
 * and exits with COMMAND's status, or 125 if the threads cannot be made
 * real-time (no CAP_SYS_NICE) or the command cannot be run.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 64
#define RT_PRIORITY 80
/* rtlat's own failure, told apart from the command's. */
#define RTLAT_FAILED 125

struct waker {
	pthread_t thread;
	int cpu;
	long long max_lateness_ns;
	long long wakeups;
};

static long period_ns = 1000000;
static atomic_int stop;

static long long ns_of(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static void *wake(void *arg)
{
	struct waker *w = arg;
	struct timespec next, now;
	long long late;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&stop)) {
		add_ns(&next, period_ns);
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = ns_of(&now) - ns_of(&next);
		if (late > w->max_lateness_ns)
			w->max_lateness_ns = late;
		w->wakeups++;
		/* After a long stall, measure from now rather than catch up. */
		if (late > period_ns)
			next = now;
	}
	return NULL;
}

static int start(struct waker *w)
{
	struct sched_param sp = { .sched_priority = RT_PRIORITY };
	pthread_attr_t attr;
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &sp);
	err = pthread_create(&w->thread, &attr, wake, w);
	pthread_attr_destroy(&attr);
	if (err)
		fprintf(stderr, "rtlat: SCHED_FIFO thread on cpu%d: %s\n",
			w->cpu, strerror(err));
	return err;
}

static void usage(void)
{
	fprintf(stderr, "usage: rtlat [-c CPU] [-p PERIOD_US] COMMAND\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct waker w[MAX_CPUS];
	long long wakeups = 0, max = 0;
	int ncpus, only = -1, n = 0, opt, status, i;
	pid_t pid;

	while ((opt = getopt(argc, argv, "c:p:")) != -1) {
		switch (opt) {
		case 'c':
			only = atoi(optarg);
			break;
		case 'p':
			period_ns = atol(optarg) * 1000;
			if (period_ns <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	if (only >= ncpus)
		usage();

	memset(w, 0, sizeof(w));
	for (i = 0; i < ncpus; i++) {
		if (only >= 0 && i != only)
			continue;
		w[n].cpu = i;
		if (start(&w[n]))
			goto fail;
		n++;
	}
	/* Let every waker take its first period before the load starts. */
	usleep(20 * period_ns / 1000);

	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", argv[optind], (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("rtlat: command");
		goto fail;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		wakeups += w[i].wakeups;
		if (w[i].max_lateness_ns > max)
			max = w[i].max_lateness_ns;
	}
	printf("wakeups %lld\nmax_lateness_ns %lld\n", wakeups, max);
	for (i = 0; i < n; i++)
		printf("cpu%d.max_lateness_ns %lld\n", w[i].cpu, w[i].max_lateness_ns);
	return WIFEXITED(status) ? WEXITSTATUS(status) : RTLAT_FAILED;

fail:
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	return RTLAT_FAILED;
}
