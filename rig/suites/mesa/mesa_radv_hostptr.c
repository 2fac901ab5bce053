// SPDX-License-Identifier: MIT
/*
 * VK_EXT_external_memory_host on radv, through the amdgpu drm-shim, against
 * the real kernel's generic userptr IOCTL (vsvm).
 *
 *   mesa_radv_hostptr generic|fallback
 *
 * generic: the shim reports DRM_CAP_USERPTR, so the import must create the
 * object with DRM_IOCTL_USERPTR_CREATE (libdrm's
 * amdgpu_create_bo_from_user_mem2()); fallback: the shim hides the cap
 * (DRM_SHIM_USERPTR_CAP=0), so it must use DRM_AMDGPU_GEM_USERPTR. Either
 * way the shim backs the memory by a vsvm userptr object and, for every
 * command stream that lists it, has vsvm's engine copy it: the test compares
 * those bytes (DRM_SHIM_VSVM_DUMP) with the CPU's, and reads the shim's log
 * (DRM_SHIM_VSVM_LOG) for the IOCTL used and the result of each use.
 *
 * radv is driven without a Vulkan loader: the ICD (libvulkan_radeon.so,
 * $RADV_ICD) is dlopen'ed and called through vk_icdGetInstanceProcAddr.
 *
 * Prints "RESULT pass|fail mesa.radv.<mode>.<check> [reason]".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
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

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan_core.h>

#define SIZE (64 * 1024)

#include "shim_check.h"

static void fill(uint32_t *p, size_t size, uint32_t seed)
{
	for (size_t i = 0; i < size / 4; i++) {
		seed = seed * 1664525u + 1013904223u;
		p[i] = seed;
	}
}

static PFN_vkGetInstanceProcAddr gipa;
static PFN_vkGetDeviceProcAddr gdpa;
static VkInstance inst;
static VkDevice dev;

#define IFN(name) PFN_##name name = (PFN_##name)gipa(inst, #name)
#define DFN(name) PFN_##name name = (PFN_##name)gdpa(dev, #name)

/* What the test needs of the device, set up once. */
static struct {
	VkPhysicalDevice pdev;
	uint32_t queue_family;
	VkQueue queue;
	VkCommandPool pool;
	VkBuffer dst;
	VkDeviceMemory dst_mem;
	VkDeviceSize align;
	VkPhysicalDeviceMemoryProperties mem_props;
} g;

static int find_type(uint32_t bits, VkMemoryPropertyFlags want)
{
	for (uint32_t i = 0; i < g.mem_props.memoryTypeCount; i++)
		if ((bits & (1u << i)) &&
		    (g.mem_props.memoryTypes[i].propertyFlags & want) == want)
			return i;
	return -1;
}

/* Import host memory; VK_SUCCESS or the error. */
static VkResult import(void *ptr, VkDeviceMemory *mem)
{
	DFN(vkGetMemoryHostPointerPropertiesEXT);
	DFN(vkAllocateMemory);
	VkMemoryHostPointerPropertiesEXT props = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
	};
	VkResult r;

	r = vkGetMemoryHostPointerPropertiesEXT(dev,
		VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, ptr, &props);
	if (r)
		return r;
	int type = find_type(props.memoryTypeBits, 0);
	if (type < 0)
		return VK_ERROR_FORMAT_NOT_SUPPORTED;
	VkImportMemoryHostPointerInfoEXT host = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
		.pHostPointer = ptr,
	};
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &host, .allocationSize = SIZE, .memoryTypeIndex = type,
	};
	return vkAllocateMemory(dev, &ai, NULL, mem);
}

/* A transfer-source buffer over imported memory. */
static VkResult src_buffer(VkDeviceMemory mem, VkBuffer *buf)
{
	DFN(vkCreateBuffer);
	DFN(vkBindBufferMemory);
	VkExternalMemoryBufferCreateInfo ext = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
	};
	VkBufferCreateInfo bi = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .pNext = &ext,
		.size = SIZE, .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
	};
	VkResult r = vkCreateBuffer(dev, &bi, NULL, buf);

	return r ? r : vkBindBufferMemory(dev, *buf, mem, 0);
}

/* Copy src into the device-local buffer: one CS that lists src's memory. */
static VkResult copy(VkBuffer src)
{
	DFN(vkAllocateCommandBuffers);
	DFN(vkBeginCommandBuffer);
	DFN(vkCmdCopyBuffer);
	DFN(vkEndCommandBuffer);
	DFN(vkQueueSubmit);
	DFN(vkQueueWaitIdle);
	DFN(vkFreeCommandBuffers);
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = g.pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkBufferCopy region = { .size = SIZE };
	VkCommandBuffer cb;
	VkResult r;

	r = vkAllocateCommandBuffers(dev, &cai, &cb);
	if (r)
		return r;
	vkBeginCommandBuffer(cb, &begin);
	vkCmdCopyBuffer(cb, src, g.dst, 1, &region);
	vkEndCommandBuffer(cb);
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1, .pCommandBuffers = &cb,
	};
	r = vkQueueSubmit(g.queue, 1, &si, VK_NULL_HANDLE);
	if (!r)
		r = vkQueueWaitIdle(g.queue);
	vkFreeCommandBuffers(dev, g.pool, 1, &cb);
	return r;
}

static bool setup(void)
{
	const char *icd = getenv("RADV_ICD");
	void *lib = dlopen(icd ? icd : "libvulkan_radeon.so", RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		result(false, "vulkan", "dlopen: %s", dlerror());
		return false;
	}
	VkResult (*negotiate)(uint32_t *) = (VkResult (*)(uint32_t *))
		dlsym(lib, "vk_icdNegotiateLoaderICDInterfaceVersion");
	uint32_t icd_version = 5;
	if (negotiate)
		negotiate(&icd_version);
	gipa = (PFN_vkGetInstanceProcAddr)dlsym(lib, "vk_icdGetInstanceProcAddr");
	if (!gipa) {
		result(false, "vulkan", "no vk_icdGetInstanceProcAddr in the ICD");
		return false;
	}

	IFN(vkCreateInstance);
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "mesa_radv_hostptr", .apiVersion = VK_API_VERSION_1_1,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app,
	};
	VkResult r = vkCreateInstance(&ici, NULL, &inst);
	if (r) {
		result(false, "vulkan", "vkCreateInstance: %d", r);
		return false;
	}

	IFN(vkEnumeratePhysicalDevices);
	IFN(vkGetPhysicalDeviceProperties2);
	IFN(vkGetPhysicalDeviceMemoryProperties);
	IFN(vkGetPhysicalDeviceQueueFamilyProperties);
	IFN(vkEnumerateDeviceExtensionProperties);
	IFN(vkCreateDevice);
	uint32_t n = 1;
	r = vkEnumeratePhysicalDevices(inst, &n, &g.pdev);
	if ((r && r != VK_INCOMPLETE) || !n) {
		result(false, "vulkan", "no physical device (%d)", r);
		return false;
	}
	VkPhysicalDeviceExternalMemoryHostPropertiesEXT host_props = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
	};
	VkPhysicalDeviceProperties2 props = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
		.pNext = &host_props,
	};
	vkGetPhysicalDeviceProperties2(g.pdev, &props);
	vkGetPhysicalDeviceMemoryProperties(g.pdev, &g.mem_props);
	g.align = host_props.minImportedHostPointerAlignment;
	printf("mesa_radv_hostptr: %s: %s, host pointer alignment %llu\n", mode,
	       props.properties.deviceName, (unsigned long long)g.align);

	uint32_t next = 0;
	VkExtensionProperties exts[512];
	n = 512;
	vkEnumerateDeviceExtensionProperties(g.pdev, NULL, &n, exts);
	bool has_ext = false;
	for (uint32_t i = 0; i < n; i++)
		has_ext |= !strcmp(exts[i].extensionName, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
	result(strstr(props.properties.deviceName, "RENOIR") && has_ext, "device",
	       "want radv on RENOIR with %s; got %s, extension %s",
	       VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME, props.properties.deviceName,
	       has_ext ? "present" : "missing");
	if (!has_ext || g.align > SIZE)
		return false;

	VkQueueFamilyProperties qf[8];
	n = 8;
	vkGetPhysicalDeviceQueueFamilyProperties(g.pdev, &n, qf);
	for (next = 0; next < n; next++)
		if (qf[next].queueFlags & VK_QUEUE_TRANSFER_BIT)
			break;
	g.queue_family = next;
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = g.queue_family, .queueCount = 1,
		.pQueuePriorities = &prio,
	};
	const char *ext_names[] = { VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME };
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
		.enabledExtensionCount = 1, .ppEnabledExtensionNames = ext_names,
	};
	r = vkCreateDevice(g.pdev, &dci, NULL, &dev);
	if (r) {
		result(false, "device-create", "vkCreateDevice: %d", r);
		return false;
	}
	gdpa = (PFN_vkGetDeviceProcAddr)gipa(inst, "vkGetDeviceProcAddr");

	DFN(vkGetDeviceQueue);
	DFN(vkCreateCommandPool);
	DFN(vkCreateBuffer);
	DFN(vkGetBufferMemoryRequirements);
	DFN(vkAllocateMemory);
	DFN(vkBindBufferMemory);
	vkGetDeviceQueue(dev, g.queue_family, 0, &g.queue);
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.queueFamilyIndex = g.queue_family,
	};
	VkBufferCreateInfo bi = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = SIZE, .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
	};
	VkMemoryRequirements req;
	r = vkCreateCommandPool(dev, &pci, NULL, &g.pool);
	if (!r)
		r = vkCreateBuffer(dev, &bi, NULL, &g.dst);
	if (!r) {
		vkGetBufferMemoryRequirements(dev, g.dst, &req);
		VkMemoryAllocateInfo ai = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
			.allocationSize = req.size,
			.memoryTypeIndex = find_type(req.memoryTypeBits, 0),
		};
		r = vkAllocateMemory(dev, &ai, NULL, &g.dst_mem);
	}
	if (!r)
		r = vkBindBufferMemory(dev, g.dst, g.dst_mem, 0);
	result(!r, "device-create", "setting up the queue and the destination: %d", r);
	return !r;
}

int main(int argc, char **argv)
{
	bool generic;
	long pos = 0;
	char why[128], *l;
	uint32_t seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	VkResult r;

	if (argc != 2 || (strcmp(argv[1], "generic") && strcmp(argv[1], "fallback"))) {
		fprintf(stderr, "usage: %s generic|fallback\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	prefix = "radv";
	generic = !strcmp(mode, "generic");
	log_path = getenv("DRM_SHIM_VSVM_LOG");
	dump_path = getenv("DRM_SHIM_VSVM_DUMP");
	if (!log_path || !dump_path) {
		printf("RESULT fail mesa.radv.%s.setup DRM_SHIM_VSVM_LOG/DUMP not set\n", mode);
		return 1;
	}
	if (!setup())
		return 1;
	l = log_since(&pos);
	result(strstr(l, "vsvm /dev/dri/renderD"), "shim", "the shim found no vsvm node: %s", l);
	free(l);

	DFN(vkFreeMemory);
	DFN(vkDestroyBuffer);
	const char *want_ioctl = generic ? "userptr-create generic" : "userptr-create amdgpu-gem-userptr";
	const char *other_ioctl = generic ? "userptr-create amdgpu-gem-userptr" : "userptr-create generic";

	/* 1. Import writable anonymous memory. */
	uint32_t *mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VkDeviceMemory hmem = VK_NULL_HANDLE;
	VkBuffer src = VK_NULL_HANDLE;
	if (mem == MAP_FAILED) {
		result(false, "import", "mmap: %s", strerror(errno));
		return 1;
	}
	fill(mem, SIZE, seed);
	r = import(mem, &hmem);
	if (!r)
		r = src_buffer(hmem, &src);
	l = log_since(&pos);
	unsigned vsvm_handle = 0;
	char *c = strstr(l, " vsvm=");
	if (c)
		vsvm_handle = strtoul(c + 6, NULL, 10);
	result(!r && vsvm_handle && strstr(l, "ret=0"), "import",
	       "import and bind: %d; shim log: %s", r, l);
	result(strstr(l, want_ioctl) && !strstr(l, other_ioctl), "ioctl",
	       "want '%s'; shim log: %s", want_ioctl, l);
	free(l);
	if (r || !vsvm_handle)
		return 1;

	/* 2. A transfer reads the CPU's bytes (vsvm's view of the object). */
	r = copy(src);
	l = log_since(&pos);
	why[0] = 0;
	result(!r && strstr(l, "cs handle=") && strstr(l, "ret=0") &&
	       dump_matches(mem, SIZE, why, sizeof(why)), "gpu-view",
	       "submit %d; %s; shim log: %s", r, why, l);
	free(l);

	/* 3. A mirror, not a snapshot. */
	fill(mem, SIZE, ~seed);
	r = copy(src);
	l = log_since(&pos);
	why[0] = 0;
	result(!r && strstr(l, "cs handle=") && strstr(l, "ret=0") &&
	       dump_matches(mem, SIZE, why, sizeof(why)), "gpu-view-after-write",
	       "submit %d; %s; shim log: %s", r, why, l);
	free(l);

	/* 4. PROT_READ memory is imported read-only (a writable object is
	 * refused with -EPERM) and the GPU reads it.
	 */
	uint32_t *ro = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VkDeviceMemory romem = VK_NULL_HANDLE;
	VkBuffer rosrc = VK_NULL_HANDLE;
	fill(ro, SIZE, seed ^ 0x5a5a5a5a);
	mprotect(ro, SIZE, PROT_READ);
	r = import(ro, &romem);
	if (!r)
		r = src_buffer(romem, &rosrc);
	l = log_since(&pos);
	bool ro_ok = read_only_created(l, want_ioctl);
	result(!r && ro_ok, "read-only-import",
	       "import of PROT_READ memory: %d; want a read-only object through '%s'; "
	       "shim log: %s", r, want_ioctl, l);
	free(l);
	if (!r) {
		r = copy(rosrc);
		l = log_since(&pos);
		why[0] = 0;
		result(!r && strstr(l, "cs handle=") && strstr(l, "ret=0") &&
		       dump_matches(ro, SIZE, why, sizeof(why)), "read-only-gpu-view",
		       "submit %d; %s; shim log: %s", r, why, l);
		free(l);
		vkDestroyBuffer(dev, rosrc, NULL);
		vkFreeMemory(dev, romem, NULL);
		log_since(&pos);
	}
	munmap(ro, SIZE);

	/* 5. After munmap, the next use fails cleanly (-EFAULT from EXEC). */
	munmap(mem, SIZE);
	r = copy(src);
	l = log_since(&pos);
	result(r != VK_SUCCESS && strstr(l, "cs handle=") && strstr(l, "ret=-14"),
	       "use-after-munmap-fails",
	       "want the submit to fail with -EFAULT from vsvm; submit %d; shim log: %s", r, l);
	free(l);

	/* 6. Freeing the memory closes the vsvm object. */
	vkDestroyBuffer(dev, src, NULL);
	vkFreeMemory(dev, hmem, NULL);
	l = log_since(&pos);
	char want[64];
	snprintf(want, sizeof(want), "gem-close vsvm=%u ret=0", vsvm_handle);
	result(strstr(l, want), "close", "want '%s'; shim log: %s", want, l);
	free(l);

	return failed ? 1 : 0;
}
