/* placeholder */
typedef int cli_util_placeholder;
