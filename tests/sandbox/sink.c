/*
 * sink.c: a unix datagram socket that writes what it receives, one line
 * per datagram, to standard output: the sandbox suite's /dev/log and
 * NOTIFY_SOCKET, where neither journald nor systemd listens.
 *
 *   sink PATH      binds PATH (mode 0666: the daemon runs unprivileged),
 *                  runs until killed
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[8192];
	ssize_t n;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: sink PATH\n");
		return 64;
	}
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    chmod(argv[1], 0666) != 0) {
		perror(argv[1]);
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	while ((n = recv(fd, buf, sizeof buf - 1, 0)) >= 0) {
		while (n > 0 && buf[n - 1] == '\n')
			n--;
		buf[n] = '\0';
		printf("%s\n", buf);
	}
	perror("recv");
	return 1;
}
