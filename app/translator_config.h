/*
 * app/translator_config.h - the translator's options taken from the configuration.
 * The adapter lives in app/ so that config/ does not depend on translator/ (and the
 * translator knows nothing of YAML).
 */
#ifndef XB_APP_TRANSLATOR_CONFIG_H
#define XB_APP_TRANSLATOR_CONFIG_H

#include "config/config.h"
#include "translator/translate.h"

/*
 * Fills |tc| from cfg->translate. |tc| borrows |cfg|'s strings: it is valid while
 * |cfg| lives. Cannot fail.
 */
void xb_app_translator_config(const struct xb_config *cfg, struct xb_translator_config *tc);

#endif
