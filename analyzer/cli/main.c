/* placeholder */
typedef int main_placeholder;
int main(void) { return 0; }
