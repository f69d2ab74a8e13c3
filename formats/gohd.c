/* gohd.c - placeholder until the module lands. */
#include "gohd.h"
typedef int gohd_placeholder;
