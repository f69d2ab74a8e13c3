/* placeholder */
typedef int cmd_info_placeholder;
