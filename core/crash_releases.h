/*
 * core/crash_releases.h - which crash release first initialises which kernel
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CORE_CRASH_RELEASES_H
#define KASLR_CORE_CRASH_RELEASES_H

/* The newest crash release the table knows (core/crash_releases.c). */
#define KASLR_CRASH_NEWEST "9.0.2"

/**
 * kaslr_crash_release_for - the first crash release that can initialise a kernel
 * @osrelease: the kernel's release ("6.12.118+deb13-cloud-amd64")
 * @why_ret:   if not NULL, the crash change behind the answer ("7750e61 Support
 *             module memory layout change on Linux 6.4"), or NULL
 *
 * From crash's own history (core/crash_releases.c cites each commit and the
 * first tag that holds it).  Kernels older than every entry: "" (any release
 * the table covers).
 *
 * @returns the release ("8.0.6"), "" when every release in the table can,
 * or NULL when none released can yet (Linux 7.x as of crash 9.0.2).
 */
const char *kaslr_crash_release_for(const char *osrelease, const char **why_ret);

/* -1, 0, 1 as crash release @a ("8.0.2") is older than, the same as, newer than @b. */
int kaslr_crash_release_cmp(const char *a, const char *b);

#endif /* KASLR_CORE_CRASH_RELEASES_H */
