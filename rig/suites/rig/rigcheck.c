// SPDX-License-Identifier: GPL-2.0
/*
 * rigcheck: prove, from userspace in the test guest, that each kernel
 * feature the userptr/SVM tests rely on really works (not merely that its
 * config option is set).
 *
 *   rigcheck swap|memcg|uffd|sw_sync|ksm|numa|unix|compaction
 *
 * Exit 0 and print nothing when the check passes; print the reason on
 * stderr and exit 1 when it fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PAGE 4096UL

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static long read_long(const char *path, const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtol(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, strlen(key))) {
			v = strtol(line + strlen(key), NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static void fill(uint32_t *p, size_t bytes, uint32_t seed)
{
	for (size_t i = 0; i < bytes / 4; i++)
		p[i] = seed ^ (uint32_t)(i * 2654435761u);
}

static size_t check(const uint32_t *p, size_t bytes, uint32_t seed)
{
	size_t bad = 0;

	for (size_t i = 0; i < bytes / 4; i++)
		bad += p[i] != (seed ^ (uint32_t)(i * 2654435761u));
	return bad;
}

/* Pages of [p, p + bytes) whose pagemap entry says "swapped". */
static long swapped_pages(void *p, size_t bytes)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long n = 0;

	if (fd < 0)
		return -1;
	for (size_t off = 0; off < bytes; off += PAGE) {
		uint64_t e;

		if (pread(fd, &e, 8, ((uintptr_t)p + off) / PAGE * 8) != 8) {
			n = -1;
			break;
		}
		n += !!(e & (1ULL << 62));
	}
	close(fd);
	return n;
}

/* Pages go out to the swap device on MADV_PAGEOUT and come back intact. */
static int check_swap(void)
{
	const size_t sz = 32 << 20;
	long out, in0, in1, total;
	uint32_t *p;
	size_t bad;

	total = read_long("/proc/meminfo", "SwapTotal:");
	if (total <= 0)
		return fail("no swap device (SwapTotal %ld kB)", total);
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %m");
	fill(p, sz, 0x5a5a1234);
	if (madvise(p, sz, MADV_PAGEOUT))
		return fail("MADV_PAGEOUT: %m");
	out = swapped_pages(p, sz);
	if (out < (long)(sz / PAGE) / 2)
		return fail("only %ld of %lu pages swapped out", out, sz / PAGE);
	in0 = read_long("/proc/vmstat", "pswpin ");
	bad = check(p, sz, 0x5a5a1234);
	in1 = read_long("/proc/vmstat", "pswpin ");
	if (bad)
		return fail("%zu words wrong after swap-in", bad);
	if (in1 - in0 < out)
		return fail("pswpin grew by %ld, expected >= %ld", in1 - in0, out);
	munmap(p, sz);
	return 0;
}

/*
 * A child in a memory cgroup limited to 16 MiB touches 64 MiB: the limit is
 * hit, reclaim swaps the excess out, and the child's data survives.
 */
static int check_memcg(void)
{
	const char *cg = "/sys/fs/cgroup/rigcheck";
	const size_t sz = 64 << 20;
	char path[256], pid[32];
	long events, peak;
	int status;
	pid_t child;

	rmdir(cg);
	if (mkdir(cg, 0755))
		return fail("mkdir %s: %m", cg);
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	if (write_str(path, "16M"))
		return fail("cannot set %s", path);
	child = fork();
	if (child == 0) {
		uint32_t *p;

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_str(path, pid))
			_exit(2);
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		fill(p, sz, 0x1234abcd);
		_exit(check(p, sz, 0x1234abcd) ? 4 : 0);
	}
	if (waitpid(child, &status, 0) != child)
		return fail("waitpid: %m");
	snprintf(path, sizeof(path), "%s/memory.events", cg);
	events = read_long(path, "max ");
	snprintf(path, sizeof(path), "%s/memory.peak", cg);
	peak = read_long(path, NULL);
	rmdir(cg);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("child in the cgroup failed (status 0x%x)", status);
	if (events <= 0)
		return fail("memory.events max = %ld: the limit was never hit",
			    events);
	if (peak <= 0 || peak > (16 << 20))
		return fail("memory.peak %ld outside (0, 16 MiB]", peak);
	return 0;
}

struct uffd_ctx {
	int uffd;
	void *src;
};

static void *uffd_handler(void *arg)
{
	struct uffd_ctx *c = arg;
	struct pollfd pfd = { .fd = c->uffd, .events = POLLIN };
	struct uffd_msg msg;
	struct uffdio_copy copy;

	if (poll(&pfd, 1, 10000) != 1 ||
	    read(c->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return (void *)1;
	copy.dst = msg.arg.pagefault.address & ~(PAGE - 1);
	copy.src = (uintptr_t)c->src;
	copy.len = PAGE;
	copy.mode = 0;
	if (ioctl(c->uffd, UFFDIO_COPY, &copy))
		return (void *)2;
	return NULL;
}

/* A missing-page fault is resolved by a userfaultfd handler thread. */
static int check_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffd_ctx c;
	pthread_t t;
	uint32_t *p;
	void *ret;

	c.uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (c.uffd < 0)
		return fail("userfaultfd: %m");
	if (ioctl(c.uffd, UFFDIO_API, &api))
		return fail("UFFDIO_API: %m");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c.src = malloc(PAGE);
	if (p == MAP_FAILED || !c.src)
		return fail("alloc: %m");
	fill(c.src, PAGE, 0xfeedf00d);
	reg.range.start = (uintptr_t)p;
	reg.range.len = PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(c.uffd, UFFDIO_REGISTER, &reg))
		return fail("UFFDIO_REGISTER: %m");
	if (pthread_create(&t, NULL, uffd_handler, &c))
		return fail("pthread_create");
	if (check(p, PAGE, 0xfeedf00d))
		return fail("page content is not what the handler copied");
	pthread_join(t, &ret);
	if (ret)
		return fail("handler failed at step %ld", (long)ret);
	close(c.uffd);
	return 0;
}

/* sw_sync (drivers/dma-buf/sw_sync.c; its ioctls are not uapi). */
struct sw_sync_create_fence_data {
	uint32_t value;
	char name[32];
	int32_t fence;
};
#define SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC _IOW('W', 1, uint32_t)

/* A fence stays unsignalled until its timeline is advanced. */
static int check_sw_sync(void)
{
	struct sw_sync_create_fence_data d = { .value = 1, .name = "rig" };
	struct pollfd pfd;
	uint32_t inc = 1;
	int tl;

	tl = open("/sys/kernel/debug/sync/sw_sync", O_RDWR);
	if (tl < 0)
		return fail("open sw_sync: %m");
	if (ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, &d))
		return fail("CREATE_FENCE: %m");
	pfd.fd = d.fence;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 100) != 0)
		return fail("fence signalled before its timeline moved");
	if (ioctl(tl, SW_SYNC_IOC_INC, &inc))
		return fail("SW_SYNC_IOC_INC: %m");
	if (poll(&pfd, 1, 1000) != 1 || !(pfd.revents & POLLIN))
		return fail("fence not signalled after the timeline moved");
	close(d.fence);
	close(tl);
	return 0;
}

/* ksmd merges identical MADV_MERGEABLE pages. */
static int check_ksm(void)
{
	const size_t n = 64;
	long sharing = 0;
	char *p;

	p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %m");
	memset(p, 0x3c, n * PAGE);
	if (madvise(p, n * PAGE, MADV_MERGEABLE))
		return fail("MADV_MERGEABLE: %m");
	if (write_str("/sys/kernel/mm/ksm/pages_to_scan", "1000") ||
	    write_str("/sys/kernel/mm/ksm/sleep_millisecs", "10") ||
	    write_str("/sys/kernel/mm/ksm/run", "1"))
		return fail("cannot start ksmd");
	for (int i = 0; i < 300 && sharing <= 0; i++) {
		usleep(100000);
		sharing = read_long("/sys/kernel/mm/ksm/pages_sharing", NULL);
	}
	write_str("/sys/kernel/mm/ksm/run", "2");	/* unmerge, stop */
	if (sharing <= 0)
		return fail("ksmd merged nothing in 30 s");
	for (size_t i = 0; i < n * PAGE; i++)
		if (p[i] != 0x3c)
			return fail("merged page content changed");
	return 0;
}

/* Pages of a live mapping move between the two fake NUMA nodes. */
static int check_numa(void)
{
	enum { N = 16 };
	void *pages[N];
	int nodes[N], status[N];
	char *p;

	if (access("/sys/devices/system/node/node1", F_OK))
		return fail("no NUMA node 1 (numa=fake=2?)");
	p = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %m");
	fill((uint32_t *)p, N * PAGE, 0xabad1dea);
	for (int target = 1; target >= 0; target--) {
		for (int i = 0; i < N; i++) {
			pages[i] = p + i * PAGE;
			nodes[i] = target;
			status[i] = -1;
		}
		if (syscall(SYS_move_pages, 0, N, pages, nodes, status, 0))
			return fail("move_pages to node %d: %m", target);
		if (syscall(SYS_move_pages, 0, N, pages, NULL, status, 0))
			return fail("move_pages query: %m");
		for (int i = 0; i < N; i++)
			if (status[i] != target)
				return fail("page %d on node %d, wanted %d", i,
					    status[i], target);
		if (check((uint32_t *)p, N * PAGE, 0xabad1dea))
			return fail("data changed by migration");
	}
	return 0;
}

/*
 * What IGT's runner needs: an AF_UNIX datagram socketpair, and fd passing
 * (SCM_RIGHTS) over a bound SOCK_SEQPACKET socket.
 */
static int check_unix(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[16], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = 4 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int sv[2], srv, cli, con, fd;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return fail("socketpair(AF_UNIX, SOCK_DGRAM): %m");
	if (write(sv[0], "ping", 4) != 4 || read(sv[1], buf, 4) != 4 ||
	    memcmp(buf, "ping", 4))
		return fail("datagram round trip failed");
	close(sv[0]);
	close(sv[1]);

	strcpy(addr.sun_path, "/tmp/rigcheck.sock");
	unlink(addr.sun_path);
	srv = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	cli = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (srv < 0 || cli < 0)
		return fail("socket(AF_UNIX, SOCK_SEQPACKET): %m");
	if (bind(srv, (void *)&addr, sizeof(addr)) || listen(srv, 1) ||
	    connect(cli, (void *)&addr, sizeof(addr)))
		return fail("bind/listen/connect: %m");
	con = accept(srv, NULL, NULL);
	if (con < 0)
		return fail("accept: %m");
	fd = open("/proc/self/status", O_RDONLY);
	memcpy(buf, "fd!!", 4);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(cli, &msg, 0) != 4)
		return fail("sendmsg SCM_RIGHTS: %m");
	memset(cbuf, 0, sizeof(cbuf));
	if (recvmsg(con, &msg, 0) != 4)
		return fail("recvmsg: %m");
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return fail("no fd received");
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (fcntl(fd, F_GETFD) < 0)
		return fail("received fd is not open");
	close(fd);
	close(con);
	close(cli);
	close(srv);
	unlink(addr.sun_path);
	return 0;
}

/* Manual compaction runs: it scans the zones for pages to migrate. */
static int check_compaction(void)
{
	long before = read_long("/proc/vmstat", "compact_migrate_scanned ");
	int ret = write_str("/proc/sys/vm/compact_memory", "1");
	long after = read_long("/proc/vmstat", "compact_migrate_scanned ");

	if (ret)
		return fail("write /proc/sys/vm/compact_memory: %s",
			    strerror(-ret));
	if (before < 0)
		return fail("no compaction counters in /proc/vmstat");
	if (after <= before)
		return fail("compact_migrate_scanned did not grow (%ld)",
			    after);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} checks[] = {
	{ "swap", check_swap },
	{ "memcg", check_memcg },
	{ "uffd", check_uffd },
	{ "sw_sync", check_sw_sync },
	{ "ksm", check_ksm },
	{ "numa", check_numa },
	{ "unix", check_unix },
	{ "compaction", check_compaction },
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
			printf("%s\n", checks[i].name);
		return 0;
	}
	for (size_t i = 0; argc == 2 && i < sizeof(checks) / sizeof(checks[0]); i++)
		if (!strcmp(argv[1], checks[i].name))
			return checks[i].fn();
	fprintf(stderr, "usage: rigcheck --list | <check>\n");
	return 2;
}
