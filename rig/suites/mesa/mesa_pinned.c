// SPDX-License-Identifier: MIT
/*
 * GL_AMD_pinned_memory on Mesa's r600 driver, through the radeon drm-shim,
 * or on radeonsi through the amdgpu drm-shim (Mesa 25.0), against the real
 * kernel's generic userptr IOCTL (vsvm).
 *
 *   mesa_pinned [r600|radeonsi] generic|fallback      (default r600)
 *
 * generic: the shim reports DRM_CAP_USERPTR, so the radeon winsys must
 * create the buffer with DRM_IOCTL_USERPTR_CREATE (through libdrm's
 * drmUserptrCreate()); fallback: the shim hides the cap
 * (DRM_SHIM_USERPTR_CAP=0), so the winsys must use DRM_RADEON_GEM_USERPTR
 * (radeonsi: DRM_AMDGPU_GEM_USERPTR).
 * Either way the shim backs the buffer by a vsvm userptr object and, for
 * every command stream that uses it, has vsvm's engine copy it: the test
 * compares those bytes (DRM_SHIM_VSVM_DUMP) with the CPU's, and reads the
 * shim's event log (DRM_SHIM_VSVM_LOG) for which IOCTL was used and for the
 * result of each use.
 *
 * Prints "RESULT pass|fail mesa.pinned.<mode>.<check> [reason]" (r600) or
 * "RESULT pass|fail mesa.radeonsi.<mode>.<check> [reason]".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <GL/glext.h>

#define SIZE (64 * 1024)

#include "shim_check.h"

static void fill(uint32_t *p, size_t size, uint32_t seed)
{
	for (size_t i = 0; i < size / 4; i++) {
		seed = seed * 1664525u + 1013904223u;
		p[i] = seed;
	}
}

#define GLPROC(type, name) type name = (type)eglGetProcAddress(#name)

/* GL 1.0 entry points have no PFN typedefs in glext.h. */
typedef const GLubyte *(APIENTRYP get_string_fn)(GLenum name);
typedef GLenum (APIENTRYP get_error_fn)(void);
typedef void (APIENTRYP finish_fn)(void);

/*
 * Copy the GL_COPY_READ_BUFFER binding into GL_COPY_WRITE_BUFFER and report
 * whether the shim ran that CS and the GPU's (vsvm's) bytes equal expect.
 */
static void check_gpu_copy(PFNGLCOPYBUFFERSUBDATAPROC copy, finish_fn finish,
			   const uint32_t *expect, const char *check, long *pos)
{
	char why[128] = "", *l;
	bool used;

	copy(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER, 0, 0, SIZE);
	finish();
	l = log_since(pos);
	used = strstr(l, "cs handle=") && strstr(l, "ret=0");
	result(used && dump_matches(expect, SIZE, why, sizeof(why)), check,
	       "%s; shim log: %s", why, l);
	free(l);
}

int main(int argc, char **argv)
{
	bool generic;
	long pos = 0;
	char *l;
	uint32_t seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();

	bool radeonsi = argc == 3 && !strcmp(argv[1], "radeonsi");

	if (argc == 3 && (radeonsi || !strcmp(argv[1], "r600"))) {
		argc--;
		argv++;
	}
	if (argc != 2 || (strcmp(argv[1], "generic") && strcmp(argv[1], "fallback"))) {
		fprintf(stderr, "usage: %s [r600|radeonsi] generic|fallback\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	generic = !strcmp(mode, "generic");
	prefix = radeonsi ? "radeonsi" : "pinned";
	/* The chip each shim is told to be, and the driver's own userptr IOCTL. */
	const char *chip = radeonsi ? "renoir" : "CEDAR";
	const char *drv_ioctl = radeonsi ? "userptr-create amdgpu-gem-userptr" :
					   "userptr-create radeon-gem-userptr";
	log_path = getenv("DRM_SHIM_VSVM_LOG");
	dump_path = getenv("DRM_SHIM_VSVM_DUMP");
	if (!log_path || !dump_path) {
		printf("RESULT fail mesa.%s.%s.setup DRM_SHIM_VSVM_LOG/DUMP not set\n", prefix, mode);
		return 1;
	}

	/* EGL surfaceless, desktop GL, no config, no surface. */
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
	EGLDisplay dpy = get_display ?
		get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL) :
		EGL_NO_DISPLAY;
	EGLint major, minor;
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor) ||
	    !eglBindAPI(EGL_OPENGL_API)) {
		result(false, "egl", "no surfaceless EGL display with desktop GL (0x%x)",
		       eglGetError());
		return 1;
	}
	/* radeonsi (Mesa 25.0's amdgpu winsys) terminates the process when
	 * the kernel rejects a CS on a context that did not ask to be told
	 * (the use after munmap below): ask for lose-context-on-reset, so the
	 * failure reaches the application (glGetGraphicsResetStatus) instead.
	 * r600's radeon winsys reports a rejected CS and goes on.
	 */
	const EGLint robust[] = {
		EGL_CONTEXT_OPENGL_RESET_NOTIFICATION_STRATEGY, EGL_LOSE_CONTEXT_ON_RESET,
		EGL_NONE,
	};
	EGLContext ctx = eglCreateContext(dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT,
					  radeonsi ? robust : NULL);
	if (ctx == EGL_NO_CONTEXT ||
	    !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
		result(false, "egl", "no surfaceless GL context (0x%x)", eglGetError());
		return 1;
	}
	result(true, "egl", NULL);

	GLPROC(get_string_fn, glGetString);
	GLPROC(get_error_fn, glGetError);
	GLPROC(PFNGLGENBUFFERSPROC, glGenBuffers);
	GLPROC(PFNGLBINDBUFFERPROC, glBindBuffer);
	GLPROC(PFNGLBUFFERDATAPROC, glBufferData);
	GLPROC(PFNGLCOPYBUFFERSUBDATAPROC, glCopyBufferSubData);
	GLPROC(PFNGLDELETEBUFFERSPROC, glDeleteBuffers);
	GLPROC(finish_fn, glFinish);
	GLPROC(get_error_fn, glGetGraphicsResetStatus);

	const char *renderer = (const char *)glGetString(GL_RENDERER);
	const char *exts = (const char *)glGetString(GL_EXTENSIONS);
	printf("mesa_pinned: %s: GL_RENDERER %s, GL_VERSION %s\n", mode,
	       renderer, (const char *)glGetString(GL_VERSION));
	l = log_since(&pos);
	bool shim_vsvm = strstr(l, "vsvm /dev/dri/renderD");
	free(l);
	result(renderer && strcasestr(renderer, chip) && shim_vsvm, "driver",
	       "want %s (%s) on the drm-shim with vsvm; renderer %s, shim log %s",
	       radeonsi ? "radeonsi" : "r600", chip,
	       renderer ? renderer : "(none)", shim_vsvm ? "ok" : "has no vsvm node");
	if (!exts || !strstr(exts, "GL_AMD_pinned_memory")) {
		result(false, "extension", "GL_AMD_pinned_memory not exposed");
		return 1;
	}
	result(true, "extension", NULL);

	/* A pinned buffer over mmap'd memory. */
	uint32_t *mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	GLuint pinned, dst;
	if (mem == MAP_FAILED) {
		result(false, "create", "mmap: %s", strerror(errno));
		return 1;
	}
	fill(mem, SIZE, seed);
	glGenBuffers(1, &pinned);
	glBindBuffer(GL_EXTERNAL_VIRTUAL_MEMORY_BUFFER_AMD, pinned);
	glBufferData(GL_EXTERNAL_VIRTUAL_MEMORY_BUFFER_AMD, SIZE, mem, GL_STREAM_READ);
	GLenum err = glGetError();
	glBindBuffer(GL_EXTERNAL_VIRTUAL_MEMORY_BUFFER_AMD, 0);
	l = log_since(&pos);
	bool via_generic = strstr(l, "userptr-create generic") && strstr(l, "ret=0");
	bool via_radeon = strstr(l, drv_ioctl) && strstr(l, "ret=0");
	unsigned vsvm_handle = 0;
	char *c = strstr(l, " vsvm=");
	if (c)
		vsvm_handle = strtoul(c + 6, NULL, 10);
	result(err == GL_NO_ERROR && vsvm_handle, "create",
	       "glBufferData: GL error 0x%x; shim log: %s", err, l);
	result(generic ? via_generic && !via_radeon : via_radeon && !via_generic,
	       "ioctl", "want %s; shim log: %s",
	       generic ? "DRM_IOCTL_USERPTR_CREATE" :
	       radeonsi ? "DRM_AMDGPU_GEM_USERPTR" : "DRM_RADEON_GEM_USERPTR", l);
	free(l);
	if (err != GL_NO_ERROR || !vsvm_handle)
		return 1;

	glGenBuffers(1, &dst);
	glBindBuffer(GL_COPY_WRITE_BUFFER, dst);
	glBufferData(GL_COPY_WRITE_BUFFER, SIZE, NULL, GL_STATIC_COPY);
	glBindBuffer(GL_COPY_READ_BUFFER, pinned);

	/* 1. The GPU (vsvm) sees the CPU's bytes. */
	check_gpu_copy(glCopyBufferSubData, glFinish, mem, "gpu-view", &pos);

	/* 2. The object mirrors the memory, not a snapshot: new CPU bytes. */
	fill(mem, SIZE, ~seed);
	check_gpu_copy(glCopyBufferSubData, glFinish, mem, "gpu-view-after-write", &pos);

	/* 3. Memory the process cannot write: the writable object is
	 * refused (-EPERM), Mesa retries read-only (PIPE_USAGE_IMMUTABLE, a
	 * read-only userptr object) and the GPU reads the CPU's bytes. Only
	 * the 25.0 series has that retry (mesa-25.0/0010): host.sh builds
	 * with PINNED_READ_ONLY then.
	 */
#ifdef PINNED_READ_ONLY
	uint32_t *ro = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	GLuint robuf;
	if (ro == MAP_FAILED) {
		result(false, "read-only-create", "mmap: %s", strerror(errno));
		return 1;
	}
	fill(ro, SIZE, seed ^ 0x5a5a5a5au);
	mprotect(ro, SIZE, PROT_READ);
	glGenBuffers(1, &robuf);
	glBindBuffer(GL_EXTERNAL_VIRTUAL_MEMORY_BUFFER_AMD, robuf);
	glBufferData(GL_EXTERNAL_VIRTUAL_MEMORY_BUFFER_AMD, SIZE, ro, GL_STREAM_READ);
	err = glGetError();
	glBindBuffer(GL_EXTERNAL_VIRTUAL_MEMORY_BUFFER_AMD, 0);
	l = log_since(&pos);
	bool ro_ok = read_only_created(l, generic ? "userptr-create generic" : drv_ioctl);
	result(err == GL_NO_ERROR && ro_ok, "read-only-create",
	       "glBufferData over PROT_READ memory: GL error 0x%x; want a read-only "
	       "object through %s; shim log: %s", err,
	       generic ? "DRM_IOCTL_USERPTR_CREATE" : drv_ioctl, l);
	free(l);
	if (err == GL_NO_ERROR) {
		glBindBuffer(GL_COPY_READ_BUFFER, robuf);
		check_gpu_copy(glCopyBufferSubData, glFinish, ro, "read-only-gpu-view", &pos);
		glBindBuffer(GL_COPY_READ_BUFFER, pinned);
	}
	glDeleteBuffers(1, &robuf);
	glFinish();
	munmap(ro, SIZE);
	free(log_since(&pos));
#endif

	/* 4. After munmap, the next use fails (-EFAULT from vsvm's EXEC). */
	munmap(mem, SIZE);
	glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER, 0, 0, SIZE);
	glFinish();
	l = log_since(&pos);
	/* radeonsi: and the application is told (the context is lost). */
	GLenum reset = radeonsi ? glGetGraphicsResetStatus() : GL_NO_ERROR;
	result(strstr(l, "cs handle=") && strstr(l, "ret=-14") &&
	       (!radeonsi || reset != GL_NO_ERROR), "use-after-munmap-fails",
	       "want the CS to fail with -EFAULT%s; reset status 0x%x; shim log: %s",
	       radeonsi ? " and the context to be lost" : "", reset, l);
	free(l);

	/* 5. Deleting the buffer closes the vsvm object. */
	glBindBuffer(GL_COPY_READ_BUFFER, 0);
	glBindBuffer(GL_COPY_WRITE_BUFFER, 0);
	glDeleteBuffers(1, &pinned);
	glDeleteBuffers(1, &dst);
	glFinish();
	eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(dpy, ctx);
	eglTerminate(dpy);
	l = log_since(&pos);
	char want[64];
	snprintf(want, sizeof(want), "gem-close vsvm=%u ret=0", vsvm_handle);
	result(strstr(l, want), "close", "want '%s'; shim log: %s", want, l);
	free(l);

	return failed ? 1 : 0;
}
