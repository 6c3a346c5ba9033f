// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Exec patterns a shell cannot produce, for tests/e2e/exec.bats and bench/exec.sh.
 * Built by those scripts with `cc` (not by the Makefile: it is not part of bpflab).
 *   helper_exec argv PATH ARG0 [ARG...]   execve(PATH, {ARG0, ARG...}): exact argv
 *   helper_exec noargs PATH               execve(PATH, {NULL}): argc 0
 *   helper_exec fexec PATH ARG0 [ARG...]  execveat(open(PATH), "", argv, AT_EMPTY_PATH)
 *   helper_exec fail N PATH               N execve(PATH) calls that must fail, no fork
 *   helper_exec forks N PATH              N times fork + execve(PATH, {PATH}) + wait;
 *                                         prints the seconds it took
 *   helper_exec fresh PATH                fork; the child execs PATH with string literals
 *                                         for filename and argv, which a fresh child has
 *                                         not mapped yet (the case that defeats reading
 *                                         them at sys_enter) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "argv")) {
		execve(argv[2], argv + 3, environ);
		fprintf(stderr, "execve %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	if (argc == 3 && !strcmp(argv[1], "noargs")) {
		char *none[] = { NULL };
		execve(argv[2], none, environ);
		fprintf(stderr, "execve %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	if (argc >= 4 && !strcmp(argv[1], "fexec")) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[2]);
			return 127;
		}
		syscall(SYS_execveat, fd, "", argv + 3, environ, AT_EMPTY_PATH);
		fprintf(stderr, "execveat %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	if (argc == 3 && !strcmp(argv[1], "fresh")) {
		/* Only PATH comes from argv: everything else is a literal in .rodata. */
		int st;
		pid_t pid = fork();
		if (pid == 0) {
			char *av[] = { "fresh-literal-a", "fresh-literal-b", NULL };
			if (!strcmp(argv[2], "missing"))
				execve("/nonexistent/fresh-literal-path", av, environ);
			else
				execve(argv[2], av, environ);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		return 0;
	}
	if (argc == 4 && (!strcmp(argv[1], "fail") || !strcmp(argv[1], "forks"))) {
		long n = strtol(argv[2], NULL, 10);
		char *args[] = { argv[3], NULL };
		double t0 = now();

		for (long i = 0; i < n; i++) {
			if (argv[1][1] == 'a') {
				if (execve(argv[3], args, environ) == 0)
					return 1;
				continue;
			}
			pid_t pid = fork();
			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0) {
				execve(argv[3], args, environ);
				_exit(127);
			}
			int st;
			if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 127) {
				fprintf(stderr, "child %ld failed\n", i);
				return 1;
			}
		}
		printf("%.6f\n", now() - t0);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of helper_exec.c\n");
	return 2;
}
