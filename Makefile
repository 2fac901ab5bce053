# SPDX-License-Identifier: GPL-2.0
#
# drm_svm: build the pinned kernel with our overlay, boot it in QEMU and test.
#
#   make run     build everything, boot the VM, run the demo
#   make check   build everything, boot the VM, run every test suite
#   make help    the other targets
#
# All generated state lives in work/ (ignored by git).

SHELL := /bin/bash
ROOT := $(abspath .)
W := $(ROOT)/work
space := $(subst ,, )

# --- which kernel: Linux 7.3 (KERNEL is its series, the name of its
# work/ directories); FLAVOR=debug (tests) or release (benchmarks) ---
# Linux 6.12 and the drm_svm helper are retired: tag linux-6.12 (README).
KERNEL := 7.3
FLAVOR ?= debug
DRM_SVM_CACHE ?= /var/cache/drm-svm

# --- pinned sources ---
# Linux comes as Debian's linux-source-7.3 from trixie-backports,
# fetched by rig/fetch-linux.sh with a private sources list (the host's
# sources are left alone). To bump, change this one line: the package,
# its version and the tarball's sha256 (fetch-linux.sh prints the line).
LINUX_PIN := linux-source-7.3 7.3.4-1~bpo13+1 76df1affb19f24926949369be1d74b60071c963c598ce8780bddd4bbf0fc3bc4
LINUX_DEB_VERSION := $(word 2,$(LINUX_PIN))
LINUX_TARBALL := $(DRM_SVM_CACHE)/$(word 1,$(LINUX_PIN))_$(LINUX_DEB_VERSION)/$(word 1,$(LINUX_PIN)).tar.xz
LINUX_TARBALL_SHA256 := $(word 3,$(LINUX_PIN))
ifeq ($(filter $(FLAVOR),debug release),)
$(error FLAVOR=$(FLAVOR): debug or release)
endif

# Adding a Debian package is one line in DEB_PKGS.
DEB_PKGS := \
	build-essential flex bison bc libelf-dev libssl-dev cpio kmod rsync \
	xz-utils dwarves python3 python3-ply python3-git perl git \
	qemu-system-x86 busybox-static \
	intel-gpu-tools libdrm-dev pkg-config sparse \
	meson ninja-build python3-mako ccache dpkg-dev libexpat1-dev zlib1g-dev \
	gnuplot-nox

# sparse for the W=1 C=1 gate (rig/wcheck.sh). Since 6.19 the kernel needs
# one that parses __typeof_unqual__, which Debian's 0.6.4 does not: it is
# Debian's source with rig/sparse/*.patch, built into the cache by
# `make sparse` (rig/README.md, "sparse"). SPARSE=sparse tries Debian's.
SPARSE_DEB_VERSION := 0.6.4-3
SPARSE_OURS := $(DRM_SVM_CACHE)/sparse-$(SPARSE_DEB_VERSION)+typeof-unqual/bin/sparse
SPARSE ?= $(SPARSE_OURS)

# Where the kernel's state lives: one tree, and one build directory (and
# guest image) per flavor.
KTAG = -$(KERNEL)$(if $(filter release,$(FLAVOR)),-release)$(if \
	$(MODULE_DRIVERS),-$(subst $(space),-,$(MODULE_DRIVERS)))
KSRC := $(W)/linux-source-$(KERNEL)
KBUILD = $(W)/build$(KTAG)
KHDR = $(W)/headers$(KTAG)
# Components, in the order their patches are applied (missing ones are
# skipped). Each may have patches/*.patch, overlay.list and kernel.config.
COMPONENTS := rig mm drm-svm uapi drivers/vsvm drivers/radeon drivers/amdgpu drivers/nouveau

# amdgpu and nouveau have no QEMU device, and their modules are most of a
# from-nothing make check's kernel build (about 20 of its minutes on 2
# cores). Their patches are applied to every tree and make check compiles
# each file they touch with W=1 + sparse (rig/wcheck.sh, in a config that
# has both drivers); DRIVERS="amdgpu nouveau" (make check-drivers) also
# builds both modules into the test kernel, in a build directory of its
# own, with their load/unload suites and nouveau's KUnit suite.
DRIVERS ?=
MODULE_DRIVERS = $(sort $(DRIVERS) $(filter amdgpu nouveau,$(SUITES)))
CONFIG_COMPONENTS = $(filter-out $(addprefix drivers/,$(filter-out \
	$(MODULE_DRIVERS),amdgpu nouveau)),$(COMPONENTS))

# Test selection and VM knobs (see README.md).
SUITES ?= rig kunit hmm igt fault mesa radeon $(DRIVERS)
KUNIT_FILTER ?= *
VM_TIMEOUT ?= 2400
CMD ?= uname -a
JOBS ?= $(shell nproc)
# Kernel builds are serialised on this lock (one at a time on a 2-core box).
KBUILD_LOCK ?= $(W)/kbuild.lock

export ROOT W KSRC KBUILD KHDR COMPONENTS LINUX_TARBALL LINUX_TARBALL_SHA256 \
	LINUX_DEB_VERSION LINUX_PIN SUITES KUNIT_FILTER VM_TIMEOUT JOBS KBUILD_LOCK \
	KERNEL FLAVOR KTAG DRM_SVM_CACHE SPARSE SPARSE_DEB_VERSION CONFIG_COMPONENTS

# Kernel compiles go through Debian's ccache when it is installed (deps
# installs it), with the cache outside the clone beside Mesa's; paths are
# rewritten relative to the clone, so a fresh clone of the same tree hits.
# Lazy (=): on a fresh machine ccache only exists once deps has run.
KCC = $(if $(shell command -v ccache),ccache gcc,gcc)
KMAKE = CCACHE_DIR=$(DRM_SVM_CACHE)/ccache CCACHE_BASEDIR=$(ROOT) \
	CCACHE_NOHASHDIR=1 $(OWN_JOBS) flock $(KBUILD_LOCK) \
	$(MAKE) -C $(KSRC) O=$(KBUILD) -j$(JOBS) CC="$(KCC)"
# A make started by a recipe keeps its own -j: with make check's jobserver
# taken out of MAKEFLAGS it does not warn "-jN forced in submake".
OWN_JOBS = MAKEFLAGS="$(filter-out -j% --jobserver%,$(MAKEFLAGS))"

.PHONY: help deps linux-tarball mesa-for-suites tree config kernel mesa initramfs check check-drivers run bench bench-one vm series \
	checkpatch sparse wcheck clean distclean

help:
	@echo "make run                  build, boot the VM, run the demo"
	@echo "make check                build, boot the VM, run all suites ($(strip $(SUITES)))"
	@echo "make check SUITES=kunit KUNIT_FILTER='drm_gpusvm*'   one suite / KUnit glob"
	@echo "make check-drivers        make check plus the amdgpu and nouveau modules"
	@echo "                          (DRIVERS=\"amdgpu nouveau\"): load/unload, KFD, KUnit"
	@echo "make bench                benchmarks in the VM (ratios, no pass/fail on time),"
	@echo "                          release and debug kernels, each without and with an IOMMU"
	@echo "make kernel FLAVOR=release  the release kernel (no KASAN/kmemleak/lockdep/DEBUG_VM)"
	@echo "make vm CMD='...'         run a command in the guest"
	@echo "make kernel               overlay + patches + config + incremental build"
	@echo "make mesa                 libdrm + Mesa with mesa-patches/ (meson tests too);"
	@echo "                          MESA_SERIES=25.0 (default) or 22.3, MESA_LLVM=enabled"
	@echo "make series               export the kernel patch series to work/series/"
	@echo "make checkpatch           checkpatch --strict + kernel-doc on our files"
	@echo "make wcheck               the W=1 + sparse gate alone (as make check runs it)"
	@echo "make clean | distclean    drop the build dir | drop all of work/"

# Install build and run dependencies (root, Debian 12). A no-op when present.
deps:
	@$(ROOT)/rig/install-deps.sh $(DEB_PKGS)
	@mkdir -p $(W) $(dir $(KBUILD_LOCK))

# The pinned Linux tarball; needs only apt and dpkg, so it downloads while
# deps installs (make check runs its builds with -j).
linux-tarball:
	@$(ROOT)/rig/fetch-linux.sh

# Unpack the pinned tree, apply the patch series, copy our new files in.
tree: deps linux-tarball
	@$(OWN_JOBS) flock $(KBUILD_LOCK) $(ROOT)/rig/prepare-tree.sh

config: tree
	@$(OWN_JOBS) flock $(KBUILD_LOCK) $(ROOT)/rig/make-config.sh

kernel: config
	@echo "  BUILD   kernel ($(KBUILD))"
	@$(KMAKE) -s bzImage modules
	@$(KMAKE) -s INSTALL_HDR_PATH=$(KHDR) headers_install >/dev/null

# libdrm and Mesa with mesa-patches/ (mesa-patches/README.md), for the mesa
# suite; ccache keeps its cache outside the clone.
mesa: deps
	@$(ROOT)/mesa-patches/build.sh all

# Mesa when the suites need it (make run's and make bench's do not).
mesa-for-suites: deps
	@$(if $(filter mesa,$(SUITES)),$(ROOT)/mesa-patches/build.sh all)

initramfs: kernel mesa-for-suites
	@$(OWN_JOBS) flock $(KBUILD_LOCK) $(ROOT)/rig/build-initramfs.sh

# The builds run side by side (kernel, libdrm + Mesa, sparse, the tarball
# beside the packages): on 2 cores each fills the others' serial steps
# (unpacking, vmlinux link, meson setup). BUILD_JOBS=1 for one at a time.
BUILD_JOBS ?= 4
check:
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) initramfs sparse
	@$(ROOT)/rig/run-tests.sh check

# make check with the amdgpu and nouveau modules built and load-tested.
# SUITES is passed on: the sub-make would take this make's exported one,
# computed without the drivers, and run neither suite.
check-drivers:
	@$(MAKE) --no-print-directory check DRIVERS="amdgpu nouveau" \
		SUITES="$(filter-out amdgpu nouveau,$(SUITES)) amdgpu nouveau"

# Our patched sparse, unless SPARSE names another; a no-op once built.
sparse: deps
	@$(if $(filter $(SPARSE_OURS),$(SPARSE)),$(OWN_JOBS) $(ROOT)/rig/sparse/build-sparse.sh >/dev/null)

wcheck: tree sparse
	@$(ROOT)/rig/wcheck.sh

# make run and make bench stage only their own suite: no Mesa build.
run: SUITES := demo
bench-one: SUITES := bench
bench-one: export BENCH_KERNEL = $(FLAVOR)
bench-one: export BENCH_IOMMU = $(VM_IOMMU)

run: initramfs
	@SUITES=demo $(ROOT)/rig/run-tests.sh run

# make bench: one VM run per kernel flavor and IOMMU setting, release
# first (the figures users see), then debug; each line says kernel=...
# iommu=... (VM_IOMMU, rig/run-tests.sh: a q35 VM whose "edu" PCI device
# vsvm maps through, behind an Intel IOMMU or not).
BENCH_FLAVORS ?= release debug
BENCH_IOMMUS ?= off on
# Under KASAN + TCG the 100000-range rows of P2/P6 alone take over 30 min:
# next to a release run, the debug kernel runs them up to N=10000 and P2
# with 500 munmaps per process (BENCH_N / BENCH_ITERS still override).
bench:
	@rc=0; dirs=; for f in $(BENCH_FLAVORS); do for i in $(BENCH_IOMMUS); do \
		echo "  BENCH   kernel=$$f iommu=$$i ($(KERNEL))"; \
		before=$$(readlink -f $(W)/results/latest 2>/dev/null); \
		( if [ $$f = debug ] && [ "$(BENCH_FLAVORS)" != debug ]; then \
			export BENCH_N="$${BENCH_N:-1 1000 10000}"; \
			export BENCH_ITERS="$${BENCH_ITERS:-500}"; \
			echo "  BENCH   debug: P2/P6 N=$$BENCH_N, $$BENCH_ITERS munmaps"; \
		  fi; \
		  $(MAKE) --no-print-directory bench-one FLAVOR=$$f VM_IOMMU=$$i ) || rc=1; \
		after=$$(readlink -f $(W)/results/latest 2>/dev/null); \
		if [ -n "$$after" ] && [ "$$after" != "$$before" ]; then \
			dirs="$$dirs $$after"; \
		else \
			echo "  BENCH   kernel=$$f iommu=$$i: no VM run, nothing to plot"; rc=1; \
		fi; \
	done; done; \
	$(ROOT)/rig/suites/bench/plot-all.sh $(W)/results/bench-$$(date -u +%Y%m%d-%H%M%S) $$dirs || rc=1; \
	exit $$rc

bench-one: initramfs
	@t0=$$(date +%s.%N); SUITES=bench $(ROOT)/rig/run-tests.sh run; rc=$$?; \
	$(ROOT)/rig/suites/bench/plot.sh $(W)/results/latest \
		"$$(echo "$$(date +%s.%N) - $$t0" | bc)"; exit $$rc

vm: initramfs
	@SUITES=cmd RIG_CMD="$(CMD)" $(ROOT)/rig/run-tests.sh vm

series: tree
	@flock $(KBUILD_LOCK) $(ROOT)/rig/make-series.sh

checkpatch: tree
	@$(ROOT)/rig/checkpatch.sh

clean:
	rm -rf $(KBUILD) $(W)/initramfs* $(W)/results

distclean:
	rm -rf $(W)
