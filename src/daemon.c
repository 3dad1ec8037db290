/* daemon.c: signal mask and detaching. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

void
daemon_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A vanished MTA must not kill us through a write. */
	signal(SIGPIPE, SIG_IGN);
}

bool
daemon_detach(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0) {
		log_warn("fork");
		return false;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() < 0) {
		log_warn("setsid");
		return false;
	}
	if (chdir("/") != 0)
		log_warn("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return true;
}
