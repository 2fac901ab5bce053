#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# nouveau suite, host side: nothing to build; nouveau.ko comes with the
# kernel's modules (drivers/nouveau/kernel.config).
set -euo pipefail
: "${RIG_SUITE_DIR:?}"
