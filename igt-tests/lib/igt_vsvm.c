// SPDX-License-Identifier: MIT
/*
 * Helpers for vsvm (the virtual SVM GPU) and the generic DRM userptr IOCTL.
 * See igt_vsvm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "igt.h"
#include "igt_syncobj.h"
#include "igt_vsvm.h"
#include "sw_sync.h"

#define VSVM_DRIVER_NAME "vsvm"

static bool driver_name_is(int fd, const char *want)
{
	char name[32] = "";
	struct drm_version v = {
		.name_len = sizeof(name) - 1,
		.name = name,
	};

	if (ioctl(fd, DRM_IOCTL_VERSION, &v))
		return false;
	return strcmp(name, want) == 0;
}

bool is_vsvm_device(int fd)
{
	return driver_name_is(fd, VSVM_DRIVER_NAME);
}

/**
 * __drm_open_vsvm: open vsvm's render node.
 *
 * Through IGT's own device selection: __drm_open_driver_render(DRIVER_ANY)
 * opens the render node IGT picks (the first one, or the one IGT_DEVICE
 * names), and it is used only if its driver is vsvm.
 *
 * Returns: an fd, or -1.
 */
int __drm_open_vsvm(void)
{
	int fd = __drm_open_driver_render(DRIVER_ANY);

	if (fd >= 0 && !is_vsvm_device(fd)) {
		close(fd);
		fd = -1;
	}
	errno = 0; /* failed open()s of absent nodes are not the reason */
	return fd;
}

/**
 * drm_open_vsvm: open vsvm's render node, or skip.
 *
 * drm_open_driver_render(DRIVER_ANY) (which skips without any DRM
 * device), then skip unless the driver is vsvm.
 *
 * Returns: an fd.
 */
int drm_open_vsvm(void)
{
	int fd = drm_open_driver_render(DRIVER_ANY);

	if (!is_vsvm_device(fd)) {
		close(fd);
		igt_skip("vsvm not present: the render node IGT opened is not vsvm (set IGT_DEVICE)\n");
	}
	return fd;
}

uint64_t drm_userptr_cap(int fd)
{
	struct drm_get_cap cap = { .capability = DRM_CAP_USERPTR };

	if (ioctl(fd, DRM_IOCTL_GET_CAP, &cap))
		return 0;
	return cap.value;
}

int __drm_userptr_create_pad(int fd, uint64_t addr, uint64_t size,
			     uint32_t flags, uint64_t pad, uint32_t *handle)
{
	struct drm_userptr_create arg = {
		.addr = addr,
		.size = size,
		.flags = flags,
		.pad = pad,
	};
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_USERPTR_CREATE, &arg))
		err = -errno;
	else if (handle)
		*handle = arg.handle;
	errno = 0;
	return err;
}

int __drm_userptr_create(int fd, const void *ptr, uint64_t size,
			 uint32_t flags, uint32_t *handle)
{
	return __drm_userptr_create_pad(fd, (uintptr_t)ptr, size, flags, 0,
					handle);
}

uint32_t drm_userptr_create(int fd, const void *ptr, uint64_t size,
			    uint32_t flags)
{
	uint32_t handle = 0;

	igt_assert_eq(__drm_userptr_create(fd, ptr, size, flags, &handle), 0);
	igt_assert(handle);
	return handle;
}

int __gem_close_handle(int fd, uint32_t handle)
{
	struct drm_gem_close arg = { .handle = handle };
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &arg))
		err = -errno;
	errno = 0;
	return err;
}

uint32_t vsvm_gem_create(int fd, uint64_t size)
{
	struct drm_vsvm_gem_create arg = { .size = size };

	do_ioctl(fd, DRM_IOCTL_VSVM_GEM_CREATE, &arg);
	igt_assert(arg.handle);
	igt_assert(arg.size >= size);
	return arg.handle;
}

void *vsvm_gem_mmap(int fd, uint32_t handle, uint64_t size)
{
	struct drm_vsvm_gem_mmap_offset arg = { .handle = handle };
	void *ptr;

	do_ioctl(fd, DRM_IOCTL_VSVM_GEM_MMAP_OFFSET, &arg);
	ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   arg.offset);
	igt_assert(ptr != MAP_FAILED);
	return ptr;
}

int __vsvm_vm_bind(int fd, uint32_t handle, uint64_t bo_offset, uint64_t va,
		   uint64_t range, uint32_t flags)
{
	struct drm_vsvm_vm_bind arg = {
		.handle = handle,
		.flags = flags,
		.bo_offset = bo_offset,
		.va = va,
		.range = range,
	};
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_VSVM_VM_BIND, &arg))
		err = -errno;
	errno = 0;
	return err;
}

void vsvm_vm_bind(int fd, uint32_t handle, uint64_t bo_offset, uint64_t va,
		  uint64_t range, uint32_t flags)
{
	igt_assert_eq(__vsvm_vm_bind(fd, handle, bo_offset, va, range, flags), 0);
}

int __vsvm_vm_unbind(int fd, uint64_t va, uint64_t range)
{
	struct drm_vsvm_vm_unbind arg = { .va = va, .range = range };
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_VSVM_VM_UNBIND, &arg))
		err = -errno;
	errno = 0;
	return err;
}

void vsvm_vm_unbind(int fd, uint64_t va, uint64_t range)
{
	igt_assert_eq(__vsvm_vm_unbind(fd, va, range), 0);
}

uint64_t vsvm_va_alloc(uint64_t size)
{
	static uint64_t next = DRM_VSVM_VA_START;
	uint64_t align = size >= (2u << 20) ? (2u << 20) : (64u << 10);
	uint64_t va;

	va = (next + align - 1) & ~(align - 1);
	next = va + ((size + 4095) & ~4095ull) + 4096; /* guard page */
	igt_assert(next < DRM_VSVM_VA_END);
	return va;
}

struct drm_vsvm_cmd vsvm_cmd_copy(uint64_t dst, uint64_t src, uint64_t size)
{
	return (struct drm_vsvm_cmd){ .op = DRM_VSVM_OP_COPY, .src = src,
				      .dst = dst, .size = size };
}

struct drm_vsvm_cmd vsvm_cmd_fill(uint64_t dst, uint64_t size, uint32_t value)
{
	return (struct drm_vsvm_cmd){ .op = DRM_VSVM_OP_FILL, .dst = dst,
				      .size = size, .value = value };
}

struct drm_vsvm_cmd vsvm_cmd_checksum(uint64_t dst, uint64_t src,
				      uint64_t size)
{
	return (struct drm_vsvm_cmd){ .op = DRM_VSVM_OP_CHECKSUM, .src = src,
				      .dst = dst, .size = size };
}

struct drm_vsvm_cmd vsvm_cmd_delay(uint64_t usecs)
{
	return (struct drm_vsvm_cmd){ .op = DRM_VSVM_OP_DELAY, .value = usecs };
}

int __vsvm_exec(int fd, const struct drm_vsvm_cmd *cmds, unsigned int count,
		uint32_t in_syncobj, uint32_t out_syncobj, uint64_t *seqno)
{
	struct drm_vsvm_exec arg = {
		.cmds = (uintptr_t)cmds,
		.num_cmds = count,
		.in_syncobj = in_syncobj,
		.out_syncobj = out_syncobj,
	};
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_VSVM_EXEC, &arg))
		err = -errno;
	else if (seqno)
		*seqno = arg.seqno;
	errno = 0;
	return err;
}

/* Submit a job, return a new syncobj holding its fence. */
uint32_t vsvm_exec(int fd, const struct drm_vsvm_cmd *cmds, unsigned int count)
{
	uint32_t syncobj = syncobj_create(fd, 0);
	uint64_t seqno = 0;

	igt_assert_eq(__vsvm_exec(fd, cmds, count, 0, syncobj, &seqno), 0);
	igt_assert(seqno > 0);
	return syncobj;
}

static uint64_t abs_timeout(int64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * (uint64_t)NSEC_PER_SEC + ts.tv_nsec + ns;
}

/**
 * vsvm_job_wait: wait for the job fence in @syncobj.
 *
 * Returns: 0 if the job completed without error, the job's error
 * (negative errno, from the fence status) if it failed, -ETIME on timeout.
 */
int vsvm_job_wait(int fd, uint32_t syncobj, int64_t timeout_ns)
{
	int err, sf, status;

	err = syncobj_wait_err(fd, &syncobj, 1, abs_timeout(timeout_ns), 0);
	if (err)
		return err;

	sf = syncobj_handle_to_fd(fd, syncobj,
				  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE);
	igt_assert_fd(sf);
	status = sync_fence_status(sf);
	close(sf);
	igt_assert_f(status != 0, "fence not signalled after syncobj wait\n");
	return status < 0 ? status : 0;
}

/* Files on which this process enabled SVM mode (long-running jobs). */
#define VSVM_MAX_SVM_FDS 64
static int svm_fds[VSVM_MAX_SVM_FDS];
static unsigned int num_svm_fds;

bool vsvm_fd_is_svm(int fd)
{
	for (unsigned int i = 0; i < num_svm_fds; i++)
		if (svm_fds[i] == fd)
			return true;
	return false;
}

static void vsvm_fd_set_svm(int fd)
{
	if (!vsvm_fd_is_svm(fd) && num_svm_fds < VSVM_MAX_SVM_FDS)
		svm_fds[num_svm_fds++] = fd;
}

int __vsvm_exec_ufence(int fd, const struct drm_vsvm_cmd *cmds,
		       unsigned int count, uint32_t in_syncobj,
		       volatile uint64_t *ufence, uint64_t value,
		       uint64_t *seqno)
{
	struct drm_vsvm_exec arg = {
		.cmds = (uintptr_t)cmds,
		.num_cmds = count,
		.in_syncobj = in_syncobj,
		.ufence_addr = (uintptr_t)ufence,
		.ufence_value = value,
	};
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_VSVM_EXEC, &arg))
		err = -errno;
	else if (seqno)
		*seqno = arg.seqno;
	errno = 0;
	return err;
}

/**
 * __vsvm_wait_ufence: DRM_IOCTL_VSVM_WAIT_UFENCE.
 *
 * Returns: 0 once *@addr >= @value, else the ioctl's -errno (-ETIME).
 */
int __vsvm_wait_ufence(int fd, volatile uint64_t *addr, uint64_t value,
		       int64_t timeout_ns)
{
	struct drm_vsvm_wait_ufence arg = {
		.addr = (uintptr_t)addr,
		.value = value,
		.timeout_ns = timeout_ns,
	};
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_VSVM_WAIT_UFENCE, &arg))
		err = -errno;
	errno = 0;
	return err;
}

/**
 * vsvm_job_error: error of the completed long-running job @seqno.
 *
 * Valid when no later job of the file failed since (jobs of a file
 * complete in order): GET_STATS reports the last failed job.
 */
int vsvm_job_error(int fd, uint64_t seqno)
{
	struct drm_vsvm_get_stats st;

	vsvm_get_stats(fd, &st);
	return st.last_error_seqno == seqno ? st.last_error : 0;
}

int vsvm_exec_sync(int fd, const struct drm_vsvm_cmd *cmds, unsigned int count)
{
	uint32_t syncobj;
	int ret;

	if (vsvm_fd_is_svm(fd)) {
		/* On the stack: SVM memory of this thread, already mapped. */
		volatile uint64_t ufence = 0;
		uint64_t seqno = 0;

		ret = __vsvm_exec_ufence(fd, cmds, count, 0, &ufence, 1,
					 &seqno);
		if (ret)
			return ret;
		ret = __vsvm_wait_ufence(fd, &ufence, 1, 60ll * NSEC_PER_SEC);
		igt_assert_f(ret != -ETIME, "job did not complete in 60 s\n");
		igt_assert_eq(ret, 0);
		return vsvm_job_error(fd, seqno);
	}

	/* Userptr errors come from EXEC: a job with a fence never faults. */
	syncobj = syncobj_create(fd, 0);
	ret = __vsvm_exec(fd, cmds, count, 0, syncobj, NULL);
	if (ret) {
		syncobj_destroy(fd, syncobj);
		return ret;
	}
	ret = vsvm_job_wait(fd, syncobj, 60ll * NSEC_PER_SEC);
	igt_assert_f(ret != -ETIME, "job did not complete in 60 s\n");
	syncobj_destroy(fd, syncobj);
	return ret;
}

void vsvm_get_stats(int fd, struct drm_vsvm_get_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	do_ioctl(fd, DRM_IOCTL_VSVM_GET_STATS, stats);
}

int __vsvm_svm_enable(int fd, uint32_t chunk_sizes, uint32_t flags,
		      uint64_t pad)
{
	struct drm_vsvm_svm_enable arg = {
		.chunk_sizes = chunk_sizes,
		.flags = flags,
		.pad = pad,
	};
	int err = 0;

	if (igt_ioctl(fd, DRM_IOCTL_VSVM_SVM_ENABLE, &arg))
		err = -errno;
	else
		vsvm_fd_set_svm(fd);
	errno = 0;
	return err;
}

void vsvm_svm_enable(int fd, uint32_t chunk_sizes)
{
	igt_assert_eq(__vsvm_svm_enable(fd, chunk_sizes, 0, 0), 0);
}

struct drm_vsvm_cmd vsvm_cmd_prefetch(uint64_t addr, uint64_t size,
				      uint32_t flags)
{
	return (struct drm_vsvm_cmd){ .op = DRM_VSVM_OP_PREFETCH, .dst = addr,
				      .size = size, .value = flags };
}

uint64_t vsvm_checksum(const void *ptr, uint64_t size)
{
	const uint32_t *w = ptr;
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint64_t i = 0; i < size / 4; i++) {
		h ^= w[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void vsvm_pattern(void *ptr, uint64_t size, uint32_t seed)
{
	uint32_t *w = ptr;

	for (uint64_t i = 0; i < size / 4; i++)
		w[i] = seed * 0x9e3779b9u + (uint32_t)i;
}

void vsvm_bo_create(int fd, struct vsvm_bo *bo, uint64_t size)
{
	bo->size = (size + 4095) & ~4095ull;
	bo->handle = vsvm_gem_create(fd, bo->size);
	bo->map = vsvm_gem_mmap(fd, bo->handle, bo->size);
	bo->va = vsvm_va_alloc(bo->size);
	vsvm_vm_bind(fd, bo->handle, 0, bo->va, bo->size, 0);
}

void vsvm_bo_destroy(int fd, struct vsvm_bo *bo)
{
	vsvm_vm_unbind(fd, bo->va, bo->size);
	munmap(bo->map, bo->size);
	gem_close(fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
}

void vsvm_uptr_create(int fd, struct vsvm_uptr *u, void *ptr, uint64_t size,
		      uint32_t flags)
{
	u->ptr = ptr;
	u->size = size;
	u->flags = flags;
	u->handle = drm_userptr_create(fd, ptr, size, flags);
	u->va = vsvm_va_alloc(size);
	vsvm_vm_bind(fd, u->handle, 0, u->va, size,
		     flags & DRM_USERPTR_READ_ONLY ? DRM_VSVM_BIND_READ_ONLY : 0);
}

void vsvm_uptr_destroy(int fd, struct vsvm_uptr *u)
{
	vsvm_vm_unbind(fd, u->va, u->size);
	gem_close(fd, u->handle);
	memset(u, 0, sizeof(*u));
}

int vsvm_gpu_checksum(int fd, uint64_t va, uint64_t size,
		      struct vsvm_bo *out, uint64_t off, uint64_t *result)
{
	struct drm_vsvm_cmd cmd = vsvm_cmd_checksum(out->va + off, va, size);
	volatile uint64_t *res = (uint64_t *)((char *)out->map + off);
	int ret;

	*res = 0;
	ret = vsvm_exec_sync(fd, &cmd, 1);
	*result = *res;
	return ret;
}

int vsvm_gpu_fill(int fd, uint64_t va, uint64_t size, uint32_t value)
{
	struct drm_vsvm_cmd cmd = vsvm_cmd_fill(va, size, value);

	return vsvm_exec_sync(fd, &cmd, 1);
}

/* ---- CPU-side memory helpers ---------------------------------------------- */

/** Private anonymous mapping; asserts success. */
void *vsvm_mmap_anon(uint64_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	igt_assert(p != MAP_FAILED);
	return p;
}

/** Replace [@addr, @addr + @size) with fresh zeroed anonymous memory. */
void vsvm_remap_fixed(void *addr, uint64_t size)
{
	void *p = mmap(addr, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	igt_assert(p == addr);
}

/** True if every 32-bit word of [@ptr, @ptr + @size) equals @v. */
bool vsvm_all_words(const void *ptr, uint64_t size, uint32_t v)
{
	const uint32_t *w = ptr;

	for (uint64_t i = 0; i < size / 4; i++)
		if (w[i] != v) {
			igt_debug("word %llu: %#x != %#x\n",
				  (unsigned long long)i, w[i], v);
			return false;
		}
	return true;
}

/**
 * vsvm_kernel_major: major version of the running kernel (6 for the 6.12
 * build, whose helper is drm_svm; 7 for 7.3, on drm_gpusvm).
 */
int vsvm_kernel_major(void)
{
	struct utsname u;

	igt_assert_eq(uname(&u), 0);
	return atoi(u.release);
}

/** Read a small (sysfs/procfs) file into @buf, NUL terminated. */
bool vsvm_read_file(const char *path, char *buf, size_t len)
{
	int f = open(path, O_RDONLY);
	ssize_t n;

	if (f < 0)
		return false;
	n = read(f, buf, len - 1);
	close(f);
	if (n < 0)
		return false;
	buf[n] = 0;
	return true;
}

/** Write @val to a small (sysfs/procfs) file; false if that fails. */
bool vsvm_write_file(const char *path, const char *val)
{
	int f = open(path, O_WRONLY);
	bool ok;

	if (f < 0)
		return false;
	ok = write(f, val, strlen(val)) == (ssize_t)strlen(val);
	close(f);
	return ok;
}

/** An mprotect() round trip of the page at @p: read-only, then writable. */
void vsvm_mprotect_round_trip(void *p)
{
	long page = sysconf(_SC_PAGESIZE);

	igt_assert_eq(mprotect(p, page, PROT_READ), 0);
	igt_assert_eq(mprotect(p, page, PROT_READ | PROT_WRITE), 0);
}

/** AnonHugePages (kB) of the mapping that contains @addr, from smaps. */
long vsvm_anon_huge_kb(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		/* mapping header: "lo-hi perms ..."; fields: "Name: value" */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/** A file of @size bytes: a memfd, or an unlinked file in /tmp. */
int vsvm_tmp_file(uint64_t size)
{
	char path[] = "/tmp/vsvm.XXXXXX";
	int f = syscall(SYS_memfd_create, "vsvm", 0);

	if (f < 0) {
		f = mkstemp(path);
		igt_require_f(f >= 0, "no memfd and no writable /tmp\n");
		unlink(path);
	}
	igt_assert_eq(ftruncate(f, size), 0);
	return f;
}

/** Block until the other side of the pipe wrote a byte. */
void vsvm_wait_pipe(int p)
{
	char c;

	igt_assert_eq(read(p, &c, 1), 1);
}

/** Wake the other side of the pipe. */
void vsvm_kick_pipe(int p)
{
	igt_assert_eq(write(p, "x", 1), 1);
}
