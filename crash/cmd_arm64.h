/*
 * crash/cmd_arm64.h - the "kaslr" command in crash:arm64
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CRASH_CMD_ARM64_H
#define KASLR_CRASH_CMD_ARM64_H

/*
 * kaslr_cmd_arm64 - "kaslr" (the core's verified answer and the session's
 * layout), "kaslr -r" (that answer applied), "kaslr -r OFFSET
 * KIMAGE_VOFFSET [name=value ...]" (values given by hand); reads crash's
 * args/argcnt.  kaslr_ext.c's cmd_kaslr() handles -V and calls this.
 */
void kaslr_cmd_arm64(void);

#endif /* KASLR_CRASH_CMD_ARM64_H */
