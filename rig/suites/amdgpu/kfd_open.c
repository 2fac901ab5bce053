// SPDX-License-Identifier: GPL-2.0
/*
 * Open /dev/kfd without any AMD GPU, ask for the KFD interface version and
 * close it again: the KFD process is created at open and torn down when
 * this process's mm goes. Prints RESULT lines.
 *
 * With "no-gpu-node" (Linux 7.x: kfd_create_process() refuses a process
 * while there is no GPU node), the open must fail with EINVAL instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kfd_ioctl.h>

int main(int argc, char **argv)
{
	struct kfd_ioctl_get_version_args ver;
	int fd;

	fd = open("/dev/kfd", O_RDWR | O_CLOEXEC);
	if (argc > 1 && !strcmp(argv[1], "no-gpu-node")) {
		if (fd >= 0) {
			printf("RESULT fail amdgpu.kfd-open-refused open succeeded without a GPU node\n");
			close(fd);
			return 1;
		}
		if (errno != EINVAL) {
			printf("RESULT fail amdgpu.kfd-open-refused open: %s, expected EINVAL\n",
			       strerror(errno));
			return 1;
		}
		printf("RESULT pass amdgpu.kfd-open-refused EINVAL without a GPU node\n");
		return 0;
	}
	if (fd < 0) {
		printf("RESULT fail amdgpu.kfd-open open: %s\n", strerror(errno));
		return 1;
	}
	printf("RESULT pass amdgpu.kfd-open\n");

	memset(&ver, 0, sizeof(ver));
	if (ioctl(fd, AMDKFD_IOC_GET_VERSION, &ver))
		printf("RESULT fail amdgpu.kfd-version ioctl: %s\n",
		       strerror(errno));
	else if (ver.major_version != KFD_IOCTL_MAJOR_VERSION ||
		 ver.minor_version < 1)
		printf("RESULT fail amdgpu.kfd-version got %u.%u, headers %u.%u\n",
		       ver.major_version, ver.minor_version,
		       KFD_IOCTL_MAJOR_VERSION, KFD_IOCTL_MINOR_VERSION);
	else
		printf("RESULT pass amdgpu.kfd-version %u.%u\n",
		       ver.major_version, ver.minor_version);

	if (close(fd)) {
		printf("RESULT fail amdgpu.kfd-close close: %s\n", strerror(errno));
		return 1;
	}
	printf("RESULT pass amdgpu.kfd-close\n");
	return 0;
}
