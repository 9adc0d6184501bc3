/*
 * core/names.h - the names of the checks a candidate passed, for both shells
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CORE_NAMES_H
#define KASLR_CORE_NAMES_H

#include <stddef.h>

/* One KASLR_V_* bit (kaslr_core.h) in the words of each output. */
struct kaslr_check_name {
	unsigned bit;
	const char *key;	/* kaslr-find --json and -v: "window" */
	const char *text;	/* kaslr-find: "in window" */
	const char *long_text;	/* kaslr (the module): "in the 1 GiB window" */
};

/* Every check, in the order both shells print them. */
extern const struct kaslr_check_name kaslr_check_names[];
extern const size_t kaslr_nr_check_names;

enum kaslr_check_words { KASLR_CHECK_KEY, KASLR_CHECK_TEXT, KASLR_CHECK_LONG };

/**
 * kaslr_checks_join - the checks set in @checks as one list
 * @words: which of the names
 * @sep:   between two names (", ", ",")
 * @none:  the whole list when no check is set ("none", "-")
 * @buf, @len: where the list goes, cut to fit
 *
 * @returns @buf.
 */
const char *kaslr_checks_join(unsigned checks, enum kaslr_check_words words, const char *sep,
			      const char *none, char *buf, size_t len);

#endif /* KASLR_CORE_NAMES_H */
