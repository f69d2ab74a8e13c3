/* heapsift-dump - capture heap dumps of live Go processes (see dump_cli.c). */
#include "dump_cli.h"

int main(int argc, char **argv)
{
    return dump_cli_main(argc, argv);
}
