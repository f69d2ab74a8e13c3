/* containers.h - finds the containers of an analysis: every sync.Map, the Go maps of the
 * program's own types that its globals reach, and what --container names (a global or a Go
 * expression through fields); cdecode.h decodes them. */
#ifndef CONTAINERS_H
#define CONTAINERS_H

#include "analysis.h"

/* Fills a->containers (a owns them; containers_release frees them) and labels the decoded
 * structures' objects (heap_label). Returns HS_OK; HS_ERR_NOTFOUND with a message saying so
 * for a --container name that resolves to nothing (placeexpr.h); HS_ERR_NOMEM with err set. */
int containers_find(analysis *a, hs_error *err);

/* Frees a->containers. */
void containers_release(analysis *a);

#endif
