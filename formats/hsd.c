/* hsd.c - placeholder until the module lands. */
#include "hsd.h"
typedef int hsd_placeholder;
