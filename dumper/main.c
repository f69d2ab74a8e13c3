/* heapsift-dump - placeholder until the dumper lands (issue 3). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "heapsift-dump: not built yet\n");
    return 2;
}
