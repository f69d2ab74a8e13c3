/* gotype.c - placeholder until the module lands. */
#include "gotype.h"
typedef int gotype_placeholder;
