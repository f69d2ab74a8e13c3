/* elfimg.c - placeholder until the module lands. */
#include "elfimg.h"
typedef int elfimg_placeholder;
