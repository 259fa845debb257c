/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bindgen binds for efimm's Rust (src/sys/): everything efimm.h
 * declares, and the types its declarations use. The Kbuild rule allows
 * efimm.h's items only; task_struct is the kernel crate's own.
 */
#include "efimm.h"
