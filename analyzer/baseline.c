/* baseline.c - accepted findings from an earlier report (see baseline.h). */
#include "baseline.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "findings.h"
#include "report.h"

struct baseline {
    uint64_t *hashes; /* findings_hash(kind, signature) of each finding */
    char **sigs;      /* the signatures, in the same order, to confirm a hash hit */
    int *kinds;
    size_t n;
};

void baseline_free(baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->sigs[i]);
    free(b->hashes);
    free(b->sigs);
    free(b->kinds);
    free(b);
}

/* Adds every finding of a report's array `key` ("findings"). */
static int add_array(baseline *b, const cJSON *root, const char *key, hs_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key), *f;
    if (!cJSON_IsArray(arr))
        return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET,
                            "baseline: the report has no \"%s\" array", key);
    size_t cap = b->n + (size_t)cJSON_GetArraySize(arr);
    uint64_t *h = realloc(b->hashes, (cap + 1) * sizeof *h);
    if (h)
        b->hashes = h;
    char **s = realloc(b->sigs, (cap + 1) * sizeof *s);
    if (s)
        b->sigs = s;
    int *k = realloc(b->kinds, (cap + 1) * sizeof *k);
    if (k)
        b->kinds = k;
    if (!h || !s || !k)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "baseline: out of memory");
    size_t i = 0;
    cJSON_ArrayForEach(f, arr)
    {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(f, "kind");
        const cJSON *sig = cJSON_GetObjectItemCaseSensitive(f, "signature");
        int kd = cJSON_IsString(kind) ? report_kind_parse(kind->valuestring) : -1;
        if (kd < 0 || !cJSON_IsString(sig))
            return hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET,
                                "baseline: %s[%zu] has no known \"kind\" and \"signature\"", key,
                                i);
        if (!(b->sigs[b->n] = strdup(sig->valuestring)))
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "baseline: out of memory");
        b->kinds[b->n] = kd;
        b->hashes[b->n++] = findings_hash(kd, sig->valuestring);
        i++;
    }
    return HS_OK;
}

int baseline_parse(const char *json, size_t size, baseline **out, hs_error *err)
{
    *out = NULL;
    baseline *b = calloc(1, sizeof *b);
    cJSON *root = cJSON_ParseWithLength(json, size);
    int rc = HS_OK;
    if (!b) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "baseline: out of memory");
        goto out;
    }
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= json && at <= json + size ? (size_t)(at - json) : 0;
        rc = hs_error_set(err, HS_ERR_FORMAT, off, "baseline: not JSON");
        goto out;
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, REPORT_SCHEMA) != 0) {
        rc = hs_error_set(err, HS_ERR_FORMAT, HS_NO_OFFSET,
                          "baseline: not a %s report (schema %s)", REPORT_SCHEMA,
                          cJSON_IsString(schema) ? schema->valuestring : "missing");
        goto out;
    }
    if ((rc = add_array(b, root, "findings", err)) < 0)
        goto out;
    *out = b;
    b = NULL;
out:
    cJSON_Delete(root);
    baseline_free(b);
    return rc;
}

int baseline_has(const baseline *b, int kind, const char *signature)
{
    uint64_t h = findings_hash(kind, signature);
    for (size_t i = 0; b && i < b->n; i++)
        if (b->hashes[i] == h && b->kinds[i] == kind && !strcmp(b->sigs[i], signature))
            return 1;
    return 0;
}

size_t baseline_count(const baseline *b)
{
    return b ? b->n : 0;
}
