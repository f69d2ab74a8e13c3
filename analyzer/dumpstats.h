/* dumpstats.h - the old name of dstats.h, kept only for analyzer/cli/cmd_info.c, which is
 * being changed in parallel; delete this file once cmd_info.c includes "dstats.h". */
#include "dstats.h"
