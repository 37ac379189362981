/* Placeholder: replaced by the config implementation. */
#include "config/config.h"
#include "core/err.h"
#include <stdio.h>
const char *xb_config_default_yaml(void) { return ""; }
int xb_config_parse(const char *text, size_t len, const char *source_name,
                    struct xb_config **out, char *errbuf, size_t errlen)
{ snprintf(errbuf, errlen, "config not built"); return XB_ERR_CONFIG; }
int xb_config_load_file(const char *path, struct xb_config **out, char *errbuf, size_t errlen)
{ snprintf(errbuf, errlen, "config not built"); return XB_ERR_CONFIG; }
int xb_config_load_default(struct xb_config **out, char *errbuf, size_t errlen)
{ snprintf(errbuf, errlen, "config not built"); return XB_ERR_CONFIG; }
void xb_config_free(struct xb_config *cfg) { (void)cfg; }
void xb_config_translator(const struct xb_config *cfg, struct xb_translator_config *tc) {}
