/* source.c - placeholder; filled in with the info command. */
#include "source.h"
typedef int source_placeholder;
