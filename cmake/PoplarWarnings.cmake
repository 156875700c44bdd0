# Every target is built with -Wall -Wextra -Werror (DEVELOPERS brief).
add_compile_options(-Wall -Wextra -Werror -Wno-unused-parameter)
